// The numerics that activations, losses, likelihoods, regularizers and
// recurrent cells share: the logistic function, softplus and binary
// cross-entropy on logits. Each is stable for every finite input (no
// overflow to inf, no NaN) and is written once, here.
#pragma once

#include "latent/core/abi.hpp"

#include <cmath>
#include <limits>

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

// True when every value of p[0, n) is finite. x * 0 is 0 for a finite x and
// NaN for an infinite or NaN one, and Eigen sums the products in vector
// registers: a pass at memory speed, where a loop over std::isfinite (or
// Eigen's allFinite) takes a cycle or more per value.
template <class S>
bool all_finite(const S* p, Index n) {
    constexpr Index block = 4096;  // stop early on a bad block
    for (Index at = 0; at < n; at += block) {
        const Index len = n - at < block ? n - at : block;
        if (!((Eigen::Map<const Vector<S>>(p + at, len).array() * S(0)).sum() == S(0))) return false;
    }
    return true;
}

}  // namespace detail

LATENT_NAMESPACE_END
