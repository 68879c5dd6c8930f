// MaxPool2D and AvgPool2D over each channel of C*H*W x batch inputs.
// Window k, stride s (default k), padding valid / same (Keras: output
// ceil(H/s), padded positions never win a max nor count in an average) /
// explicit p (PyTorch), and ceil_mode (PyTorch: a last, partial window is
// kept when it starts inside the input or the leading padding).
//   MaxPool2D: Y[c,o] = max over the window's input positions; ties go to the
//              first position in row-major window order (as PyTorch), and
//              the gradient flows to that position only.
//   AvgPool2D: Y[c,o] = sum over the window's input positions / count, where
//              count is the number of input positions in the window, or with
//              count_include_pad the positions inside the padded input (PyTorch).
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "latent/core/threads.hpp"
#include "latent/layers/layer.hpp"
#include "latent/layers/window.hpp"

LATENT_NAMESPACE_BEGIN

struct PoolOptions {
    Size2 stride{0};  // 0: the pool size
    Padding padding = Padding::valid();
    bool ceil_mode = false;
    bool count_include_pad = false;  // AvgPool2D only

    static PoolOptions same(Size2 stride = 0) {
        PoolOptions o;
        o.padding = Padding::same();
        o.stride = stride;
        return o;
    }
    static PoolOptions valid(Size2 stride = 0) {
        PoolOptions o;
        o.stride = stride;
        return o;
    }
};

namespace detail {

// Per axis, the input range [begin, end) of each output position, and the
// divisor span when padding counts.
struct PoolAxis {
    std::vector<Index> begin, end, padded_span;
};

struct PoolPlan {
    Index channels = 0, in_h = 0, in_w = 0, out_h = 0, out_w = 0;
    PoolAxis ys, xs;
};

template <class S>
class Pool2DBase : public Layer<S> {
public:
    using Mat = Matrix<S>;

    Pool2DBase(std::string name, Size2 pool, PoolOptions o) : name_(std::move(name)), pool_(pool), opt_(o) {
        if (opt_.stride == Size2(0)) opt_.stride = pool;
        if (pool.h <= 0 || pool.w <= 0) throw ConfigError(type_name() + ": expected pool size > 0, found " + pool.str());
        if (opt_.stride.h <= 0 || opt_.stride.w <= 0) throw ConfigError(type_name() + ": expected stride > 0, found " + opt_.stride.str());
        if (opt_.padding.kind == Padding::Kind::explicit_amount &&
            (opt_.padding.amount.h < 0 || opt_.padding.amount.w < 0 || 2 * opt_.padding.amount.h > pool.h ||
             2 * opt_.padding.amount.w > pool.w))
            throw ConfigError(type_name() + ": expected 0 <= padding <= pool/2 (as PyTorch), found padding " +
                              opt_.padding.amount.str() + " for pool " + pool.str());
    }

    Size2 pool() const { return pool_; }
    const PoolOptions& options() const { return opt_; }

    // Sizes only: O(1), nothing allocated (a model file may declare an input
    // of 2^31 - 1 values; its window plan is made at the first forward).
    Shape compute_output_shape(Shape in) const override {
        const PoolPlan p = plan(in, false);
        return Shape{in.c, p.out_h, p.out_w};
    }

protected:
    const std::string& type_name() const { return name_; }

    // The window of every output position along each axis (fill), or just
    // the output sizes, with the same checks: the first and last windows
    // must cover an input position (the ones between then do too: their
    // starts lie between those two, and a window spans k >= 1 positions).
    PoolPlan plan(Shape in, bool fill) const {
        const std::string where = "layer " + type_name() + " (pool " + pool_.str() + ", stride " + opt_.stride.str() + ", padding " +
                                  opt_.padding.str() + (opt_.ceil_mode ? ", ceil_mode" : "") + ")";
        if (in.size() <= 0) throw ShapeError(where + ": expected a non-empty image input, found " + in.str());
        PoolPlan p;
        p.channels = in.c;
        p.in_h = in.h;
        p.in_w = in.w;
        auto axis = [&](Index n, Index k, Index s, Index amount, const char* name, PoolAxis& ax) {
            const AxisPlan a = plan_window_axis(n, k, s, opt_.padding, amount, opt_.ceil_mode, where, name, in);
            const Index pad_after = opt_.padding.kind == Padding::Kind::same ? std::max<Index>((a.out - 1) * s + k - n, 0) - a.pad_before
                                                                             : a.pad_before;
            for (const Index o : {Index(0), a.out - 1}) {
                const Index start = o * s - a.pad_before;
                if (std::min(start + k, n) <= std::max<Index>(start, 0))
                    throw ShapeError(where + ": window " + std::to_string(o) + " along " + name + " covers no input position of " +
                                     in.str());
            }
            if (!fill) return a.out;
            ax.begin.resize(static_cast<std::size_t>(a.out));
            ax.end.resize(static_cast<std::size_t>(a.out));
            ax.padded_span.resize(static_cast<std::size_t>(a.out));
            for (Index o = 0; o < a.out; ++o) {
                const Index start = o * s - a.pad_before;
                const auto i = static_cast<std::size_t>(o);
                ax.begin[i] = std::max<Index>(start, 0);
                ax.end[i] = std::min(start + k, n);
                ax.padded_span[i] = std::min(start + k, n + pad_after) - start;
            }
            return a.out;
        };
        p.out_h = axis(in.h, pool_.h, opt_.stride.h, opt_.padding.amount.h, "height", p.ys);
        p.out_w = axis(in.w, pool_.w, opt_.stride.w, opt_.padding.amount.w, "width", p.xs);
        return p;
    }

    void on_build(Shape, Shape) override { plan_ = PoolPlan{}; }

    // The window plan, made at the first forward after a build.
    const PoolPlan& ready_plan() {
        if (plan_.channels == 0) plan_ = plan(this->input_shape(), true);
        return plan_;
    }

    void write_config(LayerConfig& c) const {
        c.set("pool_h", pool_.h).set("pool_w", pool_.w).set("stride_h", opt_.stride.h).set("stride_w", opt_.stride.w);
        c.set("padding", opt_.padding.name());
        if (opt_.padding.kind == Padding::Kind::explicit_amount) c.set("pad_h", opt_.padding.amount.h).set("pad_w", opt_.padding.amount.w);
        c.set("ceil_mode", opt_.ceil_mode);
    }
    static PoolOptions read_options(const LayerConfig& c) {
        PoolOptions o;
        o.stride = Size2(c.get_index("stride_h", 0), c.get_index("stride_w", 0));
        const std::string pad = c.get_string("padding", "valid");
        o.padding = pad == "explicit" ? Padding(c.get_index("pad_h"), c.get_index("pad_w")) : Padding::parse(pad);
        o.ceil_mode = c.get_bool("ceil_mode", false);
        o.count_include_pad = c.get_bool("count_include_pad", false);
        return o;
    }
    static Size2 read_pool(const LayerConfig& c) { return Size2(c.get_index("pool_h"), c.get_index("pool_w")); }

    std::string name_;
    Size2 pool_;
    PoolOptions opt_;
    PoolPlan plan_;
};

// 2x2 max pooling at stride SX over windows lying inside the input, and
// its backward where the windows tile the input. The rule is the general
// loop's: in row-major order a value replaces the best so far when it is
// greater or NaN (the first maximum wins ties; NaN propagates). Branch-free,
// and run in blocks of a fixed count the compiler turns into vector code
// (a loop over a row's 7..14 windows would stay scalar); a row's last block
// overlaps the one before rather than taking a scalar tail.
constexpr Index max_pool_block = 8;

// Window i: rows r0, r1 at columns i*SX, i*SX + 1; flat input index
// first + i*SX + {0, 1, w, w + 1} of the winner to arg[i].
template <Index SX, class S>
inline void max_pool_2x2_window(const S* r0, const S* r1, Index i, std::int32_t w, std::int32_t first, S* y, std::int32_t* arg) {
    const S a = r0[i * SX], b = r0[i * SX + 1], c = r1[i * SX], d = r1[i * SX + 1];
    const bool tb = (b > a) | (b != b);
    const S m1 = tb ? b : a;
    const std::int32_t i1 = tb ? 1 : 0;
    const bool tc = (c > m1) | (c != c);
    const S m2 = tc ? c : m1;
    const std::int32_t i2 = tc ? w : i1;
    const bool td = (d > m2) | (d != d);
    y[i] = td ? d : m2;
    arg[i] = first + static_cast<std::int32_t>(i * SX) + (td ? w + 1 : i2);
}

// (unroll 1: GCC 12 otherwise unrolls the fixed 8 iterations completely
// before its loop vectorizer runs, and they stay scalar.)
template <Index SX, class S>
void max_pool_2x2_block(const S* r0, const S* r1, std::int32_t w, std::int32_t first, S* y, std::int32_t* arg) {
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 1
#endif
    for (Index i = 0; i < max_pool_block; ++i) max_pool_2x2_window<SX>(r0, r1, i, w, first, y, arg);
}

// `count` windows along one row pair: r points at flat input index `first`,
// the second row W further.
template <Index SX, class S>
void max_pool_2x2_row(const S* r, Index W, Index count, std::int32_t first, S* y, std::int32_t* arg) {
    const auto w = static_cast<std::int32_t>(W);
    if (count < max_pool_block) {
        for (Index i = 0; i < count; ++i) max_pool_2x2_window<SX>(r, r + W, i, w, first, y, arg);
        return;
    }
    for (Index b = 0;; b += max_pool_block) {
        b = std::min(b, count - max_pool_block);
        max_pool_2x2_block<SX>(r + b * SX, r + W + b * SX, w, first + static_cast<std::int32_t>(b * SX), y + b, arg + b);
        if (b + max_pool_block == count) return;
    }
}

// Window i's gradient g[i] to its argmax, 0 to its other three inputs (rows
// d0, d1 at columns 2i, 2i + 1; the argmax is first + 2i + {0, 1, w, w + 1}).
template <class S>
inline void max_pool_2x2_window_grad(const S* g, const std::int32_t* arg, Index i, std::int32_t w, std::int32_t first, S* d0, S* d1) {
    const std::int32_t k = arg[i] - first - static_cast<std::int32_t>(2 * i);
    const S v = g[i];
    d0[2 * i] = k == 0 ? v : S(0);
    d0[2 * i + 1] = k == 1 ? v : S(0);
    d1[2 * i] = k == w ? v : S(0);
    d1[2 * i + 1] = k == w + 1 ? v : S(0);
}

template <class S>
void max_pool_2x2_grad_block(const S* g, const std::int32_t* arg, std::int32_t w, std::int32_t first, S* d0, S* d1) {
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 1
#endif
    for (Index i = 0; i < max_pool_block; ++i) max_pool_2x2_window_grad(g, arg, i, w, first, d0, d1);
}

// One output row of windows tiling the input at stride 2: every input
// position of the row pair written once (no zeroing pass, no scatter).
template <class S>
void max_pool_2x2_grad_row(const S* g, const std::int32_t* arg, Index W, Index count, std::int32_t first, S* d) {
    const auto w = static_cast<std::int32_t>(W);
    if (count < max_pool_block) {
        for (Index i = 0; i < count; ++i) max_pool_2x2_window_grad(g, arg, i, w, first, d, d + W);
        return;
    }
    for (Index b = 0;; b += max_pool_block) {
        b = std::min(b, count - max_pool_block);
        max_pool_2x2_grad_block(g + b, arg + b, w, first + static_cast<std::int32_t>(2 * b), d + 2 * b, d + W + 2 * b);
        if (b + max_pool_block == count) return;
    }
}

}  // namespace detail

template <class S>
class MaxPool2D : public detail::Pool2DBase<S> {
public:
    using Mat = Matrix<S>;
    using Base = detail::Pool2DBase<S>;

    explicit MaxPool2D(Size2 pool, PoolOptions options = {}) : Base("MaxPool2D", pool, options) {}

    std::string type() const override { return "MaxPool2D"; }

    // Y[c,o] = X[c, argmax over window(o)]; the argmax is kept for backward.
    const Mat& forward(const Mat& x, Mode) override {
        this->check_input(x);
        const detail::PoolPlan& p = this->ready_plan();
        const Index in_plane = p.in_h * p.in_w, out_plane = p.out_h * p.out_w, planes = p.channels * x.cols();
        y_.resize(p.channels * out_plane, x.cols());
        argmax_.resize(static_cast<std::size_t>(planes * out_plane));
        batch_ = x.cols();
        const Index* y0 = p.ys.begin.data();
        const Index* y1 = p.ys.end.data();
        const Index* x0 = p.xs.begin.data();
        const Index* x1 = p.xs.end.data();
        const Index W = p.in_w, pool_w = this->pool_.w, sx = this->opt_.stride.w;
        // Leading windows of a row that are a whole 2 wide at stride 1 or 2
        // (windows start at x0[0] + ox * sx): the branch-free row kernels below.
        Index full_w = 0;
        if (pool_w == 2 && (sx == 1 || sx == 2))
            while (full_w < p.out_w && x1[full_w] - x0[full_w] == 2) ++full_w;
        // Samples (columns) split between threads; each plane is computed alone.
        detail::parallel_ranges(x.cols(), static_cast<double>(p.channels * (in_plane + 2 * out_plane)), [&](Index n0, Index n1) {
            for (Index q = n0 * p.channels; q < n1 * p.channels; ++q) {
                const S* plane = x.data() + q * in_plane;
                S* yq = y_.data() + q * out_plane;
                std::int32_t* aq = argmax_.data() + q * out_plane;
                for (Index oy = 0; oy < p.out_h; ++oy) {
                    const Index ny = y1[oy] - y0[oy];
                    Index ox = 0;
                    if (ny == 2 && full_w > 0) {
                        const Index start = y0[oy] * W + x0[0];
                        const auto first = static_cast<std::int32_t>(start);
                        S* yr = yq + oy * p.out_w;
                        std::int32_t* ar = aq + oy * p.out_w;
                        if (sx == 2)
                            detail::max_pool_2x2_row<2>(plane + start, W, full_w, first, yr, ar);
                        else
                            detail::max_pool_2x2_row<1>(plane + start, W, full_w, first, yr, ar);
                        ox = full_w;
                    }
                    for (; ox < p.out_w; ++ox) {
                        const Index start = y0[oy] * W + x0[ox], nx = x1[ox] - x0[ox];
                        const S* win = plane + start;
                        S best = win[0];
                        Index at = 0;
                        for (Index r = 0; r < ny; ++r)
                            for (Index c = 0; c < nx; ++c) {
                                const S v = win[r * W + c];
                                if (v > best || v != v) {  // strict >: the first maximum wins; a NaN wins
                                    best = v;
                                    at = r * W + c;
                                }
                            }
                        yq[oy * p.out_w + ox] = best;
                        aq[oy * p.out_w + ox] = static_cast<std::int32_t>(start + at);
                    }
                }
            }
        });
        return y_;
    }

    // dX[c, argmax(o)] += dY[c, o]
    const Mat& backward(const Mat& dy) override {
        const detail::PoolPlan& p = this->plan_;
        const Index in_plane = p.in_h * p.in_w, out_plane = p.out_h * p.out_w;
        this->require_forward(batch_ >= 0);
        this->check_grad(dy, batch_);
        const S* g = dy.data();
        const bool tiles = tiles_2x2();
        dx_.resize(p.channels * in_plane, dy.cols());
        S* d = dx_.data();
        detail::parallel_ranges(dy.cols(), static_cast<double>(p.channels * (2 * in_plane + 2 * out_plane)), [&](Index n0, Index n1) {
            const Index q0 = n0 * p.channels, q1 = n1 * p.channels;
            if (tiles) {
                for (Index q = q0; q < q1; ++q)
                    for (Index oy = 0; oy < p.out_h; ++oy) {
                        const Index o = q * out_plane + oy * p.out_w;
                        detail::max_pool_2x2_grad_row(g + o, argmax_.data() + o, p.in_w, p.out_w, static_cast<std::int32_t>(2 * oy * p.in_w),
                                                      d + q * in_plane + 2 * oy * p.in_w);
                    }
                return;
            }
            std::fill(d + q0 * in_plane, d + q1 * in_plane, S(0));
            for (Index q = q0; q < q1; ++q)
                for (Index o = 0; o < out_plane; ++o) d[q * in_plane + argmax_[static_cast<std::size_t>(q * out_plane + o)]] += g[q * out_plane + o];
        });
        return dx_;
    }

    LayerConfig config() const override {
        LayerConfig c("MaxPool2D");
        this->write_config(c);
        return c;
    }
    static LayerPtr<S> from_config(const LayerConfig& c) { return std::make_unique<MaxPool2D>(Base::read_pool(c), Base::read_options(c)); }

private:
    // 2x2 windows at stride 2 that cover the input exactly, without padding.
    bool tiles_2x2() const {
        const detail::PoolPlan& p = this->plan_;
        return this->pool_ == Size2(2) && this->opt_.stride == Size2(2) && p.in_h == 2 * p.out_h && p.in_w == 2 * p.out_w &&
               p.ys.begin[0] == 0 && p.xs.begin[0] == 0;
    }

    std::vector<std::int32_t> argmax_;
    Index batch_ = -1;  // -1: no forward yet
    Mat y_, dx_;
};

template <class S>
class AvgPool2D : public detail::Pool2DBase<S> {
public:
    using Mat = Matrix<S>;
    using Base = detail::Pool2DBase<S>;

    explicit AvgPool2D(Size2 pool, PoolOptions options = {}) : Base("AvgPool2D", pool, options) {}

    std::string type() const override { return "AvgPool2D"; }

    // Y[c,o] = sum_{window(o)} X / count(o)
    const Mat& forward(const Mat& x, Mode) override {
        this->check_input(x);
        const detail::PoolPlan& p = this->ready_plan();
        const Index in_plane = p.in_h * p.in_w, out_plane = p.out_h * p.out_w, planes = p.channels * x.cols();
        y_.resize(p.channels * out_plane, x.cols());
        batch_ = x.cols();
        const S* xd = x.data();
        S* yd = y_.data();
        for (Index q = 0; q < planes; ++q) {
            const S* plane = xd + q * in_plane;
            for (Index oy = 0; oy < p.out_h; ++oy)
                for (Index ox = 0; ox < p.out_w; ++ox) {
                    const auto iy = static_cast<std::size_t>(oy), ix = static_cast<std::size_t>(ox);
                    S sum(0);
                    for (Index yy = p.ys.begin[iy]; yy < p.ys.end[iy]; ++yy)
                        for (Index xx = p.xs.begin[ix]; xx < p.xs.end[ix]; ++xx) sum += plane[yy * p.in_w + xx];
                    yd[q * out_plane + oy * p.out_w + ox] = sum / divisor(iy, ix);
                }
        }
        return y_;
    }

    // dX[c,i] += dY[c,o] / count(o) for every window o containing i
    const Mat& backward(const Mat& dy) override {
        this->require_forward(batch_ >= 0);
        this->check_grad(dy, batch_);
        const detail::PoolPlan& p = this->plan_;
        const Index in_plane = p.in_h * p.in_w, out_plane = p.out_h * p.out_w, planes = p.channels * dy.cols();
        dx_.setZero(p.channels * in_plane, dy.cols());
        const S* g = dy.data();
        S* d = dx_.data();
        for (Index q = 0; q < planes; ++q) {
            S* plane = d + q * in_plane;
            for (Index oy = 0; oy < p.out_h; ++oy)
                for (Index ox = 0; ox < p.out_w; ++ox) {
                    const auto iy = static_cast<std::size_t>(oy), ix = static_cast<std::size_t>(ox);
                    const S v = g[q * out_plane + oy * p.out_w + ox] / divisor(iy, ix);
                    for (Index yy = p.ys.begin[iy]; yy < p.ys.end[iy]; ++yy)
                        for (Index xx = p.xs.begin[ix]; xx < p.xs.end[ix]; ++xx) plane[yy * p.in_w + xx] += v;
                }
        }
        return dx_;
    }

    LayerConfig config() const override {
        LayerConfig c("AvgPool2D");
        this->write_config(c);
        c.set("count_include_pad", this->opt_.count_include_pad);
        return c;
    }
    static LayerPtr<S> from_config(const LayerConfig& c) { return std::make_unique<AvgPool2D>(Base::read_pool(c), Base::read_options(c)); }

private:
    S divisor(std::size_t iy, std::size_t ix) const {
        const detail::PoolPlan& p = this->plan_;
        if (this->opt_.count_include_pad) return static_cast<S>(p.ys.padded_span[iy] * p.xs.padded_span[ix]);
        return static_cast<S>((p.ys.end[iy] - p.ys.begin[iy]) * (p.xs.end[ix] - p.xs.begin[ix]));
    }

    Index batch_ = -1;  // -1: no forward yet
    Mat y_, dx_;
};

LATENT_NAMESPACE_END
