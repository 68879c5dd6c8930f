// The MovieLens / ratings reader (parse_ratings). The first byte picks the
// format (auto-detect, tab, '::', csv); the rest is the text. A table that
// reads is also split and used to fit the bias baseline, as an application
// would.
#include "fuzz_common.hpp"

#include <sstream>

#include <latent/apps/autorec.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const latent::RatingFormat formats[] = {latent::RatingFormat::auto_detect, latent::RatingFormat::tab,
                                            latent::RatingFormat::double_colon, latent::RatingFormat::csv};
    std::istringstream in(latent_fuzz::bytes(data + 1, size - 1));
    latent_fuzz::expect_ok_or_error([&] {
        const latent::RatingTable t = latent::parse_ratings(in, formats[data[0] & 3]);
        latent::Rng rng(1);
        const auto split = latent::split_ratings(t, 0.5, rng);
        latent::RatingBaseline base;
        base.fit(split.first);
        (void)base.rmse(split.second);
    });
    return 0;
}
