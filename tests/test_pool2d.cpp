// MaxPool2D and AvgPool2D (layers/pool2d.hpp): PyTorch golden values, Keras
// 'same' and ceil-mode shapes, deterministic max ties, gradient checks; and the
// image layers' (pooling, Upsample2D, Flatten, Reshape) threads, errors, configs.
#include "conv_support.hpp"
#include "golden/conv_golden_values.hpp"

#include <limits>

using conv_test::check_golden;
using conv_test::MatD;
using latent::AvgPool2D;
using latent::Index;
using latent::Interpolation;
using latent::MaxPool2D;
using latent::Padding;
using latent::PoolOptions;
using latent::Shape;
using latent::Size2;
using latent::Upsample2D;

namespace {

PoolOptions opts(Size2 stride, Padding pad, bool ceil_mode = false, bool include_pad = false) {
    PoolOptions o;
    o.stride = stride;
    o.padding = pad;
    o.ceil_mode = ceil_mode;
    o.count_include_pad = include_pad;
    return o;
}

// Inputs with distinct values (no ties) away from each other by >= 1e-3,
// so central differences never move the argmax.
MatD distinct_values(Index rows, Index cols, latent::Rng& rng) {
    MatD x(rows, cols);
    std::vector<Index> perm = rng.permutation(rows * cols);
    for (Index i = 0; i < x.size(); ++i) x.data()[i] = 0.01 * static_cast<double>(perm[static_cast<std::size_t>(i)]) - 1.0;
    return x;
}

}  // namespace

TEST_CASE("MaxPool2D matches PyTorch: 2x2 ceil mode on odd sizes", "[pool][golden]") {
    MaxPool2D<double> p(2, opts(2, Padding::valid(), true));
    check_golden(p, Shape{2, 5, 7}, 2, Shape{2, 3, 4}, golden::maxpool_ceil_y, golden::maxpool_ceil_dx);
}

TEST_CASE("MaxPool2D matches PyTorch: 3x3, stride 2, padding 1", "[pool][golden]") {
    MaxPool2D<double> p(3, opts(2, Padding(1)));
    check_golden(p, Shape{2, 6, 5}, 1, Shape{2, 3, 3}, golden::maxpool_k3s2p1_y, golden::maxpool_k3s2p1_dx);
}

TEST_CASE("AvgPool2D matches PyTorch with and without counting the padding", "[pool][golden]") {
    AvgPool2D<double> incl(3, opts(2, Padding(1), false, true));
    check_golden(incl, Shape{2, 6, 5}, 1, Shape{2, 3, 3}, golden::avgpool_k3s2p1_incl_y, golden::avgpool_k3s2p1_incl_dx);
    AvgPool2D<double> excl(3, opts(2, Padding(1), true, false));
    check_golden(excl, Shape{2, 6, 5}, 1, Shape{2, 4, 3}, golden::avgpool_k3s2p1_excl_y, golden::avgpool_k3s2p1_excl_dx);
}

TEST_CASE("pooling shapes: Keras 'same', ceil mode, and the 28 -> 14 -> 7 -> 4 chain", "[pool][shapes]") {
    MaxPool2D<double> same(2, PoolOptions::same());
    CHECK(same.output_shape(Shape{64, 28, 28}) == Shape(64, 14, 14));
    CHECK(same.output_shape(Shape{32, 14, 14}) == Shape(32, 7, 7));
    CHECK(same.output_shape(Shape{16, 7, 7}) == Shape(16, 4, 4));
    MaxPool2D<double> floor_mode(2);
    CHECK(floor_mode.output_shape(Shape{16, 7, 7}) == Shape(16, 3, 3));
    MaxPool2D<double> ceil_mode(2, opts(2, Padding::valid(), true));
    CHECK(ceil_mode.output_shape(Shape{16, 7, 7}) == Shape(16, 4, 4));
    // PyTorch drops a last window that would start in the right padding: (5 + 2 - 2)/2 ceil = 3 (+1) -> 3
    MaxPool2D<double> p(2, opts(2, Padding(1), true));
    CHECK(p.output_shape(Shape{1, 5, 5}) == Shape(1, 3, 3));
    // 'same' 3x3 stride 1 keeps the size
    AvgPool2D<double> a(3, PoolOptions::same(1));
    CHECK(a.output_shape(Shape{2, 9, 6}) == Shape(2, 9, 6));
}

TEST_CASE("MaxPool2D 'same' on 7x7 equals ceil mode (padded positions never win)", "[pool]") {
    MaxPool2D<double> same(2, PoolOptions::same());
    MaxPool2D<double> ceil(2, opts(2, Padding::valid(), true));
    conv_test::Standalone s1(same, Shape{3, 7, 7}), s2(ceil, Shape{3, 7, 7});
    MatD x(147, 2);
    s1.rng.fill_uniform(x, -3.0, -1.0);  // all negative: a zero from padding would win if padding counted
    CHECK((same.forward(x, latent::Mode::train) - ceil.forward(x, latent::Mode::train)).cwiseAbs().maxCoeff() == 0.0);
    CHECK(same.forward(x, latent::Mode::train).maxCoeff() < -1.0 + 1e-12);
}

TEST_CASE("MaxPool2D ties: the first maximum in row-major window order wins, gradient to it alone", "[pool]") {
    MaxPool2D<double> p(2);
    conv_test::Standalone s(p, Shape{1, 2, 4});
    p.set_input_grad(true);
    // window 0 (cols 0-1): all equal -> position 0; window 1 (cols 2-3): tie between (0,3) and (1,2) -> (0,3) first
    MatD x(8, 1);
    x << 5, 5, 1, 7,   // row 0
        5, 5, 7, 2;    // row 1
    const MatD& y = p.forward(x, latent::Mode::train);
    CHECK(y(0, 0) == 5);
    CHECK(y(1, 0) == 7);
    const MatD& dx = p.backward(MatD::Constant(2, 1, 1.0));
    MatD expected(8, 1);
    expected << 1, 0, 0, 1, 0, 0, 0, 0;
    CHECK(dx == expected);
    // repeated runs give the same result
    CHECK(p.backward(MatD::Constant(2, 1, 1.0)) == expected);
}

TEST_CASE("MaxPool2D propagates NaN like PyTorch (on the 2x2 fast path and the general one)", "[pool]") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (Index k : {2, 3}) {
        MaxPool2D<double> p(k);
        conv_test::Standalone s(p, Shape{1, k, 2 * k});
        MatD x = MatD::Zero(2 * k * k, 1);
        x(1, 0) = nan;          // first window
        x(2 * k - 1, 0) = 5.0;  // second window: a number, no NaN
        const MatD& y = p.forward(x, latent::Mode::train);
        CHECK(std::isnan(y(0, 0)));
        CHECK(y(1, 0) == 5.0);
        const MatD& dx = p.backward(MatD::Ones(2, 1));
        CHECK(dx(1, 0) == 1.0);
        CHECK(dx(2 * k - 1, 0) == 1.0);
        CHECK(dx.sum() == 2.0);
    }
}

namespace {

// MaxPool2D against a plain loop over each window in row-major order (a value
// replaces the best so far when it is greater or NaN), for inputs drawn from
// a few values (many ties) with some NaNs; the backward scatter likewise.
template <class S>
void check_max_pool_against_loops(Size2 pool, PoolOptions o, Shape in, Index batch) {
    using Mat = latent::Matrix<S>;
    MaxPool2D<S> p(pool, o);
    latent::Rng rng(5);
    p.attach_rng(&rng);
    p.build(in);
    p.set_input_grad(true);
    Mat x(in.size(), batch);
    for (Index i = 0; i < x.size(); ++i) {
        const auto r = static_cast<int>(rng.uniform() * 40.0);
        x.data()[i] = r == 0 ? std::numeric_limits<S>::quiet_NaN() : static_cast<S>(r % 4);
    }
    Mat g(p.output_shape().size(), batch);
    rng.fill_uniform(g);
    const Mat y = p.forward(x, latent::Mode::train);
    const Mat dx = p.backward(g);
    // Windows along an axis as the layer plans them (PyTorch's rules).
    auto windows = [&](Index n, Index k, Index s, Index& pad, Index out) {
        std::vector<std::pair<Index, Index>> w;
        if (o.padding.kind == Padding::Kind::same) pad = std::max<Index>((out - 1) * s + k - n, 0) / 2;
        for (Index i = 0; i < out; ++i) w.emplace_back(std::max<Index>(i * s - pad, 0), std::min(i * s - pad + k, n));
        return w;
    };
    const Shape out = p.output_shape();
    Index pad_h = o.padding.amount.h, pad_w = o.padding.amount.w;
    if (o.padding.kind == Padding::Kind::valid) pad_h = pad_w = 0;
    const auto wy = windows(in.h, pool.h, o.stride.h ? o.stride.h : pool.h, pad_h, out.h);
    const auto wx = windows(in.w, pool.w, o.stride.w ? o.stride.w : pool.w, pad_w, out.w);
    Mat dref = Mat::Zero(x.rows(), x.cols());
    Index mismatches = 0;
    for (Index n = 0; n < batch; ++n)
        for (Index c = 0; c < in.c; ++c)
            for (Index oy = 0; oy < out.h; ++oy)
                for (Index ox = 0; ox < out.w; ++ox) {
                    const auto [y0, y1] = wy[static_cast<std::size_t>(oy)];
                    const auto [x0, x1] = wx[static_cast<std::size_t>(ox)];
                    Index at = (c * in.h + y0) * in.w + x0;
                    S best = x(at, n);
                    for (Index yy = y0; yy < y1; ++yy)
                        for (Index xx = x0; xx < x1; ++xx) {
                            const Index i = (c * in.h + yy) * in.w + xx;
                            if (x(i, n) > best || x(i, n) != x(i, n)) best = x(i, n), at = i;
                        }
                    const Index o_i = (c * out.h + oy) * out.w + ox;
                    const S got = y(o_i, n);
                    if (!(got == best || (got != got && best != best))) ++mismatches;
                    dref(at, n) += g(o_i, n);
                }
    INFO("pool " << pool.str() << " input " << in.str());
    CHECK(mismatches == 0);
    CHECK(dx == dref);  // exact: the same additions in the same order
}

}  // namespace

TEST_CASE("MaxPool2D fast paths (2x2 at stride 2 and 1, rows of 1..15 windows) match plain loops with ties and NaN", "[pool]") {
    for (Index w : {2, 6, 14, 15, 16, 17, 18, 28, 30}) {
        check_max_pool_against_loops<float>(2, PoolOptions::valid(), Shape{3, 4, w}, 3);
        check_max_pool_against_loops<double>(2, PoolOptions::valid(), Shape{2, 6, w}, 2);
        check_max_pool_against_loops<float>(2, PoolOptions::same(), Shape{2, 5, w + 1}, 2);
        check_max_pool_against_loops<float>(2, PoolOptions::valid(1), Shape{2, 3, w}, 2);
        check_max_pool_against_loops<float>(2, opts(2, Padding(1)), Shape{2, 4, w}, 2);
        check_max_pool_against_loops<float>(3, opts(2, Padding::valid()), Shape{2, 5, w + 1}, 2);
    }
}

TEST_CASE("pooling gradients over pool x stride x padding x ceil mode x odd sizes", "[pool][gradcheck]") {
    int checked = 0;
    for (Index k : {2, 3})
        for (Index s : {1, 2, 3})
            for (int pad_kind = 0; pad_kind < 3; ++pad_kind)
                for (bool ceil_mode : {false, true})
                    for (Shape in : {Shape{2, 7, 7}, Shape{1, 5, 8}}) {
                        const Padding pad = pad_kind == 0 ? Padding::valid() : pad_kind == 1 ? Padding::same() : Padding(1);
                        INFO("pool " << k << " stride " << s << " padding " << pad.str() << " ceil " << ceil_mode << " input " << in.str());
                        MaxPool2D<double> mp(k, opts(s, pad, ceil_mode));
                        conv_test::Standalone st(mp, in);
                        const MatD x = distinct_values(in.size(), 2, st.rng);
                        CONV_CHECK_GRADIENT(latent::testing::check_layer(mp, st.params, x, st.rng));
                        for (bool include : {false, true}) {
                            AvgPool2D<double> ap(k, opts(s, pad, ceil_mode, include));
                            CONV_CHECK_GRADIENT(conv_test::gradcheck(ap, in, 2));
                        }
                        checked += 3;
                    }
    CHECK(checked >= 200);
}

TEST_CASE("MaxPool2D gradients with more than 100 inputs", "[pool][gradcheck]") {
    MaxPool2D<double> mp(2, PoolOptions::same());
    conv_test::Standalone st(mp, Shape{4, 7, 7});
    const MatD x = distinct_values(196, 2, st.rng);
    CONV_CHECK_GRADIENT(latent::testing::check_layer(mp, st.params, x, st.rng));
}

TEST_CASE("image layers split over threads give bitwise the same results as one thread", "[pool][threads]") {
    if (!latent::has_openmp()) {
        WARN("built without OpenMP: nothing to compare");
        return;
    }
    using Mat = latent::Matrix<float>;
    // Large enough (8x16x16 x 48 samples) to pass detail::parallel_min_work.
    const Shape in{8, 16, 16};
    const Index batch = 48;
    auto run = [&](latent::Layer<float>& layer, int threads, Mat& y, Mat& dx, latent::Vector<float>& grads) {
        latent::set_num_threads(threads);
        latent::ParamBuffer<float> params;
        latent::Rng rng(4);
        latent::testing::build_standalone(layer, in, params, rng);
        layer.set_input_grad(true);
        Mat x(in.size(), batch);
        rng.fill_normal(x);
        y = layer.forward(x, latent::Mode::train);
        Mat g(y.rows(), y.cols());
        rng.fill_normal(g);
        params.zero_grad();
        dx = layer.backward(g);
        grads = params.grads();
        latent::set_num_threads(1);
    };
    auto check = [&](auto make) {
        Mat y1, dx1, y2, dx2;
        latent::Vector<float> g1, g2;
        auto a = make();
        auto b = make();
        run(*a, 1, y1, dx1, g1);
        run(*b, 2, y2, dx2, g2);
        INFO(a->type());
        CHECK(y1 == y2);
        CHECK(dx1 == dx2);
        CHECK(g1 == g2);
    };
    check([] { return std::make_unique<MaxPool2D<float>>(2); });
    check([] { return std::make_unique<MaxPool2D<float>>(3, opts(2, Padding(1))); });
    check([] { return std::make_unique<Upsample2D<float>>(2); });
    check([] { return std::make_unique<Upsample2D<float>>(Size2(3, 2)); });
    check([] { return std::make_unique<Upsample2D<float>>(2, Interpolation::bilinear); });
    check([] { return std::make_unique<latent::Activation<float>>(latent::Act::relu); });
    check([] { return std::make_unique<latent::Activation<float>>(latent::Act::sigmoid); });
    // The conv layers' bias add and bias gradient (their GEMM chunks depend
    // on the thread count, so compared here on their own).
    Mat y(in.size(), batch);
    latent::Rng rng(6);
    rng.fill_normal(y);
    const std::vector<float> bias{0.5f, -1.0f, 0.25f, 2.0f, 0.0f, 1.5f, -0.75f, 3.0f};
    Mat b1 = y, b2 = y;
    std::vector<float> s1(8, 1.0f), s2(8, 1.0f);
    for (int threads : {1, 2}) {
        latent::set_num_threads(threads);
        latent::detail::add_channel_bias(threads == 1 ? b1 : b2, 8, 256, bias.data());
        latent::detail::accumulate_channel_sums(y, 8, 256, threads == 1 ? s1.data() : s2.data());
    }
    latent::set_num_threads(1);
    CHECK(b1 == b2);
    CHECK(s1 == s2);
}

TEST_CASE("pooling errors and configs", "[pool][io]") {
    CHECK_THROWS_AS(MaxPool2D<double>(0), latent::ConfigError);
    CHECK_THROWS_AS(MaxPool2D<double>(2, opts(2, Padding(2))), latent::ConfigError);  // padding > pool/2
    CHECK_THROWS_AS(Upsample2D<double>(Size2(0, 2)), latent::ConfigError);
    try {
        (void)MaxPool2D<double>(3).output_shape(Shape{8, 2, 5});
        FAIL("expected ShapeError");
    } catch (const latent::ShapeError& e) {
        const std::string m = e.what();
        CHECK(conv_test::contains(m, "MaxPool2D"));
        CHECK(conv_test::contains(m, "(8x2x5)"));
    }
    const auto factory = latent::LayerFactory<double>::builtin();
    MaxPool2D<double> mp(Size2(2, 3), opts(Size2(1, 2), Padding(1), true));
    AvgPool2D<double> ap(3, opts(2, Padding::same(), false, true));
    Upsample2D<double> up(Size2(2, 3), Interpolation::bilinear, true);
    latent::Flatten<double> fl;
    latent::Reshape<double> rs(Shape{2, -1, 3});
    for (latent::Layer<double>* l : std::vector<latent::Layer<double>*>{&mp, &ap, &up, &fl, &rs}) {
        const auto copy = factory.make(l->config());
        CHECK(copy->config() == l->config());
    }
}
