// Upsample2D: enlarge each channel by integer factors (Keras' UpSampling2D,
// PyTorch's Upsample with scale_factor).
//   nearest:   Y[c, oy, ox] = X[c, oy / sh, ox / sw]
//   bilinear:  Y[c, oy, ox] = sum of the 4 neighbours of the source point,
//              weighted by distance; the source point is
//              y = max((oy + 0.5)/sh - 0.5, 0) (align_corners false, PyTorch's
//              default and Keras' half-pixel centres) or
//              y = oy * (H - 1)/(Ho - 1) (align_corners true).
// Backward scatters each output gradient back with the same weights.
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <vector>

#include "latent/core/threads.hpp"
#include "latent/layers/layer.hpp"
#include "latent/layers/window.hpp"

LATENT_NAMESPACE_BEGIN

enum class Interpolation { nearest, bilinear };

namespace detail {

// Nearest-neighbour upsampling of one h x w plane by (sh, sw), and its
// backward: each input gets the sum of its sh x sw block of output
// gradients, added row by row (the order a scatter in output order adds
// them). SH, SW: the factors when known at compile time (2, the common
// case, vectorizes), 0 to take them at run time.
template <Index SH, Index SW, class S>
void upsample_nearest_plane(const S* src, Index h, Index w, Index sh_rt, Index sw_rt, S* dst) {
    const Index sh = SH ? SH : sh_rt, sw = SW ? SW : sw_rt, ow = w * sw;
    for (Index y = 0; y < h; ++y) {
        S* row = dst + y * sh * ow;
        const S* in = src + y * w;
        for (Index x = 0; x < w; ++x)
            for (Index j = 0; j < sw; ++j) row[x * sw + j] = in[x];
        for (Index i = 1; i < sh; ++i) std::copy(row, row + ow, row + i * ow);
    }
}

template <Index SH, Index SW, class S>
void upsample_nearest_plane_grad(const S* g, Index h, Index w, Index sh_rt, Index sw_rt, S* d) {
    const Index sh = SH ? SH : sh_rt, sw = SW ? SW : sw_rt, ow = w * sw;
    for (Index y = 0; y < h; ++y)
        for (Index x = 0; x < w; ++x) {
            S acc(0);
            for (Index i = 0; i < sh; ++i)
                for (Index j = 0; j < sw; ++j) acc += g[(y * sh + i) * ow + x * sw + j];
            d[y * w + x] = acc;
        }
}

}  // namespace detail

template <class S>
class Upsample2D : public Layer<S> {
public:
    using Mat = Matrix<S>;

    explicit Upsample2D(Size2 scale, Interpolation mode = Interpolation::nearest, bool align_corners = false)
        : scale_(scale), mode_(mode), align_corners_(align_corners) {
        if (scale.h <= 0 || scale.w <= 0) throw ConfigError("Upsample2D: expected scale factors > 0, found " + scale.str());
        if (align_corners && mode == Interpolation::nearest)
            throw ConfigError("Upsample2D: align_corners applies to bilinear interpolation only");
    }

    std::string type() const override { return "Upsample2D"; }
    Size2 scale() const { return scale_; }
    Interpolation mode() const { return mode_; }

    Shape compute_output_shape(Shape in) const override {
        if (in.size() <= 0) throw ShapeError("layer Upsample2D: expected a non-empty image input, found " + in.str());
        return Shape{in.c, in.h * scale_.h, in.w * scale_.w};
    }

    const Mat& forward(const Mat& x, Mode) override {
        this->check_input(x);
        const Shape in = this->input_shape(), out = this->output_shape();
        const Index in_plane = in.h * in.w, out_plane = out.h * out.w;
        if (mode_ == Interpolation::bilinear) make_taps();
        y_.resize(out.size(), x.cols());
        batch_ = x.cols();
        // Samples (columns) split between threads; each plane is computed alone.
        detail::parallel_ranges(x.cols(), static_cast<double>(in.c * (in_plane + out_plane)), [&](Index n0, Index n1) {
            for (Index q = n0 * in.c; q < n1 * in.c; ++q) {
                const S* src = x.data() + q * in_plane;
                S* dst = y_.data() + q * out_plane;
                if (mode_ == Interpolation::nearest) {
                    if (scale_ == Size2(2))
                        detail::upsample_nearest_plane<2, 2>(src, in.h, in.w, 2, 2, dst);
                    else
                        detail::upsample_nearest_plane<0, 0>(src, in.h, in.w, scale_.h, scale_.w, dst);
                    continue;
                }
                for (Index oy = 0; oy < out.h; ++oy) {
                    const Tap ty = ty_[static_cast<std::size_t>(oy)];
                    for (Index ox = 0; ox < out.w; ++ox) {
                        const Tap tx = tx_[static_cast<std::size_t>(ox)];
                        // y = (1-ly)[(1-lx) a00 + lx a01] + ly[(1-lx) a10 + lx a11]
                        const S top = (S(1) - tx.l) * src[ty.i0 * in.w + tx.i0] + tx.l * src[ty.i0 * in.w + tx.i1];
                        const S bottom = (S(1) - tx.l) * src[ty.i1 * in.w + tx.i0] + tx.l * src[ty.i1 * in.w + tx.i1];
                        dst[oy * out.w + ox] = (S(1) - ty.l) * top + ty.l * bottom;
                    }
                }
            }
        });
        return y_;
    }

    const Mat& backward(const Mat& dy) override {
        this->require_forward(batch_ >= 0);
        this->check_grad(dy, batch_);
        const Shape in = this->input_shape(), out = this->output_shape();
        const Index in_plane = in.h * in.w, out_plane = out.h * out.w;
        dx_.resize(in.size(), dy.cols());
        detail::parallel_ranges(dy.cols(), static_cast<double>(in.c * (in_plane + out_plane)), [&](Index n0, Index n1) {
            for (Index q = n0 * in.c; q < n1 * in.c; ++q) {
                const S* g = dy.data() + q * out_plane;
                S* d = dx_.data() + q * in_plane;
                if (mode_ == Interpolation::nearest) {
                    if (scale_ == Size2(2))
                        detail::upsample_nearest_plane_grad<2, 2>(g, in.h, in.w, 2, 2, d);
                    else
                        detail::upsample_nearest_plane_grad<0, 0>(g, in.h, in.w, scale_.h, scale_.w, d);
                    continue;
                }
                std::fill(d, d + in_plane, S(0));
                for (Index oy = 0; oy < out.h; ++oy) {
                    const Tap ty = ty_[static_cast<std::size_t>(oy)];
                    for (Index ox = 0; ox < out.w; ++ox) {
                        const Tap tx = tx_[static_cast<std::size_t>(ox)];
                        const S v = g[oy * out.w + ox];
                        d[ty.i0 * in.w + tx.i0] += (S(1) - ty.l) * (S(1) - tx.l) * v;
                        d[ty.i0 * in.w + tx.i1] += (S(1) - ty.l) * tx.l * v;
                        d[ty.i1 * in.w + tx.i0] += ty.l * (S(1) - tx.l) * v;
                        d[ty.i1 * in.w + tx.i1] += ty.l * tx.l * v;
                    }
                }
            }
        });
        return dx_;
    }

    LayerConfig config() const override {
        LayerConfig c("Upsample2D");
        c.set("scale_h", scale_.h).set("scale_w", scale_.w);
        c.set("mode", std::string(mode_ == Interpolation::nearest ? "nearest" : "bilinear"));
        if (align_corners_) c.set("align_corners", true);
        return c;
    }
    static LayerPtr<S> from_config(const LayerConfig& c) {
        const std::string m = c.get_string("mode", "nearest");
        if (m != "nearest" && m != "bilinear")
            throw FormatError("layer Upsample2D: expected mode 'nearest' or 'bilinear', found '" + m + "'");
        return std::make_unique<Upsample2D>(Size2(c.get_index("scale_h"), c.get_index("scale_w")),
                                            m == "nearest" ? Interpolation::nearest : Interpolation::bilinear,
                                            c.get_bool("align_corners", false));
    }

protected:
    // The bilinear taps are made at the first forward, not here: a model file
    // may declare an input of up to 2^31 - 1 values, and loading it must not
    // allocate per output row and column (as pooling's plan once did).
    void on_build(Shape, Shape) override {
        ty_.clear();
        tx_.clear();
    }

    void make_taps() {
        if (!ty_.empty()) return;
        const Shape in = this->input_shape(), out = this->output_shape();
        ty_ = taps(in.h, out.h, scale_.h);
        tx_ = taps(in.w, out.w, scale_.w);
    }

private:
    // Output position -> two source indices and the weight of the second.
    struct Tap {
        Index i0 = 0, i1 = 0;
        S l = 0;
    };

    std::vector<Tap> taps(Index n, Index out, Index factor) const {
        std::vector<Tap> t(static_cast<std::size_t>(out));
        for (Index o = 0; o < out; ++o) {
            Tap& tap = t[static_cast<std::size_t>(o)];
            if (mode_ == Interpolation::nearest) {
                tap.i0 = tap.i1 = o / factor;
                continue;
            }
            double src = align_corners_ ? (out > 1 ? static_cast<double>(o) * static_cast<double>(n - 1) / static_cast<double>(out - 1) : 0.0)
                                        : std::max((static_cast<double>(o) + 0.5) / static_cast<double>(factor) - 0.5, 0.0);
            tap.i0 = std::min(static_cast<Index>(src), n - 1);
            tap.i1 = std::min(tap.i0 + 1, n - 1);
            tap.l = static_cast<S>(src - static_cast<double>(tap.i0));
            if (tap.i1 == tap.i0) tap.l = S(0);
        }
        return t;
    }

    Size2 scale_;
    Interpolation mode_;
    bool align_corners_;
    std::vector<Tap> ty_, tx_;
    Index batch_ = -1;  // -1: no forward yet
    Mat y_, dx_;
};

LATENT_NAMESPACE_END
