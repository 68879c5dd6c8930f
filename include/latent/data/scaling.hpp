// Feature scaling fitted on data laid out features x N (one sample per
// column). Fitting ignores NaN entries (missing values), and transforms keep
// NaN where it was, so scalers can sit in front of imputation.
//
//   MinMaxScaler:   x' = lo + (x - min) * (hi - lo) / (max - min)
//   StandardScaler: x' = (x - mean) / std   (population std, as scikit-learn)
//
// A feature that is constant (zero range or zero std) gets scale 1, so it
// maps to lo (min-max) or 0 (standard) instead of dividing by zero.
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "latent/core/error.hpp"
#include "latent/core/tensor.hpp"

LATENT_NAMESPACE_BEGIN

namespace detail {

template <class S>
void check_scaler_input(bool fitted, Index features, Index rows, const char* who, const char* what) {
    if (!fitted) throw ConfigError(std::string(who) + "::" + what + ": expected a fitted scaler, found none (call fit first)");
    if (rows != features)
        throw ShapeError(std::string(who) + "::" + what + ": expected " + std::to_string(features) +
                         " features (rows), as in fit, found " + std::to_string(rows));
}

}  // namespace detail

template <class S>
class MinMaxScaler {
public:
    explicit MinMaxScaler(S lo = S(0), S hi = S(1)) : lo_(lo), hi_(hi) {
        if (!(hi > lo)) throw ConfigError("MinMaxScaler: expected lo < hi, found [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }

    // Per-feature min and max over the non-NaN entries of x (features x N).
    MinMaxScaler& fit(const Eigen::Ref<const Matrix<S>>& x) {
        if (x.rows() == 0 || x.cols() == 0)
            throw DataError("MinMaxScaler::fit: expected non-empty data, found " + detail::shape_of(x));
        min_.resize(x.rows());
        max_.resize(x.rows());
        for (Index i = 0; i < x.rows(); ++i) {
            S lo = std::numeric_limits<S>::infinity(), hi = -std::numeric_limits<S>::infinity();
            for (Index j = 0; j < x.cols(); ++j) {
                const S v = x(i, j);
                if (std::isnan(v)) continue;
                lo = std::min(lo, v);
                hi = std::max(hi, v);
            }
            if (lo > hi) throw DataError("MinMaxScaler::fit: feature " + std::to_string(i) + " has only missing (NaN) values");
            min_(i) = lo;
            max_(i) = hi;
        }
        return *this;
    }

    Matrix<S> transform(const Eigen::Ref<const Matrix<S>>& x) const {
        detail::check_scaler_input<S>(fitted(), features(), x.rows(), "MinMaxScaler", "transform");
        const Vector<S> s = scale(), off = Vector<S>::Constant(features(), lo_) - s.cwiseProduct(min_);
        return (s.asDiagonal() * x).colwise() + off;
    }
    Matrix<S> inverse_transform(const Eigen::Ref<const Matrix<S>>& x) const {
        detail::check_scaler_input<S>(fitted(), features(), x.rows(), "MinMaxScaler", "inverse_transform");
        const Vector<S> inv = scale().cwiseInverse();
        return (inv.asDiagonal() * (x.colwise() - Vector<S>::Constant(features(), lo_))).colwise() + min_;
    }
    Matrix<S> fit_transform(const Eigen::Ref<const Matrix<S>>& x) { return fit(x).transform(x); }

    bool fitted() const { return min_.size() > 0; }
    Index features() const { return min_.size(); }
    const Vector<S>& data_min() const { return min_; }
    const Vector<S>& data_max() const { return max_; }
    // Per-feature multiplier (hi - lo) / (max - min); 1 for constant features.
    Vector<S> scale() const {
        Vector<S> s(features());
        for (Index i = 0; i < features(); ++i) {
            const S range = max_(i) - min_(i);
            s(i) = range > S(0) ? (hi_ - lo_) / range : S(1);
        }
        return s;
    }

private:
    S lo_, hi_;
    Vector<S> min_, max_;
};

template <class S>
class StandardScaler {
public:
    explicit StandardScaler(bool with_mean = true, bool with_std = true) : with_mean_(with_mean), with_std_(with_std) {}

    // Per-feature mean and population std over the non-NaN entries of x (features x N).
    StandardScaler& fit(const Eigen::Ref<const Matrix<S>>& x) {
        if (x.rows() == 0 || x.cols() == 0)
            throw DataError("StandardScaler::fit: expected non-empty data, found " + detail::shape_of(x));
        mean_.resize(x.rows());
        std_.resize(x.rows());
        for (Index i = 0; i < x.rows(); ++i) {
            double sum = 0;
            Index n = 0;
            for (Index j = 0; j < x.cols(); ++j)
                if (!std::isnan(x(i, j))) sum += static_cast<double>(x(i, j)), ++n;
            if (n == 0) throw DataError("StandardScaler::fit: feature " + std::to_string(i) + " has only missing (NaN) values");
            const double mean = sum / static_cast<double>(n);
            double ss = 0;  // two passes: no cancellation for large means
            for (Index j = 0; j < x.cols(); ++j)
                if (!std::isnan(x(i, j))) {
                    const double d = static_cast<double>(x(i, j)) - mean;
                    ss += d * d;
                }
            mean_(i) = static_cast<S>(mean);
            std_(i) = static_cast<S>(std::sqrt(ss / static_cast<double>(n)));
        }
        return *this;
    }

    Matrix<S> transform(const Eigen::Ref<const Matrix<S>>& x) const {
        detail::check_scaler_input<S>(fitted(), features(), x.rows(), "StandardScaler", "transform");
        return scale().cwiseInverse().asDiagonal() * (x.colwise() - center());
    }
    Matrix<S> inverse_transform(const Eigen::Ref<const Matrix<S>>& x) const {
        detail::check_scaler_input<S>(fitted(), features(), x.rows(), "StandardScaler", "inverse_transform");
        return (scale().asDiagonal() * x).colwise() + center();
    }
    Matrix<S> fit_transform(const Eigen::Ref<const Matrix<S>>& x) { return fit(x).transform(x); }

    bool fitted() const { return mean_.size() > 0; }
    Index features() const { return mean_.size(); }
    const Vector<S>& mean() const { return mean_; }
    const Vector<S>& stddev() const { return std_; }
    // Subtracted per feature: the mean, or 0 without with_mean.
    Vector<S> center() const { return with_mean_ ? mean_ : Vector<S>::Zero(features()); }
    // Divided by per feature: the std (1 where it is 0), or 1 without with_std.
    Vector<S> scale() const {
        Vector<S> s(features());
        for (Index i = 0; i < features(); ++i) s(i) = with_std_ && std_(i) > S(0) ? std_(i) : S(1);
        return s;
    }

private:
    bool with_mean_, with_std_;
    Vector<S> mean_, std_;
};

LATENT_NAMESPACE_END
