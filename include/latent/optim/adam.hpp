// Adam (Kingma & Ba) and AdamW (Loshchilov & Hutter), PyTorch semantics:
//   Adam:  g' = g + wd * w;  AdamW: w -= lr * wd * w (decoupled), g' = g
//   m = b1 m + (1-b1) g';  v = b2 v + (1-b2) g'^2
//   w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
// Weight decay applies to decayed parameters (weights) only.
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <cmath>

#include "latent/optim/optimizer.hpp"

LATENT_NAMESPACE_BEGIN

// Every optimizer takes its learning rate alone, or an options struct with
// named fields (PyTorch's names and defaults) for the rest:
//   AdamOptions o;
//   o.lr = 3e-4;
//   o.weight_decay = 1e-4;
//   AdamW<float> opt(o);
struct AdamOptions {
    double lr = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0.0;
};
// AdamW's defaults differ only in the weight decay (PyTorch's 1e-2).
struct AdamWOptions : AdamOptions {
    explicit AdamWOptions(double learning_rate = 1e-3) {
        lr = learning_rate;
        weight_decay = 1e-2;
    }
};

template <class S>
class Adam : public Optimizer<S> {
    using typename Optimizer<S>::Ref;
    using typename Optimizer<S>::ConstRef;

public:
    using typename Optimizer<S>::Vec;
    explicit Adam(double lr = 1e-3) : Adam(AdamOptions{lr}) {}
    explicit Adam(const AdamOptions& o) : Adam(o, false) {}
    std::string name() const override { return decoupled_ ? "AdamW" : "Adam"; }
    std::vector<Vec*> state() override { return m_.size() ? std::vector<Vec*>{&m_, &v_} : std::vector<Vec*>{}; }

protected:
    void init_state(Index n) override {
        m_.setZero(n);
        v_.setZero(n);
    }
    void update(Index begin, Ref w, const ConstRef& g, const ConstRef& mask) override {
        const auto t = static_cast<double>(this->steps());
        const S lr = this->lr(), b1 = static_cast<S>(b1_), b2 = static_cast<S>(b2_), wd = static_cast<S>(wd_);
        const S c1 = static_cast<S>(1.0 - std::pow(b1_, t)), c2 = static_cast<S>(1.0 - std::pow(b2_, t));
        const S eps = static_cast<S>(eps_);
        // lr/c1 * m / (sqrt(v)/sqrt(c2) + eps), as PyTorch computes it
        const S step = lr / c1, denom_scale = S(1) / std::sqrt(c2);
        // Blocks that stay in L1 between the passes: each of w, g, m, v is
        // read from memory once per step (a big model is memory-bound here).
        const Index n = w.size(), block = 1024;
        for (Index start = 0; start < n; start += block) {
            const Index len = std::min(block, n - start);
            auto W = w.segment(start, len).array();
            auto M = m_.segment(begin + start, len).array();
            auto V = v_.segment(begin + start, len).array();
            const auto Dm = mask.segment(start, len).array();
            const auto G0 = g.segment(start, len).array();
            if (wd != S(0) && decoupled_) W -= (lr * wd) * Dm * W;
            if (wd != S(0) && !decoupled_) {
                const auto G = G0 + wd * Dm * W;
                M = b1 * M + (S(1) - b1) * G;
                V = b2 * V + (S(1) - b2) * G.square();
            } else {
                M = b1 * M + (S(1) - b1) * G0;
                V = b2 * V + (S(1) - b2) * G0.square();
            }
            W -= step * M / (V.sqrt() * denom_scale + eps);
        }
    }

protected:
    Adam(const AdamOptions& o, bool decoupled)
        : Optimizer<S>(o.lr), b1_(o.beta1), b2_(o.beta2), eps_(o.eps), wd_(o.weight_decay), decoupled_(decoupled) {
        const char* who = decoupled ? "AdamW" : "Adam";
        if (!(o.beta1 >= 0 && o.beta1 < 1)) throw ConfigError(std::string(who) + ": expected beta1 in [0, 1), found " + std::to_string(o.beta1));
        if (!(o.beta2 >= 0 && o.beta2 < 1)) throw ConfigError(std::string(who) + ": expected beta2 in [0, 1), found " + std::to_string(o.beta2));
        if (!(o.eps > 0)) throw ConfigError(std::string(who) + ": expected eps > 0, found " + std::to_string(o.eps));
        if (!(o.weight_decay >= 0))
            throw ConfigError(std::string(who) + ": expected weight_decay >= 0, found " + std::to_string(o.weight_decay));
    }

private:
    double b1_, b2_, eps_, wd_;
    bool decoupled_;
    Vec m_, v_;
};

template <class S>
class AdamW : public Adam<S> {
public:
    explicit AdamW(double lr = 1e-3) : AdamW(AdamWOptions(lr)) {}
    explicit AdamW(const AdamWOptions& o) : Adam<S>(o, true) {}
};

LATENT_NAMESPACE_END
