// Flatten and Reshape: change the shape a batch is read with, never the
// data (a channel-major sample is already one contiguous column), so both
// pass the matrix through unchanged.
//   Flatten:  C x H x W -> (C*H*W)
//   Reshape:  any shape -> `target` of the same size; one entry of target
//             may be -1 and is inferred (Keras' Reshape).
#pragma once

#include "latent/core/abi.hpp"

#include "latent/layers/layer.hpp"

LATENT_NAMESPACE_BEGIN

template <class S>
class Flatten : public Layer<S> {
public:
    using Mat = Matrix<S>;

    std::string type() const override { return "Flatten"; }
    Shape compute_output_shape(Shape in) const override {
        if (in.size() <= 0) throw ShapeError("layer Flatten: expected a non-empty input, found " + in.str());
        return Shape{in.size()};
    }
    const Mat& forward(const Mat& x, Mode) override {
        this->check_input(x);
        return x;
    }
    const Mat& backward(const Mat& dy) override { return dy; }

    LayerConfig config() const override { return LayerConfig("Flatten"); }
    static LayerPtr<S> from_config(const LayerConfig&) { return std::make_unique<Flatten>(); }
};

template <class S>
class Reshape : public Layer<S> {
public:
    using Mat = Matrix<S>;

    explicit Reshape(Shape target) : target_(target) {
        const Index dims[3] = {target.c, target.h, target.w};
        int inferred = 0;
        for (Index d : dims) {
            if (d == -1) ++inferred;
            else if (d <= 0)
                throw ConfigError("Reshape: expected positive sizes (or one -1), found " + std::to_string(target.c) + "x" +
                                  std::to_string(target.h) + "x" + std::to_string(target.w));
        }
        if (inferred > 1) throw ConfigError("Reshape: expected at most one -1 size, found " + std::to_string(inferred));
    }

    std::string type() const override { return "Reshape"; }
    Shape target() const { return target_; }

    Shape compute_output_shape(Shape in) const override {
        Shape out = target_;
        const Index known = (out.c == -1 ? 1 : out.c) * (out.h == -1 ? 1 : out.h) * (out.w == -1 ? 1 : out.w);
        const std::string want = std::to_string(target_.c) + "x" + std::to_string(target_.h) + "x" + std::to_string(target_.w);
        if (out.c == -1 || out.h == -1 || out.w == -1) {
            if (in.size() % known != 0)
                throw ShapeError("layer Reshape: expected an input whose size " + std::to_string(in.size()) + " is a multiple of " +
                                 std::to_string(known) + " (target " + want + "), found " + in.str());
            const Index rest = in.size() / known;
            if (out.c == -1) out.c = rest;
            if (out.h == -1) out.h = rest;
            if (out.w == -1) out.w = rest;
        }
        if (out.size() != in.size())
            throw ShapeError("layer Reshape: expected an input of size " + std::to_string(out.size()) + " for target " + out.str() +
                             ", found " + in.str() + " of size " + std::to_string(in.size()));
        return out;
    }
    const Mat& forward(const Mat& x, Mode) override {
        this->check_input(x);
        return x;
    }
    const Mat& backward(const Mat& dy) override { return dy; }

    LayerConfig config() const override { return LayerConfig("Reshape").set("target", target_); }
    static LayerPtr<S> from_config(const LayerConfig& c) { return std::make_unique<Reshape>(c.get_shape("target")); }

private:
    Shape target_;
};

LATENT_NAMESPACE_END
