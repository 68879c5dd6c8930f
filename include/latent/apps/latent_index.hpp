// Exact k-nearest-neighbour search over column vectors, and LatentIndex: the
// same search in an encoder's code space.
//
//   latent::LatentIndex<float> index(ae, latent::Metric::cosine);
//   index.add(x_train);                       // encodes once: code_dim x N
//   auto hits = index.search(x_queries, 10);  // hits.indices: 10 x Q, nearest first
//
// Distances are computed a block of queries at a time with one GEMM:
//   euclidean: ||q - x||^2 = ||q||^2 + ||x||^2 - 2 x^T q   (reported as the root)
//   cosine:    1 - (x / ||x||)^T (q / ||q||)                (a zero vector has distance 1 to everything)
// then the k smallest are selected per query (ties: the lower database index first).
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "latent/core/gemm.hpp"
#include "latent/core/tensor.hpp"
#include "latent/core/threads.hpp"
#include "latent/models/autoencoder.hpp"
#include "latent/serve/predictor.hpp"

LATENT_NAMESPACE_BEGIN

enum class Metric { euclidean, cosine };

inline const char* metric_name(Metric m) { return m == Metric::euclidean ? "euclidean" : "cosine"; }

// k x Q results: column q is query q's neighbours, nearest first.
template <class S>
struct KnnResult {
    Eigen::Matrix<Index, Eigen::Dynamic, Eigen::Dynamic> indices;
    Matrix<S> distances;
};

// Brute-force exact kNN over the columns of a d x N database.
template <class S>
class VectorIndex {
public:
    using Mat = Matrix<S>;

    explicit VectorIndex(Metric metric = Metric::euclidean) : metric_(metric) {}

    Metric metric() const { return metric_; }
    Index size() const { return data_.cols(); }
    Index dim() const { return data_.rows(); }
    const Mat& data() const { return data_; }

    // Appends the columns of `items` (d x n; all additions share d).
    void add(const Mat& items) {
        if (items.cols() == 0) throw DataError("VectorIndex::add: expected at least one item, found 0 columns");
        if (items.rows() == 0) throw ShapeError("VectorIndex::add: expected items with at least one feature, found 0 rows");
        if (size() > 0 && items.rows() != dim())
            throw ShapeError("VectorIndex::add: expected items of dimension " + std::to_string(dim()) + ", found " +
                             std::to_string(items.rows()));
        detail::check_finite(items, "VectorIndex::add");
        const Index old = size();
        data_.conservativeResize(items.rows(), old + items.cols());
        data_.rightCols(items.cols()) = items;
        Vector<S> norms2 = items.colwise().squaredNorm().transpose();
        sq_norms_.conservativeResize(old + items.cols());
        sq_norms_.tail(items.cols()) = norms2;
        if (metric_ == Metric::cosine) {
            unit_.conservativeResize(items.rows(), old + items.cols());
            for (Index j = 0; j < items.cols(); ++j) {
                const S n = std::sqrt(norms2(j));
                unit_.col(old + j) = n > S(0) ? (items.col(j) / n).eval() : Vector<S>::Zero(items.rows()).eval();
            }
        }
    }

    void clear() {
        data_.resize(0, 0);
        unit_.resize(0, 0);
        sq_norms_.resize(0);
    }

    // The k nearest database columns for each query column (queries: d x Q).
    KnnResult<S> search(const Mat& queries, Index k, Index batch_size = 256) const {
        if (size() == 0) throw DataError("VectorIndex::search: the index is empty; add items first");
        if (queries.rows() != dim())
            throw ShapeError("VectorIndex::search: expected queries of dimension " + std::to_string(dim()) + ", found " +
                             std::to_string(queries.rows()));
        if (k <= 0 || k > size())
            throw ConfigError("VectorIndex::search: expected 1 <= k <= " + std::to_string(size()) + " (the index size), found " +
                              std::to_string(k));
        detail::check_finite(queries, "VectorIndex::search queries");

        KnnResult<S> out;
        out.indices.resize(k, queries.cols());
        out.distances.resize(k, queries.cols());
        Mat q, d;                 // d x b query block, N x b distances
        RowVector<S> q_norms;     // ||q||^2 per query
        for_chunks(0, queries.cols(), batch_size, "VectorIndex::search", [&](Index start, Index b) {
            q = queries.middleCols(start, b);
            if (metric_ == Metric::cosine) {
                for (Index j = 0; j < b; ++j) {
                    const S n = q.col(j).norm();
                    if (n > S(0)) q.col(j) /= n;
                }
                d.resize(unit_.cols(), b);
                detail::matmul(d, unit_, true, q, false, false);
                d.array() = S(1) - d.array();
            } else {
                q_norms = q.colwise().squaredNorm();
                q *= S(-2);  // exact: x^T (-2 q) = -2 x^T q, without a pass over d
                d.resize(data_.cols(), b);
                detail::matmul(d, data_, true, q, false, false);
                d.colwise() += sq_norms_;
                d.rowwise() += q_norms;
            }
            // each query column on its own: the same result on any thread count
            detail::parallel_ranges(b, static_cast<double>(d.rows()), [&](Index j0, Index j1) {
                for (Index j = j0; j < j1; ++j) select_k(d.col(j), k, out, start + j);
            });
        });
        return out;
    }

private:
    // One scan of a distance column keeping the k smallest in ascending order
    // (insertion into a sorted run; strict < keeps the lower index first on ties).
    void select_k(const Eigen::Ref<const Vector<S>>& dist, Index k, KnnResult<S>& out, Index col) const {
        auto idx = out.indices.col(col);
        auto val = out.distances.col(col);
        Index filled = 0;
        for (Index i = 0; i < dist.size(); ++i) {
            const S v = dist(i);
            if (filled == k && !(v < val(k - 1))) continue;
            Index pos = filled < k ? filled++ : k - 1;
            while (pos > 0 && v < val(pos - 1)) {
                val(pos) = val(pos - 1);
                idx(pos) = idx(pos - 1);
                --pos;
            }
            val(pos) = v;
            idx(pos) = i;
        }
        if (metric_ == Metric::euclidean)  // rounding can make d^2 slightly negative
            for (Index i = 0; i < k; ++i) val(i) = std::sqrt(std::max(val(i), S(0)));
    }

    Metric metric_;
    Mat data_, unit_;
    Vector<S> sq_norms_;
};

// kNN search in code space: items and queries go through an encoder
// (inputs: input_dim x N), the index holds their codes.
template <class S>
class LatentIndex {
public:
    using Mat = Matrix<S>;
    using Encoder = std::function<Mat(const Mat&)>;

    // `encoder` maps input_dim x N to code_dim x N.
    LatentIndex(Encoder encoder, Index input_dim, Metric metric = Metric::euclidean)
        : encode_(std::move(encoder)), input_dim_(input_dim), index_(metric) {
        if (!encode_) throw ConfigError("LatentIndex: expected an encoder function, found an empty one");
        if (input_dim <= 0) throw ConfigError("LatentIndex: expected input_dim > 0, found " + std::to_string(input_dim));
    }
    // Uses the autoencoder's encoder; `model` must outlive the index.
    explicit LatentIndex(Autoencoder<S>& model, Metric metric = Metric::euclidean)
        : LatentIndex([&model](const Mat& x) { return model.encode(x); }, model.input_shape().size(), metric) {}

    Metric metric() const { return index_.metric(); }
    Index size() const { return index_.size(); }
    Index input_dim() const { return input_dim_; }
    Index code_dim() const { return index_.dim(); }
    const Mat& codes() const { return index_.data(); }

    // Encodes `items` (input_dim x N) and appends their codes.
    void add(const Mat& items) { index_.add(encode(items, "LatentIndex::add")); }

    // Adds already-encoded items (code_dim x N).
    void add_codes(const Mat& codes) { index_.add(codes); }

    KnnResult<S> search(const Mat& queries, Index k, Index batch_size = 256) const {
        return index_.search(encode(queries, "LatentIndex::search"), k, batch_size);
    }
    KnnResult<S> search_codes(const Mat& codes, Index k, Index batch_size = 256) const {
        return index_.search(codes, k, batch_size);
    }

    // The k nearest items to one input sample, nearest first, encoded by
    // the caller's predictor (made from the autoencoder the index was built
    // with): const, so many threads may query one shared index at once.
    std::vector<Index> query(const Eigen::Ref<const Vector<S>>& x, Index k, AutoencoderPredictor<S>& encoder) const {
        if (x.size() != input_dim_)
            throw ShapeError("LatentIndex::query: expected a sample with " + std::to_string(input_dim_) + " features, found " +
                             std::to_string(x.size()));
        const Mat& code = encoder.encode(x);
        if (code.rows() != code_dim())
            throw ShapeError("LatentIndex::query: expected a predictor giving codes of " + std::to_string(code_dim()) +
                             " values, found " + std::to_string(code.rows()));
        const KnnResult<S> r = index_.search(code, k);
        return std::vector<Index>(r.indices.data(), r.indices.data() + r.indices.size());
    }

    Mat encode(const Mat& x, const std::string& what = "LatentIndex::encode") const {
        if (x.rows() != input_dim_)
            throw ShapeError(what + ": expected inputs with " + std::to_string(input_dim_) + " features, found " +
                             std::to_string(x.rows()));
        if (x.cols() == 0) throw DataError(what + ": expected at least one column, found none");
        return encode_(x);
    }

private:
    Encoder encode_;
    Index input_dim_;
    VectorIndex<S> index_;
};

LATENT_NAMESPACE_END
