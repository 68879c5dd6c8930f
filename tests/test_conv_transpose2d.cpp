// ConvTranspose2D (layers/conv_transpose2d.hpp): PyTorch golden values,
// gradient checks over stride x padding x output padding x odd sizes, the
// inverse shapes of Conv2D, the adjoint identity, PyTorch's initialization.
#include "conv_support.hpp"
#include "golden/conv_golden_values.hpp"

using conv_test::check_golden;
using conv_test::MatD;
using latent::ConvOptions;
using latent::Conv2D;
using latent::ConvTranspose2D;
using latent::Index;
using latent::Shape;
using latent::Size2;

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
