// The layer contract's misuse cases, for every built-in layer: backward
// before any forward throws latent::Error (never dereferences a null cache);
// the layers whose backward needs nothing from forward pass dy through.
#include "support.hpp"

#include <functional>

#include <latent/latent.hpp>

using namespace latent;
using latent_test::MatD;

namespace {

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

TEST_CASE("TiedDense: backward before forward throws latent::Error", "[layers]") {
    auto enc = std::make_unique<Sequential<double>>();
    enc->add<Dense<double>>(3);
    auto dec = std::make_unique<Sequential<double>>();
    dec->add(std::make_unique<TiedDense<double>>(0));
    Autoencoder<double> ae(std::move(enc), std::move(dec));
    Rng rng(2);
    ae.build(Shape{5}, rng);
    LATENT_CHECK_THROWS_WITH_ALL(ae.decoder().backward(MatD::Ones(5, 2)), Error, "backward", "forward");
    LATENT_CHECK_THROWS_WITH_ALL(ae.network().backward(MatD::Ones(5, 2)), Error, "backward", "forward");
}
