// latent-test: own-executable
// ODR guard, first translation unit. The second one (odr_second_tu.cpp, added
// to this target by tests/packaging.cmake) includes the same headers; a
// non-inline function or variable defined in a header is then defined twice
// and the link fails.
#include "catch.hpp"
#include "odr_read_gz.hpp"
#include "support.hpp"

#include <latent/latent.hpp>

#include <fstream>
#include <string>

namespace odr_test {
double second_tu_reconstruction_mse(std::uint64_t seed);  // odr_second_tu.cpp
std::string second_tu_version();
bool second_tu_has_zlib();
std::string second_tu_read_gz(const std::string& path);
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

TEST_CASE("two translation units built with and without zlib each keep their own reader", "[odr][packaging]") {
    // Without the configuration-tagged namespace (core/abi.hpp) the linker
    // kept one definition of the inline IDX reader for both files, so one of
    // them read .gz files the other way.
    REQUIRE(latent::has_zlib());
    REQUIRE_FALSE(odr_test::second_tu_has_zlib());
    const latent_test::TempDir dir;
    const std::string gz = dir.file("labels-idx1-ubyte.gz");
    {
        std::ofstream f(gz, std::ios::binary);
        f.write("\x1f\x8b\x08\x00\x00\x00\x00\x00", 8);  // a gzip header and nothing else
    }
    const std::string here = read_gz_outcome(gz);
    CHECK(here == "format");  // zlib here: a truncated stream
    CHECK(odr_test::second_tu_read_gz(gz) == "feature");  // no zlib there: says how to get it
}
