// Element-wise activations as layers. One class, one switch outside the
// loops, each case an Eigen array expression.
#pragma once

#include "latent/core/abi.hpp"

#include <cmath>

#include "latent/core/math.hpp"
#include "latent/core/threads.hpp"
#include "latent/layers/layer.hpp"

LATENT_NAMESPACE_BEGIN

// gelu: the exact x Phi(x) (PyTorch's default); gelu_tanh: PyTorch's
// approximate='tanh' form, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
enum class Act { identity, relu, leaky_relu, elu, sigmoid, tanh, softplus, gelu, gelu_tanh };

inline const char* act_name(Act a) {
    switch (a) {
        case Act::identity: return "identity";
        case Act::relu: return "relu";
        case Act::leaky_relu: return "leaky_relu";
        case Act::elu: return "elu";
        case Act::sigmoid: return "sigmoid";
        case Act::tanh: return "tanh";
        case Act::softplus: return "softplus";
        case Act::gelu: return "gelu";
        case Act::gelu_tanh: return "gelu_tanh";
    }
    return "?";
}

inline Act act_from_name(const std::string& name) {
    for (Act a : {Act::identity, Act::relu, Act::leaky_relu, Act::elu, Act::sigmoid, Act::tanh, Act::softplus, Act::gelu, Act::gelu_tanh})
        if (name == act_name(a)) return a;
    throw ConfigError("activation: expected one of identity, relu, leaky_relu, elu, sigmoid, tanh, softplus, gelu, gelu_tanh; found '" +
                      name + "'");
}

template <class S>
class Activation : public Layer<S> {
public:
    using Mat = Matrix<S>;

    // alpha: negative slope (leaky_relu, default 0.01) or scale (elu, default 1).
    // threshold (softplus only): y = x above it, as PyTorch's Softplus
    // (whose default is 20); 0 keeps the exact log(1 + e^x) everywhere.
    explicit Activation(Act kind, double alpha = -1.0, double threshold = 0.0) : kind_(kind) {
        alpha_ = static_cast<S>(alpha >= 0 ? alpha : (kind == Act::leaky_relu ? 0.01 : 1.0));
        if (!(threshold >= 0)) throw ConfigError("Activation: expected a softplus threshold >= 0, found " + std::to_string(threshold));
        threshold_ = static_cast<S>(threshold);
    }
    double threshold() const { return static_cast<double>(threshold_); }

    std::string type() const override { return "Activation"; }
    Act kind() const { return kind_; }
    Shape compute_output_shape(Shape in) const override { return in; }

    // Samples (columns) split between threads: element-wise, so bitwise the
    // same for any thread count.
    const Mat& forward(const Mat& x, Mode) override {
        this->check_input(x);
        x_ = &x;
        y_.resize(x.rows(), x.cols());
        detail::parallel_ranges(x.cols(), static_cast<double>(2 * x.rows()), [&](Index n0, Index n1) {
            forward_columns(x.middleCols(n0, n1 - n0).array(), y_.middleCols(n0, n1 - n0).array());
        });
        return y_;
    }

    const Mat& backward(const Mat& dy) override {
        this->require_forward(x_ != nullptr);
        this->check_grad(dy, x_->cols());
        dx_.resize(dy.rows(), dy.cols());
        detail::parallel_ranges(dy.cols(), static_cast<double>(3 * dy.rows()), [&](Index n0, Index n1) {
            const Index n = n1 - n0;
            backward_columns(dy.middleCols(n0, n).array(), x_->middleCols(n0, n).array(), y_.middleCols(n0, n).array(),
                             dx_.middleCols(n0, n).array());
        });
        return dx_;
    }

    LayerConfig config() const override {
        LayerConfig c("Activation");
        c.set("kind", std::string(act_name(kind_))).set("alpha", static_cast<double>(alpha_));
        if (threshold_ > S(0)) c.set("threshold", static_cast<double>(threshold_));
        return c;
    }
    static LayerPtr<S> from_config(const LayerConfig& c) {
        return std::make_unique<Activation>(act_from_name(c.get("kind")), c.get_double("alpha", -1.0), c.get_double("threshold", 0.0));
    }

private:
    // X, Y: Eigen arrays over the same columns (Y a writable view).
    template <class XA, class YA>
    void forward_columns(const XA& X, YA Y) const {
        const S a = alpha_;
        switch (kind_) {
            case Act::identity: Y = X; break;
            case Act::relu: Y = X.max(S(0)); break;
            case Act::leaky_relu: Y = (X > S(0)).select(X, a * X); break;
            case Act::elu: Y = (X > S(0)).select(X, a * (X.exp() - S(1))); break;
            case Act::sigmoid: Y = detail::logistic(X); break;
            case Act::tanh: Y = X.tanh(); break;
            case Act::softplus:
                if (threshold_ > S(0))
                    Y = (X > threshold_).select(X, detail::softplus_array(X));
                else
                    Y = detail::softplus_array(X);  // stable for any x
                break;
            case Act::gelu:  // exact form, as PyTorch's default: x * Phi(x)
                Y = X.unaryExpr([](S v) { return S(0.5) * v * (S(1) + std::erf(v * S(0.70710678118654752440))); });
                break;
            case Act::gelu_tanh:  // 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3)
                Y = X.unaryExpr([](S v) { return S(0.5) * v * (S(1) + std::tanh(S(0.79788456080286535588) * (v + S(0.044715) * v * v * v))); });
                break;
        }
    }

    // D = dy, X = x, Y = y, G = dx (a writable view), over the same columns.
    template <class DA, class XA, class YA, class GA>
    void backward_columns(const DA& D, const XA& X, const YA& Y, GA G) const {
        const S a = alpha_;
        switch (kind_) {
            case Act::identity: G = D; break;
            case Act::relu: G = (X > S(0)).select(D, S(0)); break;                 // dx = dy * [x > 0]
            case Act::leaky_relu: G = (X > S(0)).select(D, a * D); break;
            case Act::elu: G = (X > S(0)).select(D, D * (Y + a)); break;           // d/dx a(e^x - 1) = y + a
            case Act::sigmoid: G = D * Y * (S(1) - Y); break;                       // s' = s (1 - s)
            case Act::tanh: G = D * (S(1) - Y.square()); break;                     // tanh' = 1 - y^2
            case Act::softplus:
                if (threshold_ > S(0))
                    G = (X > threshold_).select(D, D * detail::logistic(X));
                else
                    G = D * detail::logistic(X);
                break;
            case Act::gelu:  // Phi(x) + x phi(x)
                G = D * X.unaryExpr([](S v) {
                    return S(0.5) * (S(1) + std::erf(v * S(0.70710678118654752440))) +
                           v * std::exp(S(-0.5) * v * v) * S(0.39894228040143267794);
                });
                break;
            case Act::gelu_tanh:  // 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
                G = D * X.unaryExpr([](S v) {
                    const S th = std::tanh(S(0.79788456080286535588) * (v + S(0.044715) * v * v * v));
                    return S(0.5) * (S(1) + th) + S(0.5) * v * (S(1) - th * th) * S(0.79788456080286535588) * (S(1) + S(0.134145) * v * v);
                });
                break;
        }
    }

    Act kind_;
    S alpha_;
    S threshold_ = S(0);
    const Mat* x_ = nullptr;
    Mat y_, dx_;
};

LATENT_NAMESPACE_END
