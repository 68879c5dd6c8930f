// MixedColumnLoss: the reconstruction loss of a table whose columns are
// numeric or categorical (data/table.hpp encodes such a table).
//
// pred and target are E x batch, the rows split into consecutive column
// blocks: a numeric column is one row, a categorical column with K
// categories is K rows (one-hot target, logits in pred). Per sample,
//
//   numeric c:      w_c (p - t)^2
//   categorical c:  w_c CE(softmax(p_c), t_c) = w_c sum_k t_k (lse(p_c) - p_k)
//                   d/dp_m = w_c (softmax_m sum_k t_k - t_m)
//
// summed over the columns (Reduction::sum_features: per-sample totals,
// averaged over the batch), so per_sample() is the weighted per-column
// error of each row: a tabular anomaly score. A mask (1 observed, 0 missing)
// must be uniform over each categorical block (a missing category masks all
// K rows, as TableSchema::encode does); masked cells contribute nothing.
#pragma once

#include "latent/core/abi.hpp"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "latent/core/error.hpp"
#include "latent/losses/loss.hpp"

LATENT_NAMESPACE_BEGIN

// One column of a mixed table, as the loss sees it.
struct MixedColumn {
    Index width = 1;           // 1 for a numeric column; K for a categorical one
    bool categorical = false;  // softmax + cross-entropy over the block instead of squared error
    double weight = 1.0;       // multiplies the column's loss (>= 0)
};

template <class S>
class MixedColumnLoss : public Loss<S> {
public:
    using typename Loss<S>::Mat;
    using typename Loss<S>::Arr;

    explicit MixedColumnLoss(std::vector<MixedColumn> columns) : Loss<S>(Reduction::sum_features), columns_(std::move(columns)) {
        if (columns_.empty()) throw ConfigError("MixedColumnLoss: expected at least one column, found none");
        for (std::size_t c = 0; c < columns_.size(); ++c) {
            const MixedColumn& m = columns_[c];
            if (m.width < 1 || (!m.categorical && m.width != 1) || (m.categorical && m.width < 2))
                throw ConfigError("MixedColumnLoss: column " + std::to_string(c) + ": expected width 1 (numeric) or >= 2 (categorical), found " +
                                  std::to_string(m.width) + (m.categorical ? " for a categorical column" : " for a numeric column"));
            if (!(m.weight >= 0) || !std::isfinite(m.weight))
                throw ConfigError("MixedColumnLoss: column " + std::to_string(c) + ": expected a finite weight >= 0, found " +
                                  std::to_string(m.weight));
            offsets_.push_back(width_);
            width_ += m.width;
        }
    }

    std::string name() const override { return "MixedColumn"; }
    const std::vector<MixedColumn>& columns() const { return columns_; }
    // Rows of an encoded sample (sum of the column widths).
    Index encoded_size() const { return width_; }
    // First row of column c's block.
    Index offset(std::size_t c) const { return offsets_.at(c); }

    // Weighted loss of each column of each sample (columns x N), masked
    // cells 0: which column made a row anomalous.
    Mat per_column(const Mat& pred, const Mat& target, const Mat* mask = nullptr) const {
        Arr elem;
        Vector<S> totals(pred.cols());
        this->per_sample_into(pred, target, elem, totals, mask);  // validates the shapes
        elem.resize(pred.rows(), pred.cols());
        elementwise(pred, target, elem, nullptr);
        if (mask) elem = (mask->array() == S(0)).select(S(0), elem * mask->array());
        Mat out(static_cast<Index>(columns_.size()), pred.cols());
        for (std::size_t c = 0; c < columns_.size(); ++c)
            out.row(static_cast<Index>(c)) = elem.middleRows(offsets_[c], columns_[c].width).colwise().sum().matrix();
        return out;
    }

protected:
    // pred: E x N (values and logits), target: E x N (values and one-hot blocks)
    void elementwise(const Mat& p, const Mat& t, Arr& out, Mat* grad) const override {
        if (p.rows() != width_)
            throw ShapeError("MixedColumnLoss: expected " + std::to_string(width_) + " encoded rows (the columns' widths), found " +
                             std::to_string(p.rows()));
        for (std::size_t c = 0; c < columns_.size(); ++c) {
            const Index o = offsets_[c], k = columns_[c].width;
            const S w = static_cast<S>(columns_[c].weight);
            if (!columns_[c].categorical) {
                const auto d = p.row(o).array() - t.row(o).array();
                out.row(o) = w * d.square();
                if (grad) grad->row(o) = (S(2) * w * d).matrix();
                continue;
            }
            for (Index j = 0; j < p.cols(); ++j) {
                const auto pb = p.col(j).segment(o, k).array();
                const auto tb = t.col(j).segment(o, k).array();
                const S m = pb.maxCoeff();
                const S z = (pb - m).exp().sum();
                const S lse = m + std::log(z);
                out.col(j).segment(o, k) = w * tb * (lse - pb);  // sums to w * CE over the block
                if (grad) grad->col(j).segment(o, k) = (w * ((pb - m).exp() / z * tb.sum() - tb)).matrix();
            }
        }
    }

private:
    std::vector<MixedColumn> columns_;
    std::vector<Index> offsets_;
    Index width_ = 0;
};

// The loss's columns with weights rescaled so that every column's mean
// weighted loss over (pred, target) is 1: w_c' = w_c / mean_n loss_c(n).
// Used on held-out normal rows, it turns per_sample() into a sum of
// per-column errors in units of each column's typical error, so a column
// that is hard to reconstruct everywhere does not drown the others in an
// anomaly score. A column whose mean loss is 0 keeps its weight.
template <class S>
std::vector<MixedColumn> balanced_columns(const MixedColumnLoss<S>& loss, const Matrix<S>& pred, const Matrix<S>& target,
                                          const Matrix<S>* mask = nullptr) {
    const Matrix<S> per = loss.per_column(pred, target, mask);
    std::vector<MixedColumn> out = loss.columns();
    for (std::size_t c = 0; c < out.size(); ++c) {
        const double n = mask ? static_cast<double>((mask->row(loss.offset(c)).array() > S(0)).count()) : static_cast<double>(per.cols());
        const double mean = n > 0 ? static_cast<double>(per.row(static_cast<Index>(c)).sum()) / n : 0.0;
        if (mean > 0 && std::isfinite(mean)) out[c].weight /= mean;
    }
    return out;
}

LATENT_NAMESPACE_END
