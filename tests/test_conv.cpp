// Conv2D and ConvTranspose2D: PyTorch golden values, gradient checks over a
// grid of stride x padding x output padding x odd sizes, shape round trips,
// the adjoint identity, chunking/threads invariance, shape errors, configs.
#include "conv_support.hpp"
#include "golden/conv_golden_values.hpp"

using conv_test::fill;
using conv_test::MatD;
using latent::ConvOptions;
using latent::Conv2D;
using latent::ConvTranspose2D;
using latent::Index;
using latent::Padding;
using latent::Shape;
using latent::Size2;

namespace {

// Runs a layer against a golden case: x = fill(.., 0.37, 0.1), weight =
// 0.5 fill(.., 0.23, 0.7), bias = fill(.., 1.1, 0.2), upstream g = fill(.., 0.7, 0.3).
template <class L>
void check_golden(L& layer, Shape in, Index batch, const std::vector<double>& y, const std::vector<double>& dx,
                  const std::vector<double>& dw, const std::vector<double>& db) {
    conv_test::Standalone s(layer, in);
    conv_test::copy_into(layer.weight(), 0.5 * fill(layer.weight().rows(), layer.weight().cols(), 0.23, 0.7));
    conv_test::copy_into(layer.bias(), fill(layer.bias().rows(), 1, 1.1, 0.2));
    const MatD x = fill(in.size(), batch, 0.37, 0.1);
    layer.set_input_grad(true);
    const MatD& out = layer.forward(x, latent::Mode::train);
    REQUIRE(out.rows() == layer.output_shape().size());
    CHECK(conv_test::max_abs_diff(out, y) < 1e-12);
    s.params.zero_grad();
    const MatD g = fill(out.rows(), out.cols(), 0.7, 0.3);
    const MatD& dxo = layer.backward(g);
    CHECK(conv_test::max_abs_diff(dxo, dx) < 1e-12);
    const auto views = layer.parameters();
    REQUIRE(views.size() == 2);
    CHECK(views[0].name == "weight");
    CHECK(conv_test::max_abs_diff(views[0].grad, dw) < 1e-12);
    CHECK(conv_test::max_abs_diff(views[1].grad, db) < 1e-12);
}

}  // namespace

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

TEST_CASE("ConvTranspose2D matches PyTorch: stride 2, padding 1, output_padding 1", "[conv][golden]") {
    ConvTranspose2D<double> t(2, 3, ConvOptions::padded(1, 2, 1));
    check_golden(t, Shape{3, 3, 4}, 2, golden::tconv_s2p1op1_y, golden::tconv_s2p1op1_dx, golden::tconv_s2p1op1_dw,
                 golden::tconv_s2p1op1_db);
    CHECK(t.output_shape() == Shape(2, 6, 8));
}

TEST_CASE("ConvTranspose2D matches PyTorch: 2x4 kernel, stride (3,2), output_padding (1,0)", "[conv][golden]") {
    ConvTranspose2D<double> t(3, Size2(2, 4), ConvOptions::padded(0, Size2(3, 2), Size2(1, 0)));
    check_golden(t, Shape{2, 2, 3}, 1, golden::tconv_s3_y, golden::tconv_s3_dx, golden::tconv_s3_dw, golden::tconv_s3_db);
    CHECK(t.output_shape() == Shape(3, 6, 8));
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

TEST_CASE("ConvTranspose2D gradients over stride x padding x output padding x odd sizes", "[conv][gradcheck]") {
    int checked = 0;
    for (Index stride : {1, 2, 3})
        for (Index k : {1, 2, 3, 4})
            for (Index pad : {-1, 0, 1})  // -1: 'same'
                for (Index op = 0; op < stride; ++op)
                    for (Shape in : {Shape{2, 3, 3}, Shape{1, 5, 4}}) {
                        if (pad == -1 && op > 0) continue;
                        ConvOptions o = pad == -1 ? ConvOptions::same(stride) : ConvOptions::padded(pad, stride, op);
                        ConvTranspose2D<double> t(2, k, o);
                        INFO("stride " << stride << " kernel " << k << " padding " << o.padding.str() << " output_padding " << op
                                       << " input " << in.str());
                        Shape out;
                        try {
                            out = t.output_shape(in);
                        } catch (const latent::ShapeError&) {
                            continue;  // padding larger than the output (k=1, p=1): rejected, see the errors test
                        }
                        CONV_CHECK_GRADIENT(conv_test::gradcheck(t, in, 2));
                        ++checked;
                    }
    CHECK(checked > 60);
}

TEST_CASE("ConvTranspose2D gradients with dilation", "[conv][gradcheck]") {
    ConvOptions o = ConvOptions::padded(Size2(1, 2), Size2(2, 3), Size2(1, 2));
    o.dilation = Size2(2, 3);
    ConvTranspose2D<double> t(2, Size2(3, 2), o);
    CONV_CHECK_GRADIENT(conv_test::gradcheck(t, Shape{3, 4, 3}, 2));
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

TEST_CASE("conv then transposed conv with the same k, s, p restores every input size", "[conv][shapes]") {
    for (Index k : {1, 2, 3, 4, 5})
        for (Index s : {1, 2, 3})
            for (Index p = 0; p <= k / 2; ++p)
                for (Index h = k; h <= 30; ++h) {
                    Conv2D<double> conv(4, k, ConvOptions::padded(p, s));
                    const Shape mid = conv.output_shape(Shape{1, h, h + 1});
                    const Index op_h = (h + 2 * p - k) % s, op_w = (h + 1 + 2 * p - k) % s;
                    ConvTranspose2D<double> t(1, k, ConvOptions::padded(p, s, Size2(op_h, op_w)));
                    INFO("k " << k << " s " << s << " p " << p << " h " << h);
                    CHECK(t.output_shape(mid) == Shape(1, h, h + 1));
                }
    // 'same' both ways: H -> ceil(H/s) -> ceil(H/s)*s
    for (Index h : {7, 13, 14, 28})
        for (Index s : {1, 2, 3}) {
            Conv2D<double> conv(4, 3, ConvOptions::same(s));
            ConvTranspose2D<double> t(1, 3, ConvOptions::same(s));
            const Shape mid = conv.output_shape(Shape{1, h, h});
            CHECK(mid.h == (h + s - 1) / s);
            CHECK(t.output_shape(mid) == Shape(1, mid.h * s, mid.w * s));
        }
}

TEST_CASE("ConvTranspose2D is the adjoint of Conv2D with the same weights", "[conv]") {
    // <conv(x), y> == <x, convT(y)> without biases, for weights shared memory-for-memory.
    for (Index s : {1, 2, 3})
        for (Index p : {0, 1, 2}) {
            const Shape in{3, 9, 8};
            ConvOptions o = ConvOptions::padded(p, s);
            o.bias = false;
            Conv2D<double> conv(4, 3, o);
            conv_test::Standalone sc(conv, in, 3);
            const Shape mid = conv.output_shape();
            o.output_padding = Size2((in.h + 2 * p - 3) % s, (in.w + 2 * p - 3) % s);
            ConvTranspose2D<double> t(3, 3, o);
            conv_test::Standalone st(t, mid, 4);
            REQUIRE(t.output_shape() == in);
            REQUIRE(t.weight().size() == conv.weight().size());
            std::copy(conv.weight().data(), conv.weight().data() + conv.weight().size(), t.weight().data());
            MatD x(in.size(), 3), y(mid.size(), 3);
            sc.rng.fill_normal(x);
            sc.rng.fill_normal(y);
            const double lhs = (conv.forward(x, latent::Mode::infer).array() * y.array()).sum();
            const double rhs = (x.array() * t.forward(y, latent::Mode::infer).array()).sum();
            INFO("stride " << s << " padding " << p);
            CHECK(std::abs(lhs - rhs) < 1e-10 * (1 + std::abs(lhs)));
        }
}

TEST_CASE("chunked im2col and two threads give the same results as one chunk", "[conv]") {
    const Shape in{3, 11, 10};
    auto run = [&](Index budget, int threads, MatD& y, MatD& dx, latent::Vector<double>& grads) {
        latent::set_num_threads(threads);
        Conv2D<double> conv(5, 3, ConvOptions::padded(1, 2));
        conv.set_im2col_budget(budget);
        conv_test::Standalone s(conv, in, 5);
        conv.set_input_grad(true);
        MatD x(in.size(), 7);
        latent::Rng r(9);
        r.fill_normal(x);
        y = conv.forward(x, latent::Mode::train);
        MatD g(y.rows(), y.cols());
        r.fill_normal(g);
        s.params.zero_grad();
        dx = conv.backward(g);
        grads = s.params.grads();
        latent::set_num_threads(1);
    };
    MatD y1, dx1, y2, dx2, y3, dx3;
    latent::Vector<double> g1, g2, g3;
    run(Index{1} << 20, 1, y1, dx1, g1);
    run(1, 1, y2, dx2, g2);  // one sample per chunk
    CHECK((y1 - y2).cwiseAbs().maxCoeff() < 1e-12);
    CHECK((dx1 - dx2).cwiseAbs().maxCoeff() < 1e-12);
    CHECK((g1 - g2).cwiseAbs().maxCoeff() < 1e-12);
    if (latent::has_openmp()) {
        run(Index{1} << 20, 2, y3, dx3, g3);
        CHECK((y1 - y3).cwiseAbs().maxCoeff() < 1e-12);
        CHECK((dx1 - dx3).cwiseAbs().maxCoeff() < 1e-12);
        CHECK((g1 - g3).cwiseAbs().maxCoeff() < 1e-12);
    }
}

TEST_CASE("every conv algorithm (im2col, flipped adjoint, direct) gives the same results", "[conv]") {
    using A = latent::detail::ConvAlgorithm;
    // Forward, input gradient and weight gradient of a layer under algorithm `a`.
    auto run = [](latent::Layer<double>& layer, Shape in, MatD& y, MatD& dx, latent::Vector<double>& grads) {
        conv_test::Standalone s(layer, in, 5);
        s.rng.fill_uniform(s.params.values(), -1.0, 1.0);
        layer.set_input_grad(true);
        MatD x(in.size(), 5);
        latent::Rng r(9);
        r.fill_normal(x);
        y = layer.forward(x, latent::Mode::train);
        MatD g(y.rows(), y.cols());
        r.fill_normal(g);
        s.params.zero_grad();
        dx = layer.backward(g);
        grads = s.params.grads();
    };
    int compared = 0;
    for (Index stride : {1, 2})
        for (Index pad : {0, 1, 2})
            for (Index filters : {1, 2, 5})
                for (Index channels : {1, 3, 9}) {
                    const Shape in{channels, 7, 6};
                    MatD y[4], dx[4], ty[4], tdx[4];
                    latent::Vector<double> g[4], tg[4];
                    int i = 0;
                    for (A a : {A::automatic, A::im2col, A::im2col_flipped, A::direct}) {
                        Conv2D<double> conv(filters, 3, ConvOptions::padded(pad, stride));
                        conv.set_algorithm(a);
                        run(conv, in, y[i], dx[i], g[i]);
                        ConvTranspose2D<double> t(filters, 3, ConvOptions::padded(pad, stride, stride - 1));
                        t.set_algorithm(a);
                        run(t, in, ty[i], tdx[i], tg[i]);
                        ++i;
                    }
                    INFO("stride " << stride << " padding " << pad << " filters " << filters << " channels " << channels);
                    for (int k = 1; k < 4; ++k) {
                        CHECK((y[k] - y[0]).cwiseAbs().maxCoeff() < 1e-12);
                        CHECK((dx[k] - dx[0]).cwiseAbs().maxCoeff() < 1e-12);
                        CHECK((g[k] - g[0]).cwiseAbs().maxCoeff() < 1e-12);
                        CHECK((ty[k] - ty[0]).cwiseAbs().maxCoeff() < 1e-12);
                        CHECK((tdx[k] - tdx[0]).cwiseAbs().maxCoeff() < 1e-12);
                        CHECK((tg[k] - tg[0]).cwiseAbs().maxCoeff() < 1e-12);
                        ++compared;
                    }
                }
    CHECK(compared == 162);
}

TEST_CASE("every conv algorithm passes the gradient check", "[conv][gradcheck]") {
    using A = latent::detail::ConvAlgorithm;
    for (A a : {A::im2col, A::im2col_flipped, A::direct})
        for (Index stride : {1, 2}) {
            ConvOptions o = ConvOptions::padded(Size2(2, 1), stride);
            o.dilation = Size2(1, 2);
            Conv2D<double> conv(3, 3, o);
            conv.set_algorithm(a);
            CONV_CHECK_GRADIENT(conv_test::gradcheck(conv, Shape{4, 7, 8}, 2));
            o.output_padding = stride - 1;
            ConvTranspose2D<double> t(3, 3, o);
            t.set_algorithm(a);
            CONV_CHECK_GRADIENT(conv_test::gradcheck(t, Shape{4, 5, 6}, 2));
        }
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

TEST_CASE("float Conv2D gradients agree with double where the GEMMs take our kernel, Eigen, or a transposed dW", "[conv][gemm]") {
    using A = latent::detail::ConvAlgorithm;
    // (channels, size, filters): one channel (9 x 64 weight gradient, kept
    // transposed; k = 9 products go to Eigen), 16 -> 32 (our kernel), 32 -> 16
    // (n = 16: Eigen), each with the plain and the flipped adjoint.
    struct Case {
        Index channels, size, filters;
    };
    for (Case c : {Case{1, 12, 64}, Case{16, 8, 32}, Case{32, 7, 16}})
        for (A a : {A::im2col, A::im2col_flipped}) {
            const Shape in{c.channels, c.size, c.size};
            const Index batch = 6;
            Conv2D<double> cd(c.filters, 3, ConvOptions::same());
            Conv2D<float> cf(c.filters, 3, ConvOptions::same());
            cd.set_algorithm(a);
            cf.set_algorithm(a);
            conv_test::Standalone sd(cd, in, 3);
            sd.rng.fill_uniform(sd.params.values(), -1.0, 1.0);
            latent::ParamBuffer<float> pf;
            latent::Rng rf(3);
            latent::testing::build_standalone(cf, in, pf, rf);
            pf.values() = sd.params.values().cast<float>();
            cd.set_input_grad(true);
            cf.set_input_grad(true);
            MatD x(in.size(), batch);
            sd.rng.fill_uniform(x, -1.0, 1.0);
            MatD g(cd.output_shape().size(), batch);
            sd.rng.fill_uniform(g, -1.0, 1.0);
            const latent::Matrix<float> xf = x.cast<float>(), gf = g.cast<float>();
            sd.params.zero_grad();
            pf.zero_grad();
            const MatD yd = cd.forward(x, latent::Mode::train);
            const latent::Matrix<float> yf = cf.forward(xf, latent::Mode::train);
            const MatD dxd = cd.backward(g);
            const latent::Matrix<float> dxf = cf.backward(gf);
            INFO("channels " << c.channels << " filters " << c.filters << " algorithm " << static_cast<int>(a));
            // Sums of up to 9 * 32 * 6 * 144 terms of size <= 1 in float.
            auto close = [](const auto& d, const auto& f) {
                return (d - f.template cast<double>()).cwiseAbs().maxCoeff() <= 1e-4 * std::max(1.0, d.cwiseAbs().maxCoeff());
            };
            CHECK(close(yd, yf));
            CHECK(close(dxd, dxf));
            CHECK(close(sd.params.grads(), pf.grads()));
        }
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

TEST_CASE("the automatic conv algorithm is the measured winner per layer shape, measured once", "[conv][engine]") {
    using A = latent::detail::ConvAlgorithm;
    int calls = 0;
    // a deterministic cost model instead of a clock: direct wins with 3 filters, the flipped adjoint with 4
    latent::detail::set_conv_cost_hook([&](A a, const latent::detail::ConvGeometry&, Index features) {
        ++calls;
        const A winner = features == 3 ? A::direct : A::im2col_flipped;
        return a == winner ? 1.0 : 2.0;
    });
    auto forward_once = [](Conv2D<float>& conv) {
        latent::ParamBuffer<float> params;
        latent::Rng rng(3);
        latent::testing::build_standalone(conv, Shape{8, 9, 9}, params, rng);
        latent::Matrix<float> x(8 * 9 * 9, 4);
        rng.fill_uniform(x);
        conv.forward(x, latent::Mode::infer);
    };
    Conv2D<float> three(3, 3, ConvOptions::same()), four(4, 3, ConvOptions::same()), again(3, 3, ConvOptions::same());
    CHECK(three.algorithm() == A::automatic);
    forward_once(three);
    CHECK(three.algorithm() == A::direct);
    forward_once(four);
    CHECK(four.algorithm() == A::im2col_flipped);
    const int measured = calls;
    CHECK(measured == 6);  // 3 candidates per shape at stride 1
    forward_once(again);    // same shape: the cached choice, no new measurement
    CHECK(again.algorithm() == A::direct);
    CHECK(calls == measured);
    // a set algorithm is never replaced
    Conv2D<float> fixed(3, 3, ConvOptions::same());
    fixed.set_algorithm(A::im2col);
    forward_once(fixed);
    CHECK(fixed.algorithm() == A::im2col);
    latent::detail::set_conv_cost_hook(nullptr);
}

// PyTorch's default init reads ConvTranspose2d's fan-in off its (C_in, C_out,
// kh, kw) weight: C_out * kh * kw. The `pytorch` initializer draws from the
// same U(+-1/sqrt(fan_in)) for weights and biases.
TEST_CASE("ConvTranspose2D's pytorch init uses torch's fan-in C_out*kh*kw", "[conv]") {
    ConvOptions o = ConvOptions::valid();
    o.init = latent::WeightInit::pytorch;
    ConvTranspose2D<double> t(3, Size2(3), o);  // C_in 2, C_out 3: fan-in 27 (not C_in*kh*kw = 18)
    latent::ParamBuffer<double> p;
    latent::Rng rng(7);
    latent::testing::build_standalone(t, Shape{2, 4, 4}, p, rng);
    const double bound = 1.0 / std::sqrt(27.0);
    CHECK(p.values().cwiseAbs().maxCoeff() <= bound);
    CHECK(p.values().cwiseAbs().maxCoeff() > 0.9 * bound);
    CHECK(t.bias().cwiseAbs().maxCoeff() <= bound);
}
