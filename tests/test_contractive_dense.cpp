// layers/contractive_dense.hpp: the contractive autoencoder's encoder layer.
#include "support.hpp"

#include <latent/latent.hpp>

using namespace latent;
using latent::testing::build_standalone;
using latent::testing::check_gradient;
using latent::testing::check_layer;
using latent_test::MatD;
using latent_test::random_away_from;
using latent_test::VecD;

TEST_CASE("ContractiveDense: the penalty is lambda * mean ||dh/dx||_F^2", "[regularizers]") {
    Rng rng(4);
    const double lambda = 0.7;
    ContractiveDense<double> c(4, lambda);
    ParamBuffer<double> p;
    build_standalone(c, Shape{5}, p, rng);
    rng.fill_uniform(p.values(), -1, 1);
    const MatD x = MatD::Random(5, 3);
    const MatD h = c.forward(x, Mode::train);
    const double pen = c.penalty();

    // h = sigmoid(W x + b)
    const auto views = c.parameters();
    const MatD z = (views[0].value * x).colwise() + views[1].value.col(0);
    CHECK(h.isApprox(z.unaryExpr([](double v) { return 1 / (1 + std::exp(-v)); }), 1e-14));

    // the Jacobian of each sample by central differences of the layer itself
    double frob = 0;
    const double e = 1e-6;
    for (Index n = 0; n < 3; ++n)
        for (Index i = 0; i < 5; ++i) {
            MatD xp = x.col(n), xm = x.col(n);
            xp(i) += e;
            xm(i) -= e;
            const MatD hp = c.forward(xp, Mode::infer), hm = c.forward(xm, Mode::infer);
            frob += ((hp - hm) / (2 * e)).squaredNorm();
        }
    CHECK(pen == Approx(lambda * frob / 3).epsilon(1e-8));
    c.forward(x, Mode::infer);
    CHECK(c.penalty() == 0.0);
}

TEST_CASE("ContractiveDense: gradient check including the penalty", "[regularizers][gradcheck]") {
    for (double lambda : {0.0, 0.5, 3.0}) {
        DYNAMIC_SECTION("lambda " << lambda) {
            Rng rng(5);
            ContractiveDense<double> c(4, lambda);
            ParamBuffer<double> p;
            build_standalone(c, Shape{6}, p, rng);
            rng.fill_uniform(p.values(), -1, 1);
            const MatD x = MatD::Random(6, 3);
            LATENT_CHECK_GRADIENT(check_layer(c, p, x, rng));
        }
    }
}

TEST_CASE("ContractiveDense with more than 100 units: gradient check", "[regularizers][gradcheck]") {
    Rng rng(6);
    ContractiveDense<double> c(110, 0.2);
    ParamBuffer<double> p;
    build_standalone(c, Shape{4}, p, rng);
    const MatD x = MatD::Random(4, 2);
    LATENT_CHECK_GRADIENT(check_layer(c, p, x, rng));
}
