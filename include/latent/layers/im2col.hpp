// The convolution mechanism shared by Conv2D and ConvTranspose2D (and the
// size arithmetic shared with the pooling layers).
//
// A convolution relates an "image side" A (C x H x W per sample) and a
// "patch grid" B (F x Ho x Wo per sample) through a kernel K of shape
// (F, C, kh, kw), stored as the (C*kh*kw) x F matrix WT whose memory is
// PyTorch's Conv2d weight (F, C, kh, kw) (and ConvTranspose2d's (C_in, C_out,
// kh, kw) with the roles of A and B swapped):
//
//   correlate:  B[f, o] = sum_{c,ky,kx} K[f,c,ky,kx] A[c, oy*s - pt + ky*d, ox*s - pl + kx*d]
//   adjoint:    A = correlate^T B      (scatter-add of every patch back into A)
//
// Conv2D's forward is correlate and its backward-data the adjoint;
// ConvTranspose2D is the same pair the other way round. Both run as
//
//   im2col:   colT (n*P x C*kh*kw), row n*P + oy*Wo + ox holds sample n's patch at (oy, ox)
//   GEMM:     rows (n*P x F) = colT * WT          (correlate)
//             colT = rows * WT^T, then col2im      (adjoint)
//   weight:   dWT += colT^T * rows                 (C*kh*kw x F)
//
// where rows is the grid side re-laid position-major (row n*P + p, column f);
// moving between that and the sample-major batch layout (f*P + p within
// column n) copies runs of P contiguous values. Samples are processed in
// chunks so colT stays within a memory budget.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "latent/core/threads.hpp"
#include "latent/layers/layer.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace latent {

// A (height, width) pair; an integer means the same value for both.
struct Size2 {
    Index h = 1;
    Index w = 1;
    constexpr Size2() = default;
    constexpr Size2(Index v) : h(v), w(v) {}  // NOLINT: implicit from one value is intended
    constexpr Size2(Index height, Index width) : h(height), w(width) {}
    friend constexpr bool operator==(Size2 a, Size2 b) { return a.h == b.h && a.w == b.w; }
    friend constexpr bool operator!=(Size2 a, Size2 b) { return !(a == b); }
    std::string str() const { return h == w ? std::to_string(h) : std::to_string(h) + "x" + std::to_string(w); }
};

// Padding of a convolution or pooling window:
//   valid     no padding; windows lie inside the input
//   same      Keras/TensorFlow 'same': output = ceil(input / stride), the
//             padding split evenly with any odd pixel at the bottom/right
//             (for transposed conv: output = input * stride)
//   explicit  `amount` zero rows/columns on each side (PyTorch's padding=)
struct Padding {
    enum class Kind { valid, same, explicit_amount };
    Kind kind = Kind::valid;
    Size2 amount{0};

    constexpr Padding() = default;
    constexpr Padding(Index p) : kind(Kind::explicit_amount), amount(p) {}  // NOLINT: implicit from an amount is intended
    constexpr Padding(Index ph, Index pw) : kind(Kind::explicit_amount), amount(ph, pw) {}
    static constexpr Padding valid() { return Padding(); }
    static Padding same() {
        Padding p;
        p.kind = Kind::same;
        return p;
    }
    // "same", "valid" or an integer amount.
    static Padding parse(const std::string& s) {
        if (s == "same") return same();
        if (s == "valid") return valid();
        char* end = nullptr;
        const long long v = std::strtoll(s.c_str(), &end, 10);
        if (end == s.c_str() || *end != '\0' || v < 0)
            throw ConfigError("padding: expected 'same', 'valid' or an amount >= 0, found '" + s + "'");
        return Padding(static_cast<Index>(v));
    }
    std::string name() const { return kind == Kind::same ? "same" : kind == Kind::valid ? "valid" : "explicit"; }
    std::string str() const { return kind == Kind::explicit_amount ? amount.str() : name(); }
};

namespace detail {

// Run f(begin, end) over [0, n) in parallel (OpenMP, latent::num_threads()
// threads) when there is at least `min_work` work in all; on one thread otherwise.
template <class F>
void parallel_for(Index n, double work, F&& f) {
#ifdef _OPENMP
    const int threads = static_cast<int>(std::min<Index>(num_threads(), n));
    if (threads > 1 && work >= 2e5) {
#pragma omp parallel num_threads(threads)
        {
            const Index t = omp_get_thread_num(), nt = omp_get_num_threads();
            const Index lo = n * t / nt, hi = n * (t + 1) / nt;
            if (lo < hi) f(lo, hi);
        }
        return;
    }
#endif
    (void)work;
    if (n > 0) f(Index{0}, n);
}

// One axis of a window operation: padding before the first window and the
// number of window positions.
struct AxisPlan {
    Index pad_before = 0;
    Index out = 0;
};

// Forward (conv / pooling) sizes along one axis: input n, dilated window
// extent k_eff, stride s. Throws ShapeError (via `where`) when nothing fits.
inline AxisPlan plan_window_axis(Index n, Index k_eff, Index s, const Padding& pad, Index explicit_amount, bool ceil_mode,
                                 const std::string& where, const char* axis, Shape in) {
    AxisPlan a;
    if (pad.kind == Padding::Kind::same) {
        a.out = (n + s - 1) / s;
        const Index total = std::max<Index>((a.out - 1) * s + k_eff - n, 0);
        a.pad_before = total / 2;
        return a;
    }
    const Index p = pad.kind == Padding::Kind::valid ? 0 : explicit_amount;
    const Index span = n + 2 * p - k_eff;
    if (span < 0)
        throw ShapeError(where + ": expected an input of " + axis + " >= " + std::to_string(k_eff - 2 * p) + " (window " +
                         std::to_string(k_eff) + ", padding " + std::to_string(p) + "), found input " + in.str() +
                         (in.is_flat() ? " (a flat vector: add a Reshape to c x h x w first)" : ""));
    a.pad_before = p;
    a.out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    // PyTorch's rule: the last window must start inside the input or the leading padding.
    if (ceil_mode && (a.out - 1) * s >= n + p) --a.out;
    return a;
}

// The convolution mapping between image side A and patch grid B.
struct ConvGeometry {
    Index channels = 0, height = 0, width = 0;  // A: C x H x W
    Index kernel_h = 1, kernel_w = 1;
    Index stride_h = 1, stride_w = 1;
    Index dilation_h = 1, dilation_w = 1;
    Index pad_top = 0, pad_left = 0;
    Index out_h = 0, out_w = 0;                 // B grid: Ho x Wo

    Index patch_size() const { return channels * kernel_h * kernel_w; }
    Index positions() const { return out_h * out_w; }
    Index image_size() const { return channels * height * width; }
};

// Visit the patches of one (sample n, channel c) plane: for each kernel
// offset (ky, kx) and grid row oy, call run(k, row, a_index, a_step, lead, count)
// where grid row `row` ... row + Wo - 1 of colT column k takes `lead` zeros
// (padding), then `count` values from A entries a_index, a_index + a_step, ...,
// then zeros up to Wo. Shared by im2col and col2im.
template <class Run>
void for_each_patch_run(const ConvGeometry& g, Index n, Index c, Run&& run) {
    const Index P = g.positions();
    const Index plane = (n * g.channels + c) * g.height * g.width;
    for (Index ky = 0; ky < g.kernel_h; ++ky) {
        for (Index kx = 0; kx < g.kernel_w; ++kx) {
            const Index k = (c * g.kernel_h + ky) * g.kernel_w + kx;
            const Index off_x = kx * g.dilation_w - g.pad_left;
            // ox in [lo, hi) maps inside the image: 0 <= ox*s + off_x < W
            Index lo = off_x >= 0 ? 0 : (-off_x + g.stride_w - 1) / g.stride_w;
            Index hi = g.width - off_x <= 0 ? 0 : (g.width - off_x + g.stride_w - 1) / g.stride_w;
            lo = std::min(lo, g.out_w);
            hi = std::clamp(hi, lo, g.out_w);
            for (Index oy = 0; oy < g.out_h; ++oy) {
                const Index iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
                const Index row = n * P + oy * g.out_w;
                if (iy < 0 || iy >= g.height)
                    run(k, row, Index{0}, Index{0}, g.out_w, Index{0});
                else
                    run(k, row, plane + iy * g.width + lo * g.stride_w + off_x, g.stride_w, lo, hi - lo);
            }
        }
    }
}

// colT (ld x C*kh*kw, column-major, ld >= count*P) for samples [0, count) of `a`
// (image size x count, sample-major).
template <class S>
void im2col(const ConvGeometry& g, const S* a, Index count, S* col, Index ld) {
    const Index planes = count * g.channels;
    parallel_for(planes, static_cast<double>(count) * g.positions() * g.patch_size(), [&](Index begin, Index end) {
        for (Index q = begin; q < end; ++q) {
            const Index n = q / g.channels, c = q % g.channels;
            for_each_patch_run(g, n, c, [&](Index k, Index row, Index ai, Index step, Index lead, Index cnt) {
                S* dst = col + k * ld + row;
                std::fill(dst, dst + lead, S(0));
                const S* src = a + ai;
                if (step == 1)
                    std::memcpy(dst + lead, src, static_cast<std::size_t>(cnt) * sizeof(S));
                else
                    for (Index i = 0; i < cnt; ++i) dst[lead + i] = src[i * step];
                std::fill(dst + lead + cnt, dst + g.out_w, S(0));
            });
        }
    });
}

// a (image size x count) = col2im(colT): every patch entry added back into
// its image position; `a` is overwritten.
template <class S>
void col2im(const ConvGeometry& g, const S* col, Index ld, Index count, S* a) {
    const Index planes = count * g.channels;
    const Index plane_size = g.height * g.width;
    parallel_for(planes, static_cast<double>(count) * g.positions() * g.patch_size(), [&](Index begin, Index end) {
        std::fill(a + begin * plane_size, a + end * plane_size, S(0));
        for (Index q = begin; q < end; ++q) {
            const Index n = q / g.channels, c = q % g.channels;
            for_each_patch_run(g, n, c, [&](Index k, Index row, Index ai, Index step, Index lead, Index cnt) {
                const S* src = col + k * ld + row + lead;
                S* dst = a + ai;
                if (step == 1) {
                    for (Index i = 0; i < cnt; ++i) dst[i] += src[i];
                } else {
                    for (Index i = 0; i < cnt; ++i) dst[i * step] += src[i];
                }
            });
        }
    });
}

// rows (ld x F) <- b (F*P x count): rows(n*P + p, f) = b(f*P + p, n).
template <class S>
void to_position_rows(const S* b, Index features, Index P, Index count, S* rows, Index ld) {
    for (Index n = 0; n < count; ++n)
        for (Index f = 0; f < features; ++f)
            std::memcpy(rows + f * ld + n * P, b + (n * features + f) * P, static_cast<std::size_t>(P) * sizeof(S));
}

// b (F*P x count) <- rows (+ bias[f] when given).
template <class S>
void from_position_rows(const S* rows, Index ld, Index features, Index P, Index count, const S* bias, S* b) {
    for (Index n = 0; n < count; ++n)
        for (Index f = 0; f < features; ++f) {
            S* dst = b + (n * features + f) * P;
            const S* src = rows + f * ld + n * P;
            if (bias) {
                const S v = bias[f];
                for (Index p = 0; p < P; ++p) dst[p] = src[p] + v;
            } else {
                std::memcpy(dst, src, static_cast<std::size_t>(P) * sizeof(S));
            }
        }
}

// y (C*P x N) += bias[c] on every position of channel c.
template <class S>
void add_channel_bias(Matrix<S>& y, Index channels, Index P, const S* bias) {
    for (Index n = 0; n < y.cols(); ++n)
        for (Index c = 0; c < channels; ++c) y.col(n).segment(c * P, P).array() += bias[c];
}

// db[c] += sum over samples and positions of dy (C*P x N).
template <class S>
void accumulate_channel_sums(const Matrix<S>& dy, Index channels, Index P, S* db) {
    for (Index n = 0; n < dy.cols(); ++n)
        for (Index c = 0; c < channels; ++c) db[c] += dy.col(n).segment(c * P, P).sum();
}

// Runs correlate / adjoint / weight gradients chunk by chunk with reused
// buffers (no allocation after the first call at a given batch size).
template <class S>
class ConvEngine {
public:
    using Mat = Matrix<S>;
    using Map = Eigen::Map<Mat>;
    using ConstMap = Eigen::Map<const Mat>;

    // colT is kept under this many scalars (at least one sample's worth).
    static constexpr Index default_budget = Index{1} << 20;

    void configure(const ConvGeometry& g, Index features) {
        geo_ = g;
        features_ = features;
    }
    const ConvGeometry& geometry() const { return geo_; }
    void set_budget(Index scalars) { budget_ = std::max<Index>(scalars, 1); }

    // B (F*P x N) = correlate(A) [+ bias];  when grad_b is given also
    // dWT += colT(A)^T rows(grad_b). A: C*H*W x N, WT: C*kh*kw x F.
    void correlate(const Mat& a, const S* wt, Mat* b, const S* bias, const Mat* grad_b, S* dwt) {
        const Index N = a.cols(), P = geo_.positions(), K = geo_.patch_size(), F = features_;
        if (b) b->resize(F * P, N);
        const ConstMap W(wt, K, F);
        const Index chunk = chunk_size(N);
        reserve(chunk);
        for (Index n0 = 0; n0 < N; n0 += chunk) {
            const Index cnt = std::min(chunk, N - n0), ld = cnt * P;
            Map col(col_.data(), ld, K), rows(rows_.data(), ld, F);
            im2col(geo_, a.data() + n0 * a.rows(), cnt, col.data(), ld);
            if (b) {
                rows.noalias() = col * W;
                from_position_rows(rows.data(), ld, F, P, cnt, bias, b->data() + n0 * b->rows());
            }
            if (grad_b) {
                to_position_rows(grad_b->data() + n0 * grad_b->rows(), F, P, cnt, rows.data(), ld);
                Map dW(dwt, K, F);
                dW.noalias() += col.transpose() * rows;
            }
        }
    }

    // A (C*H*W x N) = adjoint(B);  when image_a is given also
    // dWT += colT(image_a)^T rows(B). B: F*P x N.
    void adjoint(const Mat& b, const S* wt, Mat* a, const Mat* image_a, S* dwt) {
        const Index N = b.cols(), P = geo_.positions(), K = geo_.patch_size(), F = features_;
        if (a) a->resize(geo_.image_size(), N);
        const ConstMap W(wt, K, F);
        const Index chunk = chunk_size(N);
        reserve(chunk);
        for (Index n0 = 0; n0 < N; n0 += chunk) {
            const Index cnt = std::min(chunk, N - n0), ld = cnt * P;
            Map col(col_.data(), ld, K), rows(rows_.data(), ld, F);
            to_position_rows(b.data() + n0 * b.rows(), F, P, cnt, rows.data(), ld);
            if (a) {
                col.noalias() = rows * W.transpose();
                col2im(geo_, col.data(), ld, cnt, a->data() + n0 * a->rows());
            }
            if (image_a) {
                im2col(geo_, image_a->data() + n0 * image_a->rows(), cnt, col.data(), ld);
                Map dW(dwt, K, F);
                dW.noalias() += col.transpose() * rows;
            }
        }
    }

    // Multiply-adds of one correlate over N samples.
    double macs(Index N) const { return static_cast<double>(N) * geo_.positions() * geo_.patch_size() * features_; }

private:
    Index chunk_size(Index N) const {
        const Index per_sample = std::max<Index>(geo_.positions() * std::max(geo_.patch_size(), features_), 1);
        return std::clamp<Index>(budget_ / per_sample, 1, std::max<Index>(N, 1));
    }
    void reserve(Index chunk) {
        const Index P = geo_.positions();
        if (col_.size() < chunk * P * geo_.patch_size()) col_.resize(chunk * P * geo_.patch_size());
        if (rows_.size() < chunk * P * features_) rows_.resize(chunk * P * features_);
    }

    ConvGeometry geo_;
    Index features_ = 0;
    Index budget_ = default_budget;
    Vector<S> col_, rows_;
};

}  // namespace detail
}  // namespace latent
