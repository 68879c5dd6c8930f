// Dropout (inverted): in train mode each input is kept with probability
// 1 - p and scaled by 1/(1 - p); in infer mode the layer is the identity.
#pragma once

#include "latent/core/abi.hpp"

#include "latent/layers/layer.hpp"

LATENT_NAMESPACE_BEGIN

template <class S>
class Dropout : public Layer<S> {
public:
    using Mat = Matrix<S>;

    explicit Dropout(double rate) : rate_(rate) {
        if (!(rate >= 0.0 && rate < 1.0)) throw ConfigError("Dropout: expected rate in [0, 1), found " + std::to_string(rate));
    }

    std::string type() const override { return "Dropout"; }
    double rate() const { return rate_; }
    Shape compute_output_shape(Shape in) const override { return in; }

    // Keep using the last mask on later forwards (for gradient checks).
    void freeze_mask(bool frozen = true) { frozen_ = frozen; }
    const Mat& mask() const { return mask_; }

    // y = x * m, m_i = [u_i >= p] / (1 - p)
    const Mat& forward(const Mat& x, Mode mode) override {
        this->check_input(x);
        train_ = (mode == Mode::train && rate_ > 0.0);
        if (!train_) return x;
        const bool reuse = frozen_ && mask_.rows() == x.rows() && mask_.cols() == x.cols();
        if (!reuse) {
            mask_.resize(x.rows(), x.cols());
            Rng& r = this->rng();
            const S keep_scale = static_cast<S>(1.0 / (1.0 - rate_));
            for (Index i = 0; i < mask_.size(); ++i) mask_.data()[i] = r.uniform() >= rate_ ? keep_scale : S(0);
        }
        y_.resize(x.rows(), x.cols());
        y_.array() = x.array() * mask_.array();
        return y_;
    }

    // dx = dy * m
    const Mat& backward(const Mat& dy) override {
        if (!train_) return dy;
        this->check_grad(dy, mask_.cols());
        dx_.resize(dy.rows(), dy.cols());
        dx_.array() = dy.array() * mask_.array();
        return dx_;
    }

    LayerConfig config() const override { return LayerConfig("Dropout").set("rate", rate_); }
    static LayerPtr<S> from_config(const LayerConfig& c) { return std::make_unique<Dropout>(c.get_double("rate")); }

private:
    double rate_;
    bool frozen_ = false;
    bool train_ = false;
    Mat mask_, y_, dx_;
};

// GaussianNoise: adds N(0, stddev^2) in train mode only (a denoising
// autoencoder's corruption as a layer); the identity in infer mode.
template <class S>
class GaussianNoise : public Layer<S> {
public:
    using Mat = Matrix<S>;

    explicit GaussianNoise(double stddev) : stddev_(stddev) {
        if (!(stddev >= 0.0)) throw ConfigError("GaussianNoise: expected stddev >= 0, found " + std::to_string(stddev));
    }

    std::string type() const override { return "GaussianNoise"; }
    double stddev() const { return stddev_; }
    Shape compute_output_shape(Shape in) const override { return in; }

    // y = x + stddev * eps
    const Mat& forward(const Mat& x, Mode mode) override {
        this->check_input(x);
        if (mode != Mode::train || stddev_ == 0.0) return x;
        y_.resize(x.rows(), x.cols());
        this->rng().fill_normal(y_, 0.0, stddev_);
        y_ += x;
        return y_;
    }

    // dx = dy
    const Mat& backward(const Mat& dy) override { return dy; }

    LayerConfig config() const override { return LayerConfig("GaussianNoise").set("stddev", stddev_); }
    static LayerPtr<S> from_config(const LayerConfig& c) { return std::make_unique<GaussianNoise>(c.get_double("stddev")); }

private:
    double stddev_;
    Mat y_;
};

LATENT_NAMESPACE_END
