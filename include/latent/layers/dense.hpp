// Dense: Y = W X + b.  W: out x in, X: in x batch, b: out, Y: out x batch.
#pragma once

#include "latent/core/abi.hpp"

#include <cmath>

#include "latent/core/bfloat16.hpp"
#include "latent/layers/layer.hpp"

LATENT_NAMESPACE_BEGIN

// glorot: U(+-sqrt(6/(fan_in+fan_out))) weights (Keras' default); he: U(+-sqrt(6/fan_in))
// weights (ReLU stacks); pytorch: U(+-1/sqrt(fan_in)) for weights AND biases,
// PyTorch's default for nn.Linear / nn.Conv2d. Biases are zero otherwise.
enum class WeightInit { glorot, he, pytorch };

inline const char* weight_init_name(WeightInit k) {
    switch (k) {
        case WeightInit::glorot: return "glorot";
        case WeightInit::he: return "he";
        case WeightInit::pytorch: return "pytorch";
    }
    return "?";
}
inline WeightInit weight_init_from_name(const std::string& name) {
    for (WeightInit k : {WeightInit::glorot, WeightInit::he, WeightInit::pytorch})
        if (name == weight_init_name(k)) return k;
    throw ConfigError("weight init: expected glorot, he or pytorch, found '" + name + "'");
}
inline Init weight_init(WeightInit k, Index fan_in, Index fan_out) {
    switch (k) {
        case WeightInit::he: return Init::he_uniform(fan_in);
        case WeightInit::pytorch: return Init::uniform(1.0 / std::sqrt(static_cast<double>(fan_in)));
        case WeightInit::glorot: break;
    }
    return Init::glorot_uniform(fan_in, fan_out);
}
inline Init bias_init(WeightInit k, Index fan_in) {
    return k == WeightInit::pytorch ? Init::uniform(1.0 / std::sqrt(static_cast<double>(fan_in))) : Init::zeros();
}

template <class S>
class Dense : public Layer<S> {
public:
    using Mat = Matrix<S>;

    explicit Dense(Index units, bool bias = true, WeightInit init = WeightInit::glorot)
        : units_(units), use_bias_(bias), init_(init) {
        if (units <= 0) throw ConfigError("Dense: expected units > 0, found " + std::to_string(units));
    }

    std::string type() const override { return "Dense"; }
    Index units() const { return units_; }
    Index in_features() const { return this->input_shape().size(); }

    Shape compute_output_shape(Shape in) const override {
        if (in.size() <= 0) throw ShapeError("layer Dense: expected a non-empty input shape, found " + in.str());
        return Shape{units_};
    }

    void collect_params(const std::string& prefix, std::vector<NamedSlot<S>>& out) override {
        this->add_slot(prefix, weight_, out);
        if (use_bias_) this->add_slot(prefix, bias_, out);
    }

    // Y = W X + b
    const Mat& forward(const Mat& x, Mode mode) override {
        this->check_input(x);
        x_ = &x;
        y_.resize(units_, x.cols());
        // Start from the bias and accumulate the product into it: one pass
        // fewer than W X then += b. (detail::matmul: core/gemm.hpp.)
        if (use_bias_) {
            const auto b = bias_.w().col(0);
            for (Index j = 0; j < y_.cols(); ++j) y_.col(j) = b;  // (replicate() would not vectorize)
        }
        if constexpr (std::is_same<S, float>::value)
            if (mode == Mode::infer && !weight16_.empty()) {
                detail::matmul_bf16(y_, weight16_, x, use_bias_);
                return y_;
            }
        detail::matmul(y_, weight_.w(), false, x, false, use_bias_);
        return y_;
    }

    // (Layer::use_bf16_weights) float layers only: a double layer keeps its weights.
    Index use_bf16_weights() override {
        if constexpr (!std::is_same<S, float>::value) return 0;
        else {
            if (!this->built() || !weight_.bound())
                throw Error(this->where() + ": use_bf16_weights needs a built model, found an unbuilt layer");
            weight16_ = detail::Bf16Matrix(weight_.w());
            return 1;
        }
    }

    // dW += dY X^T,  db += sum_batch dY,  dX = W^T dY
    const Mat& backward(const Mat& dy) override {
        this->require_forward(x_ != nullptr);
        this->check_grad(dy, x_->cols());
        detail::matmul(weight_.g(), dy, false, *x_, true, true);
        if (use_bias_) bias_.g().col(0) += dy.rowwise().sum();
        if (this->input_grad_) {
            dx_.resize(x_->rows(), dy.cols());
            detail::matmul(dx_, weight_.w(), true, dy, false, false);
        }
        return dx_;
    }

    LayerConfig config() const override {
        LayerConfig c("Dense");
        c.set("units", units_).set("bias", use_bias_).set("init", weight_init_name(init_));
        return c;
    }
    static LayerPtr<S> from_config(const LayerConfig& c) {
        return std::make_unique<Dense>(c.get_index("units"), c.get_bool("bias", true),
                                       weight_init_from_name(c.get_string("init", "glorot")));
    }

    // Maps into the model's buffer (valid once built and bound).
    MatrixMap<S> weight() const { return weight_.w(); }
    MatrixMap<S> weight_grad() const { return weight_.g(); }
    const ParamSlot<S>& weight_slot() const { return weight_; }
    ParamSlot<S>& weight_slot() { return weight_; }
    bool has_bias() const { return use_bias_; }
    MatrixMap<S> bias() const { return bias_.w(); }

protected:
    void on_build(Shape in, Shape out) override {
        const Index fan_in = in.size(), fan_out = out.size();
        weight_ = {"weight", fan_out, fan_in, weight_init(init_, fan_in, fan_out), true};
        bias_ = {"bias", fan_out, 1, bias_init(init_, fan_in), false};
    }

private:
    Index units_;
    bool use_bias_;
    WeightInit init_;
    ParamSlot<S> weight_;
    ParamSlot<S> bias_;
    detail::Bf16Matrix weight16_;  // empty unless use_bf16_weights()
    const Mat* x_ = nullptr;
    Mat y_, dx_;
};

LATENT_NAMESPACE_END
