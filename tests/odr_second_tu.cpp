// ODR guard, second translation unit (see test_odr.cpp). Not named test_*.cpp,
// so the per-file test glob leaves it alone.
#include <latent/latent.hpp>

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

std::string second_tu_version() {
    return std::to_string(latent::version_major) + "." + std::to_string(latent::version_minor) + "." +
           std::to_string(latent::version_patch);
}

}  // namespace odr_test
