// Decoder likelihoods p(x | z) for a VAE, as negative log-probabilities in
// nats, SUMMED over features (a proper log-likelihood of the whole example,
// which is what the ELBO needs; a mean over pixels would silently reweight
// the KL term by 1/784).
//
//   bernoulli         decoder output: logits l (D rows). x in [0, 1].
//                     -log p = sum_i BCE(l_i, x_i) = max(l,0) - l x + log(1 + e^-|l|)
//                     d/dl = sigmoid(l) - x
//   gaussian(sigma)   decoder output: means m (D rows), fixed sigma.
//                     -log p = sum_i (x_i - m_i)^2 / (2 sigma^2) + 0.5 log(2 pi sigma^2)
//                     d/dm = (m - x) / sigma^2
//   gaussian_learned  decoder output: [m; v] (2D rows: D means, then D log-variances).
//                     -log p = sum_i 0.5 ((x_i - m_i)^2 e^-v_i + v_i + log 2 pi)
//                     d/dm = (m - x) e^-v,  d/dv = 0.5 (1 - (x - m)^2 e^-v)
//                     (computed through r = (m - x) e^(-v/2): finite in float down to v = -176)
//
// For continuous x the Bernoulli "likelihood" of pixel intensities in [0, 1]
// is the usual (PyTorch / Keras example) choice; it is not a normalized
// density over [0, 1], so its nats compare only with other Bernoulli models.
#pragma once

#include "latent/core/abi.hpp"

#include <cmath>
#include <string>

#include "latent/core/math.hpp"
#include "latent/core/tensor.hpp"

LATENT_NAMESPACE_BEGIN

namespace detail {
template <class T>
struct non_deduced {
    using type = T;
};
template <class T>
using non_deduced_t = typename non_deduced<T>::type;  // S is deduced from `out` only, so nullptr binds
}  // namespace detail

enum class LikelihoodKind { bernoulli, gaussian, gaussian_learned };

class Likelihood {
public:
    static Likelihood bernoulli() { return Likelihood(LikelihoodKind::bernoulli, 1.0); }
    static Likelihood gaussian(double sigma = 1.0) {
        if (!(sigma > 0) || !std::isfinite(sigma))
            throw ConfigError("Likelihood::gaussian: expected sigma > 0, found " + std::to_string(sigma));
        return Likelihood(LikelihoodKind::gaussian, sigma);
    }
    static Likelihood gaussian_learned() { return Likelihood(LikelihoodKind::gaussian_learned, 1.0); }

    LikelihoodKind kind() const { return kind_; }
    double sigma() const { return sigma_; }  // gaussian only
    // Decoder output rows per data feature: 2 for gaussian_learned, else 1.
    Index outputs_per_feature() const { return kind_ == LikelihoodKind::gaussian_learned ? 2 : 1; }

    std::string name() const {
        switch (kind_) {
            case LikelihoodKind::bernoulli: return "bernoulli";
            case LikelihoodKind::gaussian: return "gaussian";
            case LikelihoodKind::gaussian_learned: return "gaussian_learned";
        }
        return "?";
    }
    static Likelihood from_name(const std::string& name, double sigma = 1.0) {
        if (name == "bernoulli") return bernoulli();
        if (name == "gaussian") return gaussian(sigma);
        if (name == "gaussian_learned") return gaussian_learned();
        throw ConfigError("Likelihood: expected bernoulli, gaussian or gaussian_learned, found '" + name + "'");
    }

    // Sum over every feature and column of -log p(x | out). When grad is
    // given it receives scale * d(sum)/d(out) (same shape as out). When
    // per_sample is given it receives the per-column sums (length B). With a
    // mask (D x B, 1 = observed), unobserved entries add nothing to either.
    template <class S>
    S neg_log_prob(const Matrix<S>& out, const detail::non_deduced_t<Matrix<S>>& x, detail::non_deduced_t<Matrix<S>>* grad = nullptr,
                   detail::non_deduced_t<S> scale = S(1), const detail::non_deduced_t<Matrix<S>>* mask = nullptr,
                   detail::non_deduced_t<Vector<S>>* per_sample = nullptr) const {
        Matrix<S> scratch;
        return evaluate(out, x, grad, scale, mask, per_sample, scratch);
    }

    // As above with a caller-owned scratch buffer, so a training step
    // allocates nothing once the sizes are fixed.
    template <class S>
    S evaluate(const Matrix<S>& out, const detail::non_deduced_t<Matrix<S>>& x, detail::non_deduced_t<Matrix<S>>* grad,
               detail::non_deduced_t<S> scale, const detail::non_deduced_t<Matrix<S>>* mask,
               detail::non_deduced_t<Vector<S>>* per_sample, detail::non_deduced_t<Matrix<S>>& scratch) const {
        check(out, x, mask);
        const Index d = x.rows(), b = x.cols();
        if (grad) grad->resize(out.rows(), b);
        scratch.resize(d, b);
        const auto X = x.array();
        switch (kind_) {
            case LikelihoodKind::bernoulli: {
                detail::bce_with_logits(out.array(), X, scratch.array(), grad, scale);
                break;
            }
            case LikelihoodKind::gaussian: {
                const S inv_var = static_cast<S>(1.0 / (sigma_ * sigma_));
                const S c = static_cast<S>(0.5 * std::log(2.0 * 3.14159265358979323846 * sigma_ * sigma_));
                const auto M = out.array();
                if (grad) grad->array() = (scale * inv_var) * (M - X);
                scratch.array() = (S(0.5) * inv_var) * (M - X).square() + c;
                break;
            }
            case LikelihoodKind::gaussian_learned: {
                const S c = static_cast<S>(0.5 * std::log(2.0 * 3.14159265358979323846));
                const auto M = out.topRows(d).array();
                const auto V = out.bottomRows(d).array();
                // r = (m - x) e^(-v/2), so (x - m)^2 e^-v = r^2 and d/dm = r e^(-v/2):
                // e^-v itself overflows float below v = -88, e^(-v/2) only below -176,
                // and an exact mean (m = x) gives 0, never 0 * inf.
                auto Q = scratch.array();
                const auto diff = M - X;
                const auto r = (diff == S(0)).select(S(0), diff * (S(-0.5) * V).exp());
                Q = r.square();
                if (grad) {
                    grad->topRows(d).array() = (diff == S(0)).select(S(0), scale * r * (S(-0.5) * V).exp());
                    grad->bottomRows(d).array() = (S(0.5) * scale) * (S(1) - Q);
                }
                Q = S(0.5) * (Q + V) + c;
                break;
            }
        }
        if (mask) {
            // select, not multiply: an unobserved entry may hold NaN
            const auto ignored = mask->array() == S(0);
            scratch.array() = ignored.select(S(0), scratch.array() * mask->array());
            if (grad) {
                const Index k = outputs_per_feature();
                for (Index part = 0; part < k; ++part)
                    grad->middleRows(part * d, d).array() =
                        ignored.select(S(0), grad->middleRows(part * d, d).array() * mask->array());
            }
        }
        if (per_sample) {
            *per_sample = scratch.colwise().sum().transpose();
            return per_sample->sum();
        }
        return scratch.sum();
    }

    // E[x | out]: sigmoid(logits) for bernoulli, the means for gaussian.
    template <class S>
    Matrix<S> mean(const Matrix<S>& out) const {
        Matrix<S> m(out.rows() / outputs_per_feature(), out.cols());
        mean_into(out, m);
        return m;
    }
    // The same into dst (features x N: a matrix or a block of one), allocating nothing.
    template <class S, class Dst>
    void mean_into(const Matrix<S>& out, Dst&& dst) const {
        if (kind_ == LikelihoodKind::gaussian_learned && out.rows() % 2 != 0)
            throw ShapeError("gaussian_learned likelihood: expected an even number of decoder outputs [mean; log-variance], found " +
                             std::to_string(out.rows()));
        const Index rows = out.rows() / outputs_per_feature();
        if (dst.rows() != rows || dst.cols() != out.cols())
            throw ShapeError(name() + " likelihood: expected a mean buffer " + std::to_string(rows) + "x" + std::to_string(out.cols()) +
                             ", found " + std::to_string(dst.rows()) + "x" + std::to_string(dst.cols()));
        if (kind_ == LikelihoodKind::bernoulli)
            dst = detail::logistic(out.array()).matrix();  // saturates to 0/1 without NaN
        else
            dst = out.topRows(rows);
    }

    friend bool operator==(const Likelihood& a, const Likelihood& b) { return a.kind_ == b.kind_ && a.sigma_ == b.sigma_; }
    friend bool operator!=(const Likelihood& a, const Likelihood& b) { return !(a == b); }

private:
    Likelihood(LikelihoodKind k, double sigma) : kind_(k), sigma_(sigma) {}

    template <class S>
    void check(const Matrix<S>& out, const Matrix<S>& x, const Matrix<S>* mask) const {
        const Index k = outputs_per_feature();
        if (out.rows() != k * x.rows() || out.cols() != x.cols())
            throw ShapeError(name() + " likelihood: expected decoder output " + std::to_string(k * x.rows()) + "x" +
                             std::to_string(x.cols()) + " for data " + detail::shape_of(x) + ", found " + detail::shape_of(out));
        if (x.size() == 0) throw DataError(name() + " likelihood: expected a non-empty batch, found " + detail::shape_of(x));
        if (mask && (mask->rows() != x.rows() || mask->cols() != x.cols()))
            throw ShapeError(name() + " likelihood: expected mask " + detail::shape_of(x) + " like the data, found " +
                             detail::shape_of(*mask));
    }

    LikelihoodKind kind_;
    double sigma_;
};

LATENT_NAMESPACE_END
