// Reconstruction losses. pred and target are features x batch.
//
// Reduction (stated, tested):
//   Reduction::mean          mean over every element (PyTorch's default and
//                            Keras' for MSE/MAE/BCE: mean over features, then batch)
//   Reduction::sum_features  sum over features, mean over the batch (per-example
//                            totals, e.g. nats per image for a VAE)
// With a mask (1 = observed, 0 = ignore), ignored entries contribute nothing
// to the value or the gradient, and `mean` divides by the number of observed
// entries instead of all of them.
#pragma once

#include "latent/core/abi.hpp"

#include <cmath>
#include <memory>
#include <string>

#include "latent/core/math.hpp"
#include "latent/core/tensor.hpp"
#include "latent/layers/activation.hpp"

LATENT_NAMESPACE_BEGIN

enum class Reduction { mean, sum_features };

template <class S>
class Loss {
public:
    using Mat = Matrix<S>;
    using Arr = Eigen::Array<S, Eigen::Dynamic, Eigen::Dynamic>;

    explicit Loss(Reduction r = Reduction::mean) : reduction_(r) {}
    virtual ~Loss() = default;
    virtual std::string name() const = 0;
    Reduction reduction() const { return reduction_; }

    // The reduced loss; when grad is given, fills it with d loss / d pred.
    // Losses hold no scratch of their own: one loss object may be shared
    // between threads. This form allocates its element buffer; a training
    // loop passes its own (next overload) so a step allocates nothing.
    S evaluate(const Mat& pred, const Mat& target, Mat* grad = nullptr, const Mat* mask = nullptr) const {
        Arr scratch;
        return evaluate(pred, target, grad, mask, scratch);
    }
    // As above with a caller-owned element buffer (resized as needed).
    S evaluate(const Mat& pred, const Mat& target, Mat* grad, const Mat* mask, Arr& scratch) const {
        check(pred, target, mask);
        Arr& elem = scratch;
        elem.resize(pred.rows(), pred.cols());
        if (grad) grad->resize(pred.rows(), pred.cols());
        elementwise(pred, target, elem, grad);
        if (mask) {
            // select, not multiply: an ignored entry may hold NaN (a missing value)
            const auto ignored = mask->array() == S(0);
            elem = ignored.select(S(0), elem * mask->array());
            if (grad) grad->array() = ignored.select(S(0), grad->array() * mask->array());
        }
        const S count = denominator(pred, mask);
        if (grad) *grad /= count;
        return elem.sum() / count;
    }

    // One loss value per sample (column), summed over features for
    // sum_features and averaged over (observed) features for mean.
    Vector<S> per_sample(const Mat& pred, const Mat& target, const Mat* mask = nullptr) const {
        Vector<S> out(pred.cols());
        Arr scratch;
        per_sample_into(pred, target, scratch, out, mask);
        return out;
    }
    // The same into out (length N) with the caller's scratch (pred-sized):
    // touches no member, so one loss may serve many threads (serve/predictor.hpp).
    void per_sample_into(const Mat& pred, const Mat& target, Arr& scratch, Eigen::Ref<Vector<S>> out, const Mat* mask = nullptr) const {
        check(pred, target, mask);
        if (out.size() != pred.cols())
            throw ShapeError(name() + " loss: expected an output of " + std::to_string(pred.cols()) + " values, found " + std::to_string(out.size()));
        scratch.resize(pred.rows(), pred.cols());
        elementwise(pred, target, scratch, nullptr);
        if (mask) scratch = (mask->array() == S(0)).select(S(0), scratch * mask->array());
        out = scratch.colwise().sum().transpose();
        if (reduction_ == Reduction::mean) {
            for (Index j = 0; j < out.size(); ++j) {
                const S n = mask ? mask->col(j).sum() : static_cast<S>(pred.rows());
                out(j) = n > S(0) ? out(j) / n : S(0);
            }
        }
    }

protected:
    // out = l(p, t) element-wise; grad (when non-null) = dl/dp element-wise.
    virtual void elementwise(const Mat& p, const Mat& t, Arr& out, Mat* grad) const = 0;

private:
    void check(const Mat& pred, const Mat& target, const Mat* mask) const {
        if (pred.rows() != target.rows() || pred.cols() != target.cols())
            throw ShapeError(name() + " loss: expected target " + detail::shape_of(pred) + " like the prediction, found " +
                             detail::shape_of(target));
        if (pred.size() == 0) throw DataError(name() + " loss: expected a non-empty batch, found " + detail::shape_of(pred));
        if (mask && (mask->rows() != pred.rows() || mask->cols() != pred.cols()))
            throw ShapeError(name() + " loss: expected mask " + detail::shape_of(pred) + ", found " + detail::shape_of(*mask));
    }
    S denominator(const Mat& pred, const Mat* mask) const {
        if (reduction_ == Reduction::sum_features) return static_cast<S>(pred.cols());
        const S n = mask ? mask->sum() : static_cast<S>(pred.size());
        return n > S(0) ? n : S(1);
    }

    Reduction reduction_;
};

// Mean squared error: (p - t)^2.
template <class S>
class MSELoss : public Loss<S> {
public:
    using Loss<S>::Loss;
    using typename Loss<S>::Mat;
    using typename Loss<S>::Arr;
    std::string name() const override { return "MSE"; }

protected:
    void elementwise(const Mat& pm, const Mat& tm, Arr& out, Mat* grad) const override {
        const auto p = pm.array();
        const auto t = tm.array();
        out = (p - t).square();
        if (grad) grad->array() = S(2) * (p - t);
    }
};

// Mean absolute error: |p - t| (subgradient 0 at p = t).
template <class S>
class MAELoss : public Loss<S> {
public:
    using Loss<S>::Loss;
    using typename Loss<S>::Mat;
    using typename Loss<S>::Arr;
    std::string name() const override { return "MAE"; }

protected:
    void elementwise(const Mat& pm, const Mat& tm, Arr& out, Mat* grad) const override {
        const auto p = pm.array();
        const auto t = tm.array();
        out = (p - t).abs();
        if (grad) grad->array() = (p - t).sign();
    }
};

// Huber: 0.5 d^2 for |d| <= delta, delta (|d| - 0.5 delta) beyond.
template <class S>
class HuberLoss : public Loss<S> {
public:
    using typename Loss<S>::Mat;
    using typename Loss<S>::Arr;
    explicit HuberLoss(double delta = 1.0, Reduction r = Reduction::mean) : Loss<S>(r), delta_(static_cast<S>(delta)) {
        if (!(delta > 0)) throw ConfigError("HuberLoss: expected delta > 0, found " + std::to_string(delta));
    }
    std::string name() const override { return "Huber"; }

protected:
    void elementwise(const Mat& pm, const Mat& tm, Arr& out, Mat* grad) const override {
        const auto p = pm.array();
        const auto t = tm.array();
        const S d = delta_;
        out = (p - t).abs().unaryExpr([d](S a) { return a <= d ? S(0.5) * a * a : d * (a - S(0.5) * d); });
        if (grad) grad->array() = (p - t).max(-d).min(d);
    }

private:
    S delta_;
};

// Binary cross-entropy on probabilities p in [0, 1], as PyTorch's BCELoss:
//   l = -(t max(log p, -100) + (1-t) max(log(1-p), -100))
//   dl/dp = (p - t) / max(p (1-p), 1e-12f)
// so a perfect prediction at the edge (p = t = 0 or 1) has gradient 0 and a
// saturated wrong one a large finite gradient (1e12), in float too. Prefer
// BCEWithLogitsLoss after a linear layer.
template <class S>
class BCELoss : public Loss<S> {
public:
    using Loss<S>::Loss;
    using typename Loss<S>::Mat;
    using typename Loss<S>::Arr;
    std::string name() const override { return "BCE"; }

protected:
    void elementwise(const Mat& pm, const Mat& tm, Arr& out, Mat* grad) const override {
        const auto p = pm.array().max(S(0)).min(S(1));  // [0, 1], as torch requires
        const auto t = tm.array();
        out = -(t * p.log().max(S(-100)) + (S(1) - t) * (-p).log1p().max(S(-100)));
        if (grad) grad->array() = (p - t) / (p * (S(1) - p)).max(static_cast<S>(1e-12f));  // torch: a float epsilon
    }
};

// Binary cross-entropy on logits x, stable for any x:
//   max(x, 0) - x t + log(1 + e^-|x|);  d/dx = sigmoid(x) - t.
template <class S>
class BCEWithLogitsLoss : public Loss<S> {
public:
    using Loss<S>::Loss;
    using typename Loss<S>::Mat;
    using typename Loss<S>::Arr;
    std::string name() const override { return "BCEWithLogits"; }

protected:
    void elementwise(const Mat& xm, const Mat& tm, Arr& out, Mat* grad) const override {
        detail::bce_with_logits(xm.array(), tm.array(), out, grad, S(1));
    }
};

LATENT_NAMESPACE_END
