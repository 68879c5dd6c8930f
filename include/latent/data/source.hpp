// Where fit() reads its samples from: a DataSource, read batch by batch
// through a BatchReader (the one batching path of the library).
//
//   latent::MatrixSource<float> data(x);                 // in memory (what fit(model, opt, x) uses)
//   latent::NpySource<float> big("train.npy");           // memory-mapped, bounded resident memory
//   auto history = latent::fit(ae, adam, big, opt);      // (data/file_source.hpp)
//
// A source hands out samples by index, one per column. File sources say how
// they like to be read (blocks of consecutive samples, how many blocks one
// shuffle window may hold, whether a background thread should read ahead);
// the reader shuffles by blocks accordingly and tells the source when a
// window's samples are no longer needed, so what stays resident is bounded
// by the window, not by the file.
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "latent/core/error.hpp"
#include "latent/core/rng.hpp"
#include "latent/core/tensor.hpp"
#include "latent/data/batches.hpp"

LATENT_NAMESPACE_BEGIN

// How a file source is read.
struct StreamOptions {
    Index block = 1024;    // samples read in one piece; shuffling visits blocks in a random order
    Index window = 16;     // blocks shuffled together: the shuffle buffer holds block * window samples
    bool prefetch = true;  // read the next batch on a background thread while the current one trains
};

template <class S>
class DataSource {
public:
    virtual ~DataSource() = default;

    virtual Index samples() const = 0;
    // Rows of an input batch, and of a target batch.
    virtual Index features() const = 0;
    virtual Index target_features() const { return features(); }
    // Without targets, the targets are the inputs (autoencoding).
    virtual bool has_targets() const { return false; }
    virtual bool has_mask() const { return false; }

    // x = the samples idx[0..n), one per column (and y, mask when the source has them).
    virtual void gather(const Index* idx, Index n, Matrix<S>& x, Matrix<S>* y, Matrix<S>* mask) = 0;

    // Reading hints: block 0 means random access is free (data in memory).
    virtual StreamOptions stream_options() const { return {0, 0, false}; }
    // The samples [begin, end) will not be read again this epoch.
    virtual void release(Index /*begin*/, Index /*end*/) {}
    // True when every value was checked finite already (else each batch is).
    virtual bool values_checked() const { return false; }
};

namespace detail {

// Targets may hold NaN where a mask marks them unobserved (missing values).
template <class S>
void check_finite_observed(const Matrix<S>& y, const Matrix<S>* mask, const std::string& what) {
    if (!mask) return check_finite(y, what);
    for (Index j = 0; j < y.cols(); ++j)
        for (Index i = 0; i < y.rows(); ++i)
            if ((*mask)(i, j) != S(0) && !std::isfinite(static_cast<double>(y(i, j))))
                throw DataError(what + ": expected finite values where the mask is non-zero, found " +
                                std::to_string(static_cast<double>(y(i, j))) + " at row " + std::to_string(i) + ", column " +
                                std::to_string(j));
}

}  // namespace detail

// Matrices in memory: x (features x N), optional targets y and mask (like y).
// They are checked (shapes, finite values) once here and must outlive the source.
template <class S>
class MatrixSource : public DataSource<S> {
public:
    // what: names the data in error messages ("fit" gives "fit inputs", "fit targets").
    explicit MatrixSource(const Matrix<S>& x, const Matrix<S>* y = nullptr, const Matrix<S>* mask = nullptr,
                          const std::string& what = "MatrixSource")
        : x_(&x), y_(y), mask_(mask) {
        const Matrix<S>& t = y ? *y : x;
        if (y && y->cols() != x.cols())
            throw ShapeError(what + ": expected targets with " + std::to_string(x.cols()) + " columns like the inputs, found " +
                             detail::shape_of(*y));
        if (mask && (mask->rows() != t.rows() || mask->cols() != t.cols()))
            throw ShapeError(what + ": expected mask " + detail::shape_of(t) + " like the targets, found " + detail::shape_of(*mask));
        detail::check_finite(x, what + " inputs");
        if (y || mask) detail::check_finite_observed(t, mask, what + " targets");
    }

    Index samples() const override { return x_->cols(); }
    Index features() const override { return x_->rows(); }
    Index target_features() const override { return y_ ? y_->rows() : x_->rows(); }
    bool has_targets() const override { return y_ != nullptr || mask_ != nullptr; }
    bool has_mask() const override { return mask_ != nullptr; }
    bool values_checked() const override { return true; }

    void gather(const Index* idx, Index n, Matrix<S>& x, Matrix<S>* y, Matrix<S>* mask) override {
        gather_columns(*x_, idx, n, x);
        if (y) gather_columns(y_ ? *y_ : *x_, idx, n, *y);
        if (mask && mask_) gather_columns(*mask_, idx, n, *mask);
    }

private:
    const Matrix<S>* x_;
    const Matrix<S>* y_;
    const Matrix<S>* mask_;
};

// Batches of the samples [begin, end) of a source, in the order of a
// BatchSampler, optionally one replica's share of each batch (rank r of R
// takes columns [n r / R, n (r + 1) / R) of every n-sample batch), read
// ahead on a background thread when the source asks for it. Buffers are
// reused: after the first epoch reading allocates nothing.
template <class S>
class BatchReader {
public:
    BatchReader(DataSource<S>& source, Index begin, Index end, Index batch_size, bool shuffle, int rank = 0, int ranks = 1)
        : src_(&source), begin_(begin), sampler_(end - begin, batch_size, shuffle), rank_(rank), ranks_(ranks) {
        if (begin < 0 || end > source.samples() || begin >= end)
            throw ConfigError("BatchReader: expected a non-empty range within [0, " + std::to_string(source.samples()) + "), found [" +
                              std::to_string(begin) + ", " + std::to_string(end) + ")");
        if (ranks < 1 || rank < 0 || rank >= ranks)
            throw ConfigError("BatchReader: expected rank in [0, " + std::to_string(ranks) + "), found " + std::to_string(rank));
        const StreamOptions so = source.stream_options();
        if (so.block > 0) sampler_.set_blocks(so.block, so.window);
        if (so.prefetch) worker_ = std::thread([this] { work(); });
    }
    ~BatchReader() {
        if (!worker_.joinable()) return;
        {
            std::lock_guard<std::mutex> lock(mu_);
            quit_ = true;
        }
        cv_.notify_all();
        worker_.join();
    }
    BatchReader(const BatchReader&) = delete;
    BatchReader& operator=(const BatchReader&) = delete;

    Index batches() const { return sampler_.size(); }
    const BatchSampler& sampler() const { return sampler_; }

    // Starts an epoch (a new order when shuffling); then next() yields batches 0, 1, ...
    void start_epoch(Rng& rng) {
        wait_idle();
        sampler_.start_epoch(rng);
        next_ = 0;
        released_ = 0;
        if (worker_.joinable()) submit(0);
    }

    // Makes the next batch current; false after the last one of the epoch.
    bool next() {
        if (next_ >= batches()) return false;
        const Index b = next_++;
        cur_ = static_cast<int>(b % 2);
        if (worker_.joinable()) {
            wait_idle();
            if (b + 1 < batches()) submit(b + 1);
        } else {
            load(b, slots_[cur_]);
        }
        batch_ = b;
        return true;
    }

    // The current batch: its index, its global size, this replica's columns.
    Index batch_index() const { return batch_; }
    Index global_length() const { return sampler_.batch_length(batch_); }
    Index local_length() const { return slots_[cur_].local; }
    Matrix<S>& x() { return slots_[cur_].x; }
    // Targets (the inputs when the source has none) and mask (nullptr when none).
    Matrix<S>& y() { return src_->has_targets() ? slots_[cur_].y : slots_[cur_].x; }
    const Matrix<S>* mask() const { return src_->has_mask() ? &slots_[cur_].m : nullptr; }

private:
    struct Slot {
        Matrix<S> x, y, m;
        Index local = 0;
    };

    // This replica's share of batch b into slot, then release the windows it completes.
    void load(Index b, Slot& slot) {
        const Index n = sampler_.batch_length(b);
        const Index lo = n * rank_ / ranks_, hi = n * (rank_ + 1) / ranks_;
        const Index* idx = sampler_.batch_indices(b);
        idx_.resize(static_cast<std::size_t>(hi - lo));
        for (Index j = lo; j < hi; ++j) idx_[static_cast<std::size_t>(j - lo)] = begin_ + idx[j];
        slot.local = hi - lo;
        if (hi > lo) {
            src_->gather(idx_.data(), hi - lo, slot.x, src_->has_targets() ? &slot.y : nullptr, src_->has_mask() ? &slot.m : nullptr);
            if (!src_->values_checked()) {
                detail::check_finite(slot.x, "batch inputs");
                if (src_->has_targets()) detail::check_finite_observed(slot.y, src_->has_mask() ? &slot.m : nullptr, "batch targets");
            }
        } else {
            slot.x.resize(src_->features(), 0);
        }
        release_through(b * sampler_.batch_size() + n);
    }

    // Tell the source about every window that ends at or before position `done`.
    void release_through(Index done) {
        const auto& ends = sampler_.window_ends();
        while (released_ < static_cast<Index>(ends.size()) && ends[static_cast<std::size_t>(released_)] <= done) {
            const Index w = released_++;
            if (sampler_.block() == 0) {
                src_->release(begin_, begin_ + sampler_.samples());
                continue;
            }
            const auto& blocks = sampler_.block_order();
            const Index k0 = w * sampler_.window(), k1 = std::min<Index>(k0 + sampler_.window(), static_cast<Index>(blocks.size()));
            for (Index k = k0; k < k1; ++k) {
                const Index b0 = blocks[static_cast<std::size_t>(k)] * sampler_.block();
                src_->release(begin_ + b0, begin_ + std::min(b0 + sampler_.block(), sampler_.samples()));
            }
        }
    }

    void submit(Index b) {
        {
            std::lock_guard<std::mutex> lock(mu_);
            job_ = b;
        }
        cv_.notify_all();
    }
    // Waits until the worker has no job; rethrows what it threw.
    void wait_idle() {
        if (!worker_.joinable()) return;
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return job_ < 0; });
        if (error_) {
            std::exception_ptr e = error_;
            error_ = nullptr;
            std::rethrow_exception(e);
        }
    }
    void work() {
        std::unique_lock<std::mutex> lock(mu_);
        for (;;) {
            cv_.wait(lock, [this] { return quit_ || job_ >= 0; });
            if (quit_) return;
            const Index b = job_;
            lock.unlock();
            std::exception_ptr err;
            try {
                load(b, slots_[b % 2]);
            } catch (...) {
                err = std::current_exception();
            }
            lock.lock();
            error_ = err;
            job_ = -1;
            cv_.notify_all();
        }
    }

    DataSource<S>* src_;
    Index begin_;
    BatchSampler sampler_;
    int rank_, ranks_;
    Slot slots_[2];
    int cur_ = 0;
    Index next_ = 0, batch_ = 0, released_ = 0;
    std::vector<Index> idx_;

    std::thread worker_;
    std::mutex mu_;
    std::condition_variable cv_;
    Index job_ = -1;
    bool quit_ = false;
    std::exception_ptr error_;
};

LATENT_NAMESPACE_END
