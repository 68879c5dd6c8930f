// Imputer: fills missing values (NaN) with a denoising autoencoder trained
// with random masking and a loss over observed entries only. Observed
// entries are never changed.
//
//   latent::Imputer<float> imp(opts);
//   imp.fit(x_train);                    // d x N, NaN = missing
//   Matrix<float> done = imp.impute(x);  // same shape, NaNs filled
//
// Model input (each column):  [z ; m]   z = standardized value (0 where missing), m = 1 if observed
// Model output:               z_hat (d)  -> value = mean + std * z_hat  (standardize = true)
// Training: each batch hides a further random fraction `drop_rate` of the
// observed entries from the input (z = 0, m = 0); the loss is the MSE over
// the entries observed in the data (including the hidden ones), so the model
// learns to predict entries it cannot see from those it can. A custom
// pattern (set_hide_pattern: e.g. blocks for images) replaces the random one.
//
// Mixed-type tables (data/table.hpp): make_table_imputer(schema, options)
// trains with MixedColumnLoss (squared error on numeric columns, softmax
// cross-entropy on each categorical block) and hides whole cells; impute()
// then fills a missing numeric cell with its reconstruction and a missing
// category block with logits, which TableSchema::decode turns into the
// arg-max category.
//
// Baselines for comparison: mean_impute (per-feature observed mean) and
// knn_impute (mean of the k nearest complete reference columns, distance over
// the observed features).
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <vector>

#include "latent/apps/latent_index.hpp"
#include "latent/data/table.hpp"
#include "latent/layers/activation.hpp"
#include "latent/layers/dense.hpp"
#include "latent/losses/mixed_column_loss.hpp"
#include "latent/models/autoencoder.hpp"
#include "latent/optim/adam.hpp"
#include "latent/train/trainer.hpp"

LATENT_NAMESPACE_BEGIN

struct ImputerOptions {
    std::vector<Index> hidden = {256, 64};  // encoder widths after the input; the decoder mirrors them, then d outputs
    Act activation = Act::relu;             // hidden layers
    Act output = Act::identity;             // on the d outputs (sigmoid suits data in [0, 1] with standardize = false)
    bool standardize = true;                // z-score each feature with its observed mean and std
    bool mask_indicator = true;             // feed the observation mask beside the values
    double drop_rate = 0.25;                // extra fraction of observed entries hidden from the input per batch
    bool vary_drop_rate = false;            // each sample's rate drawn from U(0, drop_rate) instead (robust to any missing rate)
    long epochs = 30;
    Index batch_size = 64;
    double learning_rate = 1e-3;
    double l2 = 0.0;                        // weight penalty (WeightPenalty::l2)
    std::uint64_t seed = 0;                 // initialization, shuffling and masking
    bool progress = true;
};

namespace detail {

// Throws DataError on Inf, on empty data, and (when require_each_sample) on a
// column with nothing observed. Returns the 0/1 observation mask.
template <class S>
Matrix<S> observation_mask(const Matrix<S>& x, const std::string& what, bool require_each_sample) {
    if (x.size() == 0) throw DataError(what + ": expected data, found a " + shape_of(x) + " matrix");
    Matrix<S> m(x.rows(), x.cols());
    for (Index j = 0; j < x.cols(); ++j) {
        Index seen = 0;
        for (Index i = 0; i < x.rows(); ++i) {
            const S v = x(i, j);
            if (std::isinf(static_cast<double>(v)))
                throw DataError(what + ": expected finite values or NaN (missing), found " + std::to_string(static_cast<double>(v)) +
                                " at feature " + std::to_string(i) + ", sample " + std::to_string(j));
            const bool observed = !std::isnan(static_cast<double>(v));
            m(i, j) = observed ? S(1) : S(0);
            seen += observed;
        }
        if (require_each_sample && seen == 0)
            throw DataError(what + ": sample " + std::to_string(j) + " (column " + std::to_string(j) +
                            ") has no observed value; expected at least one (drop the sample or fill it another way)");
    }
    return m;
}

}  // namespace detail

// Per-feature mean over the observed entries (d); throws DataError for a
// feature that is never observed.
template <class S>
Vector<S> observed_means(const Matrix<S>& x) {
    const Matrix<S> m = detail::observation_mask(x, "observed_means", false);
    Vector<S> out(x.rows());
    for (Index i = 0; i < x.rows(); ++i) {
        const S n = m.row(i).sum();
        if (n == S(0))
            throw DataError("observed_means: feature " + std::to_string(i) + " is missing in every sample; expected at least one value");
        out(i) = (m.row(i).array() > S(0)).select(x.row(i).array(), S(0)).sum() / n;
    }
    return out;
}

// Missing entries of x (NaN) replaced by values(i) for feature i.
template <class S>
Matrix<S> mean_impute(const Matrix<S>& x, const Vector<S>& values) {
    detail::check_dims(values, x.rows(), 1, "mean_impute values");
    Matrix<S> out = x;
    for (Index j = 0; j < x.cols(); ++j)
        for (Index i = 0; i < x.rows(); ++i)
            if (std::isnan(static_cast<double>(out(i, j)))) out(i, j) = values(i);
    return out;
}

// Each column's missing entries replaced by the mean over its k nearest
// columns of `reference` (complete, d x M), distance over the observed features:
//   ||m .* (x - r)||^2 = sum m x^2 - 2 (m .* x)^T r + m^T (r .* r).
template <class S>
Matrix<S> knn_impute(const Matrix<S>& x, const Matrix<S>& reference, Index k, Index batch_size = 256) {
    const std::string what = "knn_impute";
    if (reference.rows() != x.rows())
        throw ShapeError(what + ": expected reference columns with " + std::to_string(x.rows()) + " features, found " +
                         std::to_string(reference.rows()));
    if (k <= 0 || k > reference.cols())
        throw ConfigError(what + ": expected 1 <= k <= " + std::to_string(reference.cols()) + " (reference size), found " + std::to_string(k));
    detail::check_finite(reference, what + " reference");
    const Matrix<S> mask = detail::observation_mask(x, what, true);
    const Matrix<S> ref2 = reference.array().square().matrix();
    Matrix<S> out = x;
    Matrix<S> xm, d;
    for_chunks(0, x.cols(), batch_size, what.c_str(), [&](Index start, Index b) {
        const auto m = mask.middleCols(start, b);
        xm = (m.array() > S(0)).select(x.middleCols(start, b).array(), S(0)).matrix();
        d.resize(reference.cols(), b);
        detail::matmul(d, ref2, true, m, false, false);  // M x b: m^T (r .* r)
        const auto xm_sq = xm.array().square().matrix().colwise().sum().eval();
        xm *= S(-2);
        detail::matmul(d, reference, true, xm, false, true);  // -2 (m .* x)^T r
        d.rowwise() += xm_sq;
        std::vector<Index> order(static_cast<std::size_t>(reference.cols()));
        for (Index j = 0; j < b; ++j) {
            const Index col = start + j;
            if (m.col(j).minCoeff() > S(0)) continue;  // nothing missing
            for (std::size_t t = 0; t < order.size(); ++t) order[t] = static_cast<Index>(t);
            std::partial_sort(order.begin(), order.begin() + k, order.end(),
                              [&](Index a, Index c) { return d(a, j) < d(c, j) || (d(a, j) == d(c, j) && a < c); });
            Vector<S> fill = Vector<S>::Zero(x.rows());
            for (Index t = 0; t < k; ++t) fill += reference.col(order[static_cast<std::size_t>(t)]);
            fill /= static_cast<S>(k);
            for (Index i = 0; i < x.rows(); ++i)
                if (m(i, j) == S(0)) out(i, col) = fill(i);
        }
    });
    return out;
}

template <class S>
class Imputer {
public:
    using Mat = Matrix<S>;

    // Marks (1) which entries of a d x b batch to hide from the input; the
    // matrix arrives zeroed. Entries already missing stay missing either way.
    using HidePattern = std::function<void(Mat& hide, Rng& rng)>;

    explicit Imputer(ImputerOptions options = {}) : o_(std::move(options)) {
        if (!(o_.drop_rate >= 0 && o_.drop_rate < 1))
            throw ConfigError("Imputer: expected drop_rate in [0, 1), found " + std::to_string(o_.drop_rate));
        for (Index h : o_.hidden)
            if (h <= 0) throw ConfigError("Imputer: expected positive hidden sizes, found " + std::to_string(h));
    }

    // Makes the training loss (over the observed entries) for each fit; the
    // default is MSE. The loss sees standardized values when
    // options().standardize is set, so a loss with targets of its own
    // (MixedColumnLoss' one-hot blocks) wants standardize = false.
    using LossFactory = std::function<std::unique_ptr<Loss<S>>()>;

    const ImputerOptions& options() const { return o_; }
    void set_hide_pattern(HidePattern pattern) { pattern_ = std::move(pattern); }
    void set_loss(LossFactory make_loss) { make_loss_ = std::move(make_loss); }
    bool fitted() const { return model_ != nullptr; }
    Index features() const { return mean_.size(); }
    Autoencoder<S>& model() {
        require_fitted("Imputer::model");
        return *model_;
    }

    // Trains on x (d x N, NaN = missing). Every feature must be observed in
    // some sample and every sample must have some observed feature.
    History fit(const Mat& x) {
        const Mat mask = detail::observation_mask(x, "Imputer::fit", true);
        const Index d = x.rows();
        mean_.setZero(d);
        std_.setOnes(d);
        for (Index i = 0; i < d; ++i) {
            const S n = mask.row(i).sum();
            if (n == S(0))
                throw DataError("Imputer::fit: feature " + std::to_string(i) + " (row " + std::to_string(i) +
                                ") is missing in every sample; expected at least one observed value");
            if (!o_.standardize) continue;
            const auto vals = (mask.row(i).array() > S(0)).select(x.row(i).array(), S(0));
            const S mu = vals.sum() / n;
            const S var = ((mask.row(i).array() > S(0)).select(x.row(i).array() - mu, S(0))).square().sum() / n;
            mean_(i) = mu;
            // a constant feature keeps std 1 so it never divides by ~0
            std_(i) = std::sqrt(var) > S(1e-6) * std::max(S(1), std::abs(mu)) ? std::sqrt(var) : S(1);
        }

        Rng rng(o_.seed);
        model_ = build_model(d, rng);
        const Mat z = standardized(x, mask);
        const Mat in = model_input(z, mask);
        Adam<S> adam(o_.learning_rate);
        FitOptions<S> fo;
        fo.epochs = o_.epochs;
        fo.batch_size = o_.batch_size;
        fo.seed = o_.seed + 1;
        fo.mask = &mask;
        fo.progress = o_.progress;
        fo.print_epochs = o_.progress;
        const double rate = o_.drop_rate;
        const bool indicator = o_.mask_indicator, vary = o_.vary_drop_rate;
        HidePattern pattern = pattern_;
        if (!pattern && rate > 0)
            pattern = [rate, vary](Mat& hide, Rng& r) {
                for (Index j = 0; j < hide.cols(); ++j) {
                    const double p = vary ? r.uniform(0.0, rate) : rate;
                    for (Index i = 0; i < hide.rows(); ++i) hide(i, j) = r.bernoulli(p) ? S(1) : S(0);
                }
            };
        if (pattern)
            fo.input_transform = [pattern, indicator, d, hide = Mat()](Mat& xb, Rng& r) mutable {
                hide.setZero(d, xb.cols());
                pattern(hide, r);
                for (Index j = 0; j < xb.cols(); ++j)
                    for (Index i = 0; i < d; ++i)
                        if (hide(i, j) != S(0)) {
                            xb(i, j) = S(0);
                            if (indicator) xb(d + i, j) = S(0);
                        }
            };
        return latent::fit(*model_, adam, in, z, fo);
    }

    // x with every NaN replaced by the model's prediction; observed entries
    // are copied unchanged. Every column must have an observed value.
    Mat impute(const Mat& x) {
        require_fitted("Imputer::impute");
        if (x.rows() != features())
            throw ShapeError("Imputer::impute: expected " + std::to_string(features()) + " features per column (as in fit), found " +
                             std::to_string(x.rows()));
        const Mat mask = detail::observation_mask(x, "Imputer::impute", true);
        const Mat pred = reconstruct(standardized(x, mask), mask);
        Mat out = x;
        for (Index j = 0; j < x.cols(); ++j)
            for (Index i = 0; i < x.rows(); ++i)
                if (mask(i, j) == S(0)) out(i, j) = pred(i, j);
        return out;
    }

    // The model's estimate of every entry (observed ones included), in data units.
    Mat reconstruct_all(const Mat& x) {
        require_fitted("Imputer::reconstruct_all");
        detail::check_dims(x, features(), -1, "Imputer::reconstruct_all");
        const Mat mask = detail::observation_mask(x, "Imputer::reconstruct_all", true);
        return reconstruct(standardized(x, mask), mask);
    }

private:
    std::unique_ptr<Autoencoder<S>> build_model(Index d, Rng& rng) const {
        auto enc = std::make_unique<Sequential<S>>();
        const WeightInit init = o_.activation == Act::relu ? WeightInit::he : WeightInit::glorot;
        for (Index h : o_.hidden) {
            enc->template add<Dense<S>>(h, true, init);
            enc->template add<Activation<S>>(o_.activation);
        }
        auto dec = std::make_unique<Sequential<S>>();
        for (std::size_t i = o_.hidden.size(); i-- > 1;) {
            dec->template add<Dense<S>>(o_.hidden[i - 1], true, init);
            dec->template add<Activation<S>>(o_.activation);
        }
        dec->template add<Dense<S>>(d);
        if (o_.output != Act::identity) dec->template add<Activation<S>>(o_.output);
        if (o_.hidden.empty()) enc->template add<Activation<S>>(Act::identity);  // a linear model: encoder is a no-op
        auto ae = std::make_unique<Autoencoder<S>>(std::move(enc), std::move(dec));
        ae->build(Shape{o_.mask_indicator ? 2 * d : d}, rng);
        if (o_.l2 > 0) ae->set_weight_penalty(WeightPenalty<S>{0.0, o_.l2});
        if (make_loss_) ae->set_loss(make_loss_());
        return ae;
    }

    // (x - mean) / std with missing entries 0.
    Mat standardized(const Mat& x, const Mat& mask) const {
        Mat z(x.rows(), x.cols());
        for (Index j = 0; j < x.cols(); ++j)
            for (Index i = 0; i < x.rows(); ++i) z(i, j) = mask(i, j) > S(0) ? (x(i, j) - mean_(i)) / std_(i) : S(0);
        return z;
    }
    Mat model_input(const Mat& z, const Mat& mask) const {
        if (!o_.mask_indicator) return z;
        Mat in(2 * z.rows(), z.cols());
        in.topRows(z.rows()) = z;
        in.bottomRows(z.rows()) = mask;
        return in;
    }
    Mat reconstruct(const Mat& z, const Mat& mask) {
        Mat pred = model_->reconstruct(model_input(z, mask));
        pred.array().colwise() *= std_.array();
        pred.colwise() += mean_;
        return pred;
    }
    void require_fitted(const char* what) const {
        if (!model_) throw Error(std::string(what) + ": the imputer is not fitted; call fit first");
    }

    ImputerOptions o_;
    HidePattern pattern_;
    LossFactory make_loss_;
    Vector<S> mean_, std_;
    std::unique_ptr<Autoencoder<S>> model_;
};

// An imputer for tables encoded by `schema`: MixedColumnLoss over its
// columns, whole cells hidden at options.drop_rate in training, and no
// standardization of its own (the schema standardizes numeric columns;
// one-hot targets stay 0/1). Fit and impute EncodedTable::with_nan().
template <class S>
Imputer<S> make_table_imputer(const TableSchema& schema, ImputerOptions options = {}) {
    options.standardize = false;
    options.output = Act::identity;  // numbers and logits
    Imputer<S> imp(options);
    const std::vector<MixedColumn> columns = schema.loss_columns();
    imp.set_loss([columns] { return std::make_unique<MixedColumnLoss<S>>(columns); });
    if (options.drop_rate > 0) imp.set_hide_pattern(schema.template hide_cells<S>(options.drop_rate));
    return imp;
}

// Each column of an encoded table hidden in turn and predicted by the
// imputer from the others: the loss of that prediction (MixedColumnLoss
// with the schema's columns) per column and sample, columns x N. Cells
// missing in x score 0. Divided row-wise by their means on normal rows and
// summed over the columns, this is an anomaly score that sees a value that
// does not fit the rest of its row, e.g. a combination of categories each
// common on its own (examples/tabular.cpp). x: E x N (NaN = missing); every
// sample needs an observed cell outside each column.
template <class S>
Matrix<S> masked_column_errors(Imputer<S>& imputer, const TableSchema& schema, const Matrix<S>& x) {
    detail::check_dims(x, schema.encoded_size(), -1, "masked_column_errors");
    const MixedColumnLoss<S> loss(schema.loss_columns());
    const Matrix<S> mask = detail::observation_mask(x, "masked_column_errors", true);
    const Matrix<S> target = (mask.array() > S(0)).select(x.array(), S(0)).matrix();
    Matrix<S> out(static_cast<Index>(schema.columns().size()), x.cols());
    Matrix<S> holes;
    for (std::size_t c = 0; c < schema.columns().size(); ++c) {
        const TableColumn& col = schema.columns()[c];
        holes = x;
        holes.middleRows(col.offset, col.width()).setConstant(std::numeric_limits<S>::quiet_NaN());
        out.row(static_cast<Index>(c)) = loss.per_column(imputer.reconstruct_all(holes), target, &mask).row(static_cast<Index>(c));
    }
    return out;
}

LATENT_NAMESPACE_END
