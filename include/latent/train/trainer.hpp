// fit(): mini-batch training of any Trainable with any Optimizer.
//
//   latent::FitOptions<float> opt;
//   opt.epochs = 20; opt.batch_size = 256; opt.validation_split = 0.1;
//   auto history = latent::fit(ae, adam, x_train, x_train, opt);
//
// Inputs and targets are features x N (one sample per column). A separate
// target lets denoising and imputation pass corrupted inputs with clean
// targets; `input_transform` corrupts each batch afresh every epoch.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>

#include "latent/optim/optimizer.hpp"
#include "latent/optim/schedule.hpp"
#include "latent/train/callbacks.hpp"
#include "latent/train/progress.hpp"
#include "latent/train/trainable.hpp"

namespace latent {

enum class OnNaN { throw_error, stop };

template <class S>
struct FitOptions {
    long epochs = 10;
    Index batch_size = 64;
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
    bool progress = true;                     // progress bar on stderr (only when it is a terminal)
    bool print_epochs = true;                 // a line per epoch on stderr (only when it is a terminal)
    OnNaN on_nan = OnNaN::throw_error;
};

namespace detail {

template <class S>
void gather_columns(const Matrix<S>& src, const std::vector<Index>& order, Index start, Index n, Matrix<S>& dst) {
    dst.resize(src.rows(), n);
    for (Index j = 0; j < n; ++j) dst.col(j) = src.col(order[static_cast<std::size_t>(start + j)]);
}

template <class S>
double evaluate_batches(Trainable<S>& model, const Matrix<S>& x, const Matrix<S>& y, const Matrix<S>* mask, Index batch,
                        Index begin, Index end, Matrix<S>& xb, Matrix<S>& yb, Matrix<S>& mb) {
    double total = 0;
    for (Index s = begin; s < end; s += batch) {
        const Index n = std::min(batch, end - s);
        xb = x.middleCols(s, n);
        yb = y.middleCols(s, n);
        if (mask) mb = mask->middleCols(s, n);
        total += static_cast<double>(model.eval_batch(xb, yb, mask ? &mb : nullptr)) * static_cast<double>(n);
    }
    return total / static_cast<double>(end - begin);
}

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

inline std::string format_epoch_line(const EpochLog& e, long epochs) {
    char buf[256];
    int k = std::snprintf(buf, sizeof buf, "epoch %ld/%ld  loss %.6g", e.epoch, epochs, e.loss);
    if (e.has_val()) k += std::snprintf(buf + k, sizeof buf - static_cast<std::size_t>(k), "  val %.6g", e.val_loss);
    for (const auto& p : e.parts)
        if (k < 200) k += std::snprintf(buf + k, sizeof buf - static_cast<std::size_t>(k), "  %s %.5g", p.first.c_str(), p.second);
    std::snprintf(buf + k, sizeof buf - static_cast<std::size_t>(k), "  %.0f samples/s  %.1fs", e.samples_per_second, e.seconds);
    return buf;
}

}  // namespace detail

template <class S>
History fit(Trainable<S>& model, Optimizer<S>& optimizer, const Matrix<S>& x, const Matrix<S>& y, const FitOptions<S>& o = {}) {
    using Mat = Matrix<S>;
    // Validate everything before the first step.
    if (o.epochs < 0) throw ConfigError("fit: expected epochs >= 0, found " + std::to_string(o.epochs));
    if (o.batch_size <= 0) throw ConfigError("fit: expected batch_size > 0, found " + std::to_string(o.batch_size));
    if (!(o.validation_split >= 0 && o.validation_split < 1))
        throw ConfigError("fit: expected validation_split in [0, 1), found " + std::to_string(o.validation_split));
    if (x.cols() == 0) throw DataError("fit: expected training data, found 0 samples");
    if (x.rows() != model.input_size())
        throw ShapeError("fit: expected inputs with " + std::to_string(model.input_size()) + " rows (features), found " +
                         std::to_string(x.rows()));
    if (y.rows() != model.target_size() || y.cols() != x.cols())
        throw ShapeError("fit: expected targets " + std::to_string(model.target_size()) + "x" + std::to_string(x.cols()) +
                         ", found " + detail::shape_of(y));
    if (o.mask && (o.mask->rows() != y.rows() || o.mask->cols() != y.cols()))
        throw ShapeError("fit: expected mask " + detail::shape_of(y) + " like the targets, found " + detail::shape_of(*o.mask));
    detail::check_finite(x, "fit inputs");
    detail::check_finite_observed(y, o.mask, "fit targets");
    if (o.val_x) {
        const Mat& vy = o.val_y ? *o.val_y : *o.val_x;
        if (o.val_x->rows() != x.rows() || vy.rows() != y.rows() || vy.cols() != o.val_x->cols())
            throw ShapeError("fit: expected validation inputs " + std::to_string(x.rows()) + "xN and targets " +
                             std::to_string(y.rows()) + "xN, found " + detail::shape_of(*o.val_x) + " and " + detail::shape_of(vy));
        if (o.val_mask && (o.val_mask->rows() != vy.rows() || o.val_mask->cols() != vy.cols()))
            throw ShapeError("fit: expected validation mask " + detail::shape_of(vy) + " like the validation targets, found " +
                             detail::shape_of(*o.val_mask));
        detail::check_finite(*o.val_x, "fit validation inputs");
        detail::check_finite_observed(vy, o.val_mask, "fit validation targets");
    }

    const Index n_val_split = o.val_x ? 0 : static_cast<Index>(std::floor(o.validation_split * static_cast<double>(x.cols())));
    const Index n_train = x.cols() - n_val_split;
    if (n_train <= 0) throw DataError("fit: validation_split leaves no training samples");

    Rng rng(o.seed);
    ParamBuffer<S>& params = model.params();
    TrainControl<S> ctl;
    ctl.params = &params;
    for (auto* cb : o.callbacks) cb->on_train_begin(ctl);

    const double base_lr = optimizer.learning_rate();
    const Index steps_per_epoch = (n_train + o.batch_size - 1) / o.batch_size;
    std::vector<Index> order(static_cast<std::size_t>(n_train));
    for (Index i = 0; i < n_train; ++i) order[static_cast<std::size_t>(i)] = i;

    Mat xb, yb, mb;
    History history;
    long step = 0;
    for (long epoch = 1; epoch <= o.epochs && !ctl.stop; ++epoch) {
        const auto t0 = std::chrono::steady_clock::now();
        if (o.shuffle) rng.shuffle(order);
        ProgressBar bar(static_cast<long>(steps_per_epoch), "epoch " + std::to_string(epoch) + "/" + std::to_string(o.epochs),
                        o.progress);
        double total = 0;
        bool diverged = false;
        std::vector<std::pair<std::string, double>> parts;
        for (Index b = 0; b < steps_per_epoch; ++b) {
            const Index start = b * o.batch_size, n = std::min(o.batch_size, n_train - start);
            detail::gather_columns(x, order, start, n, xb);
            detail::gather_columns(y, order, start, n, yb);
            if (o.mask) detail::gather_columns(*o.mask, order, start, n, mb);
            if (o.input_transform) o.input_transform(xb, rng);

            const double factor = o.schedule ? o.schedule->factor(static_cast<double>(step) / static_cast<double>(steps_per_epoch)) : 1.0;
            optimizer.set_learning_rate(base_lr * factor * ctl.lr_scale);
            params.zero_grad();
            const double loss = static_cast<double>(model.train_batch(xb, yb, o.mask ? &mb : nullptr));
            // allFinite, not a squared norm: large finite gradients overflow a float norm without diverging
            if (!std::isfinite(loss) || !params.grads().allFinite()) {
                const std::string msg = "fit: training diverged at epoch " + std::to_string(epoch) + ", batch " + std::to_string(b + 1) +
                                        ": loss is " + std::to_string(loss) + " (learning rate " +
                                        std::to_string(optimizer.learning_rate()) + "); lower the learning rate or clip gradients";
                if (o.on_nan == OnNaN::throw_error) {
                    optimizer.set_learning_rate(base_lr);  // as on a normal return: a retry starts from the base rate
                    throw NumericError(msg);
                }
                diverged = true;
                history.stop_reason = msg;
                break;
            }
            if (o.clip_norm > 0) clip_grad_norm(params, o.clip_norm);
            optimizer.step(params);
            ++step;
            total += loss * static_cast<double>(n);
            const auto lp = model.loss_parts();
            if (parts.size() != lp.size()) {
                parts = lp;
                for (auto& p : parts) p.second = 0;
            }
            for (std::size_t k = 0; k < lp.size(); ++k) parts[k].second += lp[k].second * static_cast<double>(n);
            for (auto* cb : o.callbacks) cb->on_batch_end(step, loss, ctl);
            char extra[96];
            std::snprintf(extra, sizeof extra, "loss %.5g  %.0f/s", total / static_cast<double>(start + n),
                          static_cast<double>(start + n) / std::max(bar.seconds(), 1e-9));
            bar.update(static_cast<long>(b + 1), extra);
        }
        if (diverged) break;

        EpochLog log;
        log.epoch = epoch;
        log.loss = total / static_cast<double>(n_train);
        for (auto& p : parts) p.second /= static_cast<double>(n_train);
        log.parts = parts;
        log.learning_rate = optimizer.learning_rate();
        if (o.val_x)
            log.val_loss = detail::evaluate_batches(model, *o.val_x, o.val_y ? *o.val_y : *o.val_x, o.val_mask, o.batch_size, 0,
                                                    o.val_x->cols(), xb, yb, mb);
        else if (n_val_split > 0)
            log.val_loss = detail::evaluate_batches(model, x, y, o.mask, o.batch_size, n_train, x.cols(), xb, yb, mb);
        log.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        log.samples_per_second = static_cast<double>(n_train) / std::max(log.seconds, 1e-9);
        bar.finish(detail::format_epoch_line(log, o.epochs));
        if (o.print_epochs && !bar.enabled() && stderr_is_terminal()) std::fprintf(stderr, "%s\n", detail::format_epoch_line(log, o.epochs).c_str());
        history.epochs.push_back(log);
        for (auto* cb : o.callbacks) cb->on_epoch_end(history.epochs.back(), ctl);
        if (ctl.stop) history.stop_reason = ctl.stop_reason;
    }
    for (auto* cb : o.callbacks) cb->on_train_end(ctl);
    history.best_epoch = ctl.restored_epoch;
    optimizer.set_learning_rate(base_lr);
    return history;
}

// Autoencoding: the targets are the inputs.
template <class S>
History fit(Trainable<S>& model, Optimizer<S>& optimizer, const Matrix<S>& x, const FitOptions<S>& o = {}) {
    return fit(model, optimizer, x, x, o);
}

}  // namespace latent
