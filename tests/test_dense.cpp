// Dense (layers/dense.hpp): gradient checks with and without bias, forward
// W x + b, the skipped input gradient, accumulation, initial weights.
#include "support.hpp"

#include <latent/latent.hpp>

using namespace latent;
using latent::testing::build_standalone;
using latent::testing::check_layer;
using latent_test::MatD;
using latent_test::random_away_from;

TEST_CASE("Dense gradients, with bias", "[layers][gradcheck]") {
    Rng rng(11);
    Dense<double> d(5);
    ParamBuffer<double> p;
    build_standalone(d, Shape{4}, p, rng);
    rng.fill_uniform(p.values(), -1, 1);  // non-zero biases too
    const MatD x = random_away_from(4, 3, rng, -1, 1);
    LATENT_CHECK_GRADIENT(check_layer(d, p, x, rng));
    CHECK(p.size() == 5 * 4 + 5);
    CHECK(static_cast<Layer<double>&>(d).output_shape() == Shape{5});  // derived classes hide the no-argument overload
}

TEST_CASE("Dense gradients, without bias", "[layers][gradcheck]") {
    Rng rng(12);
    Dense<double> d(3, false);
    ParamBuffer<double> p;
    build_standalone(d, Shape{6}, p, rng);
    CHECK(p.size() == 3 * 6);
    const MatD x = random_away_from(6, 4, rng, -1, 1);
    LATENT_CHECK_GRADIENT(check_layer(d, p, x, rng));
    const auto views = d.parameters();
    REQUIRE(views.size() == 1);
    CHECK(views[0].name == "weight");
}

TEST_CASE("Dense gradients, more than 100 units", "[layers][gradcheck]") {
    Rng rng(13);
    Dense<double> d(120);
    ParamBuffer<double> p;
    build_standalone(d, Shape{7}, p, rng);
    rng.fill_uniform(p.values(), -0.5, 0.5);
    const MatD x = random_away_from(7, 3, rng, -1, 1);
    const auto rep = check_layer(d, p, x, rng);
    LATENT_CHECK_GRADIENT(rep);
    CHECK(rep.checked == 7 * 3 + 120 * 7 + 120);
}

TEST_CASE("Dense forward is W x + b", "[layers]") {
    Rng rng(14);
    Dense<double> d(2);
    ParamBuffer<double> p;
    build_standalone(d, Shape{3}, p, rng);
    d.weight() << 1, 2, 3, 4, 5, 6;
    d.bias() << 0.5, -1;
    MatD x(3, 2);
    x << 1, 0, 0, 1, 2, -1;
    MatD expect(2, 2);
    expect << 1 + 6 + 0.5, 2 - 3 + 0.5, 4 + 12 - 1, 5 - 6 - 1;
    CHECK(d.forward(x, Mode::infer).isApprox(expect, 1e-15));
}

TEST_CASE("Dense backward skips dx when the input needs no gradient", "[layers]") {
    Rng rng(15);
    Dense<double> d(4);
    ParamBuffer<double> p;
    build_standalone(d, Shape{3}, p, rng);
    d.set_input_grad(false);
    const MatD x = MatD::Random(3, 5);
    d.forward(x, Mode::train);
    const MatD dy = MatD::Ones(4, 5);
    d.backward(dy);
    // parameter gradients still accumulate
    CHECK(d.weight_grad().isApprox(dy * x.transpose()));
}

TEST_CASE("parameter gradients accumulate across backward calls", "[layers]") {
    Rng rng(16);
    Dense<double> d(2);
    ParamBuffer<double> p;
    build_standalone(d, Shape{3}, p, rng);
    const MatD x = MatD::Random(3, 4), dy = MatD::Random(2, 4);
    p.zero_grad();
    d.forward(x, Mode::train);
    d.backward(dy);
    const latent_test::VecD once = p.grads();
    d.forward(x, Mode::train);
    d.backward(dy);
    CHECK(p.grads().isApprox(2 * once));
    p.zero_grad();
    CHECK(p.grads().isZero(0));
}

TEST_CASE("Dense initial weights have the expected spread", "[core][layers]") {
    Rng rng(4);
    Dense<double> g(200), h(200, true, WeightInit::he);
    ParamBuffer<double> pg, ph;
    latent::testing::build_standalone(g, Shape{300}, pg, rng);
    latent::testing::build_standalone(h, Shape{300}, ph, rng);
    CHECK(g.weight().cwiseAbs().maxCoeff() <= std::sqrt(6.0 / 500));
    CHECK(h.weight().cwiseAbs().maxCoeff() <= std::sqrt(6.0 / 300));
    CHECK(h.weight().cwiseAbs().maxCoeff() > std::sqrt(6.0 / 500));
    CHECK(g.bias().isZero(0));
}
