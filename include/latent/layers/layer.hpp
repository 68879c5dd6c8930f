// The layer contract. A layer is built once for an input shape (which fixes
// its parameter slots), then runs forward and backward on batches
// (features x batch, one sample per column):
//
//   const Matrix& forward(const Matrix& x, Mode mode);  // caches what backward needs
//   const Matrix& backward(const Matrix& dy);           // returns dx, accumulates (+=) parameter gradients
//
// The input x passed to forward must stay alive until backward has run
// (layers keep a pointer to it rather than a copy). Output buffers are
// reused, so a step after the first allocates nothing.
#pragma once

#include "latent/core/abi.hpp"

#include <memory>
#include <string>
#include <vector>

#include "latent/core/config.hpp"
#include "latent/core/params.hpp"
#include "latent/core/rng.hpp"

LATENT_NAMESPACE_BEGIN

template <class S>
class Layer {
public:
    using Mat = Matrix<S>;

    Layer() = default;
    Layer(const Layer&) = delete;
    Layer& operator=(const Layer&) = delete;
    virtual ~Layer() = default;

    // Type name as written in model files ("Dense", "ReLU", ...).
    virtual std::string type() const = 0;

    // The output shape for input shape `in`; throws ShapeError naming the
    // layer and both shapes when `in` does not fit. Layers implement
    // compute_output_shape; this wrapper is not virtual so that a concrete
    // layer's override never hides the built-shape accessor below.
    Shape output_shape(Shape in) const { return compute_output_shape(in); }
    virtual Shape compute_output_shape(Shape in) const = 0;

    // Fix the input shape and declare parameter slots. Called once by the
    // model before the flat buffer is bound.
    Shape build(Shape in) {
        if (!detail::shape_is_sane(in))
            throw ShapeError(where() + ": expected an input shape of non-negative sizes, at most 2^31 - 1 elements, found " + in.str());
        input_shape_ = in;  // before build_shapes: on_build may read it
        const Shape out = build_shapes(in);
        if (!detail::shape_is_sane(out))
            throw ShapeError(where() + ": expected an output shape of non-negative sizes, at most 2^31 - 1 elements, found " + out.str() +
                             " for input " + in.str());
        output_shape_ = out;
        built_ = true;
        return output_shape_;
    }
    bool built() const { return built_; }
    Shape input_shape() const { return input_shape_; }
    Shape output_shape() const { return output_shape_; }

    // Append this layer's slots (and its children's) with PyTorch-style names.
    virtual void collect_params(const std::string& prefix, std::vector<NamedSlot<S>>& out) {
        (void)prefix;
        (void)out;
    }

    virtual const Mat& forward(const Mat& x, Mode mode) = 0;
    virtual const Mat& backward(const Mat& dy) = 0;

    // Regularization this layer adds to the loss for the last train-mode
    // forward (activity and sparsity penalties); its gradient is added in
    // backward.
    virtual S penalty() const { return S(0); }

    // When false, backward may skip computing dx (the input is data, not a
    // layer output): the first layer of a model saves a whole GEMM.
    virtual void set_input_grad(bool needed) { input_grad_ = needed; }
    bool input_grad() const { return input_grad_; }

    // The model's generator for train-time randomness (dropout, noise,
    // sampling). Containers pass it on to their children.
    virtual void attach_rng(Rng* rng) { rng_ = rng; }

    // Forget state carried between calls (recurrent layers); no-op otherwise.
    virtual void reset_state() {}

    // Inference with bfloat16 weights (core/bfloat16.hpp): a layer whose
    // forward is a product with a weight matrix (Dense) rounds a copy of it
    // now and uses the copy in infer-mode forward from then on (train mode
    // and backward keep the float weights). Containers pass it on; other
    // layers ignore it. Returns the number of weight matrices rounded. For
    // a Predictor's own inference copy (Predictor::use_bf16_weights), whose
    // weights no longer change.
    virtual Index use_bf16_weights() { return 0; }

    // Architecture description, enough to rebuild the layer without code.
    virtual LayerConfig config() const = 0;

    // Named views of this layer's parameters (valid once the model is built).
    std::vector<ParamView<S>> parameters() {
        std::vector<NamedSlot<S>> slots;
        collect_params("", slots);
        std::vector<ParamView<S>> out;
        for (auto& s : slots) {
            if (!s.slot->bound())
                throw Error("layer " + type() + ": parameters() needs a built model, found unbound parameter '" + s.name + "'");
            out.push_back({s.name, s.slot->w(), s.slot->g(), s.slot->decay});
        }
        return out;
    }

protected:
    // Computes the output shape and declares the slots. Containers override
    // it to build their children in order: a child's shape may need an
    // earlier sibling built first (a TiedDense reads its Dense's input size).
    virtual Shape build_shapes(Shape in) {
        const Shape out = output_shape(in);
        on_build(in, out);
        return out;
    }

    virtual void on_build(Shape in, Shape out) {
        (void)in;
        (void)out;
    }

    // "Dense: expected input (784), found (100)"-style message.
    std::string where() const { return "layer " + type(); }

    static void add_slot(const std::string& prefix, ParamSlot<S>& slot, std::vector<NamedSlot<S>>& out) {
        out.push_back({prefix.empty() ? slot.name : prefix + "." + slot.name, &slot});
    }

    // Checks a forward input against the built shape.
    void check_input(const Mat& x) const {
        if (!built_) throw Error(where() + ": forward called before the layer was built");
        if (x.rows() != input_shape_.size())
            throw ShapeError(where() + ": expected input with " + std::to_string(input_shape_.size()) + " features " +
                             input_shape_.str() + ", found " + std::to_string(x.rows()));
    }
    // First thing in backward: throws unless a forward pass left what
    // backward needs (its input, a mask, a batch size).
    void require_forward(bool ran) const {
        if (!ran) throw Error(where() + ": backward called before forward (expected a forward pass first, found none)");
    }
    void check_grad(const Mat& dy, Index batch) const {
        if (dy.rows() != output_shape_.size() || dy.cols() != batch)
            throw ShapeError(where() + ": expected output gradient " + std::to_string(output_shape_.size()) + "x" +
                             std::to_string(batch) + ", found " + detail::shape_of(dy));
    }

    Rng& rng() const {
        if (!rng_) throw Error(where() + ": needs a random generator; build it inside a model (Network::build) or call attach_rng");
        return *rng_;
    }

    bool input_grad_ = true;
    Rng* rng_ = nullptr;

private:
    Shape input_shape_;
    Shape output_shape_;
    bool built_ = false;
};

template <class S>
using LayerPtr = std::unique_ptr<Layer<S>>;

LATENT_NAMESPACE_END
