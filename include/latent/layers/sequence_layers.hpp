// RepeatVector and TimeDistributed: the glue of the Keras sequence
// autoencoder  LSTM -> RepeatVector(T) -> LSTM(sequence) -> TimeDistributed(Dense).
// Both are SequenceLayers (packed / Seq / flat interfaces, sequence_layer.hpp).
#pragma once

#include "latent/core/abi.hpp"

#include "latent/layers/sequence_layer.hpp"

LATENT_NAMESPACE_BEGIN

// A vector (H x N) repeated at each of `times` steps: y_t = x.
// dx = sum_t dy_t.  Input: any shape of H values; output: sequence_shape(times, H).
template <class S>
class RepeatVector : public SequenceLayer<S> {
public:
    using Mat = Matrix<S>;

    explicit RepeatVector(Index times) : times_(times) {
        if (times <= 0) throw ConfigError("RepeatVector: expected times > 0, found " + std::to_string(times));
    }
    std::string type() const override { return "RepeatVector"; }
    Index times() const { return times_; }

    Shape compute_output_shape(Shape in) const override {
        if (in.size() <= 0) throw ShapeError("layer RepeatVector: expected a non-empty input shape, found " + in.str());
        return sequence_shape(times_, in.size());
    }
    Index output_steps(Index steps) const override {
        if (steps != 1) throw ShapeError("layer RepeatVector: expected a vector (1 step), found " + std::to_string(steps) + " steps");
        return times_;
    }

    // x: H x N (steps = 1) -> H x (times*N)
    const Mat& forward_packed(const Mat& x, Index steps, Mode, const Mat* = nullptr) override {
        this->check_packed(x, steps);
        output_steps(steps);
        const Index n = x.cols();
        y_.resize(x.rows(), times_ * n);
        for (Index t = 0; t < times_; ++t) y_.middleCols(t * n, n) = x;
        return y_;
    }
    const Mat& backward_packed(const Mat& dy) override {
        if (dy.rows() != this->out_features_ || dy.cols() % times_ != 0)
            throw ShapeError(this->where() + ": expected an output gradient " + std::to_string(this->out_features_) + "x(" +
                             std::to_string(times_) + "*batch), found " + detail::shape_of(dy));
        const Index n = dy.cols() / times_;
        dx_ = dy.leftCols(n);
        for (Index t = 1; t < times_; ++t) dx_ += dy.middleCols(t * n, n);
        return dx_;
    }

    LayerConfig config() const override { return LayerConfig("RepeatVector").set("times", times_); }
    static LayerPtr<S> from_config(const LayerConfig& c) { return std::make_unique<RepeatVector>(c.get_index("times")); }

protected:
    void on_build(Shape in, Shape) override { this->set_dims(1, in.size(), in.size()); }

private:
    Index times_;
    Mat y_, dx_;
};

// Applies a layer to every step: the packed steps F x (T*N) go through the
// inner layer as one batch of T*N columns (one GEMM for a Dense), so the
// inner layer sees T*N samples (batch statistics, activity penalties).
// Input sequence_shape(T, F); the inner layer is built for Shape{F}.
template <class S>
class TimeDistributed : public SequenceLayer<S> {
public:
    using Mat = Matrix<S>;

    explicit TimeDistributed(LayerPtr<S> layer) : inner_(std::move(layer)) {
        if (!inner_) throw ConfigError("TimeDistributed: expected a layer, found nullptr");
    }
    std::string type() const override { return "TimeDistributed"; }
    Layer<S>& layer() { return *inner_; }
    const Layer<S>& layer() const { return *inner_; }

    Shape compute_output_shape(Shape in) const override {
        const Index steps = detail::shape_steps(in), f = detail::shape_features(in);
        if (steps <= 0 || f <= 0) throw ShapeError("layer TimeDistributed: expected a sequence shape {steps, features}, found " + in.str());
        try {
            return sequence_shape(steps, inner_->output_shape(Shape{f}).size());
        } catch (const ShapeError& e) {
            throw ShapeError("layer TimeDistributed(" + inner_->type() + "): " + e.what());
        }
    }
    Index output_steps(Index steps) const override { return steps; }

    void collect_params(const std::string& prefix, std::vector<NamedSlot<S>>& out) override {
        inner_->collect_params(prefix.empty() ? "layer" : prefix + ".layer", out);
    }

    const Mat& forward_packed(const Mat& x, Index steps, Mode mode, const Mat* = nullptr) override {
        this->check_packed(x, steps);
        return inner_->forward(x, mode);
    }
    const Mat& backward_packed(const Mat& dy) override { return inner_->backward(dy); }

    S penalty() const override { return inner_->penalty(); }
    void set_input_grad(bool needed) override {
        this->input_grad_ = needed;
        inner_->set_input_grad(needed);
    }
    void attach_rng(Rng* rng) override {
        this->rng_ = rng;
        inner_->attach_rng(rng);
    }
    void reset_state() override { inner_->reset_state(); }
    Index use_bf16_weights() override { return inner_->use_bf16_weights(); }

    LayerConfig config() const override {
        LayerConfig c("TimeDistributed");
        c.children.push_back(inner_->config());
        return c;
    }

protected:
    void on_build(Shape in, Shape out) override {
        const Index f = detail::shape_features(in);
        inner_->build(Shape{f});
        inner_->set_input_grad(this->input_grad_);
        this->set_dims(detail::shape_steps(in), f, detail::shape_features(out));
    }

private:
    LayerPtr<S> inner_;
};

LATENT_NAMESPACE_END
