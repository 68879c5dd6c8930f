#include "catch.hpp"

#include <latent/latent.hpp>

TEST_CASE("a dense autoencoder builds and reconstructs", "[models]") {
    latent::Rng rng(1);
    latent::DenseAutoencoderOptions o;
    o.sizes = {16, 8, 4};
    auto ae = latent::make_dense_autoencoder<float>(o, rng);
    latent::Matrix<float> x(16, 5);
    rng.fill_uniform(x);
    const latent::Matrix<float> y = ae.reconstruct(x);
    REQUIRE(y.rows() == 16);
    REQUIRE(y.cols() == 5);
    REQUIRE(ae.code_shape() == latent::Shape{4});
}
