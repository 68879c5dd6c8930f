// Layers: gradient checks in double for every layer and activation, dropout
// and noise statistics, tied weights, Sequential, and shape errors.
#include "support.hpp"

#include <latent/latent.hpp>

using namespace latent;
using latent::testing::build_standalone;
using latent::testing::check_layer;
using latent_test::MatD;
using latent_test::random_away_from;

namespace {

// A layer that only accepts one input shape: stands in for the conv layers
// when checking how Sequential reports an incompatible child.
class FixedInput : public Layer<double> {
public:
    explicit FixedInput(Shape need) : need_(need) {}
    std::string type() const override { return "FixedInput"; }
    Shape compute_output_shape(Shape in) const override {
        if (in != need_) throw ShapeError("layer FixedInput: expected input " + need_.str() + ", found " + in.str());
        return in;
    }
    const Mat& forward(const Mat& x, Mode) override { return x; }
    const Mat& backward(const Mat& dy) override { return dy; }
    LayerConfig config() const override { return LayerConfig("FixedInput"); }

private:
    Shape need_;
};

}  // namespace

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

TEST_CASE("a concrete layer offers both output_shape(in) and the built output_shape()", "[layers]") {
    Rng rng(3);
    Dense<double> d(5);
    ParamBuffer<double> p;
    build_standalone(d, Shape{4}, p, rng);
    CHECK(d.output_shape(Shape{7}) == Shape{5});  // what it would give for another input
    CHECK(d.output_shape() == Shape{5});           // what it was built with
    CHECK(d.input_shape() == Shape{4});
    Activation<double> a(Act::relu);
    CHECK(a.output_shape(Shape{3, 2, 2}) == Shape{3, 2, 2});
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

namespace {

// encoder [Dense(code)], decoder [TiedDense(0), act]
Autoencoder<double> tied_ae(Index code, Act out_act) {
    auto enc = std::make_unique<Sequential<double>>();
    enc->add<Dense<double>>(code).add<Activation<double>>(Act::tanh);
    auto dec = std::make_unique<Sequential<double>>();
    dec->add<TiedDense<double>>(0).add<Activation<double>>(out_act);
    return Autoencoder<double>(std::move(enc), std::move(dec));
}

}  // namespace

TEST_CASE("TiedDense inside an autoencoder: gradient check of the whole model", "[layers][gradcheck]") {
    Rng rng(50);
    auto ae = tied_ae(3, Act::sigmoid);
    ae.build(Shape{6}, rng);
    CHECK(ae.output_shape() == Shape{6});
    rng.fill_uniform(ae.params().values(), -1, 1);
    // parameters: encoder weight and bias, decoder bias only
    const auto views = ae.parameters();
    REQUIRE(views.size() == 3);
    CHECK(views[0].name == "encoder.0.weight");
    CHECK(views[1].name == "encoder.0.bias");
    CHECK(views[2].name == "decoder.0.bias");
    CHECK(views[2].value.rows() == 6);

    const MatD x = MatD::Random(6, 4);
    LATENT_CHECK_GRADIENT(check_layer(ae.network().root(), ae.params(), x, rng));
}

TEST_CASE("TiedDense: the encoder weight's gradient is the sum of both uses", "[layers]") {
    Rng rng(51);
    auto tied = tied_ae(3, Act::identity);
    tied.build(Shape{5}, rng);
    rng.fill_uniform(tied.params().values(), -1, 1);

    // The same function untied: decoder Dense with W_dec = W_enc^T.
    auto enc = std::make_unique<Sequential<double>>();
    enc->add<Dense<double>>(3).add<Activation<double>>(Act::tanh);
    auto dec = std::make_unique<Sequential<double>>();
    dec->add<Dense<double>>(5);
    Autoencoder<double> free(std::move(enc), std::move(dec));
    free.build(Shape{5}, rng);
    auto tv = tied.parameters();
    auto fv = free.parameters();  // encoder.0.weight, encoder.0.bias, decoder.0.weight, decoder.0.bias
    REQUIRE(fv.size() == 4);
    fv[0].value = tv[0].value;
    fv[1].value = tv[1].value;
    fv[2].value = tv[0].value.transpose();
    fv[3].value = tv[2].value;

    const MatD x = MatD::Random(5, 7);
    tied.params().zero_grad();
    free.params().zero_grad();
    const double lt = tied.train_batch(x, x, nullptr);
    const double lf = free.train_batch(x, x, nullptr);
    CHECK(lt == Approx(lf).epsilon(1e-14));
    const MatD expect = fv[0].grad + fv[2].grad.transpose();
    CHECK(tv[0].grad.isApprox(expect, 1e-13));
    CHECK_FALSE(tv[0].grad.isApprox(fv[0].grad, 1e-3));  // the decoder's use is really in there
    CHECK(tv[2].grad.isApprox(fv[3].grad, 1e-13));
}

TEST_CASE("tied dense autoencoder from the builder", "[layers][models]") {
    Rng rng(52);
    DenseAutoencoderOptions o;
    o.sizes = {12, 8, 4};
    o.tied = true;
    o.input_noise = 0.1;  // shifts the Dense positions in the encoder
    auto ae = make_dense_autoencoder<double>(o, rng);
    CHECK(ae.output_shape() == Shape{12});
    CHECK(ae.code_shape() == Shape{4});
    // only biases in the decoder
    Index dec_params = 0;
    for (const auto& v : ae.parameters())
        if (v.name.rfind("decoder.", 0) == 0) {
            CHECK(v.value.cols() == 1);
            dec_params += v.value.size();
        }
    CHECK(dec_params == 8 + 12);
    const MatD x = MatD::Random(12, 3).cwiseAbs();
    CHECK(ae.reconstruct(x).allFinite());
}

TEST_CASE("a tie to something other than a Dense is a ConfigError", "[layers]") {
    Rng rng(53);
    auto enc = std::make_unique<Sequential<double>>();
    enc->add<Dense<double>>(3).add<Activation<double>>(Act::tanh);
    auto dec = std::make_unique<Sequential<double>>();
    dec->add<TiedDense<double>>(1);
    Autoencoder<double> ae(std::move(enc), std::move(dec));
    LATENT_CHECK_THROWS_WITH_ALL(ae.build(Shape{5}, rng), ConfigError, "tied to encoder layer 1", "Activation");
}

TEST_CASE("incompatible layers: ShapeError naming the layer and both shapes", "[layers][shapes]") {
    SECTION("a child that needs another input shape") {
        Sequential<double> s;
        s.add<Dense<double>>(8).add(std::make_unique<FixedInput>(Shape{1, 4, 4}), "conv_in");
        LATENT_CHECK_THROWS_WITH_ALL(s.build(Shape{5}), ShapeError, "conv_in", "FixedInput", "(1x4x4)", "(8)");
    }
    SECTION("a tied decoder whose input does not match the tied Dense") {
        auto enc = std::make_unique<Sequential<double>>();
        enc->add<Dense<double>>(8).add<Dense<double>>(4);
        auto dec = std::make_unique<Sequential<double>>();
        dec->add<TiedDense<double>>(0);  // expects 8 inputs, gets the code's 4
        Autoencoder<double> ae(std::move(enc), std::move(dec));
        Rng rng(1);
        LATENT_CHECK_THROWS_WITH_ALL(ae.build(Shape{10}, rng), ShapeError, "TiedDense", "(8)", "(4)");
    }
    SECTION("forward with the wrong number of features") {
        Dense<double> d(3);
        ParamBuffer<double> p;
        Rng rng(2);
        build_standalone(d, Shape{4}, p, rng);
        const MatD x = MatD::Zero(5, 2);
        LATENT_CHECK_THROWS_WITH_ALL(d.forward(x, Mode::infer), ShapeError, "Dense", "4", "5");
    }
    SECTION("backward with the wrong gradient shape") {
        Dense<double> d(3);
        ParamBuffer<double> p;
        Rng rng(3);
        build_standalone(d, Shape{4}, p, rng);
        const MatD x = MatD::Zero(4, 2);
        d.forward(x, Mode::train);
        const MatD dy = MatD::Zero(3, 5);
        LATENT_CHECK_THROWS_WITH_ALL(d.backward(dy), ShapeError, "Dense", "3x2", "3x5");
    }
    SECTION("an empty Sequential") {
        Sequential<double> s;
        CHECK_THROWS_AS(s.build(Shape{3}), ShapeError);
    }
    SECTION("reconstruct with the wrong number of features") {
        Rng rng(4);
        DenseAutoencoderOptions o;
        o.sizes = {6, 3};
        auto ae = make_dense_autoencoder<double>(o, rng);
        const MatD x = MatD::Zero(7, 2);
        LATENT_CHECK_THROWS_WITH_ALL(ae.reconstruct(x), ShapeError, "6", "7");
        LATENT_CHECK_THROWS_WITH_ALL(ae.encode(x), ShapeError, "6", "7");
        const MatD z = MatD::Zero(4, 2);
        LATENT_CHECK_THROWS_WITH_ALL(ae.decode(z), ShapeError, "3", "4");
    }
}

TEST_CASE("bad layer options are ConfigErrors", "[layers]") {
    CHECK_THROWS_AS(Dense<double>(0), ConfigError);
    CHECK_THROWS_AS(GaussianNoise<double>(-1), ConfigError);
    Rng rng(5);
    DenseAutoencoderOptions o;
    o.sizes = {6};
    CHECK_THROWS_AS(make_dense_autoencoder<double>(o, rng), ConfigError);
    o.sizes = {6, 0};
    CHECK_THROWS_AS(make_dense_autoencoder<double>(o, rng), ConfigError);
}

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

namespace {

// Dense with a backward that is wrong by a relative 1e-5: the checker must notice.
class SlightlyWrongDense : public Dense<double> {
public:
    using Dense<double>::Dense;
    const Mat& backward(const Mat& dy) override {
        scaled_ = dy * (1 + 1e-5);
        return Dense<double>::backward(scaled_);
    }

private:
    Mat scaled_;
};

}  // namespace

TEST_CASE("the gradient checker catches a gradient wrong by 1e-5", "[layers][gradcheck]") {
    Rng rng(70);
    SlightlyWrongDense d(4);
    ParamBuffer<double> p;
    build_standalone(d, Shape{3}, p, rng);
    const MatD x = MatD::Random(3, 2);
    const auto rep = latent::testing::check_layer(d, p, x, rng);
    INFO(rep.str());
    CHECK_FALSE(rep.ok(latent_test::grad_bound));
    CHECK(rep.max_error > 4e-6);
}
