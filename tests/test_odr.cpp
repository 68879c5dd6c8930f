// latent-test: own-executable
// ODR guard, first translation unit. The second one (odr_second_tu.cpp, added
// to this target by tests/packaging.cmake) includes the same headers; a
// non-inline function or variable defined in a header is then defined twice
// and the link fails.
#include "catch.hpp"

#include <latent/latent.hpp>

namespace odr_test {
double second_tu_reconstruction_mse(std::uint64_t seed);  // odr_second_tu.cpp
std::string second_tu_version();
}  // namespace odr_test

namespace {
double first_tu_reconstruction_mse(std::uint64_t seed) {
    latent::Rng rng(seed);
    latent::DenseAutoencoderOptions o;
    o.sizes = {12, 6, 3};
    auto ae = latent::make_dense_autoencoder<double>(o, rng);
    latent::Matrix<double> x(12, 7);
    rng.fill_uniform(x);
    const latent::Matrix<double> y = ae.reconstruct(x);
    return (y - x).squaredNorm() / static_cast<double>(x.size());
}
}  // namespace

TEST_CASE("two translation units including latent.hpp link and agree", "[odr][packaging]") {
    // Same seed, same inline code in both TUs: bitwise the same result.
    const double here = first_tu_reconstruction_mse(7);
    const double there = odr_test::second_tu_reconstruction_mse(7);
    REQUIRE(std::isfinite(here));
    REQUIRE(here == there);
    REQUIRE(odr_test::second_tu_version() ==
            std::to_string(latent::version_major) + "." + std::to_string(latent::version_minor) + "." +
                std::to_string(latent::version_patch));
}
