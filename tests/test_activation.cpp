// Activation (layers/activation.hpp): gradient checks for every kind away
// from kinks, values against the formulas and PyTorch, large inputs, names.
#include "support.hpp"

#include <latent/latent.hpp>

using namespace latent;
using latent::testing::build_standalone;
using latent::testing::check_layer;
using latent_test::MatD;
using latent_test::random_away_from;

TEST_CASE("every activation: gradient check away from kinks", "[layers][gradcheck]") {
    struct Case {
        Act kind;
        double alpha;
    };
    const Case cases[] = {{Act::identity, -1}, {Act::relu, -1},    {Act::leaky_relu, -1}, {Act::leaky_relu, 0.2},
                          {Act::elu, -1},      {Act::elu, 0.5},    {Act::sigmoid, -1},    {Act::tanh, -1},
                          {Act::softplus, -1}, {Act::gelu, -1},      {Act::gelu_tanh, -1}};
    for (const auto& c : cases) {
        DYNAMIC_SECTION(act_name(c.kind) << " alpha " << c.alpha) {
            Rng rng(20 + static_cast<int>(c.kind));
            Activation<double> a(c.kind, c.alpha);
            ParamBuffer<double> p;
            build_standalone(a, Shape{6}, p, rng);
            CHECK(p.size() == 0);
            const MatD x = random_away_from(6, 5, rng, -3, 3, 0.05);
            LATENT_CHECK_GRADIENT(check_layer(a, p, x, rng));
        }
    }
}

TEST_CASE("activation values", "[layers]") {
    MatD x(1, 4);
    x << -2, -0.5, 0.5, 3;
    auto run = [&](Act k, double alpha = -1) {
        Activation<double> a(k, alpha);
        a.build(Shape{1});
        return MatD(a.forward(x, Mode::infer));
    };
    for (int j = 0; j < 4; ++j) {
        const double v = x(0, j);
        CHECK(run(Act::identity)(0, j) == v);
        CHECK(run(Act::relu)(0, j) == (v > 0 ? v : 0));
        CHECK(run(Act::leaky_relu)(0, j) == Approx(v > 0 ? v : 0.01 * v).epsilon(1e-15));
        CHECK(run(Act::leaky_relu, 0.3)(0, j) == Approx(v > 0 ? v : 0.3 * v).epsilon(1e-15));
        CHECK(run(Act::elu)(0, j) == Approx(v > 0 ? v : std::exp(v) - 1).epsilon(1e-15));
        CHECK(run(Act::elu, 2.0)(0, j) == Approx(v > 0 ? v : 2 * (std::exp(v) - 1)).epsilon(1e-15));
        CHECK(run(Act::sigmoid)(0, j) == Approx(1 / (1 + std::exp(-v))).epsilon(1e-15));
        CHECK(run(Act::tanh)(0, j) == Approx(std::tanh(v)).epsilon(1e-15));
        CHECK(run(Act::softplus)(0, j) == Approx(std::log(1 + std::exp(v))).epsilon(1e-14));
        CHECK(run(Act::gelu)(0, j) == Approx(0.5 * v * (1 + std::erf(v / std::sqrt(2.0)))).epsilon(1e-14));
    }
    // PyTorch: F.gelu(torch.tensor([1.0], dtype=torch.float64)) = 0.8413447460685429
    MatD one = MatD::Ones(1, 1);
    Activation<double> g(Act::gelu);
    g.build(Shape{1});
    CHECK(g.forward(one, Mode::infer)(0, 0) == Approx(0.8413447460685429).epsilon(1e-15));
}

// PyTorch 1.13, float64: F.gelu(x, approximate='tanh') and F.softplus(x)
// (threshold 20) and their gradients.
TEST_CASE("GELU tanh and Softplus with a threshold equal PyTorch's", "[layers]") {
    MatD x(1, 7);
    x << -3, -2, -1, 0, 1, 2, 3;
    const double y[] = {-0.0036373920817729943, -0.04540230591222494, -0.15880800939172324, 0.0,
                        0.8411919906082768,     1.954597694087775,    2.996362607918227};
    const double dy[] = {-0.011584166630969648, -0.0860992566236183, -0.08296408384578252, 0.5,
                         1.0829640838457826,    1.0860992566236183,  1.0115841666309695};
    Activation<double> g(Act::gelu_tanh);
    g.build(Shape{1});
    const MatD gy = g.forward(x, Mode::train);
    const MatD gd = g.backward(MatD::Ones(1, 7));
    for (int j = 0; j < 7; ++j) {
        CHECK(gy(0, j) == Approx(y[j]).epsilon(1e-14).margin(1e-16));
        CHECK(gd(0, j) == Approx(dy[j]).epsilon(1e-13));
    }
    MatD s(1, 5);
    s << -30, 1, 19.5, 20.5, 40;
    const double sy[] = {9.357622968839737e-14, 1.3132616875182228, 19.500000003398267, 20.5, 40.0};
    const double sd[] = {9.3576229688393e-14, 0.7310585786300049, 0.9999999966017322, 1.0, 1.0};
    Activation<double> sp(Act::softplus, -1, 20);
    sp.build(Shape{1});
    const MatD spy = sp.forward(s, Mode::train);
    const MatD spd = sp.backward(MatD::Ones(1, 5));
    for (int j = 0; j < 5; ++j) {
        CHECK(spy(0, j) == Approx(sy[j]).epsilon(1e-14));
        CHECK(spd(0, j) == Approx(sd[j]).epsilon(1e-13));
    }
    Activation<double> exact(Act::softplus);
    exact.build(Shape{1});
    CHECK(exact.forward(s, Mode::infer)(0, 3) != 20.5);  // no threshold: exact
    // the threshold is saved with the model
    auto back = Activation<double>::from_config(sp.config());
    CHECK(dynamic_cast<Activation<double>&>(*back).threshold() == 20.0);
    CHECK_THROWS_AS(Activation<double>(Act::softplus, -1, -1), ConfigError);
    // gradient check across (not at) the threshold
    Rng rng(31);
    Activation<double> t(Act::softplus, -1, 1.0);
    ParamBuffer<double> p;
    build_standalone(t, Shape{6}, p, rng);
    LATENT_CHECK_GRADIENT(check_layer(t, p, random_away_from(6, 5, rng, -3, 3, 0.05, 1.0), rng));
}

TEST_CASE("sigmoid and softplus stay finite for large inputs", "[layers]") {
    MatD x(1, 4);
    x << -800, -40, 40, 800;
    Activation<double> s(Act::sigmoid), sp(Act::softplus);
    s.build(Shape{1});
    sp.build(Shape{1});
    const MatD ys = s.forward(x, Mode::infer), ysp = sp.forward(x, Mode::infer);
    CHECK(ys.allFinite());
    CHECK(ysp.allFinite());
    CHECK(ys(0, 0) == 0.0);
    CHECK(ys(0, 3) == 1.0);
    CHECK(ysp(0, 0) == Approx(0.0).margin(1e-300));
    CHECK(ysp(0, 3) == 800.0);
    CHECK(ysp(0, 1) == Approx(std::exp(-40.0)).epsilon(1e-12));
}

TEST_CASE("activation names round trip", "[layers]") {
    for (Act a : {Act::identity, Act::relu, Act::leaky_relu, Act::elu, Act::sigmoid, Act::tanh, Act::softplus, Act::gelu, Act::gelu_tanh})
        CHECK(act_from_name(act_name(a)) == a);
    CHECK_THROWS_AS(act_from_name("swish"), ConfigError);
}
