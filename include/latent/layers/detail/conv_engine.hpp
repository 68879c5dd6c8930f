// The convolution engine shared by Conv2D and ConvTranspose2D (the window
// options and size arithmetic it shares with pooling are in layers/window.hpp).
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

#include "latent/core/abi.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include "latent/core/gemm.hpp"
#include "latent/core/threads.hpp"
#include "latent/layers/layer.hpp"
#include "latent/layers/window.hpp"

LATENT_NAMESPACE_BEGIN

namespace detail {

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
    for (Index n = 0; n < count; ++n)
        for (Index c = 0; c < g.channels; ++c)
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

// a (image size x count) = col2im(colT): every patch entry added back into
// its image position; `a` is overwritten.
template <class S>
void col2im(const ConvGeometry& g, const S* col, Index ld, Index count, S* a) {
    std::fill(a, a + count * g.image_size(), S(0));
    for (Index n = 0; n < count; ++n)
        for (Index c = 0; c < g.channels; ++c)
            for_each_patch_run(g, n, c, [&](Index k, Index row, Index ai, Index step, Index lead, Index cnt) {
                const S* src = col + k * ld + row + lead;
                S* dst = a + ai;
                if (step == 1)
                    for (Index i = 0; i < cnt; ++i) dst[i] += src[i];
                else
                    for (Index i = 0; i < cnt; ++i) dst[i * step] += src[i];
            });
}

// The "linear" layout of a stride-1 convolution: the image planes are
// zero-padded to Hp = Ho + (kh-1)*dh rows of Wp = Wo + (kw-1)*dw, and grid
// position (y, x) becomes linear position y*Wp + x, so that every kernel tap
// reads one contiguous run of M = Ho*Wp values (the last Wp - Wo of every
// row are scratch). im2col then copies whole runs instead of grid rows.
struct LinearLayout {
    Index width = 0, height = 0;  // Wp, Hp
    Index plane = 0;              // Hp*Wp + read slack for the last tap
    Index positions = 0;          // M = Ho*Wp
};

inline LinearLayout linear_layout(const ConvGeometry& g) {
    LinearLayout l;
    l.width = g.out_w + (g.kernel_w - 1) * g.dilation_w;
    l.height = g.out_h + (g.kernel_h - 1) * g.dilation_h;
    l.plane = l.height * l.width + (g.kernel_w - 1) * g.dilation_w;
    l.positions = g.out_h * l.width;
    return l;
}

// Offset of kernel tap k = (c*kh + ky)*kw + kx within its channel's padded plane.
inline Index tap_offset(const ConvGeometry& g, const LinearLayout& l, Index k) {
    const Index kx = k % g.kernel_w, ky = (k / g.kernel_w) % g.kernel_h;
    return ky * g.dilation_h * l.width + kx * g.dilation_w;
}

// One sample's image planes (C x H x W) into zero-padded planes (C x plane).
template <class S>
void pad_planes(const ConvGeometry& g, const LinearLayout& l, const S* a, S* xp) {
    std::fill(xp, xp + g.channels * l.plane, S(0));
    const Index x0 = std::max<Index>(g.pad_left, 0), x1 = std::min<Index>(l.width, g.width + g.pad_left);
    if (x1 <= x0) return;
    for (Index c = 0; c < g.channels; ++c)
        for (Index r = 0; r < l.height; ++r) {
            const Index y = r - g.pad_top;
            if (y < 0 || y >= g.height) continue;
            std::memcpy(xp + c * l.plane + r * l.width + x0, a + (c * g.height + y) * g.width + (x0 - g.pad_left),
                        static_cast<std::size_t>(x1 - x0) * sizeof(S));
        }
}

// One sample's grid planes (F x Ho x Wo) into linear rows: feature f at
// lin + f*ld, positions 0..M-1, scratch entries zero.
template <class S>
void to_linear(const ConvGeometry& g, const LinearLayout& l, Index features, const S* b, S* lin, Index ld) {
    for (Index f = 0; f < features; ++f) {
        S* dst = lin + f * ld;
        for (Index y = 0; y < g.out_h; ++y) {
            std::memcpy(dst + y * l.width, b + (f * g.out_h + y) * g.out_w, static_cast<std::size_t>(g.out_w) * sizeof(S));
            std::fill(dst + y * l.width + g.out_w, dst + (y + 1) * l.width, S(0));
        }
    }
}

// The inverse: linear rows back to grid planes (+ bias[f] when given).
template <class S>
void from_linear(const ConvGeometry& g, const LinearLayout& l, Index features, const S* lin, Index ld, const S* bias, S* b) {
    for (Index f = 0; f < features; ++f) {
        const S add = bias ? bias[f] : S(0);
        for (Index y = 0; y < g.out_h; ++y) {
            const S* src = lin + f * ld + y * l.width;
            S* dst = b + (f * g.out_h + y) * g.out_w;
            for (Index x = 0; x < g.out_w; ++x) dst[x] = src[x] + add;
        }
    }
}

// Linear im2col of `count` samples: colT (ld x C*kh*kw), sample n's rows at
// n*M; `xp` holds one sample's padded planes.
template <class S>
void im2col_linear(const ConvGeometry& g, const LinearLayout& l, const S* a, Index count, S* xp, S* col, Index ld) {
    const Index K = g.patch_size(), kk = g.kernel_h * g.kernel_w;
    for (Index n = 0; n < count; ++n) {
        pad_planes(g, l, a + n * g.image_size(), xp);
        for (Index k = 0; k < K; ++k)
            std::memcpy(col + k * ld + n * l.positions, xp + (k / kk) * l.plane + tap_offset(g, l, k),
                        static_cast<std::size_t>(l.positions) * sizeof(S));
    }
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

// y (C*P x N) += bias[c] on every position of channel c (samples split
// between threads).
template <class S>
void add_channel_bias(Matrix<S>& y, Index channels, Index P, const S* bias) {
    parallel_ranges(y.cols(), static_cast<double>(2 * y.rows()), [&](Index n0, Index n1) {
        for (Index n = n0; n < n1; ++n)
            for (Index c = 0; c < channels; ++c) y.col(n).segment(c * P, P).array() += bias[c];
    });
}

// db[c] += sum over samples and positions of dy (C*P x N). Threads split the
// channels, each summing its samples in order, so the result does not depend
// on the thread count.
template <class S>
void accumulate_channel_sums(const Matrix<S>& dy, Index channels, Index P, S* db) {
    parallel_ranges(channels, static_cast<double>(P * dy.cols()), [&](Index c0, Index c1) {
        for (Index n = 0; n < dy.cols(); ++n)
            for (Index c = c0; c < c1; ++c) db[c] += dy.col(n).segment(c * P, P).sum();
    });
}

// How ConvEngine computes (automatic picks per geometry; the others exist
// so tests can check every path against the others).
enum class ConvAlgorithm {
    automatic,
    im2col,          // im2col + GEMM; the adjoint as GEMM + col2im
    im2col_flipped,  // as im2col, but at stride 1 the adjoint is a correlation of B with the
                     // flipped kernel (im2col of B + GEMM), which moves less memory when F < C
    direct           // loops over kernel taps without im2col: for very few features (F <= 2,
                     // stride 1), where the GEMM would be a matrix-vector product over a huge colT
};

inline const char* conv_algorithm_name(ConvAlgorithm a) {
    switch (a) {
        case ConvAlgorithm::im2col: return "im2col";
        case ConvAlgorithm::im2col_flipped: return "im2col_flipped";
        case ConvAlgorithm::direct: return "direct";
        default: return "automatic";
    }
}

// Seconds an algorithm takes on a layer shape, for tests: replaces timing.
using ConvCostHook = std::function<double(ConvAlgorithm, const ConvGeometry&, Index features)>;

// The algorithm measured fastest per layer shape (geometry, features,
// scalar), shared by every engine of the process: chosen once, so results
// are the same for every layer of that shape from then on.
struct ConvChoices {
    std::mutex mutex;
    std::map<std::array<Index, 16>, ConvAlgorithm> chosen;
    ConvCostHook hook;
    ConvAlgorithm forced = ConvAlgorithm::automatic;  // LATENT_CONV / set_conv_algorithm
};

inline ConvAlgorithm conv_algorithm_from_name(const std::string& name, const char* what) {
    for (ConvAlgorithm a : {ConvAlgorithm::im2col, ConvAlgorithm::im2col_flipped, ConvAlgorithm::direct})
        if (name == conv_algorithm_name(a)) return a;
    if (name == "auto" || name == "automatic") return ConvAlgorithm::automatic;
    throw ConfigError(std::string(what) + ": expected im2col, im2col_flipped, direct or auto, found '" + name + "'");
}

// The process's choices; LATENT_CONV is read when they are created.
inline ConvChoices& conv_choices() {
    static ConvChoices* c = [] {
        auto* cc = new ConvChoices;  // never destroyed: layers may run during static destruction
        if (const char* e = std::getenv("LATENT_CONV")) cc->forced = conv_algorithm_from_name(e, "LATENT_CONV");
        return cc;
    }();
    return *c;
}

inline std::array<Index, 16> conv_choice_key(const ConvGeometry& g, Index features, Index scalar_bytes) {
    return {g.channels, g.height, g.width, g.kernel_h, g.kernel_w, g.stride_h, g.stride_w, g.dilation_h,
            g.dilation_w, g.pad_top, g.pad_left, g.out_h, g.out_w, features, scalar_bytes, 0};
}

// Replaces timing by a cost function (tests; null restores timing) and forgets every choice.
inline void set_conv_cost_hook(ConvCostHook hook) {
    ConvChoices& c = conv_choices();
    std::lock_guard<std::mutex> lock(c.mutex);
    c.hook = std::move(hook);
    c.chosen.clear();
}

}  // namespace detail

// Every convolution whose algorithm is automatic and that has not run yet
// runs `name` ("im2col", "im2col_flipped", "direct"; "auto" measures again,
// the default), where it applies (im2col_flipped needs stride 1 and more than one
// output feature; elsewhere im2col runs), and the choices made so far are
// forgotten. The environment variable LATENT_CONV=name does the same at
// start-up. With LATENT_GEMM (or a GEMM cache) it makes runs of conv models
// repeat bit for bit at any load: a measured choice may flip when the
// machine is busy.
inline void set_conv_algorithm(const std::string& name) {
    const detail::ConvAlgorithm a = detail::conv_algorithm_from_name(name, "set_conv_algorithm");
    detail::ConvChoices& c = detail::conv_choices();
    std::lock_guard<std::mutex> lock(c.mutex);
    c.forced = a;
    c.chosen.clear();
}

namespace detail {

// Runs correlate / adjoint / weight gradients with reused buffers (no
// allocation after the first call at a given batch size). Samples are split
// into chunks small enough for colT to stay in cache; chunks run in
// parallel, one per thread, each with its own buffers and single-threaded
// GEMMs (no nested parallelism); weight gradients are summed per thread,
// then added in thread order (deterministic for a given thread count).
// The GEMMs go through detail::matmul (core/gemm.hpp), whose engine is
// measured per shape class; the algorithm itself (automatic) is measured per
// layer shape on the first call (choose_algorithm).
template <class S>
class ConvEngine {
public:
    using Mat = Matrix<S>;
    using Map = Eigen::Map<Mat>;
    using ConstMap = Eigen::Map<const Mat>;

    // Scalars of im2col buffer per chunk (256K floats = 1 MiB, about a core's L2).
    static constexpr Index default_budget = Index{1} << 18;

    void configure(const ConvGeometry& g, Index features) {
        geo_ = g;
        features_ = features;
        chosen_ = algorithm_;
        // The adjoint at stride 1 as a correlation of B with the flipped kernel:
        // A[c, y, x] = sum_{f,ky',kx'} W'[(f,ky',kx'), c] B[f, y - pt' + ky'*d, x - pl' + kx'*d],
        // W'[(f,ky',kx'), c] = W[(c, kh-1-ky', kw-1-kx'), f], pt' = d*(kh-1) - pt.
        flip_ = g;
        flip_.channels = features;
        flip_.height = g.out_h;
        flip_.width = g.out_w;
        flip_.pad_top = g.dilation_h * (g.kernel_h - 1) - g.pad_top;
        flip_.pad_left = g.dilation_w * (g.kernel_w - 1) - g.pad_left;
        flip_.out_h = g.height;
        flip_.out_w = g.width;
        dw_transposed_ = std::is_same<S, float>::value && gemm_tile_fill(features, g.patch_size()) > gemm_tile_fill(g.patch_size(), features);
    }
    const ConvGeometry& geometry() const { return geo_; }
    void set_budget(Index scalars) { budget_ = std::max<Index>(scalars, 1); }
    void set_algorithm(ConvAlgorithm a) {
        algorithm_ = a;
        chosen_ = a;
    }
    // The algorithm that runs: the one set, or (automatic) the one measured
    // fastest for this layer shape on the first call.
    ConvAlgorithm algorithm() const { return chosen_; }

    bool uses_direct() const { return chosen_ == ConvAlgorithm::direct; }
    bool uses_flipped_adjoint() const { return stride_one() && chosen_ == ConvAlgorithm::im2col_flipped; }

    // B (F*P x N) = correlate(A) [+ bias];  when grad_b is given also
    // dWT += colT(A)^T rows(grad_b). A: C*H*W x N, WT: C*kh*kw x F.
    void correlate(const Mat& a, const S* wt, Mat* b, const S* bias, const Mat* grad_b, S* dwt) {
        if (chosen_ == ConvAlgorithm::automatic) choose_algorithm(a.cols());
        const Index N = a.cols(), P = geo_.positions(), K = geo_.patch_size(), F = features_;
        if (b) b->resize(F * P, N);
        if (uses_direct()) {
            if (geo_.stride_h == 1 && geo_.stride_w == 1) {
                direct_correlate(a, wt, b, bias, grad_b, dwt);
            } else {
                if (b) strided_correlate(a, wt, *b, bias);
                if (grad_b) strided_weight_grad(a, *grad_b, dwt);
            }
            return;
        }
        const ConstMap W(wt, K, F);
        // Stride 1: the linear layout (Q = Ho*Wp rows per sample); else grid positions (Q = P).
        const bool linear = stride_one();
        const LinearLayout lay = linear_layout(geo_);
        const Index Q = linear ? lay.positions : P;
        const Index chunk = chunk_size(N, Q * std::max(K, F));
        prepare(chunk, Q * K, Q * F, grad_b ? K * F : 0, linear ? geo_.channels * lay.plane : 0);
        const int used = parallel_chunks((N + chunk - 1) / chunk, [&](int t, Index i) {
            const Index n0 = i * chunk, cnt = std::min(chunk, N - n0), ld = cnt * Q;
            Workspace& w = work_[static_cast<std::size_t>(t)];
            Map col(w.col.data(), ld, K), rows(w.rows.data(), ld, F);
            if (linear)
                im2col_linear(geo_, lay, a.data() + n0 * a.rows(), cnt, w.pad.data(), col.data(), ld);
            else
                im2col(geo_, a.data() + n0 * a.rows(), cnt, col.data(), ld);
            if (b) {
                matmul(rows, col, false, W, false, false);  // rows = colT WT
                S* out = b->data() + n0 * b->rows();
                if (linear)
                    for (Index n = 0; n < cnt; ++n) from_linear(geo_, lay, F, rows.data() + n * Q, ld, bias, out + n * b->rows());
                else
                    from_position_rows(rows.data(), ld, F, P, cnt, bias, out);
            }
            if (grad_b) {
                const S* g = grad_b->data() + n0 * grad_b->rows();
                if (linear)
                    for (Index n = 0; n < cnt; ++n) to_linear(geo_, lay, F, g + n * grad_b->rows(), rows.data() + n * Q, ld);
                else
                    to_position_rows(g, F, P, cnt, rows.data(), ld);
                accumulate_weight_grad(w, col, rows);  // dWT += colT^T rows
            }
        });
        if (grad_b) reduce_weight_grad(used, dwt, dw_transposed_);
    }

    // A (C*H*W x N) = adjoint(B);  when image_a is given also
    // dWT += colT(image_a)^T rows(B). B: F*P x N.
    void adjoint(const Mat& b, const S* wt, Mat* a, const Mat* image_a, S* dwt) {
        if (chosen_ == ConvAlgorithm::automatic) choose_algorithm(b.cols());
        const Index N = b.cols(), P = geo_.positions(), K = geo_.patch_size(), F = features_;
        const Index C = geo_.channels, KF = F * geo_.kernel_h * geo_.kernel_w;
        if (a) a->resize(geo_.image_size(), N);
        if (uses_direct()) {
            if (geo_.stride_h == 1 && geo_.stride_w == 1) {
                direct_adjoint(b, wt, a, image_a, dwt);
            } else {
                if (a) strided_adjoint(b, wt, *a);
                if (image_a) strided_weight_grad(*image_a, b, dwt);
            }
            return;
        }
        const bool flip = a && uses_flipped_adjoint();
        if (flip) flip_weights(wt);
        const ConstMap W(wt, K, F), Wf(flip_w_.data(), KF, C);
        // Weight gradient at stride 1 and the flipped adjoint use the linear
        // layout; the plain adjoint (GEMM + col2im) uses grid positions.
        const bool linear = stride_one();
        const LinearLayout lay = linear_layout(geo_), lay_f = linear_layout(flip_);
        const Index Q = linear ? lay.positions : P, Qa = lay_f.positions;
        Index col_ps = 0, rows_ps = 0, pad = 0;
        if (image_a) col_ps = Q * K, rows_ps = Q * F, pad = linear ? geo_.channels * lay.plane : 0;
        if (a && flip) col_ps = std::max(col_ps, Qa * KF), rows_ps = std::max(rows_ps, Qa * C), pad = std::max(pad, F * lay_f.plane);
        if (a && !flip) col_ps = std::max(col_ps, P * K), rows_ps = std::max(rows_ps, P * F);
        const Index chunk = chunk_size(N, std::max(col_ps, rows_ps));
        prepare(chunk, col_ps, rows_ps, image_a ? K * F : 0, pad);
        const int used = parallel_chunks((N + chunk - 1) / chunk, [&](int t, Index i) {
            const Index n0 = i * chunk, cnt = std::min(chunk, N - n0);
            Workspace& w = work_[static_cast<std::size_t>(t)];
            const S* bc = b.data() + n0 * b.rows();
            if (a && flip) {
                const Index lda = cnt * Qa;
                Map col(w.col.data(), lda, KF), rows(w.rows.data(), lda, C);
                im2col_linear(flip_, lay_f, bc, cnt, w.pad.data(), col.data(), lda);
                matmul(rows, col, false, Wf, false, false);
                for (Index n = 0; n < cnt; ++n)
                    from_linear(flip_, lay_f, C, rows.data() + n * Qa, lda, static_cast<const S*>(nullptr), a->data() + (n0 + n) * a->rows());
            }
            if (a && !flip) {
                const Index ld = cnt * P;
                Map col(w.col.data(), ld, K), rows(w.rows.data(), ld, F);
                to_position_rows(bc, F, P, cnt, rows.data(), ld);
                matmul(col, rows, false, W, true, false);  // colT = rows WT^T
                col2im(geo_, col.data(), ld, cnt, a->data() + n0 * a->rows());
            }
            if (image_a) {
                const Index ld = cnt * Q;
                Map col(w.col.data(), ld, K), rows(w.rows.data(), ld, F);
                const S* ai = image_a->data() + n0 * image_a->rows();
                if (linear) {
                    im2col_linear(geo_, lay, ai, cnt, w.pad.data(), col.data(), ld);
                    for (Index n = 0; n < cnt; ++n) to_linear(geo_, lay, F, bc + n * b.rows(), rows.data() + n * Q, ld);
                } else {
                    im2col(geo_, ai, cnt, col.data(), ld);
                    to_position_rows(bc, F, P, cnt, rows.data(), ld);
                }
                accumulate_weight_grad(w, col, rows);  // dWT += colT^T rows
            }
        });
        if (image_a) reduce_weight_grad(used, dwt, dw_transposed_);
    }

    // Multiply-adds of one correlate over N samples.
    double macs(Index N) const { return static_cast<double>(N) * geo_.positions() * geo_.patch_size() * features_; }

private:
    struct Workspace {
        Vector<S> col, rows, dw, pad;
    };

    // The automatic choice: the cached one for this layer shape, or each
    // candidate timed now on up to 4 synthetic samples, one forward plus
    // both gradients (what a training step runs), the fastest kept.
    void choose_algorithm(Index batch) {
        ConvChoices& cc = conv_choices();
        const auto key = conv_choice_key(geo_, features_, static_cast<Index>(sizeof(S)));
        ConvCostHook hook;
        std::vector<ConvAlgorithm> candidates{ConvAlgorithm::im2col, ConvAlgorithm::direct};
        if (stride_one() && features_ > 1) candidates.insert(candidates.begin() + 1, ConvAlgorithm::im2col_flipped);
        {
            std::lock_guard<std::mutex> lock(cc.mutex);
            const auto it = cc.chosen.find(key);
            if (it != cc.chosen.end()) {
                chosen_ = it->second;
                return;
            }
            if (cc.forced != ConvAlgorithm::automatic) {  // forced: that algorithm where it applies, else im2col
                const bool fits = std::find(candidates.begin(), candidates.end(), cc.forced) != candidates.end();
                chosen_ = cc.chosen.emplace(key, fits ? cc.forced : ConvAlgorithm::im2col).first->second;
                return;
            }
            hook = cc.hook;
        }
        ConvAlgorithm best = ConvAlgorithm::im2col;
        double best_time = 1e300;
        if (hook) {
            for (ConvAlgorithm c : candidates) {
                const double t = hook(c, geo_, features_);
                if (t < best_time) best_time = t, best = c;
            }
        } else {
            const Index n = std::clamp<Index>(batch, 1, 4), K = geo_.patch_size();
            Mat a(geo_.image_size(), n), b, a2;
            for (Index i = 0; i < a.size(); ++i) a.data()[i] = S(static_cast<double>(i % 13) / 13.0 - 0.5);
            Vector<S> w(K * features_), dw(K * features_);
            for (Index i = 0; i < w.size(); ++i) w[i] = S(static_cast<double>(i % 7) / 7.0 - 0.5);
            for (ConvAlgorithm c : candidates) {
                chosen_ = c;
                const double t = gemm_time([&] {
                    dw.setZero();
                    correlate(a, w.data(), &b, nullptr, nullptr, nullptr);
                    correlate(a, w.data(), nullptr, nullptr, &b, dw.data());
                    adjoint(b, w.data(), &a2, nullptr, nullptr);
                });
                if (t < best_time) best_time = t, best = c;
            }
        }
        std::lock_guard<std::mutex> lock(cc.mutex);
        chosen_ = cc.chosen.emplace(key, best).first->second;  // the first result stored wins
    }
    bool stride_one() const { return geo_.stride_h == 1 && geo_.stride_w == 1; }

    // Samples per chunk: within the budget, and enough chunks for every thread.
    Index chunk_size(Index N, Index per_sample) const {
        const Index threads = std::max<Index>(num_threads(), 1);
        const Index by_budget = std::max<Index>(budget_ / std::max<Index>(per_sample, 1), 1);
        const Index by_threads = std::max<Index>((N + threads - 1) / threads, 1);
        return std::min(by_budget, by_threads);
    }
    void prepare(Index chunk, Index col_per_sample, Index rows_per_sample, Index dw_size, Index pad_size) {
        const auto threads = static_cast<std::size_t>(std::max(num_threads(), 1));
        if (work_.size() < threads) work_.resize(threads);
        for (auto& w : work_) {
            if (w.col.size() < chunk * col_per_sample) w.col.resize(chunk * col_per_sample);
            if (w.rows.size() < chunk * rows_per_sample) w.rows.resize(chunk * rows_per_sample);
            if (w.pad.size() < pad_size) w.pad.resize(pad_size);
            if (dw_size > 0) w.dw.setZero(dw_size);  // no allocation once sized
        }
    }
    // A thread's dWT (K x F) += colT^T rows; kept transposed (F x K) in its
    // workspace when that product fills the GEMM's register tile better
    // (e.g. K = 9 taps of a one-channel input against F = 64 filters).
    void accumulate_weight_grad(Workspace& w, const Map& col, const Map& rows) {
        const Index K = geo_.patch_size(), F = features_;
        if (dw_transposed_) {
            Map dWt(w.dw.data(), F, K);
            matmul(dWt, rows, true, col, false, true);
        } else {
            Map dW(w.dw.data(), K, F);
            matmul(dW, col, true, rows, false, true);
        }
    }
    // dwt += the threads' weight gradients, in thread order. `transposed`:
    // they were accumulated as F x K (the im2col paths with dw_transposed_).
    void reduce_weight_grad(int used, S* dwt, bool transposed = false) {
        const Index K = geo_.patch_size(), F = features_;
        Map dW(dwt, K, F);
        for (int t = 0; t < used; ++t) {
            const S* d = work_[static_cast<std::size_t>(t)].dw.data();
            if (transposed)
                dW += ConstMap(d, F, K).transpose();
            else
                dW += ConstMap(d, K, F);
        }
    }

    void flip_weights(const S* wt) {
        const Index kh = geo_.kernel_h, kw = geo_.kernel_w, C = geo_.channels, F = features_, K = geo_.patch_size();
        flip_w_.resize(K * F);  // no allocation once sized
        for (Index c = 0; c < C; ++c)
            for (Index f = 0; f < F; ++f)
                for (Index ky = 0; ky < kh; ++ky)
                    for (Index kx = 0; kx < kw; ++kx)
                        flip_w_[c * F * kh * kw + (f * kh + (kh - 1 - ky)) * kw + (kw - 1 - kx)] = wt[f * K + (c * kh + ky) * kw + kx];
    }

    // Direct loops at stride 1 on zero-padded planes: with the padded width
    // Wp = Wo + (kw-1)*dw and Hp = Ho + (kh-1)*dh, every kernel tap is one
    // contiguous multiply-add of length Ho*Wp ("linear" rows whose last
    // Wp - Wo entries are scratch). Chosen for F <= 2, where an im2col GEMM
    // would be a matrix-vector product.
    // B = A (x) W + bias;  dW += A (x) G  (per sample, samples in parallel)
    void direct_correlate(const Mat& a, const S* wt, Mat* b, const S* bias, const Mat* g, S* dwt) {
        const Index N = a.cols(), K = geo_.patch_size(), F = features_, kk = geo_.kernel_h * geo_.kernel_w;
        const LinearLayout lay = linear_layout(geo_);
        const Index L = lay.plane, M = lay.positions;
        prepare_direct(geo_.channels * L, F * M, g ? K * F : 0);
        const int used = parallel_chunks(N, [&](int t, Index n) {
            Workspace& w = work_[static_cast<std::size_t>(t)];
            S* xp = w.col.data();
            S* lin = w.rows.data();
            pad_planes(geo_, lay, a.data() + n * a.rows(), xp);
            if (b) {
                std::fill(lin, lin + F * M, S(0));
                for (Index k = 0; k < K; ++k) {
                    const S* src = xp + (k / kk) * L + tap_offset(geo_, lay, k);
                    for (Index f = 0; f < F; ++f) {
                        const S wk = wt[f * K + k];
                        S* dst = lin + f * M;
                        for (Index i = 0; i < M; ++i) dst[i] += wk * src[i];
                    }
                }
                from_linear(geo_, lay, F, lin, M, bias, b->data() + n * b->rows());
            }
            if (g) {
                to_linear(geo_, lay, F, g->data() + n * g->rows(), lin, M);
                S* dw = w.dw.data();
                for (Index k = 0; k < K; ++k) {
                    const S* src = xp + (k / kk) * L + tap_offset(geo_, lay, k);
                    const Eigen::Map<const Vector<S>> xs(src, M);
                    for (Index f = 0; f < F; ++f) dw[f * K + k] += xs.dot(Eigen::Map<const Vector<S>>(lin + f * M, M));
                }
            }
        });
        if (g) reduce_weight_grad(used, dwt);
    }

    // A = adjoint(B);  dW += image_a (x) B  (per sample, samples in parallel)
    void direct_adjoint(const Mat& b, const S* wt, Mat* a, const Mat* image_a, S* dwt) {
        const Index N = b.cols(), K = geo_.patch_size(), F = features_, kk = geo_.kernel_h * geo_.kernel_w;
        const LinearLayout lay = linear_layout(geo_);
        const Index Wp = lay.width, Hp = lay.height, L = lay.plane, M = lay.positions;
        prepare_direct(geo_.channels * L, F * M, image_a ? K * F : 0);
        const int used = parallel_chunks(N, [&](int t, Index n) {
            Workspace& w = work_[static_cast<std::size_t>(t)];
            S* xp = w.col.data();
            S* lin = w.rows.data();
            to_linear(geo_, lay, F, b.data() + n * b.rows(), lin, M);
            if (a) {
                std::fill(xp, xp + geo_.channels * L, S(0));
                for (Index k = 0; k < K; ++k) {
                    S* dst = xp + (k / kk) * L + tap_offset(geo_, lay, k);
                    for (Index f = 0; f < F; ++f) {
                        const S wk = wt[f * K + k];
                        const S* src = lin + f * M;
                        for (Index i = 0; i < M; ++i) dst[i] += wk * src[i];
                    }
                }
                // Crop: image (c, y, x) sits at padded (y + pt, x + pl); rows/columns
                // outside the padded window are never read, their gradient is 0.
                S* an = a->data() + n * a->rows();
                for (Index c = 0; c < geo_.channels; ++c)
                    for (Index y = 0; y < geo_.height; ++y)
                        for (Index x = 0; x < geo_.width; ++x) {
                            const Index r = y + geo_.pad_top, q = x + geo_.pad_left;
                            an[(c * geo_.height + y) * geo_.width + x] = r < Hp && q < Wp ? xp[c * L + r * Wp + q] : S(0);
                        }
            }
            if (image_a) {
                pad_planes(geo_, lay, image_a->data() + n * image_a->rows(), xp);
                S* dw = w.dw.data();
                for (Index k = 0; k < K; ++k) {
                    const S* src = xp + (k / kk) * L + tap_offset(geo_, lay, k);
                    const Eigen::Map<const Vector<S>> xs(src, M);
                    for (Index f = 0; f < F; ++f) dw[f * K + k] += xs.dot(Eigen::Map<const Vector<S>>(lin + f * M, M));
                }
            }
        });
        if (image_a) reduce_weight_grad(used, dwt);
    }

    void prepare_direct(Index col_size, Index rows_size, Index dw_size) {
        const auto threads = static_cast<std::size_t>(std::max(num_threads(), 1));
        if (work_.size() < threads) work_.resize(threads);
        for (auto& w : work_) {
            if (w.col.size() < col_size) w.col.resize(col_size);
            if (w.rows.size() < rows_size) w.rows.resize(rows_size);
            if (dw_size > 0) w.dw.setZero(dw_size);
        }
    }

    // Direct loops at any stride, one patch run (grid row) at a time:
    // B[n,f,row] += W[k,f] A[...].
    void strided_correlate(const Mat& a, const S* wt, Mat& b, const S* bias) {
        const Index N = a.cols(), P = geo_.positions(), K = geo_.patch_size(), F = features_;
        parallel_chunks(N, [&](int, Index n) {
            const S* an = a.data();  // for_each_patch_run adds sample n's offset
            S* bn = b.data() + n * b.rows();
            for (Index f = 0; f < F; ++f) std::fill(bn + f * P, bn + (f + 1) * P, bias ? bias[f] : S(0));
            for (Index c = 0; c < geo_.channels; ++c)
                for_each_patch_run(geo_, n, c, [&](Index k, Index row, Index ai, Index step, Index lead, Index cnt) {
                    const S* src = an + ai;
                    for (Index f = 0; f < F; ++f) {
                        const S w = wt[f * K + k];
                        S* dst = bn + f * P + (row - n * P) + lead;
                        if (step == 1)
                            for (Index i = 0; i < cnt; ++i) dst[i] += w * src[i];
                        else
                            for (Index i = 0; i < cnt; ++i) dst[i] += w * src[i * step];
                    }
                });
        });
    }

    // A[n,c,...] = sum over runs of W[k,f] B[n,f,row].
    void strided_adjoint(const Mat& b, const S* wt, Mat& a) {
        const Index N = b.cols(), P = geo_.positions(), K = geo_.patch_size(), F = features_, C = geo_.channels;
        const Index plane = geo_.height * geo_.width;
        parallel_chunks(N * C, [&](int, Index q) {
            const Index n = q / C, c = q % C;
            S* an = a.data();
            const S* bn = b.data() + n * b.rows();
            std::fill(a.data() + q * plane, a.data() + (q + 1) * plane, S(0));
            for_each_patch_run(geo_, n, c, [&](Index k, Index row, Index ai, Index step, Index lead, Index cnt) {
                S* dst = an + ai;
                for (Index f = 0; f < F; ++f) {
                    const S w = wt[f * K + k];
                    const S* src = bn + f * P + (row - n * P) + lead;
                    if (step == 1)
                        for (Index i = 0; i < cnt; ++i) dst[i] += w * src[i];
                    else
                        for (Index i = 0; i < cnt; ++i) dst[i * step] += w * src[i];
                }
            });
        });
    }

    // dW[k,f] += sum over runs of A[...] G[n,f,row]; threads split the input channels.
    void strided_weight_grad(const Mat& a, const Mat& g, S* dwt) {
        const Index N = a.cols(), P = geo_.positions(), K = geo_.patch_size(), F = features_;
        parallel_chunks(geo_.channels, [&](int, Index c) {
            for (Index n = 0; n < N; ++n) {
                const S* an = a.data();
                const S* gn = g.data() + n * g.rows();
                for_each_patch_run(geo_, n, c, [&](Index k, Index row, Index ai, Index step, Index lead, Index cnt) {
                    const S* src = an + ai;
                    for (Index f = 0; f < F; ++f) {
                        const S* gr = gn + f * P + (row - n * P) + lead;
                        S acc(0);
                        if (step == 1)
                            for (Index i = 0; i < cnt; ++i) acc += src[i] * gr[i];
                        else
                            for (Index i = 0; i < cnt; ++i) acc += src[i * step] * gr[i];
                        dwt[f * K + k] += acc;
                    }
                });
            }
        });
    }

    ConvGeometry geo_, flip_;
    Index features_ = 0;
    Index budget_ = default_budget;
    ConvAlgorithm algorithm_ = ConvAlgorithm::automatic;
    ConvAlgorithm chosen_ = ConvAlgorithm::automatic;
    std::vector<Workspace> work_;
    Vector<S> flip_w_;
    bool dw_transposed_ = false;
};

}  // namespace detail
LATENT_NAMESPACE_END
