// fit(): mini-batch training of any Trainable with any Optimizer.
//
//   latent::FitOptions<float> opt;
//   opt.epochs = 20; opt.batch_size = 256; opt.validation_split = 0.1;
//   auto history = latent::fit(ae, adam, x_train, x_train, opt);
//
// Inputs and targets are features x N (one sample per column). A separate
// target lets denoising and imputation pass corrupted inputs with clean
// targets; `input_transform` corrupts each batch afresh every epoch.
//
// Data that does not fit in memory is read from a DataSource
// (data/source.hpp, data/file_source.hpp): fit(model, opt, source, options).
// Every batch, from a matrix or a file, goes through one BatchReader.
// Data-parallel training: set FitOptions::replicas (latent/distributed/mpi.hpp
// implements it over MPI); batch_size is then the global batch, each replica
// trains on its share of every batch, the gradients are summed (each replica
// receiving the sum over its share of the parameters), each replica steps the
// optimizer on its share, and the new values are gathered.
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>

#include "latent/data/source.hpp"
#include "latent/optim/optimizer.hpp"
#include "latent/optim/schedule.hpp"
#include "latent/train/callbacks.hpp"
#include "latent/train/progress.hpp"
#include "latent/train/trainable.hpp"

LATENT_NAMESPACE_BEGIN

enum class OnNaN { throw_error, stop };

// fit() as one of several data-parallel replicas of a model (processes, each
// with its own copy). latent/distributed/mpi.hpp implements it over MPI.
class Replicas {
public:
    virtual ~Replicas() = default;
    virtual int rank() const = 0;  // this replica, 0 .. size() - 1
    virtual int size() const = 0;
    // Afterwards every replica holds rank 0's values.
    virtual void broadcast(float* data, Index n) = 0;
    virtual void broadcast(double* data, Index n) = 0;
    // Afterwards every replica holds the element-wise sum over all replicas.
    virtual void sum(float* data, Index n) = 0;
    virtual void sum(double* data, Index n) = 0;

    // Replica r's share of n values: [shard_begin(n, r), shard_begin(n, r + 1)),
    // about n / size() each, cut at multiples of 16 values (whole cache lines).
    Index shard_begin(Index n, int r) const {
        const int ranks = size();
        if (r >= ranks) return n;
        return std::min(n, n * r / ranks / 16 * 16);
    }
    // Afterwards this replica's share of data holds weight x the
    // element-wise sum over all replicas (its other values are unspecified).
    // By default a sum, then the share scaled.
    virtual void reduce_scatter(float* data, Index n, float weight) { sum_then_scale(data, n, weight); }
    virtual void reduce_scatter(double* data, Index n, double weight) { sum_then_scale(data, n, weight); }
    // Afterwards every replica holds each replica's share of data. By default
    // a sum with zeros outside the own share (x + 0 is x exactly).
    virtual void all_gather(float* data, Index n) { gather_by_sum(data, n); }
    virtual void all_gather(double* data, Index n) { gather_by_sum(data, n); }

    // Optional: replicas on one machine may keep the parameters in memory
    // they all map, for the length of a fit: one copy of the values, read
    // by every replica and each share written by its own replica's
    // optimizer, and each replica's gradients where the others can read
    // them. reduce_scatter on those gradients then sums straight from the
    // other replicas' memory, and all_gather on those values has nothing to
    // move (every replica waits until all shares are written). attach lends
    // the buffer that memory (ParamBuffer::lend_storage) and returns true,
    // or returns false and changes nothing (the default); detach gives the
    // buffer its own storage back. Both are collective: every replica calls
    // them, and they agree. fit attaches only a model whose parameters are
    // all trained (BatchNorm's running statistics are each replica's own),
    // and detaches before the callbacks' on_train_end; until then callbacks
    // must not write the parameters (reading them is fine).
    virtual bool attach(ParamBuffer<float>&) { return false; }
    virtual bool attach(ParamBuffer<double>&) { return false; }
    virtual void detach(ParamBuffer<float>&) {}
    virtual void detach(ParamBuffer<double>&) {}

private:
    template <class S>
    void sum_then_scale(S* data, Index n, S weight) {
        sum(data, n);
        const Index b = shard_begin(n, rank());
        if (weight != S(1)) Eigen::Map<Vector<S>>(data + b, shard_begin(n, rank() + 1) - b) *= weight;
    }
    template <class S>
    void gather_by_sum(S* data, Index n) {
        std::fill(data, data + shard_begin(n, rank()), S(0));
        std::fill(data + shard_begin(n, rank() + 1), data + n, S(0));
        sum(data, n);
    }
};

template <class S>
struct FitOptions {
    long epochs = 10;
    Index batch_size = 64;                    // with replicas: the global batch, shared out between them
    bool shuffle = true;
    std::uint64_t seed = 0;                   // shuffling and input_transform draw from Rng(seed)
    double validation_split = 0.0;            // hold out this fraction of the columns (the last ones, as Keras)
    const Matrix<S>* val_x = nullptr;         // or pass validation data (targets default to val_x)
    const Matrix<S>* val_y = nullptr;
    const Matrix<S>* mask = nullptr;          // training mask, like y (1 = observed)
    const Matrix<S>* val_mask = nullptr;
    std::function<void(Matrix<S>& x, Rng& rng)> input_transform;  // corrupt a batch's inputs in place
    double clip_norm = 0.0;                   // clip the global gradient norm (0: off)
    std::shared_ptr<const LRSchedule> schedule;
    std::vector<Callback<S>*> callbacks;
    bool progress = true;                     // progress bar on stderr (only when it is a terminal; rank 0 only)
    bool print_epochs = true;                 // a line per epoch on stderr (only when it is a terminal; rank 0 only)
    OnNaN on_nan = OnNaN::throw_error;
    Replicas* replicas = nullptr;             // data-parallel training (latent/distributed/mpi.hpp); nullptr: this process alone
};

namespace detail {

inline std::string format_epoch_line(const EpochLog& e, long epochs) {
    char buf[256];
    int k = std::snprintf(buf, sizeof buf, "epoch %ld/%ld  loss %.6g", e.epoch, epochs, e.loss);
    if (e.has_val()) k += std::snprintf(buf + k, sizeof buf - static_cast<std::size_t>(k), "  val %.6g", e.val_loss);
    for (const auto& p : e.parts)
        if (k < 200) k += std::snprintf(buf + k, sizeof buf - static_cast<std::size_t>(k), "  %s %.5g", p.first.c_str(), p.second);
    std::snprintf(buf + k, sizeof buf - static_cast<std::size_t>(k), "  %.0f samples/s  %.1fs", e.samples_per_second, e.seconds);
    return buf;
}

template <class S>
void check_fit_options(const FitOptions<S>& o) {
    if (o.epochs < 0) throw ConfigError("fit: expected epochs >= 0, found " + std::to_string(o.epochs));
    if (o.batch_size <= 0) throw ConfigError("fit: expected batch_size > 0, found " + std::to_string(o.batch_size));
    if (!(o.validation_split >= 0 && o.validation_split < 1))
        throw ConfigError("fit: expected validation_split in [0, 1), found " + std::to_string(o.validation_split));
    const int ranks = o.replicas ? o.replicas->size() : 1;
    if (o.batch_size < ranks)
        throw ConfigError("fit: expected batch_size >= the number of replicas (" + std::to_string(ranks) + "), found " +
                          std::to_string(o.batch_size));
}

// Mean loss over a reader's samples (each replica its share, summed over replicas).
template <class S>
double evaluate_source(Trainable<S>& model, BatchReader<S>& reader, Index samples, Replicas* rep) {
    Rng unused(0);  // the reader does not shuffle
    reader.start_epoch(unused);
    double total = 0;
    while (reader.next())
        if (reader.local_length() > 0)
            total += static_cast<double>(model.eval_batch(reader.x(), reader.y(), reader.mask())) *
                     static_cast<double>(reader.local_length());
    if (rep) rep->sum(&total, 1);
    return total / static_cast<double>(samples);
}

// The values of the parameters that are not trained (BatchNorm's running
// statistics), copied out to `to` or back from `from`.
template <class S>
Index untrained_size(const ParamBuffer<S>& params) {
    Index count = 0;
    for (const auto& s : params.slots())
        if (!s.slot->trainable) count += s.slot->size();
    return count;
}
template <class S>
void copy_untrained(const ParamBuffer<S>& params, Vector<S>& to) {
    to.resize(untrained_size(params));
    Index k = 0;
    for (const auto& s : params.slots())
        if (!s.slot->trainable) {
            to.segment(k, s.slot->size()) = Eigen::Map<const Vector<S>>(s.slot->value, s.slot->size());
            k += s.slot->size();
        }
}
template <class S>
void restore_untrained(ParamBuffer<S>& params, const Vector<S>& from) {
    Index k = 0;
    for (const auto& s : params.slots())
        if (!s.slot->trainable) {
            Eigen::Map<Vector<S>>(s.slot->value, s.slot->size()) = from.segment(k, s.slot->size());
            k += s.slot->size();
        }
}

// Buffers that are not trained drift apart on replicas that see different
// samples: averaged over replicas once an epoch.
template <class S>
void average_untrained(ParamBuffer<S>& params, Replicas& rep, Vector<S>& scratch) {
    copy_untrained(params, scratch);
    if (scratch.size() == 0) return;
    rep.sum(scratch.data(), scratch.size());
    scratch /= static_cast<S>(rep.size());
    restore_untrained(params, scratch);
}

// One step's gradient exchange between replicas: afterwards this replica's
// share [begin, end) of the gradients holds the gradient of the global
// batch's mean loss (the sum over replicas of n_r / n times theirs), clipped
// to clip_norm when that is > 0. Returns false when the loss or a gradient on
// any replica is not finite (then on every replica).
template <class S>
bool exchange_gradients(ParamBuffer<S>& params, Replicas& rep, double loss, Index local_n, Index n, double clip_norm,
                        std::vector<double>& flags, Index& begin, Index& end) {
    auto& g = params.grads();
    const Index size = g.size();
    const int ranks = rep.size();
    begin = rep.shard_begin(size, rep.rank());
    end = rep.shard_begin(size, rep.rank() + 1);
    // Equal shares of the batch weigh 1 / ranks each: applied to the own share
    // as it is summed instead of to every gradient before.
    const bool equal = n % ranks == 0;
    if (!equal && local_n != n) g *= static_cast<S>(local_n) / static_cast<S>(n);
    rep.reduce_scatter(g.data(), size, equal ? S(1) / static_cast<S>(ranks) : S(1));
    auto own = g.segment(begin, end - begin);
    // flags: [replicas with a non-finite loss or gradient, each replica's share's norm]
    flags.assign(static_cast<std::size_t>(ranks) + 1, 0.0);
    flags[0] = std::isfinite(loss) && all_finite(own) ? 0.0 : 1.0;
    if (clip_norm > 0 && flags[0] == 0) flags[static_cast<std::size_t>(rep.rank()) + 1] = static_cast<double>(own.stableNorm());
    rep.sum(flags.data(), static_cast<Index>(flags.size()));
    if (flags[0] != 0) return false;
    if (clip_norm > 0) {  // the global norm from the shares' norms, without overflow
        const double top = *std::max_element(flags.begin() + 1, flags.end());
        double ss = 0;
        for (std::size_t r = 1; r < flags.size(); ++r) ss += top > 0 ? (flags[r] / top) * (flags[r] / top) : 0.0;
        const S norm = static_cast<S>(top * std::sqrt(ss));
        if (norm > static_cast<S>(clip_norm)) own *= static_cast<S>(clip_norm) / (norm + S(1e-6));  // as clip_grad_norm
    }
    return true;
}

// After each replica stepped its share of the parameters: every replica
// gets every share's new values (its untrained buffers, which it keeps
// between the epochs' averages, stay its own).
template <class S>
void gather_parameters(ParamBuffer<S>& params, Replicas& rep, Vector<S>& scratch) {
    copy_untrained(params, scratch);
    rep.all_gather(params.values().data(), params.size());
    if (scratch.size()) restore_untrained(params, scratch);
}

// The optimizer's state after replicas stepped shares: each holds the whole.
template <class S>
void gather_optimizer_state(Optimizer<S>& optimizer, Replicas& rep) {
    for (Vector<S>* v : optimizer.state()) rep.all_gather(v->data(), v->size());
}

// The training loop over the samples [0, n_train) of `train`; validation on
// the samples [val_begin, val_end) of `val` when it is given.
template <class S>
History fit_source(Trainable<S>& model, Optimizer<S>& optimizer, DataSource<S>& train, Index n_train, DataSource<S>* val,
                   Index val_begin, Index val_end, const FitOptions<S>& o) {
    using Mat = Matrix<S>;
    Replicas* rep = o.replicas;
    const int rank = rep ? rep->rank() : 0, ranks = rep ? rep->size() : 1;

    Rng rng(o.seed);  // the batch order: the same on every replica
    // input_transform's draws: with several replicas each has its own stream (drawing
    // from `rng` different amounts would make the replicas' batch orders drift apart).
    Rng local_rng(o.seed ^ (0x9e3779b97f4a7c15ull * static_cast<std::uint64_t>(rank + 1)));
    Rng& transform_rng = ranks > 1 ? local_rng : rng;
    ParamBuffer<S>& params = model.params();
    if (rep) rep->broadcast(params.values().data(), params.size());
    // Replicas on one machine: the parameters in memory they all map (see Replicas::attach).
    struct Attachment {
        Replicas* rep;
        ParamBuffer<S>& params;
        bool on;
        void release() {
            if (on) rep->detach(params);
            on = false;
        }
        ~Attachment() { release(); }
    } attached{rep, params, rep && untrained_size(params) == 0 && rep->attach(params)};
    TrainControl<S> ctl;
    ctl.params = &params;
    ctl.rank = rank;
    ctl.ranks = ranks;
    for (auto* cb : o.callbacks) cb->on_train_begin(ctl);

    const double base_lr = optimizer.learning_rate();
    BatchReader<S> reader(train, 0, n_train, o.batch_size, o.shuffle, rank, ranks);
    std::unique_ptr<BatchReader<S>> val_reader;
    if (val) val_reader = std::make_unique<BatchReader<S>>(*val, val_begin, val_end, o.batch_size, false, rank, ranks);
    const Index steps_per_epoch = reader.batches();
    model.on_fit_start(steps_per_epoch);

    Mat y_clean;
    Vector<S> scratch;
    std::vector<double> sums, flags;
    bool state_gathered = false;  // replicas: the optimizer's state exchanged (fit ends with it whole on each)
    History history;
    long step = 0;
    for (long epoch = 1; epoch <= o.epochs && !ctl.stop; ++epoch) {
        const auto t0 = std::chrono::steady_clock::now();
        reader.start_epoch(rng);
        ProgressBar bar(static_cast<long>(steps_per_epoch), "epoch " + std::to_string(epoch) + "/" + std::to_string(o.epochs),
                        o.progress && rank == 0);
        double total = 0;
        Index seen = 0, seen_local = 0;
        bool diverged = false;
        std::vector<std::pair<std::string, double>> parts;
        while (reader.next()) {
            const Index b = reader.batch_index(), n = reader.global_length(), nl = reader.local_length();
            Mat& xb = reader.x();
            const Mat* yb = &reader.y();
            if (o.input_transform && nl > 0) {
                if (!train.has_targets()) {  // the clean inputs are the targets
                    y_clean = xb;
                    yb = &y_clean;
                }
                o.input_transform(xb, transform_rng);
            }

            const double factor = o.schedule ? o.schedule->factor(static_cast<double>(step) / static_cast<double>(steps_per_epoch)) : 1.0;
            optimizer.set_learning_rate(base_lr * factor * ctl.lr_scale);
            params.zero_grad();
            // A replica without a sample in a short last batch contributes nothing.
            const double loss = nl > 0 ? static_cast<double>(model.train_batch(xb, *yb, reader.mask())) : 0.0;
            Index begin = 0, end = params.size();  // the parameters this replica steps
            const bool finite = rep ? exchange_gradients(params, *rep, loss, nl, n, o.clip_norm, flags, begin, end)
                                    : std::isfinite(loss) && all_finite(params.grads());
            // all_finite, not a squared norm: large finite gradients overflow a float norm without diverging
            if (!finite) {
                const std::string msg = "fit: training diverged at epoch " + std::to_string(epoch) + ", batch " + std::to_string(b + 1) +
                                        ": loss is " + std::to_string(loss) + " (learning rate " +
                                        std::to_string(optimizer.learning_rate()) + "); lower the learning rate or clip gradients";
                if (rep) gather_optimizer_state(optimizer, *rep);  // every replica stops here (the flags are summed)
                state_gathered = true;
                if (o.on_nan == OnNaN::throw_error) {
                    optimizer.set_learning_rate(base_lr);  // as on a normal return: a retry starts from the base rate
                    throw NumericError(msg);
                }
                diverged = true;
                history.stop_reason = msg;
                break;
            }
            if (!rep && o.clip_norm > 0) clip_grad_norm(params, o.clip_norm);
            optimizer.step(params, begin, end);
            if (rep) gather_parameters(params, *rep, scratch);
            ++step;
            total += loss * static_cast<double>(nl);
            const auto lp = model.loss_parts();
            if (parts.size() != lp.size()) {
                parts = lp;
                for (auto& p : parts) p.second = 0;
            }
            for (std::size_t k = 0; k < lp.size(); ++k) parts[k].second += lp[k].second * static_cast<double>(nl);
            for (auto* cb : o.callbacks) cb->on_batch_end(step, loss, ctl);
            seen += n;
            seen_local += nl;
            if (bar.enabled()) {
                char extra[96];
                std::snprintf(extra, sizeof extra, "loss %.5g  %.0f/s", total / static_cast<double>(std::max<Index>(seen_local, 1)),
                              static_cast<double>(seen) / std::max(bar.seconds(), 1e-9));
                bar.update(static_cast<long>(b + 1), extra);
            }
        }
        if (diverged) break;  // (the optimizer's state is gathered already)

        if (rep) {  // the epoch's loss over all replicas; BatchNorm statistics averaged
            sums.assign(1, total);
            for (const auto& p : parts) sums.push_back(p.second);
            rep->sum(sums.data(), static_cast<Index>(sums.size()));
            total = sums[0];
            for (std::size_t k = 0; k < parts.size(); ++k) parts[k].second = sums[k + 1];
            average_untrained(params, *rep, scratch);
        }
        EpochLog log;
        log.epoch = epoch;
        log.loss = total / static_cast<double>(n_train);
        for (auto& p : parts) p.second /= static_cast<double>(n_train);
        log.parts = parts;
        log.learning_rate = optimizer.learning_rate();
        if (val_reader) log.val_loss = evaluate_source(model, *val_reader, val_end - val_begin, rep);
        log.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        log.samples_per_second = static_cast<double>(n_train) / std::max(log.seconds, 1e-9);
        bar.finish(format_epoch_line(log, o.epochs));
        if (o.print_epochs && rank == 0 && !bar.enabled() && stderr_is_terminal())
            std::fprintf(stderr, "%s\n", format_epoch_line(log, o.epochs).c_str());
        history.epochs.push_back(log);
        for (auto* cb : o.callbacks) cb->on_epoch_end(history.epochs.back(), ctl);
        if (ctl.stop) history.stop_reason = ctl.stop_reason;
    }
    if (rep && !state_gathered) gather_optimizer_state(optimizer, *rep);
    attached.release();  // the parameters back in the model's own storage before callbacks may restore them
    for (auto* cb : o.callbacks) cb->on_train_end(ctl);
    history.best_epoch = ctl.restored_epoch;
    optimizer.set_learning_rate(base_lr);
    return history;
}

}  // namespace detail

template <class S>
History fit(Trainable<S>& model, Optimizer<S>& optimizer, const Matrix<S>& x, const Matrix<S>& y, const FitOptions<S>& o = {}) {
    using Mat = Matrix<S>;
    // Validate everything before the first step.
    detail::check_fit_options(o);
    if (x.cols() == 0) throw DataError("fit: expected training data, found 0 samples");
    if (x.rows() != model.input_size())
        throw ShapeError("fit: expected inputs with " + std::to_string(model.input_size()) + " rows (features), found " +
                         std::to_string(x.rows()));
    if (y.rows() != model.target_size() || y.cols() != x.cols())
        throw ShapeError("fit: expected targets " + std::to_string(model.target_size()) + "x" + std::to_string(x.cols()) +
                         ", found " + detail::shape_of(y));
    if (o.mask && (o.mask->rows() != y.rows() || o.mask->cols() != y.cols()))
        throw ShapeError("fit: expected mask " + detail::shape_of(y) + " like the targets, found " + detail::shape_of(*o.mask));
    // Autoencoding (y is x): each batch is read once and is its own target.
    MatrixSource<S> data(x, (&y == &x && !o.mask) ? nullptr : &y, o.mask, "fit");
    std::unique_ptr<MatrixSource<S>> val;
    if (o.val_x) {
        const Mat& vy = o.val_y ? *o.val_y : *o.val_x;
        if (o.val_x->rows() != x.rows() || vy.rows() != y.rows() || vy.cols() != o.val_x->cols())
            throw ShapeError("fit: expected validation inputs " + std::to_string(x.rows()) + "xN and targets " +
                             std::to_string(y.rows()) + "xN, found " + detail::shape_of(*o.val_x) + " and " + detail::shape_of(vy));
        val = std::make_unique<MatrixSource<S>>(*o.val_x, &vy, o.val_mask, "fit validation");
        if (o.val_x->cols() == 0) throw DataError("fit: expected validation data, found 0 samples");
    }

    const Index n_val_split = o.val_x ? 0 : static_cast<Index>(std::floor(o.validation_split * static_cast<double>(x.cols())));
    const Index n_train = x.cols() - n_val_split;
    if (n_train <= 0) throw DataError("fit: validation_split leaves no training samples");
    if (val) return detail::fit_source<S>(model, optimizer, data, n_train, val.get(), 0, val->samples(), o);
    return detail::fit_source<S>(model, optimizer, data, n_train, n_val_split > 0 ? &data : nullptr, n_train, x.cols(), o);
}

// Autoencoding: the targets are the inputs.
template <class S>
History fit(Trainable<S>& model, Optimizer<S>& optimizer, const Matrix<S>& x, const FitOptions<S>& o = {}) {
    return fit(model, optimizer, x, x, o);
}

// Training from a DataSource (in memory, or streamed from a file). Validation
// data comes from val_x/val_y/val_mask or is the source's last
// validation_split; a training mask comes with the source (MatrixSource).
template <class S>
History fit(Trainable<S>& model, Optimizer<S>& optimizer, DataSource<S>& train, const FitOptions<S>& o = {}) {
    using Mat = Matrix<S>;
    detail::check_fit_options(o);
    if (o.mask)
        throw ConfigError("fit: with a DataSource, expected the training mask to come with the source (MatrixSource), found FitOptions::mask");
    if (train.samples() == 0) throw DataError("fit: expected training data, found 0 samples");
    if (train.features() != model.input_size() || train.target_features() != model.target_size())
        throw ShapeError("fit: expected a source of " + std::to_string(model.input_size()) + " input and " +
                         std::to_string(model.target_size()) + " target features, found " + std::to_string(train.features()) +
                         " and " + std::to_string(train.target_features()));
    if (o.val_x) {
        const Mat& vy = o.val_y ? *o.val_y : *o.val_x;
        if (o.val_x->rows() != train.features() || vy.rows() != train.target_features() || vy.cols() != o.val_x->cols() ||
            o.val_x->cols() == 0)
            throw ShapeError("fit: expected validation inputs " + std::to_string(train.features()) + "xN and targets " +
                             std::to_string(train.target_features()) + "xN with N > 0, found " + detail::shape_of(*o.val_x) +
                             " and " + detail::shape_of(vy));
        MatrixSource<S> val(*o.val_x, &vy, o.val_mask, "fit validation");
        return detail::fit_source<S>(model, optimizer, train, train.samples(), &val, 0, val.samples(), o);
    }
    const Index n_val_split = static_cast<Index>(std::floor(o.validation_split * static_cast<double>(train.samples())));
    const Index n_train = train.samples() - n_val_split;
    if (n_train <= 0) throw DataError("fit: validation_split leaves no training samples");
    return detail::fit_source<S>(model, optimizer, train, n_train, n_val_split > 0 ? &train : nullptr, n_train, train.samples(), o);
}

LATENT_NAMESPACE_END
