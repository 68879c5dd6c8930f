// SGD with momentum and Nesterov, PyTorch semantics:
//   g' = g + wd * w (decayed params only);  v = mu v + g';
//   step = nesterov ? g' + mu v : v;  w -= lr * step
#pragma once

#include "latent/core/abi.hpp"

#include "latent/optim/optimizer.hpp"

LATENT_NAMESPACE_BEGIN

// The learning rate alone, or named fields (see AdamOptions).
struct SGDOptions {
    double lr = 1e-2;
    double momentum = 0.0;
    bool nesterov = false;
    double weight_decay = 0.0;
};

template <class S>
class SGD : public Optimizer<S> {
    using typename Optimizer<S>::Ref;
    using typename Optimizer<S>::ConstRef;

public:
    using typename Optimizer<S>::Vec;
    explicit SGD(double lr) : SGD(SGDOptions{lr}) {}
    explicit SGD(const SGDOptions& o) : Optimizer<S>(o.lr), momentum_(o.momentum), nesterov_(o.nesterov), wd_(o.weight_decay) {
        if (!(o.momentum >= 0 && o.momentum < 1)) throw ConfigError("SGD: expected momentum in [0, 1), found " + std::to_string(o.momentum));
        if (o.nesterov && o.momentum == 0) throw ConfigError("SGD: Nesterov needs momentum > 0, found 0");
        if (!(o.weight_decay >= 0)) throw ConfigError("SGD: expected weight_decay >= 0, found " + std::to_string(o.weight_decay));
    }
    std::string name() const override { return "SGD"; }
    std::vector<Vec*> state() override { return v_.size() ? std::vector<Vec*>{&v_} : std::vector<Vec*>{}; }

protected:
    void init_state(Index n) override { v_.setZero(n); }
    void update(Index begin, Ref w, const ConstRef& g, const ConstRef& mask) override {
        const S lr = this->lr(), mu = static_cast<S>(momentum_), wd = static_cast<S>(wd_);
        if (wd != S(0)) {
            d_ = g + wd * mask.cwiseProduct(w);
        } else {
            d_ = g;
        }
        if (mu == S(0)) {
            w -= lr * d_;
            return;
        }
        auto v = v_.segment(begin, w.size());
        v = mu * v + d_;
        if (nesterov_)
            w -= lr * (d_ + mu * v);
        else
            w -= lr * v;
    }

private:
    double momentum_;
    bool nesterov_;
    double wd_;
    Vec v_, d_;
};

LATENT_NAMESPACE_END
