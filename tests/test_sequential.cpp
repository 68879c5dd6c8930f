// Sequential (models/sequential.hpp) as one layer: gradient checks of whole
// stacks and the PyTorch-style names of their parameters.
#include "support.hpp"

#include <latent/latent.hpp>

using namespace latent;
using latent::testing::build_standalone;
using latent::testing::check_layer;
using latent_test::MatD;

TEST_CASE("Sequential as a whole: gradient check", "[layers][gradcheck]") {
    Rng rng(40);
    Sequential<double> s;
    s.add<Dense<double>>(6)
        .add<Activation<double>>(Act::tanh)
        .add<Dense<double>>(5, false)
        .add<Activation<double>>(Act::softplus)
        .add<Dropout<double>>(0.25)
        .add<Dense<double>>(3)
        .add<Activation<double>>(Act::sigmoid);
    ParamBuffer<double> p;
    build_standalone(s, Shape{4}, p, rng);
    rng.fill_uniform(p.values(), -1, 1);
    static_cast<Dropout<double>&>(s[4]).freeze_mask();
    const MatD x = MatD::Random(4, 5);
    LATENT_CHECK_GRADIENT(check_layer(s, p, x, rng));
    CHECK(static_cast<Layer<double>&>(s).output_shape() == Shape{3});

    // PyTorch-style names, in order
    const auto views = s.parameters();
    REQUIRE(views.size() == 5);
    CHECK(views[0].name == "0.weight");
    CHECK(views[1].name == "0.bias");
    CHECK(views[2].name == "2.weight");
    CHECK(views[3].name == "5.weight");
    CHECK(views[4].name == "5.bias");
}

TEST_CASE("Sequential with ReLU and leaky ReLU: gradient check", "[layers][gradcheck]") {
    Rng rng(41);
    Sequential<double> s;
    s.add<Dense<double>>(8).add<Activation<double>>(Act::relu).add<Dense<double>>(6).add<Activation<double>>(Act::leaky_relu);
    ParamBuffer<double> p;
    build_standalone(s, Shape{5}, p, rng);
    const MatD x = MatD::Random(5, 4);
    // kinks: no pre-activation within 1e-3 of 0 for this draw (the stencil reaches 2e-4)
    const MatD z1 = s[0].forward(x, Mode::infer);
    REQUIRE(z1.cwiseAbs().minCoeff() > 1e-3);
    const MatD h1 = s[1].forward(z1, Mode::infer);
    const MatD z2 = s[2].forward(h1, Mode::infer);
    REQUIRE(z2.cwiseAbs().minCoeff() > 1e-3);
    LATENT_CHECK_GRADIENT(check_layer(s, p, x, rng));
}
