// Sequences. A sequence batch is a std::vector<Matrix> of T steps, each
// features x batch. Sequence layers work internally on the packed layout
//
//   packed: features x (T * N), step t = columns [t*N, (t+1)*N)
//
// so a per-step product over all steps is one GEMM. Three interfaces share
// one implementation (forward_packed / backward_packed):
//   - packed   (models and other sequence layers; masks and, for recurrent
//               layers, initial states go here),
//   - Seq      (std::vector<Matrix>, for users; masks too),
//   - flat     (the Layer<S> contract, so sequence layers sit in a
//               Sequential/Autoencoder and train with fit()): a sample is a
//               column of T*F values, time-major: rows t*F .. t*F+F-1 hold
//               step t. Its Shape is sequence_shape(T, F) = Shape{T, F}
//               (c = steps, h = features), whose channel-major index
//               c*H*W + y*W = t*F + f is exactly that layout. The flat
//               interface has no mask and fixes T at build time.
//
// A step mask is T x N (steps x batch), 1 = real step, 0 = padding.
#pragma once

#include "latent/core/abi.hpp"

#include <string>
#include <vector>

#include "latent/layers/layer.hpp"

LATENT_NAMESPACE_BEGIN

template <class S>
using Sequence = std::vector<Matrix<S>>;

// Shape of one flattened sequence sample: T steps of F features.
inline Shape sequence_shape(Index steps, Index features) { return Shape{steps, features, 1}; }

namespace detail {

// Steps and per-step features of a flattened sequence shape {T, F[, w]}.
inline Index shape_steps(Shape s) { return s.c; }
inline Index shape_features(Shape s) { return s.h * s.w; }

template <class S>
void check_sequence(const Sequence<S>& x, const std::string& what) {
    if (x.empty()) throw ShapeError(what + ": expected a sequence of at least one step, found 0 steps");
    for (std::size_t t = 1; t < x.size(); ++t)
        if (x[t].rows() != x[0].rows() || x[t].cols() != x[0].cols())
            throw ShapeError(what + ": expected every step " + shape_of(x[0]) + " like step 0, found " + shape_of(x[t]) +
                             " at step " + std::to_string(t));
}

// Seq (T x [F x N]) -> packed F x (T*N).
template <class S>
void pack_into(const Sequence<S>& x, Matrix<S>& out) {
    const Index n = x[0].cols();
    out.resize(x[0].rows(), n * static_cast<Index>(x.size()));
    for (std::size_t t = 0; t < x.size(); ++t) out.middleCols(static_cast<Index>(t) * n, n) = x[t];
}

// Packed F x (T*N) -> Seq.
template <class S>
void unpack_into(const Matrix<S>& p, Index steps, Sequence<S>& out) {
    const Index n = p.cols() / steps;
    out.resize(static_cast<std::size_t>(steps));
    for (Index t = 0; t < steps; ++t) out[static_cast<std::size_t>(t)] = p.middleCols(t * n, n);
}

// Flat (T*F) x N -> packed F x (T*N).
template <class S>
void flat_to_packed(const Matrix<S>& x, Index steps, Matrix<S>& out) {
    const Index f = x.rows() / steps, n = x.cols();
    out.resize(f, steps * n);
    for (Index t = 0; t < steps; ++t) out.middleCols(t * n, n) = x.middleRows(t * f, f);
}

// Packed F x (T*N) -> flat (T*F) x N.
template <class S>
void packed_to_flat(const Matrix<S>& p, Index steps, Matrix<S>& out) {
    const Index f = p.rows(), n = p.cols() / steps;
    out.resize(steps * f, n);
    for (Index t = 0; t < steps; ++t) out.middleRows(t * f, f) = p.middleCols(t * n, n);
}

// Checks that build no message unless they fail (no allocation in a training step).
template <class S>
bool step_mask_fits(const Matrix<S>* mask, Index steps, Index batch) {
    return !mask || (mask->rows() == steps && mask->cols() == batch);
}
template <class S>
void check_step_mask(const Matrix<S>* mask, Index steps, Index batch, const char* what) {
    if (!step_mask_fits(mask, steps, batch))
        throw ShapeError(std::string(what) + ": expected a step mask " + std::to_string(steps) + "x" + std::to_string(batch) +
                         " (steps x batch), found " + shape_of(*mask));
}

}  // namespace detail

// Time-major flattening for fit(): Seq of T steps (F x N) -> (T*F) x N.
template <class S>
Matrix<S> flatten_sequence(const Sequence<S>& x) {
    detail::check_sequence(x, "flatten_sequence");
    Matrix<S> p, out;
    detail::pack_into(x, p);
    detail::packed_to_flat(p, static_cast<Index>(x.size()), out);
    return out;
}

// (T*F) x N -> Seq of T steps (F x N).
template <class S>
Sequence<S> unflatten_sequence(const Matrix<S>& flat, Index steps) {
    if (steps <= 0 || flat.rows() % steps != 0)
        throw ShapeError("unflatten_sequence: expected rows divisible by " + std::to_string(steps) + " steps, found " +
                         std::to_string(flat.rows()) + " rows");
    Sequence<S> out(static_cast<std::size_t>(steps));
    const Index f = flat.rows() / steps;
    for (Index t = 0; t < steps; ++t) out[static_cast<std::size_t>(t)] = flat.middleRows(t * f, f);
    return out;
}

// Step mask (T x N) for sequences of the given lengths (1 for t < length).
template <class S>
Matrix<S> mask_from_lengths(const std::vector<Index>& lengths, Index steps) {
    Matrix<S> m = Matrix<S>::Zero(steps, static_cast<Index>(lengths.size()));
    for (std::size_t n = 0; n < lengths.size(); ++n) {
        if (lengths[n] < 0 || lengths[n] > steps)
            throw ConfigError("mask_from_lengths: expected lengths in [0, " + std::to_string(steps) + "], found " +
                              std::to_string(lengths[n]) + " at sample " + std::to_string(n));
        m.col(static_cast<Index>(n)).head(lengths[n]).setOnes();
    }
    return m;
}

// Step mask (T x N) -> element mask (T*F) x N, flattened like the targets
// fit() takes (each step's value repeated over its F features).
template <class S>
Matrix<S> expand_step_mask(const Matrix<S>& step_mask, Index features) {
    Matrix<S> out(step_mask.rows() * features, step_mask.cols());
    for (Index t = 0; t < step_mask.rows(); ++t) out.middleRows(t * features, features).rowwise() = step_mask.row(t);
    return out;
}

// Base of the layers that map a sequence to a sequence (or a vector to a
// sequence, or a sequence to its last state). A vector is a sequence of
// one step.
template <class S>
class SequenceLayer : public Layer<S> {
public:
    using Mat = Matrix<S>;
    using Seq = Sequence<S>;

    // x: F x (T*N) packed, mask: T x N or null. Returns the packed output,
    // G x (output_steps(T) * N). x and mask must stay alive until backward.
    virtual const Mat& forward_packed(const Mat& x, Index steps, Mode mode, const Mat* mask = nullptr) = 0;
    // dy like the last output; returns dx like the last input (accumulates parameter gradients).
    virtual const Mat& backward_packed(const Mat& dy) = 0;

    // Steps of the output for `steps` input steps.
    virtual Index output_steps(Index steps) const = 0;
    Index input_features() const { return in_features_; }
    Index output_features() const { return out_features_; }

    // Seq interface.
    const Seq& forward_seq(const Seq& x, Mode mode, const Mat* mask = nullptr) {
        detail::check_sequence(x, this->where());
        seq_steps_ = static_cast<Index>(x.size());
        detail::pack_into(x, seq_in_);
        detail::unpack_into(forward_packed(seq_in_, seq_steps_, mode, mask), output_steps(seq_steps_), seq_out_);
        return seq_out_;
    }
    const Seq& backward_seq(const Seq& dy) {
        detail::check_sequence(dy, this->where() + " backward");
        detail::pack_into(dy, seq_dy_);
        detail::unpack_into(backward_packed(seq_dy_), seq_steps_, seq_dx_);
        return seq_dx_;
    }

    // Flat interface (Layer<S>): (T*F) x N time-major, T fixed by build.
    const Mat& forward(const Mat& x, Mode mode) override {
        this->check_input(x);
        detail::flat_to_packed(x, in_steps_, flat_in_);
        detail::packed_to_flat(forward_packed(flat_in_, in_steps_, mode, nullptr), output_steps(in_steps_), flat_out_);
        return flat_out_;
    }
    const Mat& backward(const Mat& dy) override {
        this->require_forward(flat_in_.rows() > 0);
        this->check_grad(dy, flat_in_.cols() / in_steps_);
        detail::flat_to_packed(dy, output_steps(in_steps_), flat_dy_);
        const Mat& dx = backward_packed(flat_dy_);
        if (this->input_grad_) detail::packed_to_flat(dx, in_steps_, flat_dx_);
        return flat_dx_;
    }

protected:
    // Called by each layer's on_build: steps and per-step features of the
    // flat input and output.
    void set_dims(Index in_steps, Index in_features, Index out_features) {
        in_steps_ = in_steps;
        in_features_ = in_features;
        out_features_ = out_features;
    }
    void check_packed(const Mat& x, Index steps) const {
        if (!this->built()) throw Error(this->where() + ": forward called before the layer was built");
        if (steps <= 0 || x.cols() % steps != 0)
            throw ShapeError(this->where() + ": expected " + std::to_string(steps) + " steps to divide the packed columns, found " +
                             detail::shape_of(x));
        if (x.rows() != in_features_)
            throw ShapeError(this->where() + ": expected " + std::to_string(in_features_) + " features per step, found " +
                             std::to_string(x.rows()));
    }

    Index in_steps_ = 1, in_features_ = 0, out_features_ = 0;
    // Buffers of the Seq and flat interfaces.
    Index seq_steps_ = 0;
    Mat seq_in_, seq_dy_, flat_in_, flat_out_, flat_dy_, flat_dx_;
    Seq seq_out_, seq_dx_;
};

namespace detail {

// Checks of the flat (fit()-style) sequence data the models take.

// fit()-style mask ((T*F) x N, like the targets) -> step mask (T x N).
// Checks build their message only when they fail (no allocation in a training step).
template <class S>
void step_mask_from_flat(const Matrix<S>& mask, Index steps, Matrix<S>& out, const char* what) {
    if (mask.rows() % steps != 0)
        throw ShapeError(std::string(what) + ": expected a mask with " + std::to_string(steps) + " x features rows, found " + shape_of(mask));
    const Index f = mask.rows() / steps;
    out.resize(steps, mask.cols());
    for (Index n = 0; n < mask.cols(); ++n)
        for (Index t = 0; t < steps; ++t) {
            const auto block = mask.col(n).segment(t * f, f);
            const Index on = (block.array() != S(0)).count();
            if (on != 0 && on != f)
                throw DataError(std::string(what) + ": expected each step's mask to be all 0 (padding) or all 1, found " + std::to_string(on) +
                                " of " + std::to_string(f) + " set at step " + std::to_string(t) + ", sample " + std::to_string(n));
            out(t, n) = on ? S(1) : S(0);
        }
}

template <class S>
void check_flat(const Matrix<S>& x, Index rows, const char* what, const char* part = "inputs") {
    if (x.rows() != rows)
        throw ShapeError(std::string(what) + ": expected " + part + " with " + std::to_string(rows) +
                         " rows (steps x features, time-major), found " + std::to_string(x.rows()));
    if (x.cols() == 0) throw DataError(std::string(what) + ": expected at least one sequence, found 0 columns");
}

// Targets or a mask shaped like the targets: rows x cols.
template <class M>
void check_like(const M& m, Index rows, Index cols, const char* what, const char* part) {
    if (m.rows() != rows || m.cols() != cols)
        throw ShapeError(std::string(what) + ": expected " + part + " " + std::to_string(rows) + "x" + std::to_string(cols) + ", found " +
                         shape_of(m));
}

}  // namespace detail

LATENT_NAMESPACE_END
