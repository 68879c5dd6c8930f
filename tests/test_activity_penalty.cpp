// layers/activity_penalty.hpp: the sparse autoencoder's activity penalties.
#include "support.hpp"

#include <latent/latent.hpp>

using namespace latent;
using latent::testing::build_standalone;
using latent::testing::check_gradient;
using latent::testing::check_layer;
using latent_test::MatD;
using latent_test::random_away_from;
using latent_test::VecD;

TEST_CASE("ActivityL1: value and gradient check", "[regularizers][gradcheck]") {
    Rng rng(2);
    ActivityL1<double> a(0.3);
    ParamBuffer<double> p;
    build_standalone(a, Shape{5}, p, rng);
    const MatD x = random_away_from(5, 4, rng, -2, 2, 0.05);
    const MatD& y = a.forward(x, Mode::train);
    CHECK(y == x);  // pass-through
    CHECK(a.penalty() == Approx(0.3 * x.cwiseAbs().sum() / 4).epsilon(1e-14));
    LATENT_CHECK_GRADIENT(check_layer(a, p, x, rng));
    a.forward(x, Mode::infer);
    CHECK(a.penalty() == 0.0);
    CHECK_THROWS_AS(ActivityL1<double>(-1), ConfigError);
}

TEST_CASE("KLSparsity: value and gradient check", "[regularizers][gradcheck]") {
    Rng rng(3);
    const double rho = 0.1, beta = 2.0;
    KLSparsity<double> k(rho, beta);
    ParamBuffer<double> p;
    build_standalone(k, Shape{6}, p, rng);
    const MatD x = random_away_from(6, 5, rng, 0.02, 0.98);
    CHECK(k.forward(x, Mode::train) == x);
    double expect = 0;
    for (Index j = 0; j < 6; ++j) {
        const double q = x.row(j).mean();
        expect += rho * std::log(rho / q) + (1 - rho) * std::log((1 - rho) / (1 - q));
    }
    CHECK(k.penalty() == Approx(beta * expect).epsilon(1e-13));
    CHECK(k.mean_activation().isApprox(x.rowwise().mean(), 1e-15));
    LATENT_CHECK_GRADIENT(check_layer(k, p, x, rng));
    // at rho_hat = rho the penalty is 0
    const MatD at = MatD::Constant(6, 3, rho);
    k.forward(at, Mode::train);
    CHECK(k.penalty() == Approx(0).margin(1e-15));
    k.forward(x, Mode::infer);
    CHECK(k.penalty() == 0.0);
    CHECK_THROWS_AS(KLSparsity<double>(0.0, 1.0), ConfigError);
    CHECK_THROWS_AS(KLSparsity<double>(0.5, -1.0), ConfigError);
}
