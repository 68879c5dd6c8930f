// The CSV reader (data/csv.hpp). The first byte picks the options
// (delimiter, header mode, comment character); the rest is the text.
#include "fuzz_common.hpp"

#include <latent/data/csv.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    latent::CsvOptions o;
    const std::uint8_t m = data[0];
    o.delimiter = ",;\t|"[m & 3];
    o.header = (m >> 2) % 3 == 0 ? latent::CsvHeader::detect : (m >> 2) % 3 == 1 ? latent::CsvHeader::present : latent::CsvHeader::absent;
    o.comment = (m & 0x40) ? '#' : '\0';
    const std::string text = latent_fuzz::bytes(data + 1, size - 1);
    latent_fuzz::expect_ok_or_error([&] {
        const auto t = latent::parse_csv<double>(text, o);
        // what was read writes back and reads again to the same shape
        const auto again = latent::parse_csv<double>(latent::format_csv(t.data), latent::CsvOptions{',', latent::CsvHeader::absent});
        if (again.data.rows() != t.data.rows() || again.data.cols() != t.data.cols()) __builtin_trap();
    });
    latent_fuzz::expect_ok_or_error([&] { (void)latent::parse_csv<float>(text, o); });
    return 0;
}
