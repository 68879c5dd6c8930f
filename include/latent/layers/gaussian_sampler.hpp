// GaussianSampler: the VAE's reparameterization, as a layer.
//
//   input  h = [mu; logvar]   shape (2C x H x W): the first C channels are mu,
//                             the last C the log-VARIANCE (a flat (2L) input
//                             gives mu = rows 0..L-1, logvar = rows L..2L-1)
//   output z                  shape (C x H x W)
//   train:  z = mu + exp(logvar / 2) * eps,  eps ~ N(0, I) from the model's Rng
//   infer:  z = mu                            (the posterior mean)
//
// sample(h, eps) uses a given eps in any mode (evaluation, fixed-noise checks).
// backward:  dmu = dz,  dlogvar = dz * eps * exp(logvar / 2) / 2.
// The KL term is not part of this layer (VariationalAutoencoder adds it).
#pragma once

#include "latent/core/abi.hpp"

#include <cmath>

#include "latent/layers/layer.hpp"

LATENT_NAMESPACE_BEGIN

template <class S>
class GaussianSampler : public Layer<S> {
public:
    using Mat = Matrix<S>;

    std::string type() const override { return "GaussianSampler"; }

    Shape compute_output_shape(Shape in) const override {
        if (in.size() <= 0 || in.c % 2 != 0)
            throw ShapeError("layer GaussianSampler: expected an input with an even number of channels [mu; logvar], found " +
                             in.str());
        return Shape{in.c / 2, in.h, in.w};
    }

    // Latent size (rows of z).
    Index latent_size() const { return this->output_shape().size(); }

    const Mat& forward(const Mat& h, Mode mode) override {
        this->check_input(h);
        const Index l = latent_size();
        if (mode == Mode::infer) {
            h_ = &h;
            sampled_ = false;
            z_ = h.topRows(l);
            return z_;
        }
        eps_.resize(l, h.cols());
        this->rng().fill_normal(eps_);
        return reparameterize(h);
    }

    // z = mu + exp(logvar / 2) * eps for the given eps (latent x batch).
    const Mat& sample(const Mat& h, const Mat& eps) {
        this->check_input(h);
        detail::check_dims(eps, latent_size(), h.cols(), "layer GaussianSampler: noise eps");
        eps_ = eps;
        return reparameterize(h);
    }

    // dmu = dz; dlogvar = dz * eps * sigma / 2 (zero after an infer-mode forward).
    const Mat& backward(const Mat& dz) override {
        this->require_forward(h_ != nullptr);
        this->check_grad(dz, h_->cols());
        const Index l = latent_size();
        dh_.resize(2 * l, dz.cols());
        dh_.topRows(l) = dz;
        if (sampled_)
            dh_.bottomRows(l).array() = S(0.5) * dz.array() * eps_.array() * std_.array();
        else
            dh_.bottomRows(l).setZero();
        return dh_;
    }

    // The last draw and sigma = exp(logvar / 2) (latent x batch).
    const Mat& noise() const { return eps_; }
    const Mat& stddev() const { return std_; }

    LayerConfig config() const override { return LayerConfig("GaussianSampler"); }
    static LayerPtr<S> from_config(const LayerConfig&) { return std::make_unique<GaussianSampler>(); }

private:
    const Mat& reparameterize(const Mat& h) {
        const Index l = latent_size();
        h_ = &h;
        sampled_ = true;
        std_.resize(l, h.cols());
        std_.array() = (S(0.5) * h.bottomRows(l).array()).exp();
        z_.resize(l, h.cols());
        z_.array() = h.topRows(l).array() + std_.array() * eps_.array();
        return z_;
    }

    const Mat* h_ = nullptr;
    bool sampled_ = false;
    Mat eps_, std_, z_, dh_;
};

LATENT_NAMESPACE_END
