// Regularizers. Weight penalties act on the flat parameter buffer (weights
// only, never biases); activity penalties are pass-through layers placed
// after the code layer, which add their value through Layer::penalty() and
// their gradient in backward. All penalties are per example (mean over the
// batch), so they weigh the same against a mean-reduced loss whatever the
// batch size.
#pragma once

#include "latent/core/abi.hpp"

#include <cmath>

#include "latent/core/params.hpp"
#include "latent/layers/activation.hpp"
#include "latent/layers/dense.hpp"

LATENT_NAMESPACE_BEGIN

// l1 * sum|w| + l2 * sum w^2 over decayed parameters (Keras' l1_l2).
template <class S>
struct WeightPenalty {
    double l1 = 0.0;
    double l2 = 0.0;

    bool active() const { return l1 != 0.0 || l2 != 0.0; }

    // Returns the penalty; with add_grad, adds its gradient to the buffer's grads.
    S apply(ParamBuffer<S>& params, bool add_grad) const {
        if (!active()) return S(0);
        const auto w = params.values().array();
        const auto m = params.decay_mask().array();
        const S a = static_cast<S>(l1), b = static_cast<S>(l2);
        const S value = a * (w.abs() * m).sum() + b * (w.square() * m).sum();
        if (add_grad) params.grads().array() += (a * w.sign() + S(2) * b * w) * m;
        return value;
    }
};

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

// Contractive autoencoder encoder layer (Rifai et al. 2011): h = sigmoid(W x + b)
// with penalty lambda * mean_batch ||dh/dx||_F^2, which for a sigmoid layer is
//   sum_j (h_j (1 - h_j))^2 * ||W_j||^2.
template <class S>
class ContractiveDense : public Layer<S> {
public:
    using Mat = Matrix<S>;
    ContractiveDense(Index units, double lambda) : units_(units), lambda_(lambda) {
        if (units <= 0) throw ConfigError("ContractiveDense: expected units > 0, found " + std::to_string(units));
        if (!(lambda >= 0)) throw ConfigError("ContractiveDense: expected lambda >= 0, found " + std::to_string(lambda));
    }
    std::string type() const override { return "ContractiveDense"; }
    Shape compute_output_shape(Shape in) const override {
        if (in.size() <= 0) throw ShapeError("layer ContractiveDense: expected a non-empty input shape, found " + in.str());
        return Shape{units_};
    }
    void collect_params(const std::string& prefix, std::vector<NamedSlot<S>>& out) override {
        this->add_slot(prefix, weight_, out);
        this->add_slot(prefix, bias_, out);
    }

    const Mat& forward(const Mat& x, Mode mode) override {
        this->check_input(x);
        x_ = &x;
        h_.resize(units_, x.cols());
        detail::matmul(h_, weight_.w(), false, x, false, false);
        h_.colwise() += bias_.w().col(0);
        h_.array() = detail::logistic(h_.array());
        train_ = mode == Mode::train;
        if (train_) {
            row_norm2_ = weight_.w().rowwise().squaredNorm();  // ||W_j||^2
            a2_ = (h_.array() * (S(1) - h_.array())).square().matrix();
            penalty_ = static_cast<S>(lambda_) * (a2_.array().colwise() * row_norm2_.array()).sum() / static_cast<S>(x.cols());
        } else {
            penalty_ = S(0);
        }
        return h_;
    }

    // With a = h(1-h), s_j = ||W_j||^2, c = lambda/B:
    //   dP/dh = c * 2 a s (1 - 2h);  dP/dW_j (through s) = c * 2 W_j sum_n a_jn^2
    //   dz = (dy + dP/dh) * a;  dW += dz x^T;  db += sum dz;  dx = W^T dz
    const Mat& backward(const Mat& dy) override {
        this->require_forward(x_ != nullptr);
        this->check_grad(dy, x_->cols());
        const S c = static_cast<S>(lambda_) / static_cast<S>(x_->cols());
        const auto h = h_.array();
        dz_ = dy;
        if (train_ && lambda_ != 0) {
            dp_.resize(h_.rows(), h_.cols());
            dp_.array() = (S(2) * c) * (h * (S(1) - h)) * (S(1) - S(2) * h);
            dp_.array().colwise() *= row_norm2_.array();
            dz_ += dp_;
            weight_.g() += ((S(2) * c) * a2_.rowwise().sum()).asDiagonal() * weight_.w();
        }
        dz_.array() *= h * (S(1) - h);
        detail::matmul(weight_.g(), dz_, false, *x_, true, true);
        bias_.g().col(0) += dz_.rowwise().sum();
        if (this->input_grad_) {
            dx_.resize(x_->rows(), dz_.cols());
            detail::matmul(dx_, weight_.w(), true, dz_, false, false);
        }
        return dx_;
    }
    S penalty() const override { return penalty_; }

    LayerConfig config() const override {
        return LayerConfig("ContractiveDense").set("units", units_).set("lambda", lambda_);
    }
    static LayerPtr<S> from_config(const LayerConfig& c) {
        return std::make_unique<ContractiveDense>(c.get_index("units"), c.get_double("lambda"));
    }

protected:
    void on_build(Shape in, Shape out) override {
        weight_ = {"weight", out.size(), in.size(), Init::glorot_uniform(in.size(), out.size()), true};
        bias_ = {"bias", out.size(), 1, Init::zeros(), false};
    }

private:
    Index units_;
    double lambda_;
    ParamSlot<S> weight_, bias_;
    const Mat* x_ = nullptr;
    bool train_ = false;
    S penalty_ = 0;
    Vector<S> row_norm2_;
    Mat h_, a2_, dp_, dz_, dx_;
};

LATENT_NAMESPACE_END
