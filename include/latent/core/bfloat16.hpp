// bfloat16 weights for inference: a float matrix rounded to its upper 16
// bits (8 exponent bits as float, 8 significant bits instead of 24), half
// the bytes to read per product. Products with such a matrix widen it back
// to float exactly and accumulate in float, so the only error is the
// rounding of the weights (relative 2^-9 per weight at most).
//
//   detail::Bf16Matrix w16(w);                  // rounds once (to nearest, ties to even)
//   detail::matmul_bf16(y, w16, x, add);        // y = / += w16 x
//
// Serving uses it through the Predictors' use_bf16_weights()
// (serve/predictor.hpp): one sample's product is bound by the bytes of
// weights read, so halving them nearly halves the time (README, "Serving").
#pragma once

#include "latent/core/abi.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <new>
#include <vector>

#include "latent/core/gemm.hpp"

LATENT_NAMESPACE_BEGIN
namespace detail {

// float -> bfloat16, rounded to nearest, ties to even; a NaN stays a
// (quiet) NaN, values beyond the largest bfloat16 become infinities.
inline std::uint16_t to_bfloat16(float f) {
    std::uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((u >> 16) | 0x0040u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return static_cast<std::uint16_t>(u >> 16);
}

// bfloat16 -> float (exact).
inline float from_bfloat16(std::uint16_t h) {
    const std::uint32_t u = static_cast<std::uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

// Allocates on 64-byte boundaries (a cache line; whole-vector loads of a
// column then never straddle two lines).
template <class T>
struct CacheLineAllocator {
    using value_type = T;
    CacheLineAllocator() = default;
    template <class U>
    CacheLineAllocator(const CacheLineAllocator<U>&) {}
    T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{64})); }
    void deallocate(T* p, std::size_t) { ::operator delete(p, std::align_val_t{64}); }
    template <class U>
    bool operator==(const CacheLineAllocator<U>&) const { return true; }
    template <class U>
    bool operator!=(const CacheLineAllocator<U>&) const { return false; }
};

// A column-major matrix of bfloat16 values, each column starting on a
// cache line (leading dimension ld() >= rows(), a multiple of 32 values).
class Bf16Matrix {
public:
    Bf16Matrix() = default;
    explicit Bf16Matrix(const Eigen::Ref<const Matrix<float>>& m)
        : rows_(m.rows()), cols_(m.cols()), ld_((m.rows() + 31) / 32 * 32), data_(static_cast<std::size_t>(ld_ * m.cols()), 0) {
        for (Index j = 0; j < cols_; ++j)
            for (Index i = 0; i < rows_; ++i) data_[static_cast<std::size_t>(i + j * ld_)] = to_bfloat16(m(i, j));
    }
    Index rows() const { return rows_; }
    Index cols() const { return cols_; }
    Index ld() const { return ld_; }
    bool empty() const { return data_.empty(); }
    const std::uint16_t* data() const { return data_.data(); }
    float operator()(Index i, Index j) const { return from_bfloat16(data_[static_cast<std::size_t>(i + j * ld_)]); }
    // The values as floats (exact).
    Matrix<float> to_float() const {
        Matrix<float> m(rows_, cols_);
        for (Index j = 0; j < cols_; ++j)
            for (Index i = 0; i < rows_; ++i) m(i, j) = (*this)(i, j);
        return m;
    }

private:
    Index rows_ = 0, cols_ = 0, ld_ = 0;
    std::vector<std::uint16_t, CacheLineAllocator<std::uint16_t>> data_;
};

// C = A B (add = false) or C += A B (add = true), A in bfloat16, B and C
// float (column-major, unit inner stride); shapes checked by the caller.
// Every element of C is the fma chain over p = 0 .. k-1 in order, starting
// from C (add) or zero, on every CPU: our skinny kernel 8 columns at a time
// (core/gemm_kernel.hpp), or the same chain in scalar code where the kernel
// is absent. Columns are independent, so results are bitwise the same for
// any thread count.
template <class MC, class MB>
void matmul_bf16(MC&& c, const Bf16Matrix& a, const MB& b, bool add, Threads threads = Threads::current()) {
    const Index m = c.rows(), n = c.cols(), k = a.cols();
    const Index ldc = c.outerStride(), ldb = b.outerStride();
    float* cp = c.data();
    const float* bp = b.data();
    if (m == 0 || n == 0) return;
    if (k == 0) {
        if (!add) c.setZero();
        return;
    }
    constexpr Index cols = 8;
    const Index blocks = (n + cols - 1) / cols;
    parallel_ranges(blocks, static_cast<double>(m) * static_cast<double>(k) * cols, [&](Index begin, Index end) {
        for (Index blk = begin; blk < end; ++blk) {
            const Index j0 = blk * cols, nb = std::min(cols, n - j0);
#ifdef LATENT_GEMM_X86
            if (gemm_kernel_active()) {
                gemm_skinny_bf16(m, nb, k, a.data(), a.ld(), {bp + j0 * ldb, 1, ldb}, cp + j0 * ldc, ldc, add);
                continue;
            }
#endif
            for (Index j = j0; j < j0 + nb; ++j)
                for (Index i = 0; i < m; ++i) {
                    float acc = add ? cp[i + j * ldc] : 0.0f;
                    for (Index p = 0; p < k; ++p) acc = std::fma(a(i, p), bp[p + j * ldb], acc);
                    cp[i + j * ldc] = acc;
                }
        }
    }, threads);
}

}  // namespace detail
LATENT_NAMESPACE_END
