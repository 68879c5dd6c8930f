// KL divergence of a diagonal Gaussian posterior from the standard normal
// prior, as a VAE uses it. mu and logvar are L x B (latent dims x batch);
// logvar is the log-VARIANCE (sigma^2 = exp(logvar)), not the log-std.
//
//   KL( N(mu, diag exp(logvar)) || N(0, I) )
//     = sum_j 0.5 (mu_j^2 + exp(logvar_j) - 1 - logvar_j)          (nats, >= 0)
//     = -0.5 sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j))
//
// No log(2 pi) appears: the normalizers of q and p cancel.
//
// Reduction (stated, tested): gaussian_kl returns the SUM over latent
// dimensions, MEAN over the batch (nats per example), matching a
// reconstruction term summed over features (Reduction::sum_features).
//
// Free bits (Kingma et al. 2016, "Improved variational inference with
// inverse autoregressive flow", eq. in sec. 6 with one group per latent
// dimension): with KL_j = (1/B) sum_n KL_jn the batch-mean KL of dimension j,
//   KL_free = sum_j max(lambda, KL_j).
// The floor applies to the batch mean, not to each example; a dimension at
// or below the floor gets no gradient (so the encoder is not pushed to
// collapse it further), one above it gets the ordinary KL gradient.
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <cmath>

#include "latent/core/tensor.hpp"

LATENT_NAMESPACE_BEGIN

namespace detail {

template <class A, class B>
void check_posterior(const Eigen::MatrixBase<A>& mu, const Eigen::MatrixBase<B>& logvar, const char* what) {
    if (mu.rows() != logvar.rows() || mu.cols() != logvar.cols())
        throw ShapeError(std::string(what) + ": expected mu and logvar of the same shape, found " + shape_of(mu) + " and " +
                         shape_of(logvar));
    if (mu.size() == 0) throw DataError(std::string(what) + ": expected a non-empty batch, found " + shape_of(mu));
}

}  // namespace detail

// mu and logvar may be any Eigen expressions (e.g. the two halves of an
// encoder's output, h.topRows(L) and h.bottomRows(L)).

// KL_jn for each latent dimension j (row) and example n (column), L x B.
template <class A, class B, class S = typename A::Scalar>
Matrix<S> gaussian_kl_elementwise(const Eigen::MatrixBase<A>& mu, const Eigen::MatrixBase<B>& logvar) {
    detail::check_posterior(mu, logvar, "gaussian_kl_elementwise");
    return (S(0.5) * (mu.array().square() + logvar.array().exp() - S(1) - logvar.array())).matrix();
}

// KL per example (sum over dimensions), length B.
template <class A, class B, class S = typename A::Scalar>
Vector<S> gaussian_kl_per_sample(const Eigen::MatrixBase<A>& mu, const Eigen::MatrixBase<B>& logvar) {
    return gaussian_kl_elementwise(mu, logvar).colwise().sum().transpose();
}

// KL per latent dimension (batch mean), length L: the "per-dimension KL".
template <class A, class B, class S = typename A::Scalar>
Vector<S> gaussian_kl_per_dim(const Eigen::MatrixBase<A>& mu, const Eigen::MatrixBase<B>& logvar) {
    return gaussian_kl_elementwise(mu, logvar).rowwise().mean();
}

// Sum over dimensions, mean over the batch. When dmu / dlogvar are given,
// they receive scale * d KL / d mu and scale * d KL / d logvar (L x B):
//   d/dmu = mu / B,   d/dlogvar = 0.5 (exp(logvar) - 1) / B.
template <class A, class B, class S = typename A::Scalar>
S gaussian_kl(const Eigen::MatrixBase<A>& mu, const Eigen::MatrixBase<B>& logvar, Matrix<S>* dmu = nullptr,
              Matrix<S>* dlogvar = nullptr, S scale = S(1)) {
    detail::check_posterior(mu, logvar, "gaussian_kl");
    const S inv_b = S(1) / static_cast<S>(mu.cols());
    const auto m = mu.array();
    const auto lv = logvar.array();
    const S value = S(0.5) * (m.square() + lv.exp() - S(1) - lv).sum() * inv_b;
    if (dmu) *dmu = (scale * inv_b) * mu;  // resizes
    if (dlogvar) *dlogvar = ((S(0.5) * scale * inv_b) * (lv.exp() - S(1))).matrix();
    return value;
}

// Free-bits KL, sum_j max(lambda, KL_j) with KL_j the batch mean (see top).
// lambda = 0 gives gaussian_kl. Gradients as gaussian_kl for dimensions with
// KL_j > lambda, zero for the others.
template <class A, class B, class S = typename A::Scalar>
S free_bits_kl(const Eigen::MatrixBase<A>& mu, const Eigen::MatrixBase<B>& logvar, double lambda, Matrix<S>* dmu = nullptr,
               Matrix<S>* dlogvar = nullptr, S scale = S(1)) {
    detail::check_posterior(mu, logvar, "free_bits_kl");
    if (!(lambda >= 0)) throw ConfigError("free_bits_kl: expected lambda >= 0, found " + std::to_string(lambda));
    const Vector<S> per_dim = gaussian_kl_per_dim(mu, logvar);
    const S floor = static_cast<S>(lambda);
    S value(0);
    for (Index j = 0; j < per_dim.size(); ++j) value += std::max(floor, per_dim(j));
    if (dmu || dlogvar) {
        const S inv_b = S(1) / static_cast<S>(mu.cols());
        if (dmu) dmu->setZero(mu.rows(), mu.cols());
        if (dlogvar) dlogvar->setZero(mu.rows(), mu.cols());
        for (Index j = 0; j < per_dim.size(); ++j) {
            if (!(per_dim(j) > floor)) continue;
            if (dmu) dmu->row(j) = (scale * inv_b) * mu.row(j);
            if (dlogvar) dlogvar->row(j) = ((S(0.5) * scale * inv_b) * (logvar.row(j).array().exp() - S(1))).matrix();
        }
    }
    return value;
}

// Monte-Carlo estimate of the same KL from posterior samples z = mu + sigma eps
// (L x B each): mean over the batch of sum_j [log q(z_j | x) - log p(z_j)]
//   = sum_j 0.5 (z_j^2 - eps_j^2 - logvar_j)  (log 2 pi cancels).
// Unbiased; the analytic gaussian_kl is its expectation.
template <class A, class B, class C, class S = typename A::Scalar>
S gaussian_kl_monte_carlo(const Eigen::MatrixBase<A>& logvar, const Eigen::MatrixBase<B>& eps, const Eigen::MatrixBase<C>& z) {
    detail::check_posterior(logvar, eps, "gaussian_kl_monte_carlo");
    detail::check_posterior(logvar, z, "gaussian_kl_monte_carlo");
    return S(0.5) * (z.array().square() - eps.array().square() - logvar.array()).sum() / static_cast<S>(z.cols());
}

LATENT_NAMESPACE_END
