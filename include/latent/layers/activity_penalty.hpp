// Activity penalties of sparse autoencoders: pass-through layers placed
// after the code layer, which add their value through Layer::penalty() and
// their gradient in backward. Per example (mean over the batch), so they
// weigh the same against a mean-reduced loss whatever the batch size.
#pragma once

#include "latent/core/abi.hpp"

#include <cmath>
#include <string>

#include "latent/layers/layer.hpp"

LATENT_NAMESPACE_BEGIN

// Sparse autoencoder, L1 activity: penalty = lambda * mean_batch sum_j |h_j|.
template <class S>
class ActivityL1 : public Layer<S> {
public:
    using Mat = Matrix<S>;
    explicit ActivityL1(double lambda) : lambda_(lambda) {
        if (!(lambda >= 0)) throw ConfigError("ActivityL1: expected lambda >= 0, found " + std::to_string(lambda));
    }
    std::string type() const override { return "ActivityL1"; }
    Shape compute_output_shape(Shape in) const override { return in; }

    const Mat& forward(const Mat& x, Mode mode) override {
        this->check_input(x);
        x_ = &x;
        penalty_ = mode == Mode::train ? static_cast<S>(lambda_) * x.cwiseAbs().sum() / static_cast<S>(x.cols()) : S(0);
        return x;
    }
    // dx = dy + lambda/B sign(h)
    const Mat& backward(const Mat& dy) override {
        this->require_forward(x_ != nullptr);
        this->check_grad(dy, x_->cols());
        dx_ = dy;
        dx_.array() += static_cast<S>(lambda_ / static_cast<double>(x_->cols())) * x_->array().sign();
        return dx_;
    }
    S penalty() const override { return penalty_; }

    LayerConfig config() const override { return LayerConfig("ActivityL1").set("lambda", lambda_); }
    static LayerPtr<S> from_config(const LayerConfig& c) { return std::make_unique<ActivityL1>(c.get_double("lambda")); }

private:
    double lambda_;
    S penalty_ = 0;
    const Mat* x_ = nullptr;
    Mat dx_;
};

// Sparse autoencoder, KL sparsity (Ng's notes): with rho_hat_j the batch mean
// of unit j (inputs in (0, 1), i.e. after a sigmoid),
//   penalty = beta * sum_j KL(rho || rho_hat_j)
//   KL(r || q) = r log(r/q) + (1-r) log((1-r)/(1-q)).
template <class S>
class KLSparsity : public Layer<S> {
public:
    using Mat = Matrix<S>;
    KLSparsity(double rho, double beta) : rho_(rho), beta_(beta) {
        if (!(rho > 0 && rho < 1)) throw ConfigError("KLSparsity: expected target rho in (0, 1), found " + std::to_string(rho));
        if (!(beta >= 0)) throw ConfigError("KLSparsity: expected beta >= 0, found " + std::to_string(beta));
    }
    std::string type() const override { return "KLSparsity"; }
    Shape compute_output_shape(Shape in) const override { return in; }

    const Mat& forward(const Mat& x, Mode mode) override {
        this->check_input(x);
        const S eps = std::is_same<S, float>::value ? S(1e-6) : S(1e-12);
        rho_hat_ = (x.rowwise().mean().array().max(eps).min(S(1) - eps)).matrix();
        const S r = static_cast<S>(rho_);
        penalty_ = mode == Mode::train
                       ? static_cast<S>(beta_) * (r * (r / rho_hat_.array()).log() +
                                                  (S(1) - r) * ((S(1) - r) / (S(1) - rho_hat_.array())).log())
                                                     .sum()
                       : S(0);
        batch_ = x.cols();
        return x;
    }
    // dx_ij = dy_ij + beta/B (-rho/rho_hat_j + (1-rho)/(1-rho_hat_j))
    const Mat& backward(const Mat& dy) override {
        this->require_forward(rho_hat_.size() > 0);
        this->check_grad(dy, batch_);
        const S r = static_cast<S>(rho_);
        g_ = (static_cast<S>(beta_) / static_cast<S>(batch_)) *
             (-r / rho_hat_.array() + (S(1) - r) / (S(1) - rho_hat_.array())).matrix();
        dx_ = dy;
        dx_.colwise() += g_;
        return dx_;
    }
    S penalty() const override { return penalty_; }
    const Vector<S>& mean_activation() const { return rho_hat_; }

    LayerConfig config() const override { return LayerConfig("KLSparsity").set("rho", rho_).set("beta", beta_); }
    static LayerPtr<S> from_config(const LayerConfig& c) {
        return std::make_unique<KLSparsity>(c.get_double("rho"), c.get_double("beta"));
    }

private:
    double rho_, beta_;
    S penalty_ = 0;
    Index batch_ = 1;
    Vector<S> rho_hat_, g_;
    Mat dx_;
};

LATENT_NAMESPACE_END
