// The IDX reader (data/idx.hpp), plain and gzip-compressed (the same bytes
// are read as they come: a seed starting 1f 8b goes through zlib when the
// build has it). Images and labels, all items and a limit.
#include "fuzz_common.hpp"

#include <latent/data/idx.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using latent_fuzz::expect_ok_or_error;
    const std::string b = latent_fuzz::bytes(data, size);
    expect_ok_or_error([&] { (void)latent::parse_idx_header(b); });
    expect_ok_or_error([&] { (void)latent::parse_idx_images<float>(b); });
    expect_ok_or_error([&] { (void)latent::parse_idx_images<double>(b, 2, false); });
    expect_ok_or_error([&] { (void)latent::parse_idx_labels(b); });
    expect_ok_or_error([&] { (void)latent::parse_idx_labels(b, 1); });
    return 0;
}
