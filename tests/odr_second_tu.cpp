// ODR guard, second translation unit (see test_odr.cpp). Not named test_*.cpp,
// so the per-file test glob leaves it alone. Built without zlib, while the
// first one has it: core/abi.hpp keeps the two configurations' inline code apart.
#undef LATENT_HAS_ZLIB

#include <latent/latent.hpp>

#include "odr_read_gz.hpp"

#include <cstdint>
#include <string>

namespace odr_test {

double second_tu_reconstruction_mse(std::uint64_t seed) {
    latent::Rng rng(seed);
    latent::DenseAutoencoderOptions o;
    o.sizes = {12, 6, 3};
    auto ae = latent::make_dense_autoencoder<double>(o, rng);
    latent::Matrix<double> x(12, 7);
    rng.fill_uniform(x);
    const latent::Matrix<double> y = ae.reconstruct(x);
    return (y - x).squaredNorm() / static_cast<double>(x.size());
}

bool second_tu_has_zlib() { return latent::has_zlib(); }

std::string second_tu_read_gz(const std::string& path) { return read_gz_outcome(path); }

std::string second_tu_version() {
    return std::to_string(latent::version_major) + "." + std::to_string(latent::version_minor) + "." +
           std::to_string(latent::version_patch);
}

}  // namespace odr_test
