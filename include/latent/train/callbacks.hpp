// Callbacks: hooks fit() calls at the start, after each batch and after each
// epoch. Early stopping (with restore-best) and reduce-on-plateau live here;
// the progress bar and stop-on-NaN are built into fit().
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "latent/core/params.hpp"
#include "latent/train/history.hpp"

LATENT_NAMESPACE_BEGIN

// What a callback may change: stop training, scale the learning rate,
// and read or write the model's parameters.
template <class S>
struct TrainControl {
    ParamBuffer<S>* params = nullptr;
    double lr_scale = 1.0;  // multiplies the scheduled learning rate
    bool stop = false;
    std::string stop_reason;
    long restored_epoch = 0;
    int rank = 0;   // data-parallel training: this replica and how many there are; callbacks
    int ranks = 1;  // run on every replica with the same logs, and only rank 0 should write files
};

template <class S>
class Callback {
public:
    virtual ~Callback() = default;
    virtual void on_train_begin(TrainControl<S>&) {}
    virtual void on_batch_end(long /*step*/, double /*loss*/, TrainControl<S>&) {}
    virtual void on_epoch_end(const EpochLog&, TrainControl<S>&) {}
    virtual void on_train_end(TrainControl<S>&) {}
};

// Stops when the monitored loss (val_loss when there is validation data,
// else loss) has not improved by min_delta for `patience` epochs; with
// restore_best, puts back the parameters of the best epoch.
template <class S>
class EarlyStopping : public Callback<S> {
public:
    explicit EarlyStopping(long patience, double min_delta = 0.0, bool restore_best = true)
        : patience_(patience), min_delta_(min_delta), restore_(restore_best) {
        if (patience < 0) throw ConfigError("EarlyStopping: expected patience >= 0, found " + std::to_string(patience));
    }
    void on_train_begin(TrainControl<S>&) override {
        best_ = std::numeric_limits<double>::infinity();
        wait_ = 0;
        best_epoch_ = 0;
    }
    void on_epoch_end(const EpochLog& log, TrainControl<S>& ctl) override {
        const double v = log.has_val() ? log.val_loss : log.loss;
        if (v < best_ - min_delta_) {
            best_ = v;
            best_epoch_ = log.epoch;
            wait_ = 0;
            if (restore_) best_values_ = ctl.params->values();
        } else if (++wait_ >= std::max(patience_, 1L)) {  // Keras: stop after `patience` epochs without improvement
            ctl.stop = true;
            ctl.stop_reason = "early stopping: no improvement for " + std::to_string(wait_) + " epochs after epoch " +
                              std::to_string(best_epoch_);
        }
    }
    void on_train_end(TrainControl<S>& ctl) override {
        if (restore_ && best_epoch_ > 0 && best_values_.size() == ctl.params->size()) {
            ctl.params->values() = best_values_;
            ctl.restored_epoch = best_epoch_;
        }
    }
    double best() const { return best_; }
    long best_epoch() const { return best_epoch_; }

private:
    long patience_;
    double min_delta_;
    bool restore_;
    double best_ = std::numeric_limits<double>::infinity();
    long wait_ = 0;
    long best_epoch_ = 0;
    Vector<S> best_values_;
};

// Multiplies the learning rate by `factor` when the monitored loss has not
// improved for `patience` epochs (PyTorch ReduceLROnPlateau, mode min).
template <class S>
class ReduceLROnPlateau : public Callback<S> {
public:
    explicit ReduceLROnPlateau(double factor = 0.1, long patience = 10, double min_scale = 0.0, double min_delta = 1e-4)
        : factor_(factor), patience_(patience), min_scale_(min_scale), min_delta_(min_delta) {
        if (!(factor > 0 && factor < 1)) throw ConfigError("ReduceLROnPlateau: expected factor in (0, 1), found " + std::to_string(factor));
    }
    void on_train_begin(TrainControl<S>&) override {
        best_ = std::numeric_limits<double>::infinity();
        wait_ = 0;
    }
    void on_epoch_end(const EpochLog& log, TrainControl<S>& ctl) override {
        const double v = log.has_val() ? log.val_loss : log.loss;
        if (v < best_ * (1.0 - min_delta_)) {
            best_ = v;
            wait_ = 0;
        } else if (++wait_ > patience_) {
            ctl.lr_scale = std::max(min_scale_, ctl.lr_scale * factor_);
            wait_ = 0;
        }
    }

private:
    double factor_;
    long patience_;
    double min_scale_, min_delta_;
    double best_ = std::numeric_limits<double>::infinity();
    long wait_ = 0;
};

LATENT_NAMESPACE_END
