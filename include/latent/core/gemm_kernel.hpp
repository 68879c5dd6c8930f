// Our packed float GEMM for x86-64 (GCC/Clang): BLIS-style blocking (B
// panels of KC x NC, A blocks of MC x KC, an MR x NR register-tile
// micro-kernel), the micro-kernel chosen at run time from the CPU: AVX-512
// (32 x 12 tile) or AVX2+FMA (16 x 6 tile). The block sizes come from the
// cache sizes the CPU reports (core/cpu.hpp), not from constants.
//
// This is one engine among several: core/gemm.hpp times it against Eigen's
// product (and a BLAS when one is compiled in) per shape class and runs it
// only where it wins on the machine that runs.
//
// Beside it, gemm_skinny: products with 1..8 columns (C = A op(B), A not
// transposed) without packing, the same ISA dispatch, float and double; the
// engine "skinny" of core/gemm.hpp (see the section below).
//
// Threads: gemm_run splits C's rows or columns between threads in
// whole tiles; each element of C is summed in the same order whatever the
// thread count, so results are bitwise identical for 1 or N threads.
// Packing buffers are per thread and grow once (no allocation after the
// first call at a given size).
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "latent/core/cpu.hpp"
#include "latent/core/tensor.hpp"
#include "latent/core/threads.hpp"

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) && !defined(LATENT_NO_GEMM_KERNEL)
#define LATENT_GEMM_X86 1
#include <immintrin.h>
#endif

LATENT_NAMESPACE_BEGIN
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

// One k step of a column pair of accumulators: (c0, c1) += (x0, x1) * b.
__attribute__((target("avx512f"))) inline void gemm_fma_col512(__m512 x0, __m512 x1, const float* b, __m512& c0, __m512& c1) {
    const __m512 v = _mm512_set1_ps(*b);
    c0 = _mm512_fmadd_ps(x0, v, c0);
    c1 = _mm512_fmadd_ps(x1, v, c1);
}

// Named accumulators, not an array (see gemm_kernel_avx2).
__attribute__((target("avx512f"))) inline void gemm_kernel_avx512(Index k, const float* ap, const float* bp, float* c, Index ldc,
                                                                  Index mr, Index nr, bool add) {
    constexpr int MR = 32, NR = 12;
    __m512 c000 = _mm512_setzero_ps(), c001 = c000, c010 = c000, c011 = c000, c020 = c000, c021 = c000, c030 = c000, c031 = c000, c040 = c000, c041 = c000, c050 = c000, c051 = c000, c060 = c000, c061 = c000, c070 = c000, c071 = c000, c080 = c000, c081 = c000, c090 = c000, c091 = c000, c100 = c000, c101 = c000, c110 = c000, c111 = c000;
    for (Index p = 0; p < k; ++p) {
        const __m512 x0 = _mm512_loadu_ps(ap), x1 = _mm512_loadu_ps(ap + 16);
        gemm_fma_col512(x0, x1, bp + 0, c000, c001);
        gemm_fma_col512(x0, x1, bp + 1, c010, c011);
        gemm_fma_col512(x0, x1, bp + 2, c020, c021);
        gemm_fma_col512(x0, x1, bp + 3, c030, c031);
        gemm_fma_col512(x0, x1, bp + 4, c040, c041);
        gemm_fma_col512(x0, x1, bp + 5, c050, c051);
        gemm_fma_col512(x0, x1, bp + 6, c060, c061);
        gemm_fma_col512(x0, x1, bp + 7, c070, c071);
        gemm_fma_col512(x0, x1, bp + 8, c080, c081);
        gemm_fma_col512(x0, x1, bp + 9, c090, c091);
        gemm_fma_col512(x0, x1, bp + 10, c100, c101);
        gemm_fma_col512(x0, x1, bp + 11, c110, c111);
        ap += MR;
        bp += NR;
    }
    const __m512 acc[2 * NR] = {c000, c001, c010, c011, c020, c021, c030, c031, c040, c041, c050, c051, c060, c061, c070, c071, c080, c081, c090, c091, c100, c101, c110, c111};
    if (mr == MR && nr == NR) {
        for (int j = 0; j < NR; ++j) {
            float* cj = c + j * ldc;
            __m512 lo = acc[2 * j], hi = acc[2 * j + 1];
            if (add) {
                lo = _mm512_add_ps(lo, _mm512_loadu_ps(cj));
                hi = _mm512_add_ps(hi, _mm512_loadu_ps(cj + 16));
            }
            _mm512_storeu_ps(cj, lo);
            _mm512_storeu_ps(cj + 16, hi);
        }
        return;
    }
    alignas(64) float tile[MR * NR];
    for (int j = 0; j < NR; ++j) {
        _mm512_storeu_ps(tile + j * MR, acc[2 * j]);
        _mm512_storeu_ps(tile + j * MR + 16, acc[2 * j + 1]);
    }
    gemm_write_edge<MR, NR>(tile, c, ldc, mr, nr, add);
}

// One k step of a column pair of accumulators: (c0, c1) += (x0, x1) * b.
__attribute__((target("avx2,fma"))) inline void gemm_fma_col(__m256 x0, __m256 x1, const float* b, __m256& c0, __m256& c1) {
    const __m256 v = _mm256_broadcast_ss(b);
    c0 = _mm256_fmadd_ps(x0, v, c0);
    c1 = _mm256_fmadd_ps(x1, v, c1);
}

// The 12 accumulators are named variables, not an array: GCC 12 kept an
// array's copy on the stack in sync inside the loop (12 stores per k step),
// which halved the kernel's speed on Zen 3 (one 256-bit store per cycle).
__attribute__((target("avx2,fma"))) inline void gemm_kernel_avx2(Index k, const float* ap, const float* bp, float* c, Index ldc,
                                                                 Index mr, Index nr, bool add) {
    constexpr int MR = 16, NR = 6;
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00,
           c41 = c00, c50 = c00, c51 = c00;
    for (Index p = 0; p < k; ++p) {
        const __m256 x0 = _mm256_loadu_ps(ap), x1 = _mm256_loadu_ps(ap + 8);
        gemm_fma_col(x0, x1, bp, c00, c01);
        gemm_fma_col(x0, x1, bp + 1, c10, c11);
        gemm_fma_col(x0, x1, bp + 2, c20, c21);
        gemm_fma_col(x0, x1, bp + 3, c30, c31);
        gemm_fma_col(x0, x1, bp + 4, c40, c41);
        gemm_fma_col(x0, x1, bp + 5, c50, c51);
        ap += MR;
        bp += NR;
    }
    const __m256 acc[2 * NR] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
    if (mr == MR && nr == NR) {
        for (int j = 0; j < NR; ++j) {
            float* cj = c + j * ldc;
            __m256 lo = acc[2 * j], hi = acc[2 * j + 1];
            if (add) {
                lo = _mm256_add_ps(lo, _mm256_loadu_ps(cj));
                hi = _mm256_add_ps(hi, _mm256_loadu_ps(cj + 8));
            }
            _mm256_storeu_ps(cj, lo);
            _mm256_storeu_ps(cj + 8, hi);
        }
        return;
    }
    alignas(32) float tile[MR * NR];
    for (int j = 0; j < NR; ++j) {
        _mm256_storeu_ps(tile + j * MR, acc[2 * j]);
        _mm256_storeu_ps(tile + j * MR + 8, acc[2 * j + 1]);
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

// Block sizes for an MR x NR micro-kernel from the reported caches:
//   KC: the B strip (KC x NR) takes at most a quarter of L1, so it stays
//       there while A strips stream past it;
//   MC: the packed A block (MC x KC) takes at most half of L2;
//   NC: the packed B panel (KC x NC) takes at most a quarter of L3.
// Unknown sizes fall back to 32 KiB / 512 KiB / 8 MiB.
struct GemmBlocking {
    Index kc, mc, nc;
};

inline GemmBlocking gemm_blocking_for(Index mr, Index nr, long l1, long l2, long l3) {
    if (l1 <= 0) l1 = 32 * 1024;
    if (l2 <= 0) l2 = 512 * 1024;
    if (l3 <= 0) l3 = 8 * 1024 * 1024;
    const auto f = static_cast<Index>(sizeof(float));
    GemmBlocking b;
    b.kc = std::clamp<Index>(l1 / 4 / (f * nr) / 8 * 8, 64, 512);
    b.mc = std::clamp<Index>(l2 / 2 / (f * b.kc) / mr * mr, mr, 64 * mr);
    b.nc = std::clamp<Index>(l3 / 4 / (f * b.kc) / nr * nr, nr, 512 * nr);
    return b;
}

template <int MR, int NR>
const GemmBlocking& gemm_blocking() {
    static const GemmBlocking b = gemm_blocking_for(MR, NR, cpu_info().l1d_bytes, cpu_info().l2_bytes, cpu_info().l3_bytes);
    return b;
}

// C (m x n, leading dimension ldc) = / += A (m x k) B (k x n), one thread.
template <int MR, int NR, class Kernel>
void gemm_serial(Index m, Index n, Index k, GemmOperand a, GemmOperand b, float* c, Index ldc, bool add, Kernel kernel) {
    const GemmBlocking& blk = gemm_blocking<MR, NR>();
    const Index KC = blk.kc, MC = blk.mc, NC = blk.nc;  // MC % MR == 0, NC % NR == 0: blocks hold whole tiles
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

// On `threads` threads, C split in whole tiles: by rows when m > n (each
// thread then packs all of B, the smaller operand), by columns otherwise
// (each packs all of A).
template <int MR, int NR, class Kernel>
void gemm_run(Index m, Index n, Index k, GemmOperand a, GemmOperand b, float* c, Index ldc, bool add, Kernel kernel, int threads) {
    const bool by_rows = m > n;
    const Index tile = by_rows ? MR : NR, extent = by_rows ? m : n, tiles = (extent + tile - 1) / tile;
    threads = static_cast<int>(std::min<Index>(threads, tiles));
    if (threads <= 1 || in_parallel_region()) {
        gemm_serial<MR, NR>(m, n, k, a, b, c, ldc, add, kernel);
        return;
    }
    run_on_threads(threads, [&](int t, int nt) {
        const Index per = (tiles + nt - 1) / nt;
        const Index r0 = std::min(extent, t * per * tile), r1 = std::min(extent, (t + 1) * per * tile);
        if (r1 <= r0) return;
        if (by_rows)
            gemm_serial<MR, NR>(r1 - r0, n, k, {a.p + r0 * a.rs, a.rs, a.cs}, b, c + r0, ldc, add, kernel);
        else
            gemm_serial<MR, NR>(m, r1 - r0, k, a, {b.p + r0 * b.cs, b.rs, b.cs}, c + r0 * ldc, ldc, add, kernel);
    });
}

// ---- skinny products: C (m x n, 1 <= n <= 8) = / += A op(B), A not transposed
//
// A dense layer's forward for one sample or a handful (y = W x, W m x k
// column-major) spends more time packing W in a packed GEMM than
// multiplying: W is read once per product anyway, so these kernels read it
// in place, once. C is cut into blocks of NV vectors of rows (NV from n, so
// that NV x n accumulators, NV loads of A and one broadcast of B(p, j) fit
// the 16 registers, with NV x n >= 8 chains to hide the FMA latency; 7 and
// 8 columns go as two groups over the same rows); the rows left below the
// blocks go one vector at a time, the last one masked. k is walked in
// panels of 64 columns, every block of C through one panel before the
// next: the accumulators start from 0 (C =) or from C (C += and later
// panels) and go back to C, so each element of C is the one FMA chain over
// p = 0..k-1 whatever block or panel computes it, and a product cut into
// row ranges (threads) is bitwise the product uncut. A column of a tall A
// lies on a page of its own, where the hardware prefetchers do not follow,
// so a block prefetches the next block's rows of each column as it goes.
//
// One kernel per ISA (the intrinsics need the target attribute), generic on
// the scalar through a traits struct: float and double.

// Row vectors of a block with n columns: NV x n accumulators, NV vectors of
// A and a broadcast fit the registers (16, or 32 with AVX-512: 8 columns
// x 3 vectors read A once where 4 + 4 columns read it twice, 6-21 %
// faster on an AMD EPYC (family 26 model 2)), with NV x n >= 8 chains.
constexpr int gemm_skinny_vectors(int n, int registers = 16) {
    return n == 1 ? 8 : n == 2 ? 4 : n <= 4 ? 3 : registers >= 32 && n >= 7 ? 3 : 2;
}

// (Attribute spellings, #undef-ed below.)
#define LATENT_SKINNY_AVX2 __attribute__((target("avx2,fma"), always_inline))
#define LATENT_SKINNY_AVX512 __attribute__((target("avx512f"), always_inline))

// Columns of A per panel: a panel's columns are one page each for a tall
// A, so 64 of them stay within a 64-entry L1 TLB, and B's panel (64 x n)
// within L1. (Results do not depend on it: see above.)
inline constexpr Index gemm_skinny_panel = 64;

// Touches the BYTES from p (prefetch: never faults).
template <std::size_t BYTES>
inline void gemm_skinny_prefetch(const void* p) {
    const char* c = static_cast<const char*>(p);
#pragma GCC unroll 8
    for (std::size_t off = 0; off < BYTES; off += 64) __builtin_prefetch(c + off, 0, 3);
    __builtin_prefetch(c + BYTES - 1, 0, 3);
}

template <class S>
struct SkinnyAvx2;
template <>
struct SkinnyAvx2<float> {
    using V = __m256;
    using Mask = __m256i;
    static constexpr int W = 8, registers = 16;
    LATENT_SKINNY_AVX2 static Mask mask(Index rows) {
        return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(rows)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    }
    LATENT_SKINNY_AVX2 static V zero() { return _mm256_setzero_ps(); }
    LATENT_SKINNY_AVX2 static V load(const float* p) { return _mm256_loadu_ps(p); }
    LATENT_SKINNY_AVX2 static V load(const float* p, Mask m) { return _mm256_maskload_ps(p, m); }
    LATENT_SKINNY_AVX2 static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
    LATENT_SKINNY_AVX2 static void store(float* p, V v, Mask m) { _mm256_maskstore_ps(p, m, v); }
    LATENT_SKINNY_AVX2 static V broadcast(const float* p) { return _mm256_broadcast_ss(p); }
    LATENT_SKINNY_AVX2 static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
    LATENT_SKINNY_AVX2 static V add(V a, V b) { return _mm256_add_ps(a, b); }
};
template <>
struct SkinnyAvx2<double> {
    using V = __m256d;
    using Mask = __m256i;
    static constexpr int W = 4, registers = 16;
    LATENT_SKINNY_AVX2 static Mask mask(Index rows) {
        return _mm256_cmpgt_epi64(_mm256_set1_epi64x(static_cast<long long>(rows)), _mm256_setr_epi64x(0, 1, 2, 3));
    }
    LATENT_SKINNY_AVX2 static V zero() { return _mm256_setzero_pd(); }
    LATENT_SKINNY_AVX2 static V load(const double* p) { return _mm256_loadu_pd(p); }
    LATENT_SKINNY_AVX2 static V load(const double* p, Mask m) { return _mm256_maskload_pd(p, m); }
    LATENT_SKINNY_AVX2 static void store(double* p, V v) { _mm256_storeu_pd(p, v); }
    LATENT_SKINNY_AVX2 static void store(double* p, V v, Mask m) { _mm256_maskstore_pd(p, m, v); }
    LATENT_SKINNY_AVX2 static V broadcast(const double* p) { return _mm256_broadcast_sd(p); }
    LATENT_SKINNY_AVX2 static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
    LATENT_SKINNY_AVX2 static V add(V a, V b) { return _mm256_add_pd(a, b); }
};

template <class S>
struct SkinnyAvx512;
template <>
struct SkinnyAvx512<float> {
    using V = __m512;
    using Mask = __mmask16;
    static constexpr int W = 16, registers = 32;
    LATENT_SKINNY_AVX512 static Mask mask(Index rows) { return static_cast<Mask>((1u << rows) - 1u); }
    LATENT_SKINNY_AVX512 static V zero() { return _mm512_setzero_ps(); }
    LATENT_SKINNY_AVX512 static V load(const float* p) { return _mm512_loadu_ps(p); }
    LATENT_SKINNY_AVX512 static V load(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
    LATENT_SKINNY_AVX512 static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
    LATENT_SKINNY_AVX512 static void store(float* p, V v, Mask m) { _mm512_mask_storeu_ps(p, m, v); }
    LATENT_SKINNY_AVX512 static V broadcast(const float* p) { return _mm512_set1_ps(*p); }
    LATENT_SKINNY_AVX512 static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
    LATENT_SKINNY_AVX512 static V add(V a, V b) { return _mm512_add_ps(a, b); }
};
template <>
struct SkinnyAvx512<double> {
    using V = __m512d;
    using Mask = __mmask8;
    static constexpr int W = 8, registers = 32;
    LATENT_SKINNY_AVX512 static Mask mask(Index rows) { return static_cast<Mask>((1u << rows) - 1u); }
    LATENT_SKINNY_AVX512 static V zero() { return _mm512_setzero_pd(); }
    LATENT_SKINNY_AVX512 static V load(const double* p) { return _mm512_loadu_pd(p); }
    LATENT_SKINNY_AVX512 static V load(const double* p, Mask m) { return _mm512_maskz_loadu_pd(m, p); }
    LATENT_SKINNY_AVX512 static void store(double* p, V v) { _mm512_storeu_pd(p, v); }
    LATENT_SKINNY_AVX512 static void store(double* p, V v, Mask m) { _mm512_mask_storeu_pd(p, m, v); }
    LATENT_SKINNY_AVX512 static V broadcast(const double* p) { return _mm512_set1_pd(*p); }
    LATENT_SKINNY_AVX512 static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
    LATENT_SKINNY_AVX512 static V add(V a, V b) { return _mm512_add_pd(a, b); }
};

// B(p, j) = p[p * rs + j * cs]: rs = 1 for B as stored, cs = 1 for B^T.
template <class S>
struct SkinnyB {
    const S* p;
    Index rs, cs;
};

// One block of C: rows [0, NV * W) from A's rows [0, NV * W), all N
// columns, over the whole of k; when MASKED the last vector holds `rows`
// rows (< W), read and written through a mask. C = acc or C += acc.
// The intrinsics need the target attribute on the function that inlines
// them, so the one body below is stamped out once per ISA.
#define LATENT_SKINNY_UNROLL _Pragma("GCC unroll 8")
#define LATENT_SKINNY_BLOCK(NAME, TARGET)                                                                             \
    template <class T, int NV, int N, bool MASKED, class S>                                                          \
    __attribute__((target(TARGET))) void NAME(Index k, const S* a, Index lda, SkinnyB<S> b, S* c, Index ldc,         \
                                              bool from_c, Index rows) {                                             \
        using V = typename T::V;                                                                                     \
        constexpr int W = T::W;                                                                                      \
        const typename T::Mask mask = T::mask(MASKED ? rows : 0);                                                    \
        V acc[NV][N];                                                                                                \
        LATENT_SKINNY_UNROLL for (int j = 0; j < N; ++j) LATENT_SKINNY_UNROLL for (int v = 0; v < NV; ++v) {         \
            const S* cv = c + j * ldc + v * W;                                                                       \
            acc[v][j] = !from_c ? T::zero() : (MASKED && v == NV - 1) ? T::load(cv, mask) : T::load(cv);             \
        }                                                                                                            \
        const S* bp = b.p;                                                                                           \
        for (Index p = 0; p < k; ++p, a += lda, bp += b.rs) {                                                        \
            /* reading A bounds 1 or 2 columns: fetch this block 8 columns ahead; else the next block's rows */   \
            gemm_skinny_prefetch<NV * W * sizeof(S)>(N <= 2 ? a + 8 * lda : a + NV * W);                             \
            V x[NV];                                                                                                 \
            LATENT_SKINNY_UNROLL for (int v = 0; v < NV; ++v) x[v] =                                                 \
                (MASKED && v == NV - 1) ? T::load(a + v * W, mask) : T::load(a + v * W);                             \
            LATENT_SKINNY_UNROLL for (int j = 0; j < N; ++j) {                                                       \
                const V y = T::broadcast(bp + j * b.cs);                                                             \
                LATENT_SKINNY_UNROLL for (int v = 0; v < NV; ++v) acc[v][j] = T::fma(x[v], y, acc[v][j]);            \
            }                                                                                                        \
        }                                                                                                            \
        LATENT_SKINNY_UNROLL for (int j = 0; j < N; ++j) LATENT_SKINNY_UNROLL for (int v = 0; v < NV; ++v) {         \
            S* cv = c + j * ldc + v * W;                                                                             \
            if (MASKED && v == NV - 1)                                                                               \
                T::store(cv, acc[v][j], mask);                                                                       \
            else                                                                                                     \
                T::store(cv, acc[v][j]);                                                                             \
        }                                                                                                            \
    }

LATENT_SKINNY_BLOCK(gemm_skinny_block_avx2, "avx2,fma")
LATENT_SKINNY_BLOCK(gemm_skinny_block_avx512, "avx512f")
#undef LATENT_SKINNY_BLOCK
#undef LATENT_SKINNY_UNROLL

#undef LATENT_SKINNY_AVX2
#undef LATENT_SKINNY_AVX512

// The blocks of one ISA's kernel as a type (a function template cannot be a
// template argument).
template <class S>
struct SkinnyKernelAvx2 {
    using Traits = SkinnyAvx2<S>;
    template <int NV, int N, bool MASKED>
    static void block(Index k, const S* a, Index lda, SkinnyB<S> b, S* c, Index ldc, bool from_c, Index rows) {
        gemm_skinny_block_avx2<Traits, NV, N, MASKED>(k, a, lda, b, c, ldc, from_c, rows);
    }
};
template <class S>
struct SkinnyKernelAvx512 {
    using Traits = SkinnyAvx512<S>;
    template <int NV, int N, bool MASKED>
    static void block(Index k, const S* a, Index lda, SkinnyB<S> b, S* c, Index ldc, bool from_c, Index rows) {
        gemm_skinny_block_avx512<Traits, NV, N, MASKED>(k, a, lda, b, c, ldc, from_c, rows);
    }
};

// Rows [0, NV * W) of C (the last vector masked to `rows` when MASKED) for
// columns [0, N1 + N2): N1 columns, then N2 more over the same rows of A
// (by then in L2).
template <class K, int NV, int N1, int N2, bool MASKED, class S>
void gemm_skinny_rows(Index k, const S* a, Index lda, SkinnyB<S> b, S* c, Index ldc, bool from_c, Index rows) {
    K::template block<NV, N1, MASKED>(k, a, lda, b, c, ldc, from_c, rows);
    if constexpr (N2 > 0) K::template block<NV, N2, MASKED>(k, a, lda, {b.p + N1 * b.cs, b.rs, b.cs}, c + N1 * ldc, ldc, from_c, rows);
}

// All of C's rows for n = N1 + N2 columns: full blocks, then single
// vectors, then a masked one.
template <class K, int N1, int N2, class S>
void gemm_skinny_cols(Index m, Index k, const S* a, Index lda, SkinnyB<S> b, S* c, Index ldc, bool add) {
    constexpr int NV = gemm_skinny_vectors(N1, K::Traits::registers), W = K::Traits::W;
    for (Index p0 = 0; p0 < k; p0 += gemm_skinny_panel) {
        const Index kb = std::min(gemm_skinny_panel, k - p0);
        const bool from_c = add || p0 > 0;
        const S* ap = a + p0 * lda;
        const SkinnyB<S> bq{b.p + p0 * b.rs, b.rs, b.cs};
        Index i = 0;
        for (; i + NV * W <= m; i += NV * W) gemm_skinny_rows<K, NV, N1, N2, false>(kb, ap + i, lda, bq, c + i, ldc, from_c, 0);
        if constexpr (NV > 1)
            for (; i + W <= m; i += W) gemm_skinny_rows<K, 1, N1, N2, false>(kb, ap + i, lda, bq, c + i, ldc, from_c, 0);
        if (i < m) gemm_skinny_rows<K, 1, N1, N2, true>(kb, ap + i, lda, bq, c + i, ldc, from_c, m - i);
    }
}

// With 16 registers n = 7 and 8 run as 4 + 3 and 4 + 4 columns: 3 vectors
// x 4 columns load 7 vectors for 12 FMAs where 1 x 8 would load 9 for 8.
// With 32 (AVX-512) they run whole, 3 vectors x 8 columns.
template <class K, class S>
void gemm_skinny_isa(Index m, Index n, Index k, const S* a, Index lda, SkinnyB<S> b, S* c, Index ldc, bool add) {
    if constexpr (K::Traits::registers >= 32) {
        if (n == 7) return gemm_skinny_cols<K, 7, 0>(m, k, a, lda, b, c, ldc, add);
        if (n == 8) return gemm_skinny_cols<K, 8, 0>(m, k, a, lda, b, c, ldc, add);
    }
    switch (n) {
        case 1: gemm_skinny_cols<K, 1, 0>(m, k, a, lda, b, c, ldc, add); break;
        case 2: gemm_skinny_cols<K, 2, 0>(m, k, a, lda, b, c, ldc, add); break;
        case 3: gemm_skinny_cols<K, 3, 0>(m, k, a, lda, b, c, ldc, add); break;
        case 4: gemm_skinny_cols<K, 4, 0>(m, k, a, lda, b, c, ldc, add); break;
        case 5: gemm_skinny_cols<K, 5, 0>(m, k, a, lda, b, c, ldc, add); break;
        case 6: gemm_skinny_cols<K, 6, 0>(m, k, a, lda, b, c, ldc, add); break;
        case 7: gemm_skinny_cols<K, 4, 3>(m, k, a, lda, b, c, ldc, add); break;
        default: gemm_skinny_cols<K, 4, 4>(m, k, a, lda, b, c, ldc, add); break;
    }
}

// C (m x n, ldc) = / += A (m x k, lda) op(B), B(p, j) = b.p[p * b.rs + j * b.cs],
// for 1 <= n <= 8 and k >= 1, on one thread, on a CPU with the kernel
// (gemm_kernel_active).
template <class S>
void gemm_skinny(Index m, Index n, Index k, const S* a, Index lda, SkinnyB<S> b, S* c, Index ldc, bool add) {
    if (gemm_isa() == GemmIsa::avx512)
        gemm_skinny_isa<SkinnyKernelAvx512<S>>(m, n, k, a, lda, b, c, ldc, add);
    else
        gemm_skinny_isa<SkinnyKernelAvx2<S>>(m, n, k, a, lda, b, c, ldc, add);
}

// ---- bfloat16 A (core/bfloat16.hpp), two rows per 32-bit lane
//
// Widening bfloat16 one value per lane (vpmovzxwd, a shuffle, then a
// shift) spends two vector ops and a shuffle port on every W values, which
// measured 1.05-1.4x slower on an AMD EPYC (family 26 model 2). Here a
// whole vector of 2W bfloat16 values (rows r .. r + 2W - 1 of one column)
// is loaded as W 32-bit lanes: shifting left by 16 gives the even rows as
// floats, keeping the upper halves gives the odd rows, two plain integer
// ops for 2W values. The
// accumulators hold the even and odd rows apart; C is split into them when
// read and merged back when written (once per panel of A's columns). Every
// element of C is the in-order fma chain over p = 0 .. k-1 from C or zero,
// as with A widened to float, on either ISA. A's columns must be readable
// up to a multiple of 2W rows (Bf16Matrix pads them to 32 with zeros); the
// last block's C rows past m are neither read nor written (masks).
#define LATENT_BF16_AVX2 __attribute__((target("avx2,fma"), always_inline))
#define LATENT_BF16_AVX512 __attribute__((target("avx512f"), always_inline))

struct Bf16PairsAvx2 {
    using Base = SkinnyAvx2<float>;
    using V = __m256;
    static constexpr int W = 8;
    // The even and odd rows of the 2W values at p, as floats.
    LATENT_BF16_AVX2 static void split(const std::uint16_t* p, V& even, V& odd) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
        even = _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
        odd = _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32(static_cast<int>(0xffff0000u))));
    }
    // Rows r .. r + 2W - 1 of C (lo: the first W) to even and odd rows, and back.
    LATENT_BF16_AVX2 static void to_pairs(V lo, V hi, V& even, V& odd) {
        even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0x88)), 0xd8));
        odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0xdd)), 0xd8));
    }
    LATENT_BF16_AVX2 static void from_pairs(V even, V odd, V& lo, V& hi) {
        const V a = _mm256_unpacklo_ps(even, odd), b = _mm256_unpackhi_ps(even, odd);
        lo = _mm256_permute2f128_ps(a, b, 0x20);
        hi = _mm256_permute2f128_ps(a, b, 0x31);
    }
};

struct Bf16PairsAvx512 {
    using Base = SkinnyAvx512<float>;
    using V = __m512;
    static constexpr int W = 16;
    LATENT_BF16_AVX512 static void split(const std::uint16_t* p, V& even, V& odd) {
        const __m512i v = _mm512_loadu_si512(p);
        even = _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
        odd = _mm512_castsi512_ps(_mm512_and_si512(v, _mm512_set1_epi32(static_cast<int>(0xffff0000u))));
    }
    LATENT_BF16_AVX512 static void to_pairs(V lo, V hi, V& even, V& odd) {
        even = _mm512_permutex2var_ps(lo, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), hi);
        odd = _mm512_permutex2var_ps(lo, _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), hi);
    }
    LATENT_BF16_AVX512 static void from_pairs(V even, V odd, V& lo, V& hi) {
        lo = _mm512_permutex2var_ps(even, _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), odd);
        hi = _mm512_permutex2var_ps(even, _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), odd);
    }
};

// Pairs of vectors per block for n columns (2 NP N accumulators).
constexpr int gemm_bf16_pairs(int n) { return n == 1 ? 4 : n <= 4 ? 2 : 1; }

// One block of C: rows [0, NP * 2W), N columns, over the whole of k; when
// MASKED (NP = 1), only the first `rows` (< 2W) rows of C are read and written.
#define LATENT_BF16_UNROLL _Pragma("GCC unroll 8")
#define LATENT_BF16_BLOCK(NAME, TARGET)                                                                                \
    template <class T, int NP, int N, bool MASKED>                                                                     \
    __attribute__((target(TARGET))) void NAME(Index k, const std::uint16_t* a, Index lda, SkinnyB<float> b, float* c, \
                                              Index ldc, bool from_c, Index rows) {                                    \
        using V = typename T::V;                                                                                       \
        using B = typename T::Base;                                                                                    \
        constexpr int W = T::W;                                                                                        \
        const typename B::Mask lo_mask = B::mask(MASKED ? std::min<Index>(rows, W) : 0);                               \
        const typename B::Mask hi_mask = B::mask(MASKED ? std::max<Index>(rows - W, 0) : 0);                           \
        V ev[NP][N], od[NP][N];                                                                                        \
        LATENT_BF16_UNROLL for (int j = 0; j < N; ++j) LATENT_BF16_UNROLL for (int q = 0; q < NP; ++q) {               \
            const float* cv = c + j * ldc + q * 2 * W;                                                                 \
            if (!from_c)                                                                                               \
                ev[q][j] = od[q][j] = B::zero();                                                                       \
            else if (MASKED)                                                                                           \
                T::to_pairs(B::load(cv, lo_mask), B::load(cv + W, hi_mask), ev[q][j], od[q][j]);                       \
            else                                                                                                       \
                T::to_pairs(B::load(cv), B::load(cv + W), ev[q][j], od[q][j]);                                         \
        }                                                                                                              \
        const float* bp = b.p;                                                                                         \
        for (Index p = 0; p < k; ++p, a += lda, bp += b.rs) {                                                          \
            /* as in the skinny block: 8 columns ahead when reading A bounds it, else the next block */          \
            gemm_skinny_prefetch<NP * 2 * W * sizeof(std::uint16_t)>(N <= 2 ? a + 8 * lda : a + NP * 2 * W);          \
            V e[NP], o[NP];                                                                                            \
            LATENT_BF16_UNROLL for (int q = 0; q < NP; ++q) T::split(a + q * 2 * W, e[q], o[q]);                       \
            LATENT_BF16_UNROLL for (int j = 0; j < N; ++j) {                                                           \
                const V y = B::broadcast(bp + j * b.cs);                                                               \
                LATENT_BF16_UNROLL for (int q = 0; q < NP; ++q) {                                                      \
                    ev[q][j] = B::fma(e[q], y, ev[q][j]);                                                              \
                    od[q][j] = B::fma(o[q], y, od[q][j]);                                                              \
                }                                                                                                      \
            }                                                                                                          \
        }                                                                                                              \
        LATENT_BF16_UNROLL for (int j = 0; j < N; ++j) LATENT_BF16_UNROLL for (int q = 0; q < NP; ++q) {               \
            V lo, hi;                                                                                                  \
            T::from_pairs(ev[q][j], od[q][j], lo, hi);                                                                 \
            float* cv = c + j * ldc + q * 2 * W;                                                                       \
            if (MASKED) {                                                                                              \
                B::store(cv, lo, lo_mask);                                                                             \
                B::store(cv + W, hi, hi_mask);                                                                         \
            } else {                                                                                                   \
                B::store(cv, lo);                                                                                      \
                B::store(cv + W, hi);                                                                                  \
            }                                                                                                          \
        }                                                                                                              \
    }

LATENT_BF16_BLOCK(gemm_bf16_block_avx2, "avx2,fma")
LATENT_BF16_BLOCK(gemm_bf16_block_avx512, "avx512f")
#undef LATENT_BF16_BLOCK
#undef LATENT_BF16_UNROLL
#undef LATENT_BF16_AVX2
#undef LATENT_BF16_AVX512

struct Bf16KernelAvx2 {
    using Pairs = Bf16PairsAvx2;
    template <int NP, int N, bool MASKED>
    static void block(Index k, const std::uint16_t* a, Index lda, SkinnyB<float> b, float* c, Index ldc, bool from_c, Index rows) {
        gemm_bf16_block_avx2<Pairs, NP, N, MASKED>(k, a, lda, b, c, ldc, from_c, rows);
    }
};
struct Bf16KernelAvx512 {
    using Pairs = Bf16PairsAvx512;
    template <int NP, int N, bool MASKED>
    static void block(Index k, const std::uint16_t* a, Index lda, SkinnyB<float> b, float* c, Index ldc, bool from_c, Index rows) {
        gemm_bf16_block_avx512<Pairs, NP, N, MASKED>(k, a, lda, b, c, ldc, from_c, rows);
    }
};

// Rows [0, NP * 2W) of C (the first `rows` of them when MASKED) for
// columns [0, N1 + N2): N1 columns, then N2 more over the same rows of A.
template <class K, int NP, int N1, int N2, bool MASKED>
void gemm_bf16_rows(Index k, const std::uint16_t* a, Index lda, SkinnyB<float> b, float* c, Index ldc, bool from_c, Index rows) {
    K::template block<NP, N1, MASKED>(k, a, lda, b, c, ldc, from_c, rows);
    if constexpr (N2 > 0)
        K::template block<NP, N2, MASKED>(k, a, lda, {b.p + N1 * b.cs, b.rs, b.cs}, c + N1 * ldc, ldc, from_c, rows);
}

// Columns of A per panel: C is split into even and odd rows and merged
// back once per panel, so panels are longer than gemm_skinny_panel; a
// bfloat16 column is half as many bytes, so as many pages are touched.
inline constexpr Index gemm_bf16_panel = 256;

// All of C's rows for n = N1 + N2 columns (as gemm_skinny_cols).
template <class K, int N1, int N2>
void gemm_bf16_cols(Index m, Index k, const std::uint16_t* a, Index lda, SkinnyB<float> b, float* c, Index ldc, bool add) {
    constexpr int NP = gemm_bf16_pairs(N1), R = 2 * K::Pairs::W;
    for (Index p0 = 0; p0 < k; p0 += gemm_bf16_panel) {
        const Index kb = std::min(gemm_bf16_panel, k - p0);
        const bool from_c = add || p0 > 0;
        const std::uint16_t* ap = a + p0 * lda;
        const SkinnyB<float> bq{b.p + p0 * b.rs, b.rs, b.cs};
        Index i = 0;
        for (; i + NP * R <= m; i += NP * R) gemm_bf16_rows<K, NP, N1, N2, false>(kb, ap + i, lda, bq, c + i, ldc, from_c, 0);
        if constexpr (NP > 1)
            for (; i + R <= m; i += R) gemm_bf16_rows<K, 1, N1, N2, false>(kb, ap + i, lda, bq, c + i, ldc, from_c, 0);
        if (i < m) gemm_bf16_rows<K, 1, N1, N2, true>(kb, ap + i, lda, bq, c + i, ldc, from_c, m - i);
    }
}

// (As gemm_skinny_isa: 7 and 8 columns whole with 32 registers, 16 accumulators.)
template <class K>
void gemm_bf16_isa(Index m, Index n, Index k, const std::uint16_t* a, Index lda, SkinnyB<float> b, float* c, Index ldc, bool add) {
    if constexpr (K::Pairs::Base::registers >= 32) {
        if (n == 7) return gemm_bf16_cols<K, 7, 0>(m, k, a, lda, b, c, ldc, add);
        if (n == 8) return gemm_bf16_cols<K, 8, 0>(m, k, a, lda, b, c, ldc, add);
    }
    switch (n) {
        case 1: gemm_bf16_cols<K, 1, 0>(m, k, a, lda, b, c, ldc, add); break;
        case 2: gemm_bf16_cols<K, 2, 0>(m, k, a, lda, b, c, ldc, add); break;
        case 3: gemm_bf16_cols<K, 3, 0>(m, k, a, lda, b, c, ldc, add); break;
        case 4: gemm_bf16_cols<K, 4, 0>(m, k, a, lda, b, c, ldc, add); break;
        case 5: gemm_bf16_cols<K, 5, 0>(m, k, a, lda, b, c, ldc, add); break;
        case 6: gemm_bf16_cols<K, 6, 0>(m, k, a, lda, b, c, ldc, add); break;
        case 7: gemm_bf16_cols<K, 4, 3>(m, k, a, lda, b, c, ldc, add); break;
        default: gemm_bf16_cols<K, 4, 4>(m, k, a, lda, b, c, ldc, add); break;
    }
}

// C (m x n) = / += A B with A in bfloat16 (m x k, lda; columns readable to a
// multiple of 32 rows), 1 <= n <= 8, k >= 1, on one thread, on a CPU with
// the kernel (see above).
inline void gemm_skinny_bf16(Index m, Index n, Index k, const std::uint16_t* a, Index lda, SkinnyB<float> b, float* c, Index ldc,
                             bool add) {
    if (gemm_isa() == GemmIsa::avx512)
        gemm_bf16_isa<Bf16KernelAvx512>(m, n, k, a, lda, b, c, ldc, add);
    else
        gemm_bf16_isa<Bf16KernelAvx2>(m, n, k, a, lda, b, c, ldc, add);
}

// True when this CPU and build have our float kernel.
inline bool gemm_kernel_active() { return gemm_isa() != GemmIsa::none; }

inline Index gemm_tile_rows() { return gemm_isa() == GemmIsa::avx512 ? 32 : 16; }
inline Index gemm_tile_cols() { return gemm_isa() == GemmIsa::avx512 ? 12 : 6; }

// Share of the register tiles' multiply-adds that are real for an m x n C
// (edge tiles are padded to MR x NR): e.g. 9 x 64 fills 0.25 of the AVX-512
// 32 x 12 tiles, 64 x 9 fills 0.75.
inline double gemm_tile_fill(Index m, Index n) {
    const Index mr = gemm_tile_rows(), nr = gemm_tile_cols();
    auto padded = [](Index v, Index t) { return static_cast<double>((v + t - 1) / t * t); };
    return static_cast<double>(m) * static_cast<double>(n) / (padded(m, mr) * padded(n, nr));
}

// C = / += op(A) op(B) through our kernel on up to `threads` threads.
inline void gemm_float(Index m, Index n, Index k, GemmOperand a, GemmOperand b, float* c, Index ldc, bool add, int threads = 1) {
    if (m == 0 || n == 0) return;
    if (k == 0) {
        if (!add)
            for (Index j = 0; j < n; ++j) std::fill(c + j * ldc, c + j * ldc + m, 0.0f);
        return;
    }
    if (gemm_isa() == GemmIsa::avx512)
        gemm_run<32, 12>(m, n, k, a, b, c, ldc, add, gemm_kernel_avx512, threads);
    else
        gemm_run<16, 6>(m, n, k, a, b, c, ldc, add, gemm_kernel_avx2, threads);
}

#else

inline bool gemm_kernel_active() { return false; }
inline double gemm_tile_fill(Index, Index) { return 1.0; }

#endif  // LATENT_GEMM_X86

}  // namespace detail
LATENT_NAMESPACE_END
