// Dropout and GaussianNoise (layers/dropout.hpp): gradient checks with a
// frozen mask and in infer mode, mask and noise statistics, infer-mode identity.
#include "support.hpp"

#include <latent/latent.hpp>

using namespace latent;
using latent::testing::build_standalone;
using latent::testing::check_layer;
using latent_test::MatD;
using latent_test::random_away_from;

TEST_CASE("Dropout with a frozen mask: gradient check", "[layers][gradcheck]") {
    Rng rng(30);
    Dropout<double> d(0.4);
    ParamBuffer<double> p;
    build_standalone(d, Shape{7}, p, rng);
    d.freeze_mask();
    const MatD x = random_away_from(7, 6, rng, -2, 2);
    d.forward(x, Mode::train);  // draws the mask
    const MatD mask = d.mask();
    LATENT_CHECK_GRADIENT(check_layer(d, p, x, rng));
    CHECK(d.mask() == mask);  // still the same mask after the check's forwards
}

TEST_CASE("Dropout mask statistics and 1/(1-p) scaling", "[layers]") {
    Rng rng(31);
    const double rate = 0.3;
    Dropout<double> d(rate);
    d.attach_rng(&rng);
    d.build(Shape{200});
    const MatD x = MatD::Constant(200, 250, 2.0);
    const MatD y = d.forward(x, Mode::train);
    Index zeros = 0;
    bool scaled = true;
    for (Index i = 0; i < y.size(); ++i) {
        if (y.data()[i] == 0)
            ++zeros;
        else
            scaled &= y.data()[i] == Approx(2.0 / (1 - rate)).epsilon(1e-15);
    }
    CHECK(scaled);
    const double frac = static_cast<double>(zeros) / static_cast<double>(y.size());
    CHECK(frac == Approx(rate).margin(0.01));  // 50000 draws: std 0.002
    // the mask covers every column, not just the first (a bug seen elsewhere)
    for (Index j = 0; j < y.cols(); j += 50) CHECK(y.col(j).cwiseEqual(0.0).count() > 0);
    // E[y] = x
    CHECK(y.mean() == Approx(2.0).epsilon(0.02));

    // backward multiplies by the same mask
    const MatD dy = MatD::Ones(200, 250);
    const MatD dx = d.backward(dy);
    CHECK(dx == d.mask());
    CHECK((dx.array() == 0).count() == zeros);

    // a fresh mask on the next train forward
    const MatD y2 = d.forward(x, Mode::train);
    CHECK(y2 != y);
}

TEST_CASE("Dropout in infer mode is the identity", "[layers]") {
    Rng rng(32);
    Dropout<double> d(0.5);
    d.attach_rng(&rng);
    d.build(Shape{10});
    const MatD x = MatD::Random(10, 8);
    const MatD& y = d.forward(x, Mode::infer);
    CHECK(y == x);
    const MatD dy = MatD::Random(10, 8);
    CHECK(d.backward(dy) == dy);
    CHECK_THROWS_AS(Dropout<double>(1.0), ConfigError);
    CHECK_THROWS_AS(Dropout<double>(-0.1), ConfigError);
}

TEST_CASE("GaussianNoise: identity in infer mode, N(0, s^2) added in train mode", "[layers]") {
    Rng rng(33);
    const double s = 0.25;
    GaussianNoise<double> g(s);
    g.attach_rng(&rng);
    g.build(Shape{100});
    const MatD x = MatD::Random(100, 300);
    CHECK(g.forward(x, Mode::infer) == x);

    const MatD y = g.forward(x, Mode::train);
    const MatD e = y - x;
    const double mean = e.mean();
    const double sd = std::sqrt((e.array() - mean).square().sum() / static_cast<double>(e.size() - 1));
    CHECK(mean == Approx(0).margin(0.005));  // 30000 draws: std of the mean 0.0014
    CHECK(sd == Approx(s).epsilon(0.02));
    // dx = dy
    const MatD dy = MatD::Random(100, 300);
    CHECK(g.backward(dy) == dy);
    // fresh noise each call
    CHECK(g.forward(x, Mode::train) != y);
}

TEST_CASE("GaussianNoise gradient check in infer mode", "[layers][gradcheck]") {
    Rng rng(34);
    GaussianNoise<double> g(0.5);
    ParamBuffer<double> p;
    build_standalone(g, Shape{5}, p, rng);
    const MatD x = MatD::Random(5, 3);
    LATENT_CHECK_GRADIENT(check_layer(g, p, x, rng, Mode::infer));
}
