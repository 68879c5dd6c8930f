// ContractiveDense: the encoder layer of a contractive autoencoder, a
// sigmoid Dense layer that carries its own penalty (Layer::penalty()).
#pragma once

#include "latent/core/abi.hpp"

#include <cmath>
#include <string>

#include "latent/core/gemm.hpp"
#include "latent/core/init.hpp"
#include "latent/core/math.hpp"
#include "latent/core/params.hpp"
#include "latent/layers/layer.hpp"

LATENT_NAMESPACE_BEGIN

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
