// Matrix products for the dense layers: C = op(A) op(B) or C += op(A) op(B),
// column-major, op = identity or transpose.
//
// float on x86-64 with GCC/Clang: our own packed GEMM (BLIS-style blocking:
// B panels of KC x NC, A blocks of MC x KC, an MR x NR register-tile
// micro-kernel) with the kernel chosen at run time from the CPU: AVX-512
// (32 x 12 tile) or AVX2+FMA (16 x 6 tile). Eigen 3.4's product kernel is a
// 48 x 4 tile that leaves a third of an AVX-512 core's FMA throughput unused
// on these shapes (~80 vs ~95 GFLOP/s on the benchmark machine). Everything
// else (double, other CPUs and compilers, EIGEN_USE_BLAS builds,
// LATENT_NO_GEMM_KERNEL) goes through Eigen's product unchanged.
//
// Threads: with OpenMP and num_threads() > 1, large products split C's
// rows or columns between threads. Each element of C is summed in the same order
// whatever the thread count, so results are bitwise identical for 1 or N
// threads. Packing buffers are per thread and grow once (no allocation
// after the first call at a given size).
#pragma once

#include <algorithm>
#include <type_traits>
#include <vector>

#include "latent/core/tensor.hpp"
#include "latent/core/threads.hpp"

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) && !defined(EIGEN_USE_BLAS) && \
    !defined(LATENT_NO_GEMM_KERNEL)
#define LATENT_GEMM_X86 1
#include <immintrin.h>
#endif

#ifdef _OPENMP
#include <omp.h>
#endif

namespace latent {
namespace detail {

#ifdef LATENT_GEMM_X86

// Element (i, k) of an operand is p[i * rs + k * cs].
struct GemmOperand {
    const float* p;
    Index rs, cs;
};

enum class GemmIsa { none, avx2, avx512 };

inline GemmIsa gemm_isa() {
    static const GemmIsa isa = [] {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f")) return GemmIsa::avx512;
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return GemmIsa::avx2;
        return GemmIsa::none;
    }();
    return isa;
}

// Micro-kernels: acc = sum_p ap[p*MR + i] * bp[p*NR + j] over p < k, then
// C(i, j) = acc (store) or C(i, j) += acc, for i < mr, j < nr (a full tile
// is written straight from the registers, an edge tile through `edge`).
template <int MR, int NR>
inline void gemm_write_edge(const float* tile, float* c, Index ldc, Index mr, Index nr, bool add) {
    for (Index j = 0; j < nr; ++j)
        for (Index i = 0; i < mr; ++i) c[i + j * ldc] = (add ? c[i + j * ldc] : 0.0f) + tile[i + j * MR];
}

__attribute__((target("avx512f"))) inline void gemm_kernel_avx512(Index k, const float* ap, const float* bp, float* c, Index ldc,
                                                                  Index mr, Index nr, bool add) {
    constexpr int MR = 32, NR = 12;
    __m512 a0[NR], a1[NR];
    for (int j = 0; j < NR; ++j) a0[j] = a1[j] = _mm512_setzero_ps();
    for (Index p = 0; p < k; ++p) {
        const __m512 x0 = _mm512_loadu_ps(ap), x1 = _mm512_loadu_ps(ap + 16);
#pragma GCC unroll 12
        for (int j = 0; j < NR; ++j) {
            const __m512 b = _mm512_set1_ps(bp[j]);
            a0[j] = _mm512_fmadd_ps(x0, b, a0[j]);
            a1[j] = _mm512_fmadd_ps(x1, b, a1[j]);
        }
        ap += MR;
        bp += NR;
    }
    if (mr == MR && nr == NR) {
        for (int j = 0; j < NR; ++j) {
            float* cj = c + j * ldc;
            if (add) {
                a0[j] = _mm512_add_ps(a0[j], _mm512_loadu_ps(cj));
                a1[j] = _mm512_add_ps(a1[j], _mm512_loadu_ps(cj + 16));
            }
            _mm512_storeu_ps(cj, a0[j]);
            _mm512_storeu_ps(cj + 16, a1[j]);
        }
        return;
    }
    alignas(64) float tile[MR * NR];
    for (int j = 0; j < NR; ++j) {
        _mm512_storeu_ps(tile + j * MR, a0[j]);
        _mm512_storeu_ps(tile + j * MR + 16, a1[j]);
    }
    gemm_write_edge<MR, NR>(tile, c, ldc, mr, nr, add);
}

__attribute__((target("avx2,fma"))) inline void gemm_kernel_avx2(Index k, const float* ap, const float* bp, float* c, Index ldc,
                                                                 Index mr, Index nr, bool add) {
    constexpr int MR = 16, NR = 6;
    __m256 a0[NR], a1[NR];
    for (int j = 0; j < NR; ++j) a0[j] = a1[j] = _mm256_setzero_ps();
    for (Index p = 0; p < k; ++p) {
        const __m256 x0 = _mm256_loadu_ps(ap), x1 = _mm256_loadu_ps(ap + 8);
#pragma GCC unroll 6
        for (int j = 0; j < NR; ++j) {
            const __m256 b = _mm256_broadcast_ss(bp + j);
            a0[j] = _mm256_fmadd_ps(x0, b, a0[j]);
            a1[j] = _mm256_fmadd_ps(x1, b, a1[j]);
        }
        ap += MR;
        bp += NR;
    }
    if (mr == MR && nr == NR) {
        for (int j = 0; j < NR; ++j) {
            float* cj = c + j * ldc;
            if (add) {
                a0[j] = _mm256_add_ps(a0[j], _mm256_loadu_ps(cj));
                a1[j] = _mm256_add_ps(a1[j], _mm256_loadu_ps(cj + 8));
            }
            _mm256_storeu_ps(cj, a0[j]);
            _mm256_storeu_ps(cj + 8, a1[j]);
        }
        return;
    }
    alignas(32) float tile[MR * NR];
    for (int j = 0; j < NR; ++j) {
        _mm256_storeu_ps(tile + j * MR, a0[j]);
        _mm256_storeu_ps(tile + j * MR + 8, a1[j]);
    }
    gemm_write_edge<MR, NR>(tile, c, ldc, mr, nr, add);
}

// A block (m x k) into MR-row strips, each k-major and zero-padded to MR rows.
template <int MR>
void gemm_pack_a(GemmOperand a, Index m, Index k, float* out) {
    for (Index i0 = 0; i0 < m; i0 += MR) {
        const Index mr = std::min<Index>(MR, m - i0);
        float* strip = out + i0 * k;  // strips are MR * k apart; i0 is a multiple of MR
        if (a.rs == 1) {              // rows contiguous: copy MR at a time
            for (Index p = 0; p < k; ++p) {
                const float* src = a.p + i0 + p * a.cs;
                float* dst = strip + p * MR;
                if (mr == MR) {
                    for (Index i = 0; i < MR; ++i) dst[i] = src[i];  // fixed count: vectorized, no memcpy call
                } else {
                    for (Index i = 0; i < mr; ++i) dst[i] = src[i];
                    for (Index i = mr; i < MR; ++i) dst[i] = 0.0f;
                }
            }
        } else {  // a transposed operand: rows contiguous along k (cs == 1 in practice)
            Index i = 0;
            if (a.cs == 1) {  // 4 rows x 4 k at a time through an SSE transpose
                for (; i + 4 <= mr; i += 4) {
                    const float* r0 = a.p + (i0 + i) * a.rs;
                    const float *r1 = r0 + a.rs, *r2 = r1 + a.rs, *r3 = r2 + a.rs;
                    Index p = 0;
                    for (; p + 4 <= k; p += 4) {
                        __m128 x0 = _mm_loadu_ps(r0 + p), x1 = _mm_loadu_ps(r1 + p), x2 = _mm_loadu_ps(r2 + p),
                               x3 = _mm_loadu_ps(r3 + p);
                        _MM_TRANSPOSE4_PS(x0, x1, x2, x3);
                        _mm_storeu_ps(strip + p * MR + i, x0);
                        _mm_storeu_ps(strip + (p + 1) * MR + i, x1);
                        _mm_storeu_ps(strip + (p + 2) * MR + i, x2);
                        _mm_storeu_ps(strip + (p + 3) * MR + i, x3);
                    }
                    for (; p < k; ++p) {
                        float* dst = strip + p * MR + i;
                        dst[0] = r0[p], dst[1] = r1[p], dst[2] = r2[p], dst[3] = r3[p];
                    }
                }
            }
            for (; i < mr; ++i) {
                const float* src = a.p + (i0 + i) * a.rs;
                for (Index p = 0; p < k; ++p) strip[p * MR + i] = src[p * a.cs];
            }
            for (Index p = 0; p < k; ++p)
                for (Index r = mr; r < MR; ++r) strip[p * MR + r] = 0.0f;
        }
    }
}

// B panel (k x n) into NR-column strips, each k-major and zero-padded to NR columns.
template <int NR>
void gemm_pack_b(GemmOperand b, Index k, Index n, float* out) {
    for (Index j0 = 0; j0 < n; j0 += NR) {
        const Index nr = std::min<Index>(NR, n - j0);
        float* strip = out + j0 * k;
        if (b.rs == 1) {  // columns contiguous along k
            const float* src[NR];
            for (Index j = 0; j < NR; ++j) src[j] = b.p + (j0 + std::min<Index>(j, nr - 1)) * b.cs;
            Index p = 0;
            if (nr == NR) {  // 4 columns x 4 k at a time through an SSE transpose
                for (; p + 4 <= k; p += 4) {
                    Index j = 0;
                    for (; j + 4 <= NR; j += 4) {
                        __m128 x0 = _mm_loadu_ps(src[j] + p), x1 = _mm_loadu_ps(src[j + 1] + p), x2 = _mm_loadu_ps(src[j + 2] + p),
                               x3 = _mm_loadu_ps(src[j + 3] + p);
                        _MM_TRANSPOSE4_PS(x0, x1, x2, x3);
                        _mm_storeu_ps(strip + p * NR + j, x0);
                        _mm_storeu_ps(strip + (p + 1) * NR + j, x1);
                        _mm_storeu_ps(strip + (p + 2) * NR + j, x2);
                        _mm_storeu_ps(strip + (p + 3) * NR + j, x3);
                    }
                    for (; j < NR; ++j)
                        for (Index q = p; q < p + 4; ++q) strip[q * NR + j] = src[j][q];
                }
            }
            for (; p < k; ++p) {
                float* dst = strip + p * NR;
                for (Index j = 0; j < NR; ++j) dst[j] = src[j][p];
                for (Index j = nr; j < NR; ++j) dst[j] = 0.0f;
            }
        } else {  // a transposed operand: rows contiguous along j
            for (Index p = 0; p < k; ++p) {
                const float* src = b.p + p * b.rs + j0 * b.cs;
                float* dst = strip + p * NR;
                for (Index j = 0; j < nr; ++j) dst[j] = src[j * b.cs];
                for (Index j = nr; j < NR; ++j) dst[j] = 0.0f;
            }
        }
    }
}

template <class T>
T* gemm_buffer(std::vector<T>& v, std::size_t n) {
    if (v.size() < n) v.resize(n);
    return v.data();
}

// C (m x n, leading dimension ldc) = / += A (m x k) B (k x n), one thread.
template <int MR, int NR, class Kernel>
void gemm_serial(Index m, Index n, Index k, GemmOperand a, GemmOperand b, float* c, Index ldc, bool add, Kernel kernel) {
    constexpr Index KC = 384, MC = 192, NC = 1020;  // A block ~288 KB (L2), B strip KC x NR in L1
    static_assert(MC % MR == 0 && NC % NR == 0, "blocks hold whole tiles");
    static thread_local std::vector<float> abuf, bbuf;
    float* ap = gemm_buffer(abuf, static_cast<std::size_t>(MC * KC));
    float* bp = gemm_buffer(bbuf, static_cast<std::size_t>(KC * NC));
    for (Index jc = 0; jc < n; jc += NC) {
        const Index nc = std::min(NC, n - jc);
        for (Index pc = 0; pc < k; pc += KC) {
            const Index kc = std::min(KC, k - pc);
            const bool acc = add || pc > 0;
            gemm_pack_b<NR>({b.p + pc * b.rs + jc * b.cs, b.rs, b.cs}, kc, nc, bp);
            for (Index ic = 0; ic < m; ic += MC) {
                const Index mc = std::min(MC, m - ic);
                gemm_pack_a<MR>({a.p + ic * a.rs + pc * a.cs, a.rs, a.cs}, mc, kc, ap);
                for (Index jr = 0; jr < nc; jr += NR)
                    for (Index ir = 0; ir < mc; ir += MR)
                        kernel(kc, ap + ir * kc, bp + jr * kc, c + (ic + ir) + (jc + jr) * ldc, ldc, std::min<Index>(MR, mc - ir),
                               std::min<Index>(NR, nc - jr), acc);
            }
        }
    }
}

// Splits C between threads in whole tiles: by rows when m > n (each thread
// then packs all of B, the smaller operand), by columns otherwise (each
// packs all of A).
template <int MR, int NR, class Kernel>
void gemm_run(Index m, Index n, Index k, GemmOperand a, GemmOperand b, float* c, Index ldc, bool add, Kernel kernel) {
#ifdef _OPENMP
    // below ~2 million multiply-adds the fork/join costs more than a second thread saves
    const bool by_rows = m > n;
    const Index tile = by_rows ? MR : NR, extent = by_rows ? m : n, tiles = (extent + tile - 1) / tile;
    int threads = 1;
    if (!omp_in_parallel() && static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) >= 2.0e6)
        threads = static_cast<int>(std::min<Index>(num_threads(), tiles));
    if (threads > 1) {
        const Index per = (tiles + threads - 1) / threads;
#pragma omp parallel for num_threads(threads) schedule(static, 1)
        for (int t = 0; t < threads; ++t) {
            const Index r0 = std::min(extent, t * per * tile), r1 = std::min(extent, (t + 1) * per * tile);
            if (r1 <= r0) continue;
            if (by_rows)
                gemm_serial<MR, NR>(r1 - r0, n, k, {a.p + r0 * a.rs, a.rs, a.cs}, b, c + r0, ldc, add, kernel);
            else
                gemm_serial<MR, NR>(m, r1 - r0, k, a, {b.p + r0 * b.cs, b.rs, b.cs}, c + r0 * ldc, ldc, add, kernel);
        }
        return;
    }
#endif
    gemm_serial<MR, NR>(m, n, k, a, b, c, ldc, add, kernel);
}

// True when float products here use our kernel (not Eigen's).
inline bool gemm_kernel_active() { return gemm_isa() != GemmIsa::none; }

// Share of the register tiles' multiply-adds that are real for an m x n C
// (edge tiles are padded to MR x NR): e.g. 9 x 64 fills 0.25 of the AVX-512
// 32 x 12 tiles, 64 x 9 fills 0.75.
inline double gemm_tile_fill(Index m, Index n) {
    const Index mr = gemm_isa() == GemmIsa::avx512 ? 32 : 16, nr = gemm_isa() == GemmIsa::avx512 ? 12 : 6;
    auto padded = [](Index v, Index t) { return static_cast<double>((v + t - 1) / t * t); };
    return static_cast<double>(m) * static_cast<double>(n) / (padded(m, mr) * padded(n, nr));
}

// Whether our kernel beats Eigen's on this shape. Measured (AVX-512, one
// thread) on the denoiser's conv products, C of 9..3360 x 9..288: level or
// ahead by up to 19% when the tiles are > 85% filled and k >= 32; behind by
// 7-33% otherwise (n = 16 on the 32 x 12 tile; k = 9 or 16, where packing
// outweighs the few multiply-adds per packed value).
inline bool gemm_kernel_pays(Index m, Index n, Index k) {
    return gemm_kernel_active() && k >= 32 && gemm_tile_fill(m, n) > 0.85;
}

inline void gemm_float(Index m, Index n, Index k, GemmOperand a, GemmOperand b, float* c, Index ldc, bool add) {
    if (m == 0 || n == 0) return;
    if (k == 0) {
        if (!add)
            for (Index j = 0; j < n; ++j) std::fill(c + j * ldc, c + j * ldc + m, 0.0f);
        return;
    }
    if (gemm_isa() == GemmIsa::avx512)
        gemm_run<32, 12>(m, n, k, a, b, c, ldc, add, gemm_kernel_avx512);
    else
        gemm_run<16, 6>(m, n, k, a, b, c, ldc, add, gemm_kernel_avx2);
}

#else

inline bool gemm_kernel_active() { return false; }
inline double gemm_tile_fill(Index, Index) { return 1.0; }
inline bool gemm_kernel_pays(Index, Index, Index) { return false; }

#endif  // LATENT_GEMM_X86

// matmul through Eigen's product whatever the scalar.
template <class MC, class MA, class MB>
void matmul_eigen(MC&& c, const MA& a, bool trans_a, const MB& b, bool trans_b, bool add) {
    if (!trans_a && !trans_b) {
        if (add) c.noalias() += a * b; else c.noalias() = a * b;
    } else if (!trans_a && trans_b) {
        if (add) c.noalias() += a * b.transpose(); else c.noalias() = a * b.transpose();
    } else if (trans_a && !trans_b) {
        if (add) c.noalias() += a.transpose() * b; else c.noalias() = a.transpose() * b;
    } else {
        if (add) c.noalias() += a.transpose() * b.transpose(); else c.noalias() = a.transpose() * b.transpose();
    }
}

// C = op(A) op(B) (add = false) or C += op(A) op(B) (add = true).
// C, A, B: Matrix<S> or MatrixMap<S> (column-major, unit inner stride);
// op(X) = X^T when trans_x. Shapes must agree (checked by the caller).
// by_shape: float products that our kernel handles poorly
// (!gemm_kernel_pays) go to Eigen; otherwise every float product uses ours.
template <class MC, class MA, class MB>
void matmul(MC&& c, const MA& a, bool trans_a, const MB& b, bool trans_b, bool add, bool by_shape = false) {
    using S = typename std::decay_t<MC>::Scalar;
#ifdef LATENT_GEMM_X86
    if constexpr (std::is_same<S, float>::value) {
        const Index m = c.rows(), n = c.cols(), k = trans_a ? a.rows() : a.cols();
        if (by_shape ? gemm_kernel_pays(m, n, k) : gemm_kernel_active()) {
            const GemmOperand ga = trans_a ? GemmOperand{a.data(), a.outerStride(), 1} : GemmOperand{a.data(), 1, a.outerStride()};
            const GemmOperand gb = trans_b ? GemmOperand{b.data(), b.outerStride(), 1} : GemmOperand{b.data(), 1, b.outerStride()};
            gemm_float(m, n, k, ga, gb, c.data(), c.outerStride(), add);
            return;
        }
    }
#else
    (void)by_shape;
#endif
    matmul_eigen(c, a, trans_a, b, trans_b, add);
}

}  // namespace detail
}  // namespace latent
