// Autoencoder (models/autoencoder.hpp): the first layer computes no input
// gradient; encode, decode and reconstruct agree for any batch size.
#include "support.hpp"

#include <latent/latent.hpp>

using namespace latent;
using latent_test::MatD;

TEST_CASE("the first layer of a model computes no input gradient", "[layers][models]") {
    Rng rng(60);
    DenseAutoencoderOptions o;
    o.sizes = {6, 4, 2};
    auto ae = make_dense_autoencoder<double>(o, rng);
    auto& enc = static_cast<Sequential<double>&>(ae.encoder());
    CHECK_FALSE(enc[0].input_grad());
    CHECK(enc[1].input_grad());
    auto& dec = static_cast<Sequential<double>&>(ae.decoder());
    CHECK(dec[0].input_grad());
}

TEST_CASE("encode, decode and reconstruct agree, in batches", "[layers][models]") {
    Rng rng(61);
    DenseAutoencoderOptions o;
    o.sizes = {10, 6, 3};
    o.dropout = 0.5;  // infer mode: no effect
    auto ae = make_dense_autoencoder<double>(o, rng);
    const MatD x = MatD::Random(10, 23).cwiseAbs();
    const MatD z = ae.encode(x, 5);
    CHECK(z.rows() == 3);
    CHECK(z.cols() == 23);
    const MatD r1 = ae.decode(z, 7);
    const MatD r2 = ae.reconstruct(x, 4);
    const MatD r3 = ae.reconstruct(x);
    CHECK(r1.isApprox(r2, 1e-14));
    // Chunks of 4 and one chunk of 23 are different product shapes, which may
    // take different measured engines: equal to rounding, not bitwise.
    CHECK(r2.isApprox(r3, 1e-14));
    // sigmoid output
    CHECK(r3.minCoeff() > 0);
    CHECK(r3.maxCoeff() < 1);
    // per-sample errors match the loss
    const auto err = ae.reconstruction_error(x);
    REQUIRE(err.size() == 23);
    CHECK(err(4) == Approx((r3.col(4) - x.col(4)).squaredNorm() / 10).epsilon(1e-12));
}
