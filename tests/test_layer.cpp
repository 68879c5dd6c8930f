// The layer contract (layers/layer.hpp): in every built-in layer a backward before any forward
// throws latent::Error or (needing nothing from forward) passes dy through; output_shape(in) and
// output_shape(); shape and option errors name the layer; use before build (a Network's too) throws.
#include "support.hpp"

#include <functional>

#include <latent/latent.hpp>

using namespace latent;
using latent::testing::build_standalone;
using latent_test::MatD;

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

struct Case {
    const char* name;
    Shape input;
    std::function<LayerPtr<double>()> make;
};

std::vector<Case> every_layer() {
    const Shape img{2, 4, 4}, seq = sequence_shape(3, 2);
    return {
        {"Dense", Shape{5}, [] { return std::make_unique<Dense<double>>(3); }},
        {"Activation", Shape{5}, [] { return std::make_unique<Activation<double>>(Act::tanh); }},
        {"Activation relu", Shape{5}, [] { return std::make_unique<Activation<double>>(Act::relu); }},
        {"Dropout", Shape{5}, [] { return std::make_unique<Dropout<double>>(0.5); }},
        {"GaussianNoise", Shape{5}, [] { return std::make_unique<GaussianNoise<double>>(0.1); }},
        {"ActivityL1", Shape{5}, [] { return std::make_unique<ActivityL1<double>>(0.1); }},
        {"KLSparsity", Shape{5}, [] { return std::make_unique<KLSparsity<double>>(0.1, 1.0); }},
        {"ContractiveDense", Shape{5}, [] { return std::make_unique<ContractiveDense<double>>(3, 0.1); }},
        {"Conv2D", img, [] { return std::make_unique<Conv2D<double>>(3, Size2(3, 3)); }},
        {"ConvTranspose2D", img, [] { return std::make_unique<ConvTranspose2D<double>>(3, Size2(3, 3)); }},
        {"MaxPool2D", img, [] { return std::make_unique<MaxPool2D<double>>(Size2(2, 2)); }},
        {"AvgPool2D", img, [] { return std::make_unique<AvgPool2D<double>>(Size2(2, 2)); }},
        {"Upsample2D", img, [] { return std::make_unique<Upsample2D<double>>(Size2(2, 2)); }},
        {"Upsample2D bilinear", img, [] { return std::make_unique<Upsample2D<double>>(Size2(2, 2), Interpolation::bilinear); }},
        {"Flatten", img, [] { return std::make_unique<Flatten<double>>(); }},
        {"Reshape", Shape{32}, [] { return std::make_unique<Reshape<double>>(Shape{2, 4, 4}); }},
        {"GaussianSampler", Shape{6}, [] { return std::make_unique<GaussianSampler<double>>(); }},
        {"BatchNorm", Shape{5}, [] { return std::make_unique<BatchNorm<double>>(); }},
        {"LSTM", seq, [] { return std::make_unique<LSTM<double>>(4); }},
        {"GRU", seq, [] { return std::make_unique<GRU<double>>(4, RnnOutput::sequence); }},
        {"RepeatVector", Shape{5}, [] { return std::make_unique<RepeatVector<double>>(3); }},
        {"TimeDistributed", seq, [] { return std::make_unique<TimeDistributed<double>>(std::make_unique<Dense<double>>(3)); }},
        {"Sequential", Shape{5}, [] {
             auto s = std::make_unique<Sequential<double>>();
             s->add<Dense<double>>(4).add<Activation<double>>(Act::sigmoid).add<Dense<double>>(2);
             return s;
         }},
    };
}

}  // namespace

TEST_CASE("backward before forward throws latent::Error in every layer", "[layers]") {
    for (const auto& c : every_layer()) {
        INFO("layer " << c.name);
        auto layer = c.make();
        ParamBuffer<double> p;
        Rng rng(1);
        latent::testing::build_standalone(*layer, c.input, p, rng);
        const MatD dy = MatD::Ones(layer->output_shape().size(), 2);
        const std::string name = c.name;
        if (name == "Flatten" || name == "Reshape" || name == "GaussianNoise" || name == "Dropout")
            CHECK(layer->backward(dy) == dy);  // identity before a train-mode forward, as in infer mode
        else
            LATENT_CHECK_THROWS_WITH_ALL(layer->backward(dy), Error, "backward", "forward");
        // and after a forward, backward works
        const MatD x = MatD::Constant(c.input.size(), 2, 0.5);
        layer->forward(x, Mode::train);
        CHECK_NOTHROW(layer->backward(dy));
    }
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

TEST_CASE("layers and networks used before they are built say so", "[core]") {
    Dense<double> d(3);
    const MatD x = MatD::Zero(2, 2);
    CHECK_THROWS_AS(d.forward(x, Mode::infer), Error);
    CHECK_THROWS_AS(d.parameters(), Error);
    Network<double> empty;
    CHECK_THROWS_AS(empty.forward(x, Mode::infer), Error);
    Dropout<double> drop(0.5);
    drop.build(Shape{2});
    CHECK_THROWS_AS(drop.forward(x, Mode::train), Error);  // no generator attached
}
