// Mini-batches over the columns of a features x N matrix, and a
// train/validation split.
//
//   latent::Rng rng(42);
//   latent::BatchIterator<float> it(x, 128, rng);          // shuffled, keeps the last short batch
//   for (int epoch = 0; epoch < 10; ++epoch)
//       while (it.next()) model.train_batch(it.x(), it.x()); // one full pass, then next() returns false once
//
// Every column appears exactly once per epoch (drop_last: the short last
// batch is skipped). Batch buffers are reused: after the first epoch the
// iterator allocates nothing. The iterator keeps pointers to x (and y,
// labels), which must outlive it.
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "latent/core/error.hpp"
#include "latent/core/rng.hpp"
#include "latent/core/tensor.hpp"

LATENT_NAMESPACE_BEGIN

// dst = src(:, idx[0..n)), resizing dst only when its shape changes.
template <class D, class S>
void gather_columns(const Eigen::MatrixBase<D>& src, const Index* idx, Index n, Matrix<S>& dst) {
    dst.resize(src.rows(), n);
    for (Index j = 0; j < n; ++j) dst.col(j) = src.col(idx[j]);
}

template <class S>
Matrix<S> take_columns(const Matrix<S>& src, const std::vector<Index>& idx) {
    for (Index i : idx)
        if (i < 0 || i >= src.cols())
            throw ShapeError("take_columns: expected indices in [0, " + std::to_string(src.cols()) + "), found " + std::to_string(i));
    Matrix<S> out;
    gather_columns(src, idx.data(), static_cast<Index>(idx.size()), out);
    return out;
}

template <class T>
std::vector<T> take(const std::vector<T>& src, const std::vector<Index>& idx) {
    std::vector<T> out;
    out.reserve(idx.size());
    for (Index i : idx) {
        if (i < 0 || i >= static_cast<Index>(src.size()))
            throw ShapeError("take: expected indices in [0, " + std::to_string(src.size()) + "), found " + std::to_string(i));
        out.push_back(src[static_cast<std::size_t>(i)]);
    }
    return out;
}

// The column order of one epoch and its division into batches.
//
// Shuffling permutes the previous epoch's order in place (Fisher-Yates from
// the caller's Rng), so one seed gives one sequence of epochs. With blocks
// (set_blocks, for data read from files), an epoch instead visits blocks of
// `block` consecutive samples in a random order and shuffles the samples of
// each `window` consecutive blocks of that order among themselves (a shuffle
// buffer of block * window samples): a reader then only ever needs one
// window's samples at a time, and reads each block in one piece.
class BatchSampler {
public:
    BatchSampler(Index n, Index batch_size, bool shuffle = true, bool drop_last = false)
        : n_(n), batch_(batch_size), shuffle_(shuffle), drop_last_(drop_last), order_(static_cast<std::size_t>(std::max<Index>(n, 0))) {
        if (n <= 0) throw DataError("BatchSampler: expected at least one sample, found " + std::to_string(n));
        if (batch_size <= 0) throw ConfigError("BatchSampler: expected batch_size > 0, found " + std::to_string(batch_size));
        if (drop_last && batch_size > n)
            throw ConfigError("BatchSampler: drop_last with batch_size " + std::to_string(batch_size) + " > " + std::to_string(n) +
                              " samples leaves no batch");
        std::iota(order_.begin(), order_.end(), Index{0});
        window_ends_ = {n_};
    }

    // Shuffle by blocks of `block` samples, `window` blocks at a time (block 0: the whole set at once).
    void set_blocks(Index block, Index window) {
        if (block < 0 || (block > 0 && window <= 0))
            throw ConfigError("BatchSampler: expected block >= 0 and window > 0, found block " + std::to_string(block) + ", window " +
                              std::to_string(window));
        block_ = block;
        window_ = window;
        std::iota(order_.begin(), order_.end(), Index{0});
        window_ends_.clear();
        visit_.clear();
        if (block_ == 0) {
            window_ends_.push_back(n_);
            return;
        }
        visit_.resize(static_cast<std::size_t>((n_ + block_ - 1) / block_));
        std::iota(visit_.begin(), visit_.end(), Index{0});
        const Index span = block_ * window_;  // window sizes are fixed; which blocks they hold changes per epoch
        for (Index e = std::min(span, n_);; e = std::min(e + span, n_)) {
            window_ends_.push_back(e);
            if (e == n_) break;
        }
    }

    // Starts an epoch: a fresh permutation when shuffling, else 0..n-1.
    void start_epoch(Rng& rng) {
        if (!shuffle_) return;
        if (block_ == 0) return rng.shuffle(order_);
        rng.shuffle(visit_);
        // The short last block (if any) goes last, so every window but the last holds block * window samples.
        const auto last = std::find(visit_.begin(), visit_.end(), static_cast<Index>(visit_.size()) - 1);
        std::rotate(last, last + 1, visit_.end());
        auto out = order_.begin();
        for (std::size_t w = 0; w < visit_.size(); w += static_cast<std::size_t>(window_)) {
            const auto first = out;
            for (std::size_t k = w; k < std::min(visit_.size(), w + static_cast<std::size_t>(window_)); ++k) {
                const Index b0 = visit_[k] * block_, b1 = std::min(b0 + block_, n_);
                for (Index i = b0; i < b1; ++i) *out++ = i;
            }
            window_buf_.assign(first, out);
            rng.shuffle(window_buf_);
            std::copy(window_buf_.begin(), window_buf_.end(), first);
        }
    }

    Index samples() const { return n_; }
    Index batch_size() const { return batch_; }
    // Batches per epoch.
    Index size() const { return drop_last_ ? n_ / batch_ : (n_ + batch_ - 1) / batch_; }
    Index batch_length(Index b) const { return std::min(batch_, n_ - b * batch_); }
    // Column indices of batch b (batch_length(b) of them).
    const Index* batch_indices(Index b) const {
        if (b < 0 || b >= size())
            throw ConfigError("BatchSampler: expected a batch in [0, " + std::to_string(size()) + "), found " + std::to_string(b));
        return order_.data() + b * batch_;
    }
    const std::vector<Index>& order() const { return order_; }
    // Positions in order() where each shuffle window ends (one window, n, without blocks).
    const std::vector<Index>& window_ends() const { return window_ends_; }
    // With blocks: the block size, blocks per window, and this epoch's block order
    // (window w holds block_order()[w * window() ...]).
    Index block() const { return block_; }
    Index window() const { return window_; }
    const std::vector<Index>& block_order() const { return visit_; }

private:
    Index n_, batch_;
    bool shuffle_, drop_last_;
    Index block_ = 0, window_ = 0;
    std::vector<Index> order_;
    std::vector<Index> window_ends_;
    std::vector<Index> visit_, window_buf_;
};

template <class S>
class BatchIterator {
public:
    // x: features x N inputs. y (optional): targets with N columns. labels (optional): N labels.
    BatchIterator(const Matrix<S>& x, Index batch_size, Rng& rng, bool shuffle = true, bool drop_last = false,
                  const Matrix<S>* y = nullptr, const std::vector<int>* labels = nullptr)
        : x_(&x), y_(y), labels_(labels), rng_(&rng), sampler_(x.cols(), batch_size, shuffle, drop_last) {
        if (y && y->cols() != x.cols())
            throw ShapeError("BatchIterator: expected targets with " + std::to_string(x.cols()) + " columns like the inputs, found " +
                             std::to_string(y->cols()));
        if (labels && static_cast<Index>(labels->size()) != x.cols())
            throw ShapeError("BatchIterator: expected " + std::to_string(x.cols()) + " labels, found " + std::to_string(labels->size()));
    }

    // Advances to the next batch; false (once) at the end of an epoch. The
    // call after that starts a new epoch.
    bool next() {
        if (pos_ < 0) {
            sampler_.start_epoch(*rng_);
            ++epoch_;
            pos_ = 0;
        }
        if (pos_ >= sampler_.size()) {
            pos_ = -1;
            return false;
        }
        const Index n = sampler_.batch_length(pos_);
        const Index* idx = sampler_.batch_indices(pos_);
        gather_columns(*x_, idx, n, xb_);
        if (y_) gather_columns(*y_, idx, n, yb_);
        if (labels_) {
            lb_.resize(static_cast<std::size_t>(n));
            for (Index j = 0; j < n; ++j) lb_[static_cast<std::size_t>(j)] = (*labels_)[static_cast<std::size_t>(idx[j])];
        }
        idx_.assign(idx, idx + n);
        ++pos_;
        return true;
    }

    const Matrix<S>& x() const { return xb_; }
    // Targets of the batch (the inputs when no targets were given).
    const Matrix<S>& y() const { return y_ ? yb_ : xb_; }
    const std::vector<int>& labels() const { return lb_; }
    // Column indices (into x) of the current batch.
    const std::vector<Index>& indices() const { return idx_; }
    Index batches_per_epoch() const { return sampler_.size(); }
    // Epochs started so far (1 during the first).
    long epoch() const { return epoch_; }
    // Index of the current batch within its epoch (0-based).
    Index batch_index() const { return pos_ - 1; }

private:
    const Matrix<S>* x_;
    const Matrix<S>* y_;
    const std::vector<int>* labels_;
    Rng* rng_;
    BatchSampler sampler_;
    Index pos_ = -1;
    long epoch_ = 0;
    Matrix<S> xb_, yb_;
    std::vector<int> lb_;
    std::vector<Index> idx_;
};

// Indices of a split of n samples: `val_fraction` of them (floor) for
// validation. With rng: a random split; without: the last ones, as Keras.
struct IndexSplit {
    std::vector<Index> train, val;
};

inline IndexSplit split_indices(Index n, double val_fraction, Rng* rng = nullptr) {
    if (!(val_fraction >= 0.0 && val_fraction < 1.0))
        throw ConfigError("split_indices: expected val_fraction in [0, 1), found " + std::to_string(val_fraction));
    const Index n_val = static_cast<Index>(std::floor(val_fraction * static_cast<double>(n)));
    if (n - n_val <= 0) throw DataError("split_indices: expected at least one training sample, found " + std::to_string(n) + " samples");
    std::vector<Index> order = rng ? rng->permutation(n) : std::vector<Index>(static_cast<std::size_t>(n));
    if (!rng) std::iota(order.begin(), order.end(), Index{0});
    IndexSplit s;
    s.train.assign(order.begin(), order.end() - n_val);
    s.val.assign(order.end() - n_val, order.end());
    return s;
}

template <class S>
struct DataSplit {
    Matrix<S> train_x, val_x;
    std::vector<int> train_labels, val_labels;  // empty when no labels were given
    IndexSplit indices;
};

// A random train/validation split of the columns of x (and of labels, when given).
template <class S>
DataSplit<S> train_validation_split(const Matrix<S>& x, double val_fraction, Rng& rng, const std::vector<int>& labels = {}) {
    if (!labels.empty() && static_cast<Index>(labels.size()) != x.cols())
        throw ShapeError("train_validation_split: expected " + std::to_string(x.cols()) + " labels, found " + std::to_string(labels.size()));
    DataSplit<S> d;
    d.indices = split_indices(x.cols(), val_fraction, &rng);
    d.train_x = take_columns(x, d.indices.train);
    d.val_x = take_columns(x, d.indices.val);
    if (!labels.empty()) {
        d.train_labels = take(labels, d.indices.train);
        d.val_labels = take(labels, d.indices.val);
    }
    return d;
}

LATENT_NAMESPACE_END
