// The numerics that activations, losses, likelihoods, regularizers and
// recurrent cells share: the logistic function, softplus and binary
// cross-entropy on logits. Each is stable for every finite input (no
// overflow to inf, no NaN) and is written once, here.
#pragma once

#include "latent/core/abi.hpp"

#include <cmath>
#include <limits>

#if defined(__SSE__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 1)
#include <xmmintrin.h>
#endif

#include "latent/core/tensor.hpp"

LATENT_NAMESPACE_BEGIN

namespace detail {

// Logistic function of one number, 1 / (1 + e^-x), without overflow.
template <class S>
S sigmoid(S x) {
    if (x >= 0) return S(1) / (S(1) + std::exp(-x));
    const S e = std::exp(x);
    return e / (S(1) + e);
}

// log(1 + e^x) of one number, without overflow.
template <class S>
S softplus(S x) {
    return x > S(0) ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

// Vectorized logistic function of an array expression: 1 / (1 + e^-x).
// Eigen's exp saturates instead of overflowing (e^-x stays finite for
// x < -88 in float), so the result is in [0, 1] for every finite x and
// never NaN; at x -> -inf it underflows to 0, at x -> +inf it is 1. This is
// the form PyTorch's sigmoid rounds like (the golden tests pin it).
template <class D>
auto logistic(const Eigen::ArrayBase<D>& x) {
    using S = typename D::Scalar;
    return (S(1) + (-x).exp()).inverse();
}

// Vectorized log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), stable for any x.
template <class D>
auto softplus_array(const Eigen::ArrayBase<D>& x) {
    using S = typename D::Scalar;
    return x.max(S(0)) + (-x.abs()).exp().log1p();
}

// Binary cross-entropy of logits x against targets t, element-wise:
//   out  = max(x, 0) - x t + log(1 + e^-|x|)   (= softplus(x) - x t)
//   grad = scale * (logistic(x) - t)           (when grad is given)
// e^-|x| is computed once, into `out`, and serves both. `out` is a writable
// array of x's size (an Eigen Array, or a Matrix's .array()).
template <class X, class T, class O, class G>
void bce_with_logits(const Eigen::ArrayBase<X>& x, const Eigen::ArrayBase<T>& t, O&& out, G* grad, typename X::Scalar scale) {
    using S = typename X::Scalar;
    out = (-x.abs()).exp();  // e^-|x|, in (0, 1]
    if (grad) grad->array() = scale * ((x >= S(0)).select(S(1), out) / (S(1) + out) - t);
    out = x.max(S(0)) - x * t + out.log1p();
}

// log(sum_i e^{v_i}) of a vector expression, shifted by its maximum so
// nothing overflows; -inf when every entry is -inf (or v is empty).
template <class D>
typename D::Scalar log_sum_exp(const Eigen::DenseBase<D>& v) {
    using S = typename D::Scalar;
    if (v.size() == 0) return -std::numeric_limits<S>::infinity();
    const S m = v.maxCoeff();
    if (m == -std::numeric_limits<S>::infinity()) return m;
    return m + std::log((v.derived().array() - m).exp().sum());
}

// Softmax of each column of z, in place: e^{z - max} / sum.
template <class D>
void softmax_columns(Eigen::MatrixBase<D>& z) {
    for (Index j = 0; j < z.cols(); ++j) {
        auto c = z.col(j);
        c = (c.array() - c.maxCoeff()).exp().matrix();
        c /= c.sum();
    }
}

// Flushes subnormal numbers to zero on this thread for the life of the
// object (x86: the MXCSR's flush-to-zero and denormals-are-zero bits), then
// restores the caller's setting; elsewhere it does nothing. Arithmetic on
// subnormals (below 1.2e-38 in float) takes microcode assists: Adam's first
// moment of a weight whose gradient stays zero decays by 0.9 a step into
// that range after some 800 steps, and each step then took 11.6x as long
// (1,412 against 121 us for 209,000 parameters on an Intel(R) Xeon(R)
// Processor (family 6 model 167, avx512f)), a quarter of a long training
// run's time. A moment that small moves no weight by anything a float can
// hold, so optimizers step with it flushed.
class FlushSubnormals {
public:
#if defined(__SSE__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 1)
    FlushSubnormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | 0x8040u); }  // FTZ (bit 15) | DAZ (bit 6)
    ~FlushSubnormals() { _mm_setcsr(saved_); }

private:
    unsigned saved_;
#else
    FlushSubnormals() = default;
#endif
public:
    FlushSubnormals(const FlushSubnormals&) = delete;
    FlushSubnormals& operator=(const FlushSubnormals&) = delete;
};

}  // namespace detail

LATENT_NAMESPACE_END
