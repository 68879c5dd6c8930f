// Optimizers see one flat parameter vector, one gradient vector and one step
// counter, advanced once per step (not once per layer).
#pragma once

#include "latent/core/abi.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "latent/core/math.hpp"
#include "latent/core/params.hpp"

LATENT_NAMESPACE_BEGIN

template <class S>
class Optimizer {
public:
    using Vec = Vector<S>;

    explicit Optimizer(double learning_rate) : lr_(learning_rate) { check_lr(learning_rate); }
    virtual ~Optimizer() = default;
    virtual std::string name() const = 0;

    // One update of every parameter from the accumulated gradients.
    void step(ParamBuffer<S>& params) { step(params, 0, params.size()); }

    // One step that updates only the parameters [begin, end) (and their part
    // of the optimizer's state): data-parallel replicas each step their own
    // share of the model (fit does this with FitOptions::replicas) and then
    // exchange the updated values. Every update is element-wise, so the
    // shares together give exactly what one full step gives. Each replica
    // calls this once per step (the step count, and with it Adam's bias
    // correction, advances once).
    void step(ParamBuffer<S>& params, Index begin, Index end) {
        if (params.size() == 0) throw Error(name() + ": expected a model with parameters, found none (is it built?)");
        if (size_ != params.size()) {
            if (size_ != 0)
                throw ShapeError(name() + ": this optimizer holds state for " + std::to_string(size_) +
                                 " parameters, found a model with " + std::to_string(params.size()) +
                                 "; use one optimizer per model or call reset()");
            size_ = params.size();
            init_state(size_);
        }
        if (begin < 0 || begin > end || end > params.size())
            throw ShapeError(name() + ": expected a parameter range within [0, " + std::to_string(params.size()) + "], found [" +
                             std::to_string(begin) + ", " + std::to_string(end) + ")");
        ++steps_;
        const Vec& mask = decay_all_ ? trainable_mask(params) : params.decay_mask();
        const Index n = end - begin;
        detail::FlushSubnormals flush;  // moments decaying below 1e-38 would slow every step 10x (core/math.hpp)
        update(begin, params.values().segment(begin, n), params.grads().segment(begin, n), mask.segment(begin, n));
    }

    // The per-parameter state vectors (Adam's two moments, SGD's momentum,
    // ...), each as long as the model's parameters; empty before the first
    // step. Replicas that stepped shares of the model exchange them at the
    // end of fit, so every replica ends holding the whole state.
    virtual std::vector<Vec*> state() = 0;

    // Weight decay reaches weights only by default (biases and BatchNorm's
    // scale and shift are exempt, as Keras and most recipes do). PyTorch's
    // optimizers decay every parameter they are given: set_decay_all(true)
    // does the same (every trainable parameter; never BatchNorm's running
    // statistics, which torch keeps as buffers).
    void set_decay_all(bool all) { decay_all_ = all; }
    bool decay_all() const { return decay_all_; }

    double learning_rate() const { return lr_; }
    void set_learning_rate(double lr) {
        check_lr(lr);
        lr_ = lr;
    }
    long steps() const { return steps_; }

    // Forget the moment estimates and the step count.
    void reset() {
        size_ = 0;
        steps_ = 0;
        all_mask_.resize(0);
    }

protected:
    using Ref = Eigen::Ref<Vec>;
    using ConstRef = Eigen::Ref<const Vec>;
    virtual void init_state(Index n) = 0;
    // Update w, the parameters [begin, begin + w.size()), from their
    // gradients g; the state's matching part is segment(begin, w.size()).
    virtual void update(Index begin, Ref w, const ConstRef& g, const ConstRef& decay_mask) = 0;
    S lr() const { return static_cast<S>(lr_); }

private:
    // 1 for every trainable parameter (built once per model size).
    const Vec& trainable_mask(const ParamBuffer<S>& params) {
        if (all_mask_.size() != params.size()) {
            all_mask_.setZero(params.size());
            Index offset = 0;
            for (const auto& s : params.slots()) {
                if (s.slot->trainable) all_mask_.segment(offset, s.slot->size()).setOnes();
                offset += s.slot->size();
            }
        }
        return all_mask_;
    }

    void check_lr(double lr) const {
        if (!(lr >= 0.0) || !std::isfinite(lr))
            throw ConfigError("optimizer: expected a finite learning rate >= 0, found " + std::to_string(lr));
    }
    double lr_;
    long steps_ = 0;
    Index size_ = 0;
    bool decay_all_ = false;
    Vec all_mask_;
};

// Scale the gradients so their global L2 norm is at most max_norm; returns
// the norm before clipping (PyTorch's clip_grad_norm_).
template <class S>
S clip_grad_norm(ParamBuffer<S>& params, double max_norm) {
    if (!(max_norm > 0)) throw ConfigError("clip_grad_norm: expected max_norm > 0, found " + std::to_string(max_norm));
    const S norm = params.grads().stableNorm();  // scaled: no overflow on large finite gradients
    if (norm > static_cast<S>(max_norm)) params.grads() *= static_cast<S>(max_norm) / (norm + S(1e-6));
    return norm;
}

LATENT_NAMESPACE_END
