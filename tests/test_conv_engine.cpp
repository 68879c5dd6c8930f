// The conv engine (layers/detail/conv_engine.hpp): chunked im2col and threads,
// every algorithm (im2col, flipped adjoint, direct) equal and gradient-checked,
// float GEMM layouts against double, the measured automatic choice.
#include "conv_support.hpp"
#include "support.hpp"

using conv_test::MatD;
using latent::ConvOptions;
using latent::Conv2D;
using latent::ConvTranspose2D;
using latent::Index;
using latent::Shape;
using latent::Size2;

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

TEST_CASE("set_conv_algorithm forces the automatic choice where the algorithm applies; auto measures again", "[conv][engine]") {
    using A = latent::detail::ConvAlgorithm;
    int calls = 0;
    latent::detail::set_conv_cost_hook([&](A a, const latent::detail::ConvGeometry&, Index) {
        ++calls;
        return a == A::direct ? 1.0 : 2.0;  // measuring would pick direct
    });
    auto forward_once = [](Conv2D<float>& conv) {
        latent::ParamBuffer<float> params;
        latent::Rng rng(3);
        latent::testing::build_standalone(conv, Shape{4, 8, 8}, params, rng);
        latent::Matrix<float> x(4 * 8 * 8, 2);
        rng.fill_uniform(x);
        conv.forward(x, latent::Mode::infer);
    };
    latent::set_conv_algorithm("im2col_flipped");
    Conv2D<float> s1(5, 3, ConvOptions::same()), s2(5, 3, ConvOptions::same(2));
    forward_once(s1);
    forward_once(s2);
    CHECK(s1.algorithm() == A::im2col_flipped);
    CHECK(s2.algorithm() == A::im2col);  // stride 2: the flipped adjoint does not apply
    CHECK(calls == 0);                   // nothing measured
    latent::set_conv_algorithm("direct");  // the choices so far are forgotten
    Conv2D<float> d(5, 3, ConvOptions::same());
    forward_once(d);
    CHECK(d.algorithm() == A::direct);
    CHECK(s1.algorithm() == A::im2col_flipped);  // a layer that already chose keeps its choice
    latent::set_conv_algorithm("auto");
    Conv2D<float> m(6, 3, ConvOptions::same());
    forward_once(m);
    CHECK(m.algorithm() == A::direct);
    CHECK(calls == 3);
    LATENT_CHECK_THROWS_WITH_ALL(latent::set_conv_algorithm("winograd"), latent::ConfigError,
                                 "expected im2col, im2col_flipped, direct or auto, found 'winograd'");
    latent::detail::set_conv_cost_hook(nullptr);
}
