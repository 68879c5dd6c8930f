// RMSProp and AdaGrad, PyTorch semantics (eps outside the square root).
//   RMSProp: v = a v + (1-a) g^2;  w -= lr g / (sqrt(v) + eps)   (momentum optional)
//   AdaGrad: s += g^2;             w -= lr g / (sqrt(s) + eps)
#pragma once

#include "latent/core/abi.hpp"

#include "latent/optim/optimizer.hpp"

LATENT_NAMESPACE_BEGIN

// The learning rate alone, or named fields (see AdamOptions).
struct RMSPropOptions {
    double lr = 1e-2;
    double alpha = 0.99;
    double eps = 1e-8;
    double momentum = 0.0;
};
struct AdaGradOptions {
    double lr = 1e-2;
    double eps = 1e-10;
};

template <class S>
class RMSProp : public Optimizer<S> {
    using typename Optimizer<S>::Ref;
    using typename Optimizer<S>::ConstRef;

public:
    using typename Optimizer<S>::Vec;
    explicit RMSProp(double lr = 1e-2) : RMSProp(RMSPropOptions{lr}) {}
    explicit RMSProp(const RMSPropOptions& o) : Optimizer<S>(o.lr), alpha_(o.alpha), eps_(o.eps), momentum_(o.momentum) {
        if (!(o.alpha >= 0 && o.alpha < 1)) throw ConfigError("RMSProp: expected alpha in [0, 1), found " + std::to_string(o.alpha));
        if (!(o.eps > 0)) throw ConfigError("RMSProp: expected eps > 0, found " + std::to_string(o.eps));
        if (!(o.momentum >= 0 && o.momentum < 1))
            throw ConfigError("RMSProp: expected momentum in [0, 1), found " + std::to_string(o.momentum));
    }
    std::string name() const override { return "RMSProp"; }
    std::vector<Vec*> state() override { return v_.size() ? std::vector<Vec*>{&v_, &buf_} : std::vector<Vec*>{}; }

protected:
    void init_state(Index n) override {
        v_.setZero(n);
        buf_.setZero(n);
    }
    void update(Index begin, Ref w, const ConstRef& g, const ConstRef&) override {
        const S a = static_cast<S>(alpha_), lr = this->lr(), eps = static_cast<S>(eps_), mu = static_cast<S>(momentum_);
        auto v = v_.segment(begin, w.size()).array();
        v = a * v + (S(1) - a) * g.array().square();
        if (mu > S(0)) {
            auto buf = buf_.segment(begin, w.size());
            buf.array() = mu * buf.array() + g.array() / (v.sqrt() + eps);
            w -= lr * buf;
        } else {
            w.array() -= lr * g.array() / (v.sqrt() + eps);
        }
    }

private:
    double alpha_, eps_, momentum_;
    Vec v_, buf_;
};

template <class S>
class AdaGrad : public Optimizer<S> {
    using typename Optimizer<S>::Ref;
    using typename Optimizer<S>::ConstRef;

public:
    using typename Optimizer<S>::Vec;
    explicit AdaGrad(double lr = 1e-2) : AdaGrad(AdaGradOptions{lr}) {}
    explicit AdaGrad(const AdaGradOptions& o) : Optimizer<S>(o.lr), eps_(o.eps) {
        if (!(o.eps > 0)) throw ConfigError("AdaGrad: expected eps > 0, found " + std::to_string(o.eps));
    }
    std::string name() const override { return "AdaGrad"; }
    std::vector<Vec*> state() override { return s_.size() ? std::vector<Vec*>{&s_} : std::vector<Vec*>{}; }

protected:
    void init_state(Index n) override { s_.setZero(n); }
    void update(Index begin, Ref w, const ConstRef& g, const ConstRef&) override {
        auto s = s_.segment(begin, w.size()).array();
        s += g.array().square();
        w.array() -= this->lr() * g.array() / (s.sqrt() + static_cast<S>(eps_));
    }

private:
    double eps_;
    Vec s_;
};

LATENT_NAMESPACE_END
