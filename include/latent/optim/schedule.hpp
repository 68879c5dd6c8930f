// Learning-rate schedules: a factor on the base learning rate as a function
// of the (fractional) epoch, step / steps_per_epoch. The trainer applies it
// before every step. Reduce-on-plateau depends on validation loss and is a
// callback (train/callbacks.hpp).
#pragma once

#include "latent/core/abi.hpp"

#include <cmath>

#include "latent/core/error.hpp"

LATENT_NAMESPACE_BEGIN

class LRSchedule {
public:
    virtual ~LRSchedule() = default;
    virtual double factor(double epoch) const = 0;
};

// gamma^floor(epoch / step_epochs) (PyTorch StepLR).
class StepLR : public LRSchedule {
public:
    StepLR(double step_epochs, double gamma) : step_(step_epochs), gamma_(gamma) {
        if (!(step_epochs > 0)) throw ConfigError("StepLR: expected step_epochs > 0, found " + std::to_string(step_epochs));
        if (!(gamma > 0)) throw ConfigError("StepLR: expected gamma > 0, found " + std::to_string(gamma));
    }
    double factor(double epoch) const override { return std::pow(gamma_, std::floor(epoch / step_)); }

private:
    double step_, gamma_;
};

// gamma^floor(epoch) (PyTorch ExponentialLR, stepped per epoch).
class ExponentialLR : public LRSchedule {
public:
    explicit ExponentialLR(double gamma) : gamma_(gamma) {
        if (!(gamma > 0)) throw ConfigError("ExponentialLR: expected gamma > 0, found " + std::to_string(gamma));
    }
    double factor(double epoch) const override { return std::pow(gamma_, std::floor(epoch)); }

private:
    double gamma_;
};

// Linear warm-up from 0 over warmup_epochs, then cosine decay to min_factor at total_epochs.
class CosineLR : public LRSchedule {
public:
    CosineLR(double total_epochs, double warmup_epochs = 0.0, double min_factor = 0.0)
        : total_(total_epochs), warmup_(warmup_epochs), min_(min_factor) {
        if (!(total_epochs > 0)) throw ConfigError("CosineLR: expected total_epochs > 0, found " + std::to_string(total_epochs));
        if (!(warmup_epochs >= 0 && warmup_epochs < total_epochs))
            throw ConfigError("CosineLR: expected warmup_epochs in [0, total_epochs), found " + std::to_string(warmup_epochs));
    }
    double factor(double epoch) const override {
        if (epoch < warmup_) return (epoch + 1e-12) / warmup_;
        const double p = std::min(1.0, (epoch - warmup_) / (total_ - warmup_));
        return min_ + (1.0 - min_) * 0.5 * (1.0 + std::cos(3.14159265358979323846 * p));
    }

private:
    double total_, warmup_, min_;
};

LATENT_NAMESPACE_END
