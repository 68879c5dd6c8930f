// TiedDense: a decoder layer that uses the transpose of an encoder Dense
// layer's weight (tied weights) and has only its own bias.
//   Y = W_src^T X + b.  W_src: in x out (the source maps out -> in), X: in x batch.
#pragma once

#include "latent/core/abi.hpp"

#include "latent/layers/dense.hpp"

LATENT_NAMESPACE_BEGIN

template <class S>
class TiedDense : public Layer<S> {
public:
    using Mat = Matrix<S>;

    // `source_index` is the position of the tied Dense in the encoder
    // Sequential; it is stored in model files so the tie survives a reload.
    explicit TiedDense(Index source_index) : source_index_(source_index) {}

    void tie(Dense<S>* source) {
        if (!source) throw ConfigError("TiedDense::tie: expected a Dense layer, found nullptr");
        source_ = source;
    }
    Index source_index() const { return source_index_; }
    const Dense<S>* source() const { return source_; }
    // The decoder weight this layer applies (W_src^T), as a fresh matrix:
    // what an untied Dense in its place would hold.
    Mat effective_weight() const {
        if (!source_) throw ConfigError("TiedDense::effective_weight: expected a tied source Dense, found none");
        return source_->weight().transpose();
    }
    MatrixMap<S> bias() const { return bias_.w(); }

    std::string type() const override { return "TiedDense"; }

    Shape compute_output_shape(Shape in) const override {
        if (!source_ || !source_->built())
            throw ShapeError("layer TiedDense: expected a built source Dense layer to tie to, found none");
        if (in.size() != source_->units())
            throw ShapeError("layer TiedDense: expected input (" + std::to_string(source_->units()) +
                             ") matching the tied Dense's output, found " + in.str());
        return Shape{source_->in_features()};
    }

    void collect_params(const std::string& prefix, std::vector<NamedSlot<S>>& out) override {
        this->add_slot(prefix, bias_, out);
    }

    const Mat& forward(const Mat& x, Mode) override {
        this->check_input(x);
        x_ = &x;
        y_.resize(source_->in_features(), x.cols());
        detail::matmul(y_, source_->weight(), true, x, false, false);
        y_.colwise() += bias_.w().col(0);
        return y_;
    }

    // dW_src += X dY^T,  db += sum_batch dY,  dX = W_src dY
    const Mat& backward(const Mat& dy) override {
        this->require_forward(x_ != nullptr);
        this->check_grad(dy, x_->cols());
        detail::matmul(source_->weight_grad(), *x_, false, dy, true, true);
        bias_.g().col(0) += dy.rowwise().sum();
        if (this->input_grad_) {
            dx_.resize(x_->rows(), dy.cols());
            detail::matmul(dx_, source_->weight(), false, dy, false, false);
        }
        return dx_;
    }

    LayerConfig config() const override { return LayerConfig("TiedDense").set("source", source_index_); }

protected:
    void on_build(Shape, Shape out) override { bias_ = {"bias", out.size(), 1, Init::zeros(), false}; }

private:
    Index source_index_;
    Dense<S>* source_ = nullptr;
    ParamSlot<S> bias_;
    const Mat* x_ = nullptr;
    Mat y_, dx_;
};

LATENT_NAMESPACE_END
