// BatchNorm: per-channel normalization for image inputs (C x H x W, statistics
// over the batch and all positions, as PyTorch's BatchNorm2d) and per-feature
// for flat inputs (BatchNorm1d).
//   train:  mu, var = mean and biased variance of the batch (M values per channel)
//           xhat = (x - mu) / sqrt(var + eps),  y = gamma xhat + beta
//           running_mean = (1 - m) running_mean + m mu
//           running_var  = (1 - m) running_var  + m var * M/(M - 1)   (unbiased, as PyTorch)
//   infer:  xhat = (x - running_mean) / sqrt(running_var + eps)
// Parameters, PyTorch names: weight (gamma), bias (beta), running_mean,
// running_var; the running statistics are saved with the model but are not
// trainable (no gradient, no weight decay).
#pragma once

#include "latent/core/abi.hpp"

#include <cmath>

#include "latent/layers/layer.hpp"

LATENT_NAMESPACE_BEGIN

template <class S>
class BatchNorm : public Layer<S> {
public:
    using Mat = Matrix<S>;

    explicit BatchNorm(double momentum = 0.1, double eps = 1e-5, bool affine = true) : momentum_(momentum), eps_(eps), affine_(affine) {
        if (!(momentum >= 0 && momentum <= 1)) throw ConfigError("BatchNorm: expected momentum in [0, 1], found " + std::to_string(momentum));
        if (!(eps > 0)) throw ConfigError("BatchNorm: expected eps > 0, found " + std::to_string(eps));
    }

    std::string type() const override { return "BatchNorm"; }
    double momentum() const { return momentum_; }
    double eps() const { return eps_; }

    Shape compute_output_shape(Shape in) const override {
        if (in.size() <= 0) throw ShapeError("layer BatchNorm: expected a non-empty input, found " + in.str());
        return in;
    }

    void collect_params(const std::string& prefix, std::vector<NamedSlot<S>>& out) override {
        if (affine_) {
            this->add_slot(prefix, weight_, out);
            this->add_slot(prefix, bias_, out);
        }
        this->add_slot(prefix, running_mean_, out);
        this->add_slot(prefix, running_var_, out);
    }

    const Mat& forward(const Mat& x, Mode mode) override {
        this->check_input(x);
        const Index C = channels_, P = positions_, N = x.cols();
        train_ = mode == Mode::train;
        xhat_.resize(x.rows(), N);
        y_.resize(x.rows(), N);
        mean_.setZero(C);
        invstd_.resize(C);
        if (train_) {
            const Index M = N * P;
            if (M < 2)
                throw DataError("layer BatchNorm: expected more than 1 value per channel in train mode, found " + std::to_string(M) +
                                " (batch " + std::to_string(N) + ")");
            var_.setZero(C);
            for (Index n = 0; n < N; ++n)
                for (Index c = 0; c < C; ++c) mean_(c) += x.col(n).segment(c * P, P).sum();
            mean_ /= static_cast<S>(M);
            for (Index n = 0; n < N; ++n)
                for (Index c = 0; c < C; ++c) var_(c) += (x.col(n).segment(c * P, P).array() - mean_(c)).square().sum();
            var_ /= static_cast<S>(M);
            invstd_ = (var_.array() + static_cast<S>(eps_)).rsqrt();
            const S m = static_cast<S>(momentum_);
            auto rm = running_mean_.w().col(0);
            auto rv = running_var_.w().col(0);
            rm = (S(1) - m) * rm + m * mean_;
            rv = (S(1) - m) * rv + (m * static_cast<S>(M) / static_cast<S>(M - 1)) * var_;
        } else {
            mean_ = running_mean_.w().col(0);
            invstd_ = (running_var_.w().col(0).array() + static_cast<S>(eps_)).rsqrt();
        }
        for (Index n = 0; n < N; ++n)
            for (Index c = 0; c < C; ++c) {
                auto xh = xhat_.col(n).segment(c * P, P).array();
                xh = (x.col(n).segment(c * P, P).array() - mean_(c)) * invstd_(c);
                if (affine_)
                    y_.col(n).segment(c * P, P).array() = xh * weight_.value[c] + bias_.value[c];
                else
                    y_.col(n).segment(c * P, P).array() = xh;
            }
        return y_;
    }

    // dgamma += sum dy xhat, dbeta += sum dy
    // train: dx = invstd (g - mean(g) - xhat mean(g xhat)), g = gamma dy
    // infer: dx = invstd g
    const Mat& backward(const Mat& dy) override {
        this->require_forward(xhat_.rows() > 0);
        this->check_grad(dy, xhat_.cols());
        const Index C = channels_, P = positions_, N = dy.cols();
        sum_g_.setZero(C);
        sum_gx_.setZero(C);
        for (Index n = 0; n < N; ++n)
            for (Index c = 0; c < C; ++c) {
                const auto d = dy.col(n).segment(c * P, P).array();
                sum_g_(c) += d.sum();
                sum_gx_(c) += (d * xhat_.col(n).segment(c * P, P).array()).sum();
            }
        if (affine_) {
            weight_.g().col(0) += sum_gx_;
            bias_.g().col(0) += sum_g_;
        }
        if (!this->input_grad_) return dx_;
        dx_.resize(dy.rows(), N);
        const S inv_m = S(1) / static_cast<S>(N * P);
        for (Index c = 0; c < C; ++c) {
            const S gamma = affine_ ? weight_.value[c] : S(1);
            const S scale = gamma * invstd_(c);
            const S mg = train_ ? sum_g_(c) * inv_m : S(0), mgx = train_ ? sum_gx_(c) * inv_m : S(0);
            for (Index n = 0; n < N; ++n)
                dx_.col(n).segment(c * P, P).array() =
                    scale * (dy.col(n).segment(c * P, P).array() - mg - xhat_.col(n).segment(c * P, P).array() * mgx);
        }
        return dx_;
    }

    LayerConfig config() const override {
        LayerConfig c("BatchNorm");
        c.set("momentum", momentum_).set("eps", eps_).set("affine", affine_);
        return c;
    }
    static LayerPtr<S> from_config(const LayerConfig& c) {
        return std::make_unique<BatchNorm>(c.get_double("momentum", 0.1), c.get_double("eps", 1e-5), c.get_bool("affine", true));
    }

    MatrixMap<S> running_mean() const { return running_mean_.w(); }
    MatrixMap<S> running_var() const { return running_var_.w(); }
    MatrixMap<S> weight() const { return weight_.w(); }
    MatrixMap<S> bias() const { return bias_.w(); }

protected:
    void on_build(Shape in, Shape) override {
        channels_ = in.c;
        positions_ = in.h * in.w;
        weight_ = {"weight", channels_, 1, Init::ones(), false};
        bias_ = {"bias", channels_, 1, Init::zeros(), false};
        running_mean_ = {"running_mean", channels_, 1, Init::zeros(), false, false};
        running_var_ = {"running_var", channels_, 1, Init::ones(), false, false};
    }

private:
    double momentum_, eps_;
    bool affine_;
    Index channels_ = 0, positions_ = 1;
    bool train_ = false;
    ParamSlot<S> weight_, bias_, running_mean_, running_var_;
    Vector<S> mean_, var_, invstd_, sum_g_, sum_gx_;
    Mat xhat_, y_, dx_;
};

LATENT_NAMESPACE_END
