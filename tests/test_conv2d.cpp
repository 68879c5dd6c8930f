// Conv2D (layers/conv2d.hpp, with the base both conv layers share): PyTorch
// golden values, gradient checks over a grid of stride x padding x kernel x odd
// sizes, float against double, buffer reuse, and both layers' errors and configs.
#include "conv_support.hpp"
#include "golden/conv_golden_values.hpp"

using conv_test::check_golden;
using conv_test::MatD;
using latent::ConvOptions;
using latent::Conv2D;
using latent::ConvTranspose2D;
using latent::Index;
using latent::Padding;
using latent::Shape;
using latent::Size2;

TEST_CASE("Conv2D matches PyTorch: stride 2, padding 1, (H + 2p - k) not divisible by the stride", "[conv][golden]") {
    Conv2D<double> conv(3, 3, ConvOptions::padded(1, 2));
    check_golden(conv, Shape{2, 5, 6}, 2, golden::conv_s2p1_y, golden::conv_s2p1_dx, golden::conv_s2p1_dw, golden::conv_s2p1_db);
    CHECK(conv.output_shape() == Shape(3, 3, 3));
}

TEST_CASE("Conv2D matches PyTorch: 2x3 kernel, dilation (2,1), stride (1,2), padding (1,2)", "[conv][golden]") {
    ConvOptions o = ConvOptions::padded(Size2(1, 2), Size2(1, 2));
    o.dilation = Size2(2, 1);
    Conv2D<double> conv(2, Size2(2, 3), o);
    check_golden(conv, Shape{2, 6, 7}, 1, golden::conv_dil_y, golden::conv_dil_dx, golden::conv_dil_dw, golden::conv_dil_db);
    CHECK(conv.output_shape() == Shape(2, 6, 5));
}

TEST_CASE("Conv2D gradients over stride x padding x kernel x odd sizes", "[conv][gradcheck]") {
    const std::vector<Padding> paddings = {Padding::valid(), Padding::same(), Padding(0), Padding(1), Padding(2, 1)};
    int checked = 0;
    for (Index stride : {1, 2, 3})
        for (Index k : {1, 2, 3})
            for (const Padding& pad : paddings)
                for (Shape in : {Shape{2, 5, 5}, Shape{1, 7, 6}, Shape{3, 4, 7}}) {
                    if (pad.kind == Padding::Kind::explicit_amount && (pad.amount.h >= k + 1)) continue;
                    ConvOptions o;
                    o.stride = stride;
                    o.padding = pad;
                    Conv2D<double> conv(2, k, o);
                    INFO("stride " << stride << " kernel " << k << " padding " << pad.str() << " input " << in.str());
                    CONV_CHECK_GRADIENT(conv_test::gradcheck(conv, in, 2));
                    ++checked;
                }
    CHECK(checked > 100);
}

TEST_CASE("Conv2D gradients with dilation and rectangular kernels and strides", "[conv][gradcheck]") {
    for (Size2 dil : {Size2(2), Size2(1, 3)})
        for (Padding pad : {Padding::same(), Padding(2, 1), Padding::valid()}) {
            ConvOptions o;
            o.padding = pad;
            o.dilation = dil;
            o.stride = Size2(2, 1);
            Conv2D<double> conv(3, Size2(3, 2), o);
            INFO("dilation " << dil.str() << " padding " << pad.str());
            CONV_CHECK_GRADIENT(conv_test::gradcheck(conv, Shape{2, 9, 8}, 2));
        }
}

TEST_CASE("the 28 -> 14 -> 7 -> 14 -> 28 chain: shapes and gradients at every step", "[conv][gradcheck]") {
    // 28 -> 14 with padding 1, stride 2: (28 + 2 - 3) = 27 is not divisible by 2;
    // 14 -> 7 'same'; 7 -> 4 with padding 1; transposed back 7 -> 14 -> 28.
    Conv2D<double> c1(2, 3, ConvOptions::padded(1, 2));
    Conv2D<double> c2(2, 3, ConvOptions::same(2));
    Conv2D<double> c3(2, 3, ConvOptions::padded(1, 2));
    ConvTranspose2D<double> t1(2, 3, ConvOptions::padded(1, 2, 1));
    ConvTranspose2D<double> t2(1, 3, ConvOptions::same(2));
    CHECK(c1.output_shape(Shape{1, 28, 28}) == Shape(2, 14, 14));
    CHECK(c2.output_shape(Shape{2, 14, 14}) == Shape(2, 7, 7));
    CHECK(c3.output_shape(Shape{2, 7, 7}) == Shape(2, 4, 4));
    CHECK(t1.output_shape(Shape{2, 7, 7}) == Shape(2, 14, 14));
    CHECK(t2.output_shape(Shape{2, 14, 14}) == Shape(1, 28, 28));
    CONV_CHECK_GRADIENT(conv_test::gradcheck(c1, Shape{1, 28, 28}, 1));
    CONV_CHECK_GRADIENT(conv_test::gradcheck(c2, Shape{2, 14, 14}, 2));
    CONV_CHECK_GRADIENT(conv_test::gradcheck(c3, Shape{2, 7, 7}, 2));
    CONV_CHECK_GRADIENT(conv_test::gradcheck(t1, Shape{2, 7, 7}, 2));
    CONV_CHECK_GRADIENT(conv_test::gradcheck(t2, Shape{2, 14, 14}, 1));
}

TEST_CASE("Conv2D gradients with more than 100 inputs and outputs per sample", "[conv][gradcheck]") {
    Conv2D<double> conv(6, 3, ConvOptions::same());
    const auto rep = conv_test::gradcheck(conv, Shape{3, 8, 9}, 2);
    CHECK(conv.output_shape().size() > 100);
    CONV_CHECK_GRADIENT(rep);
}

TEST_CASE("Conv2D in float agrees with double", "[conv]") {
    const Shape in{2, 9, 9};
    Conv2D<double> cd(4, 3, ConvOptions::same(2));
    Conv2D<float> cf(4, 3, ConvOptions::same(2));
    conv_test::Standalone sd(cd, in, 2);
    latent::ParamBuffer<float> pf;
    latent::Rng rf(2);
    latent::testing::build_standalone(cf, in, pf, rf);
    pf.values() = sd.params.values().cast<float>();
    MatD x(in.size(), 3);
    sd.rng.fill_uniform(x);
    const latent::Matrix<float> xf = x.cast<float>();
    const MatD yd = cd.forward(x, latent::Mode::infer);
    const latent::Matrix<float> yf = cf.forward(xf, latent::Mode::infer);
    CHECK((yd - yf.cast<double>()).cwiseAbs().maxCoeff() < 1e-5);
}

TEST_CASE("a step after the first reuses the conv buffers", "[conv]") {
    Conv2D<double> conv(3, 3, ConvOptions::same());
    conv_test::Standalone s(conv, Shape{2, 6, 6});
    conv.set_input_grad(true);
    MatD x(72, 4);
    s.rng.fill_normal(x);
    const double* y0 = conv.forward(x, latent::Mode::train).data();
    const double* dx0 = conv.backward(MatD::Ones(108, 4)).data();
    CHECK(conv.forward(x, latent::Mode::train).data() == y0);
    CHECK(conv.backward(MatD::Ones(108, 4)).data() == dx0);
}

TEST_CASE("conv shape errors name the layer and both shapes", "[conv][errors]") {
    Conv2D<double> conv(4, 5);
    try {
        (void)conv.output_shape(Shape{3, 4, 9});
        FAIL("expected ShapeError");
    } catch (const latent::ShapeError& e) {
        const std::string m = e.what();
        INFO(m);
        CHECK(conv_test::contains(m, "Conv2D"));
        CHECK(conv_test::contains(m, "(3x4x9)"));
        CHECK(conv_test::contains(m, "height >= 5"));
    }
    // A flat input gets a hint to reshape.
    try {
        (void)conv.output_shape(Shape{784});
        FAIL("expected ShapeError");
    } catch (const latent::ShapeError& e) {
        CHECK(conv_test::contains(e.what(), "Reshape"));
    }
    // Inside a model: the Sequential names the failing child; nothing is built.
    auto seq = std::make_unique<latent::Sequential<double>>();
    seq->add<Conv2D<double>>(8, 3, ConvOptions::valid(2)).add<Conv2D<double>>(8, 3).add<Conv2D<double>>(8, 3);
    try {
        latent::Network<double> net(std::move(seq));
        latent::Rng rng(1);
        net.build(Shape{1, 9, 9}, rng);
        FAIL("expected ShapeError");
    } catch (const latent::ShapeError& e) {
        const std::string m = e.what();
        INFO(m);
        CHECK(conv_test::contains(m, "layer 2 (Conv2D)"));
        CHECK(conv_test::contains(m, "(8x2x2)"));
    }
    // Transposed conv whose padding eats the whole output.
    ConvTranspose2D<double> t(2, 1, ConvOptions::padded(1));
    CHECK_THROWS_AS(t.output_shape(Shape{1, 2, 2}), latent::ShapeError);
    CHECK_THROWS_AS(ConvTranspose2D<double>(2, 3, ConvOptions::padded(1, 2, 2)), latent::ConfigError);
    CHECK_THROWS_AS(ConvTranspose2D<double>(2, 3, ConvOptions::padded(1, 2, 1)).output_shape(Shape{2, 0, 3}), latent::ShapeError);
    CHECK_THROWS_AS(Conv2D<double>(0, 3), latent::ConfigError);
    CHECK_THROWS_AS(Conv2D<double>(2, 3, ConvOptions::valid(0)), latent::ConfigError);
    CHECK_THROWS_AS(Conv2D<double>(2, 3, ConvOptions::padded(1, 2, 1)), latent::ConfigError);
    // forward with the wrong number of features
    Conv2D<double> c(2, 3);
    conv_test::Standalone s(c, Shape{1, 5, 5});
    CHECK_THROWS_AS(c.forward(MatD::Zero(24, 2), latent::Mode::train), latent::ShapeError);
}

TEST_CASE("conv layers round-trip through their configs and a model file", "[conv][io]") {
    using F = latent::LayerFactory<float>;
    const F factory = F::builtin();
    ConvOptions o = ConvOptions::padded(Size2(1, 2), Size2(2, 3), Size2(1, 0));
    o.dilation = Size2(1, 2);
    o.init = latent::WeightInit::he;
    o.bias = false;
    latent::ConvTranspose2D<float> t(5, Size2(3, 4), o);
    latent::Conv2D<float> c(7, 3, ConvOptions::same(2));
    for (latent::Layer<float>* l : {static_cast<latent::Layer<float>*>(&t), static_cast<latent::Layer<float>*>(&c)}) {
        auto copy = factory.make(l->config());
        CHECK(copy->config() == l->config());
        CHECK(copy->type() == l->type());
    }

    auto enc = std::make_unique<latent::Sequential<float>>();
    enc->add<latent::Conv2D<float>>(4, 3, ConvOptions::same(2))
        .add<latent::Activation<float>>(latent::Act::relu)
        .add<latent::Flatten<float>>()
        .add<latent::Dense<float>>(6);
    auto dec = std::make_unique<latent::Sequential<float>>();
    dec->add<latent::Dense<float>>(4 * 4 * 4)
        .add<latent::Reshape<float>>(Shape{4, 4, 4})
        .add<latent::ConvTranspose2D<float>>(1, 3, ConvOptions::padded(1, 2, 1))
        .add<latent::Activation<float>>(latent::Act::sigmoid);
    latent::Autoencoder<float> ae(std::move(enc), std::move(dec));
    latent::Rng rng(3);
    ae.build(Shape{1, 8, 8}, rng);
    CHECK(ae.output_shape() == Shape(1, 8, 8));
    const auto names = ae.parameters();
    CHECK(names[0].name == "encoder.0.weight");
    latent::Matrix<float> x(64, 5);
    rng.fill_uniform(x);
    const latent::Matrix<float> before = ae.reconstruct(x);
    const std::string path = "test_conv_model.lat";
    latent::save(ae, path);
    auto loaded = latent::load_autoencoder<float>(path);
    std::remove(path.c_str());
    CHECK((loaded.reconstruct(x) - before).cwiseAbs().maxCoeff() == 0.0f);
}
