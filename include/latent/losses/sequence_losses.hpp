// Losses over sequences, per step, with an optional step mask (T x N,
// 1 = real step, 0 = padding: no value, no gradient).
//
//   SequenceMSELoss           (p - t)^2, mean over the features of every real step
//                             (= MSE over observed elements; Keras/PyTorch 'mean')
//   SequenceCrossEntropyLoss  softmax cross-entropy on logits, -sum_v t_v log softmax(p)_v,
//                             mean over real steps (PyTorch CrossEntropyLoss with
//                             padding ignored); t one-hot (or class probabilities)
//
// Each takes sequences (std::vector<Matrix>, T steps of F x N) or the packed
// layout F x (T*N) used inside the sequence models (sequence_layer.hpp).
#pragma once

#include "latent/core/abi.hpp"

#include <cmath>
#include <string>

#include "latent/layers/sequence_layer.hpp"

LATENT_NAMESPACE_BEGIN

// Work buffers of a sequence loss evaluation. Losses hold none of their
// own (one loss object may be shared between threads); a training loop
// keeps one of these so a step allocates nothing.
template <class S>
struct SequenceLossScratch {
    RowVector<S> col, m, lse, sums, tsum;
    Matrix<S> pp, tp, gp, e;
};

template <class S>
class SequenceLoss {
public:
    using Mat = Matrix<S>;
    using Seq = Sequence<S>;
    using Scratch = SequenceLossScratch<S>;
    virtual ~SequenceLoss() = default;
    virtual std::string name() const = 0;

    // Packed pred/target F x (T*N). Returns the reduced loss; fills grad (like pred) with dL/dpred.
    S evaluate_packed(const Mat& pred, const Mat& target, Index steps, Mat* grad = nullptr, const Mat* step_mask = nullptr) const {
        Scratch ws;
        return evaluate_packed(pred, target, steps, grad, step_mask, ws);
    }
    // As above with caller-owned work buffers.
    S evaluate_packed(const Mat& pred, const Mat& target, Index steps, Mat* grad, const Mat* step_mask, Scratch& ws) const {
        check(pred, target, steps, step_mask);
        columns(pred, target, ws.col, grad, ws);
        const Index n = pred.cols() / steps;
        S count = static_cast<S>(pred.cols());
        if (step_mask) {
            mask_row(*step_mask, n, ws.m);
            ws.col.array() *= ws.m.array();
            count = ws.m.sum();
            if (grad) grad->array().rowwise() *= ws.m.array();
        }
        const S denom = count > S(0) ? count * step_weight(pred.rows()) : S(1);
        if (grad) *grad /= denom;
        return ws.col.sum() / denom;
    }

    // Loss of every step (T x N): the step's mean squared error over its
    // features, or its cross-entropy; 0 at padded steps.
    Mat per_step_packed(const Mat& pred, const Mat& target, Index steps, const Mat* step_mask = nullptr) const {
        check(pred, target, steps, step_mask);
        Scratch ws;
        columns(pred, target, ws.col, nullptr, ws);
        const Index n = pred.cols() / steps;
        Mat out(steps, n);
        for (Index t = 0; t < steps; ++t) out.row(t) = ws.col.segment(t * n, n) / step_weight(pred.rows());
        if (step_mask) out.array() *= (step_mask->array() != S(0)).template cast<S>();
        return out;
    }

    // Loss of every sequence (N): the mean over its real steps (0 when it has none).
    Vector<S> per_sequence_packed(const Mat& pred, const Mat& target, Index steps, const Mat* step_mask = nullptr) const {
        const Mat per = per_step_packed(pred, target, steps, step_mask);
        Vector<S> out(per.cols());
        for (Index j = 0; j < per.cols(); ++j) {
            const S k = step_mask ? (step_mask->col(j).array() != S(0)).template cast<S>().sum() : static_cast<S>(steps);
            out(j) = k > S(0) ? per.col(j).sum() / k : S(0);
        }
        return out;
    }

    // The same on sequences.
    S evaluate(const Seq& pred, const Seq& target, Seq* grad = nullptr, const Mat* step_mask = nullptr) const {
        Scratch ws;
        pack_pair(pred, target, ws);
        const Index steps = static_cast<Index>(pred.size());
        const S v = evaluate_packed(ws.pp, ws.tp, steps, grad ? &ws.gp : nullptr, step_mask, ws);
        if (grad) detail::unpack_into(ws.gp, steps, *grad);
        return v;
    }
    Mat per_step(const Seq& pred, const Seq& target, const Mat* step_mask = nullptr) const {
        Scratch ws;
        pack_pair(pred, target, ws);
        return per_step_packed(ws.pp, ws.tp, static_cast<Index>(pred.size()), step_mask);
    }
    Vector<S> per_sequence(const Seq& pred, const Seq& target, const Mat* step_mask = nullptr) const {
        Scratch ws;
        pack_pair(pred, target, ws);
        return per_sequence_packed(ws.pp, ws.tp, static_cast<Index>(pred.size()), step_mask);
    }

protected:
    // out(j): loss of packed column j (summed over features); grad (when
    // non-null): its gradient w.r.t. pred column j.
    // `ws` offers work buffers (lse, sums, tsum, e) to implementations.
    virtual void columns(const Mat& pred, const Mat& target, RowVector<S>& out, Mat* grad, Scratch& ws) const = 0;
    // What one step counts for in the mean: F (mean over elements) or 1 (mean over steps).
    virtual S step_weight(Index features) const = 0;

private:
    void check(const Mat& pred, const Mat& target, Index steps, const Mat* mask) const {
        if (pred.rows() != target.rows() || pred.cols() != target.cols())
            throw ShapeError(name() + " loss: expected target " + detail::shape_of(pred) + " like the prediction, found " +
                             detail::shape_of(target));
        if (pred.size() == 0) throw DataError(name() + " loss: expected a non-empty batch, found " + detail::shape_of(pred));
        if (steps <= 0 || pred.cols() % steps != 0)
            throw ShapeError(name() + " loss: expected " + std::to_string(steps) + " steps to divide " + std::to_string(pred.cols()) +
                             " packed columns");
        if (!detail::step_mask_fits(mask, steps, pred.cols() / steps))
            detail::check_step_mask(mask, steps, pred.cols() / steps, (name() + " loss").c_str());
    }
    void pack_pair(const Seq& pred, const Seq& target, Scratch& ws) const {
        detail::check_sequence(pred, name() + " loss prediction");
        detail::check_sequence(target, name() + " loss target");
        if (pred.size() != target.size())
            throw ShapeError(name() + " loss: expected " + std::to_string(pred.size()) + " target steps, found " +
                             std::to_string(target.size()));
        detail::pack_into(pred, ws.pp);
        detail::pack_into(target, ws.tp);
    }
    // Step mask T x N -> 0/1 row over the packed columns (j = t*N + n).
    static void mask_row(const Mat& mask, Index n, RowVector<S>& m) {
        m.resize(mask.size());
        for (Index t = 0; t < mask.rows(); ++t)
            for (Index k = 0; k < n; ++k) m(t * n + k) = mask(t, k) != S(0) ? S(1) : S(0);
    }
};

// (p - t)^2 summed over a step's features; mean over real steps x features.
template <class S>
class SequenceMSELoss : public SequenceLoss<S> {
public:
    using typename SequenceLoss<S>::Mat;
    std::string name() const override { return "SequenceMSE"; }

protected:
    using typename SequenceLoss<S>::Scratch;
    void columns(const Mat& p, const Mat& t, RowVector<S>& out, Mat* grad, Scratch&) const override {
        out = (p - t).colwise().squaredNorm();
        if (grad) grad->noalias() = S(2) * (p - t);
    }
    S step_weight(Index features) const override { return static_cast<S>(features); }
};

// Softmax cross-entropy on logits p (features = classes):
//   l = -sum_v t_v log softmax(p)_v,   dl/dp = softmax(p) sum_v t_v - t.
template <class S>
class SequenceCrossEntropyLoss : public SequenceLoss<S> {
public:
    using typename SequenceLoss<S>::Mat;
    std::string name() const override { return "SequenceCrossEntropy"; }

protected:
    using typename SequenceLoss<S>::Scratch;
    void columns(const Mat& p, const Mat& t, RowVector<S>& out, Mat* grad, Scratch& ws) const override {
        // log softmax = p - max - log sum exp(p - max)
        ws.lse = p.colwise().maxCoeff();
        ws.e = (p.rowwise() - ws.lse).array().exp().matrix();
        ws.sums = ws.e.colwise().sum();
        ws.lse.array() += ws.sums.array().log();
        out = -(t.array() * (p.rowwise() - ws.lse).array()).colwise().sum().matrix();
        if (grad) {
            ws.tsum = t.colwise().sum();  // 1 for one-hot targets
            ws.sums.array() = ws.tsum.array() / ws.sums.array();
            grad->resize(p.rows(), p.cols());
            grad->array() = ws.e.array().rowwise() * ws.sums.array() - t.array();
        }
    }
    S step_weight(Index) const override { return S(1); }
};

LATENT_NAMESPACE_END
