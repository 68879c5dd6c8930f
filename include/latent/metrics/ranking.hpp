// Ranking and detection metrics for scores (higher = more positive) against
// binary labels (nonzero = positive), and retrieval precision@k.
//
//   roc_auc            area under the ROC curve = P(score+ > score-) + 0.5 P(tie),
//                      computed from average ranks (Mann-Whitney U), so ties count half
//   average_precision  area under the precision-recall curve as the step sum
//                      sum_t (R_t - R_{t-1}) P_t over distinct thresholds t (scikit-learn's
//                      definition; no interpolation, so it is not optimistic). pr_auc is an alias.
//   confusion_at       counts with "positive" meaning score > threshold
//   precision_at_k     fraction of positives among the k highest scores
//   retrieval_precision_at_k
//                      mean over queries of the fraction of the first k neighbours
//                      sharing the query's label
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "latent/core/tensor.hpp"

LATENT_NAMESPACE_BEGIN

// Binary counts at a threshold and the rates derived from them.
struct BinaryCounts {
    Index tp = 0, fp = 0, tn = 0, fn = 0;

    // 0 when undefined (no predicted positives / no positives / no negatives).
    double precision() const { return tp + fp > 0 ? static_cast<double>(tp) / static_cast<double>(tp + fp) : 0.0; }
    double recall() const { return tp + fn > 0 ? static_cast<double>(tp) / static_cast<double>(tp + fn) : 0.0; }
    double false_positive_rate() const { return fp + tn > 0 ? static_cast<double>(fp) / static_cast<double>(fp + tn) : 0.0; }
    double f1() const {
        const double p = precision(), r = recall();
        return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
    }
    double accuracy() const {
        const Index n = tp + fp + tn + fn;
        return n > 0 ? static_cast<double>(tp + tn) / static_cast<double>(n) : 0.0;
    }
};

namespace detail {

// Scores as doubles, after checking sizes and finiteness.
template <class D>
std::vector<double> checked_scores(const Eigen::MatrixBase<D>& scores, std::size_t n_labels, const std::string& what) {
    if (scores.cols() != 1 && scores.rows() != 1)
        throw ShapeError(what + ": expected a vector of scores, found a " + shape_of(scores) + " matrix");
    const auto n = static_cast<std::size_t>(scores.size());
    if (n != n_labels)
        throw ShapeError(what + ": expected one label per score (" + std::to_string(n) + "), found " + std::to_string(n_labels) +
                         " labels");
    if (n == 0) throw DataError(what + ": expected at least one score, found none");
    std::vector<double> s(n);
    for (std::size_t i = 0; i < n; ++i) {
        s[i] = static_cast<double>(scores(static_cast<Index>(i)));
        if (!std::isfinite(s[i]))
            throw DataError(what + ": expected finite scores, found " + std::to_string(s[i]) + " at index " + std::to_string(i));
    }
    return s;
}

inline void count_classes(const std::vector<int>& labels, Index& pos, Index& neg) {
    pos = 0;
    for (int l : labels) pos += l != 0;
    neg = static_cast<Index>(labels.size()) - pos;
}

inline void require_both_classes(Index pos, Index neg, const std::string& what) {
    if (pos == 0 || neg == 0)
        throw DataError(what + ": expected both positive and negative labels, found " + std::to_string(pos) + " positive and " +
                        std::to_string(neg) + " negative");
}

// Indices sorted by descending score (stable, so equal scores keep their order).
inline std::vector<std::size_t> order_descending(const std::vector<double>& s) {
    std::vector<std::size_t> idx(s.size());
    std::iota(idx.begin(), idx.end(), std::size_t{0});
    std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return s[a] > s[b]; });
    return idx;
}

}  // namespace detail

// Area under the ROC curve. Ties between a positive and a negative count 1/2.
// AUC = (R+ - P(P+1)/2) / (P N), R+ = sum of the positives' average ranks (ascending).
template <class D>
double roc_auc(const Eigen::MatrixBase<D>& scores, const std::vector<int>& labels) {
    const std::vector<double> s = detail::checked_scores(scores, labels.size(), "roc_auc");
    Index pos, neg;
    detail::count_classes(labels, pos, neg);
    detail::require_both_classes(pos, neg, "roc_auc");
    std::vector<std::size_t> idx(s.size());
    std::iota(idx.begin(), idx.end(), std::size_t{0});
    std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return s[a] < s[b]; });
    double rank_sum = 0;  // sum of 1-based average ranks of the positives
    for (std::size_t i = 0; i < idx.size();) {
        std::size_t j = i;
        while (j + 1 < idx.size() && s[idx[j + 1]] == s[idx[i]]) ++j;
        const double avg_rank = 0.5 * static_cast<double>(i + j) + 1.0;  // ranks i+1 .. j+1
        for (std::size_t k = i; k <= j; ++k)
            if (labels[idx[k]] != 0) rank_sum += avg_rank;
        i = j + 1;
    }
    const double p = static_cast<double>(pos), n = static_cast<double>(neg);
    return (rank_sum - p * (p + 1) / 2) / (p * n);
}

// Average precision: sum over distinct thresholds (descending) of
// (recall gained at that threshold) * (precision at that threshold).
template <class D>
double average_precision(const Eigen::MatrixBase<D>& scores, const std::vector<int>& labels) {
    const std::vector<double> s = detail::checked_scores(scores, labels.size(), "average_precision");
    Index pos, neg;
    detail::count_classes(labels, pos, neg);
    if (pos == 0) throw DataError("average_precision: expected at least one positive label, found none");
    const auto idx = detail::order_descending(s);
    double ap = 0, prev_recall = 0;
    Index tp = 0, taken = 0;
    for (std::size_t i = 0; i < idx.size();) {
        std::size_t j = i;
        while (j < idx.size() && s[idx[j]] == s[idx[i]]) {
            tp += labels[idx[j]] != 0;
            ++taken;
            ++j;
        }
        const double recall = static_cast<double>(tp) / static_cast<double>(pos);
        const double precision = static_cast<double>(tp) / static_cast<double>(taken);
        ap += (recall - prev_recall) * precision;
        prev_recall = recall;
        i = j;
    }
    return ap;
}

template <class D>
double pr_auc(const Eigen::MatrixBase<D>& scores, const std::vector<int>& labels) {
    return average_precision(scores, labels);
}

// Counts with prediction "positive" iff score > threshold.
template <class D>
BinaryCounts confusion_at(const Eigen::MatrixBase<D>& scores, const std::vector<int>& labels, double threshold) {
    const std::vector<double> s = detail::checked_scores(scores, labels.size(), "confusion_at");
    if (std::isnan(threshold)) throw ConfigError("confusion_at: expected a threshold, found NaN");
    BinaryCounts c;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const bool predicted = s[i] > threshold, actual = labels[i] != 0;
        if (predicted && actual) ++c.tp;
        else if (predicted) ++c.fp;
        else if (actual) ++c.fn;
        else ++c.tn;
    }
    return c;
}

// Fraction of positives among the k highest scores (ties at the k-th score
// broken by position, as a stable sort leaves them).
template <class D>
double precision_at_k(const Eigen::MatrixBase<D>& scores, const std::vector<int>& labels, Index k) {
    const std::vector<double> s = detail::checked_scores(scores, labels.size(), "precision_at_k");
    if (k <= 0 || k > static_cast<Index>(s.size()))
        throw ConfigError("precision_at_k: expected 1 <= k <= " + std::to_string(s.size()) + ", found " + std::to_string(k));
    const auto idx = detail::order_descending(s);
    Index hits = 0;
    for (Index i = 0; i < k; ++i) hits += labels[idx[static_cast<std::size_t>(i)]] != 0;
    return static_cast<double>(hits) / static_cast<double>(k);
}

// neighbours: k x Q, column q holds the database indices found for query q
// (nearest first). Mean over queries of the fraction of the first k whose
// database label equals the query's label.
inline double retrieval_precision_at_k(const Eigen::Matrix<Index, Eigen::Dynamic, Eigen::Dynamic>& neighbours,
                                       const std::vector<int>& database_labels, const std::vector<int>& query_labels, Index k) {
    const std::string what = "retrieval_precision_at_k";
    if (neighbours.cols() != static_cast<Index>(query_labels.size()))
        throw ShapeError(what + ": expected one neighbour column per query label (" + std::to_string(query_labels.size()) +
                         "), found " + std::to_string(neighbours.cols()));
    if (neighbours.cols() == 0) throw DataError(what + ": expected at least one query, found none");
    if (k <= 0 || k > neighbours.rows())
        throw ConfigError(what + ": expected 1 <= k <= " + std::to_string(neighbours.rows()) + " (neighbours found per query), found " +
                          std::to_string(k));
    double total = 0;
    for (Index q = 0; q < neighbours.cols(); ++q) {
        Index hits = 0;
        for (Index i = 0; i < k; ++i) {
            const Index j = neighbours(i, q);
            if (j < 0 || j >= static_cast<Index>(database_labels.size()))
                throw ShapeError(what + ": expected database indices in [0, " + std::to_string(database_labels.size()) + "), found " +
                                 std::to_string(j));
            hits += database_labels[static_cast<std::size_t>(j)] == query_labels[static_cast<std::size_t>(q)];
        }
        total += static_cast<double>(hits) / static_cast<double>(k);
    }
    return total / static_cast<double>(neighbours.cols());
}

LATENT_NAMESPACE_END
