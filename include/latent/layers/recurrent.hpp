// Recurrent: the one recurrent driver, shared by LSTM and GRU (lstm.hpp,
// gru.hpp), which differ only in their RecurrentCell.
//
// Parameters (PyTorch names and layout, G = gates, H = units, F = features):
//   weight_ih: G*H x F    weight_hh: G*H x H    bias_ih, bias_hh: G*H
// all initialized U(-1/sqrt(H), 1/sqrt(H)) as PyTorch does.
//
// Forward over T steps (packed x: F x (T*N)):
//   A = W_ih X + b_ih                 one GEMM for all steps, G*H x (T*N)
//   for t: B_t = W_hh h_{t-1} + b_hh  one GEMM per step, all gates at once
//          s_t = cell(A_t, B_t, s_{t-1})   s = stacked state [h; c] (LSTM) or [h] (GRU)
// With a step mask, a padded column keeps its state (s_t = s_{t-1}) and its
// output is 0, so the last output is each sequence's state at its true last
// step, and padded steps contribute nothing to any gradient.
//
// Backward is full BPTT: the cell gives dA_t and dB_t; then
//   dW_ih += dA X^T, dW_hh += dB H_prev^T (one GEMM each over all steps),
//   dh_{t-1} += W_hh^T dB_t,  dX = W_ih^T dA.
// The layer keeps no state between calls: every forward starts from the
// initial state passed in, or zeros.
#pragma once

#include "latent/core/abi.hpp"

#include <cmath>
#include <memory>
#include <utility>

#include "latent/core/gemm.hpp"
#include "latent/core/math.hpp"
#include "latent/layers/sequence_layer.hpp"

LATENT_NAMESPACE_BEGIN

// What a recurrent layer returns: its last hidden state (H x N, Keras'
// return_sequences=False) or the hidden state at every step.
enum class RnnOutput { last, sequence };

inline const char* rnn_output_name(RnnOutput o) { return o == RnnOutput::last ? "last" : "sequence"; }
inline RnnOutput rnn_output_from_name(const std::string& s) {
    if (s == "last") return RnnOutput::last;
    if (s == "sequence") return RnnOutput::sequence;
    throw ConfigError("recurrent output: expected 'last' or 'sequence', found '" + s + "'");
}

namespace detail {

// Threads: the products go through detail::matmul, which measures per
// shape class whether a second thread pays (the per-step W_hh h products
// are small, and an OpenMP region per step can cost more than it saves);
// nothing here changes a process-wide setting.

}  // namespace detail

// One step of a recurrent cell on N columns; the driver does the GEMMs.
template <class S>
class RecurrentCell {
public:
    using Mat = Matrix<S>;
    using Ref = Eigen::Ref<Mat>;
    using CRef = Eigen::Ref<const Mat>;

    virtual ~RecurrentCell() = default;
    virtual std::string name() const = 0;   // layer type: "LSTM", "GRU"
    virtual Index gates() const = 0;        // H-row gate blocks in W_ih, W_hh
    virtual Index states() const = 0;       // H-row state blocks; block 0 is h, the output
    virtual Index cache_blocks() const = 0; // H-row blocks kept per step for backward
    // True when dA = dB (LSTM): backward writes only da.
    virtual bool shared_gate_grad() const { return false; }

    // a = W_ih x + b_ih, b = W_hh h + b_hh: G*H x N. prev, next: states*H x N.
    // cache: cache_blocks*H x N, written here, read by backward.
    virtual void forward(CRef a, CRef b, CRef prev, Ref next, Ref cache) const = 0;
    // d_next: dL/d(next). Writes da = dL/da, db = dL/db (G*H x N) and
    // d_prev = the part of dL/d(prev) that does not go through W_hh
    // (the driver adds W_hh^T db to its h block).
    virtual void backward(CRef cache, CRef prev, CRef d_next, Ref da, Ref db, Ref d_prev) const = 0;
};

template <class S>
class Recurrent : public SequenceLayer<S> {
public:
    using Mat = Matrix<S>;
    using Seq = Sequence<S>;
    using State = std::vector<Mat>;  // {h, c} for LSTM, {h} for GRU, each H x N

    Recurrent(std::unique_ptr<RecurrentCell<S>> cell, Index units, RnnOutput output)
        : cell_(std::move(cell)), units_(units), output_(output) {
        if (!cell_) throw ConfigError("Recurrent: expected a cell, found nullptr");
        if (units <= 0) throw ConfigError(cell_->name() + ": expected units > 0, found " + std::to_string(units));
    }

    std::string type() const override { return cell_->name(); }
    Index units() const { return units_; }
    RnnOutput output_mode() const { return output_; }
    // Number of state tensors (2 for LSTM: h, c; 1 for GRU: h).
    Index state_count() const { return cell_->states(); }

    // Input: sequence_shape(T, F). Output: sequence_shape(T, H) or Shape{H}.
    Shape compute_output_shape(Shape in) const override {
        if (detail::shape_steps(in) <= 0 || detail::shape_features(in) <= 0)
            throw ShapeError("layer " + cell_->name() + ": expected a sequence shape {steps, features}, found " + in.str());
        return output_ == RnnOutput::sequence ? sequence_shape(detail::shape_steps(in), units_) : Shape{units_};
    }
    Index output_steps(Index steps) const override { return output_ == RnnOutput::sequence ? steps : 1; }

    void collect_params(const std::string& prefix, std::vector<NamedSlot<S>>& out) override {
        this->add_slot(prefix, w_ih_, out);
        this->add_slot(prefix, w_hh_, out);
        this->add_slot(prefix, b_ih_, out);
        this->add_slot(prefix, b_hh_, out);
    }

    const Mat& forward_packed(const Mat& x, Index steps, Mode mode, const Mat* mask = nullptr) override {
        return forward_packed(x, steps, mode, mask, nullptr);
    }

    // initial: state_count() matrices H x N (null: zeros).
    const Mat& forward_packed(const Mat& x, Index steps, Mode, const Mat* mask, const State* initial) {
        this->check_packed(x, steps);
        const Index H = units_, N = x.cols() / steps, G = cell_->gates() * H, SH = cell_->states() * H;
        if (!detail::step_mask_fits(mask, steps, N)) detail::check_step_mask(mask, steps, N, this->where().c_str());
        x_ = &x;
        steps_ = steps;
        batch_ = N;
        masked_ = mask != nullptr;
        if (masked_) {
            mask01_ = (mask->array() != S(0)).template cast<S>();
            carry01_ = S(1) - mask01_.array();
        }

        // A = W_ih X + b_ih, all steps
        a_.resize(G, steps * N);
        detail::matmul(a_, w_ih_.w(), false, x, false, false);
        a_.colwise() += b_ih_.w().col(0);

        states_.resize(SH, (steps + 1) * N);
        if (initial) {
            check_state(*initial, N, "initial state");
            for (Index k = 0; k < cell_->states(); ++k) states_.block(k * H, 0, H, N) = (*initial)[static_cast<std::size_t>(k)];
        } else {
            states_.leftCols(N).setZero();
        }
        cache_.resize(cell_->cache_blocks() * H, steps * N);
        b_.resize(G, N);
        for (Index t = 0; t < steps; ++t) {
            auto prev = states_.middleCols(t * N, N);
            auto next = states_.middleCols((t + 1) * N, N);
            // B_t = W_hh h_{t-1} + b_hh
            detail::matmul(b_, w_hh_.w(), false, prev.topRows(H), false, false);
            b_.colwise() += b_hh_.w().col(0);
            cell_->forward(a_.middleCols(t * N, N), b_, prev, next, cache_.middleCols(t * N, N));
            if (masked_)
                for (Index n = 0; n < N; ++n)
                    if (mask01_(t, n) == S(0)) next.col(n) = prev.col(n);
        }

        if (output_ == RnnOutput::sequence) {
            y_.resize(H, steps * N);
            for (Index t = 0; t < steps; ++t) {
                y_.middleCols(t * N, N) = states_.block(0, (t + 1) * N, H, N);
                if (masked_) y_.middleCols(t * N, N).array().rowwise() *= mask01_.row(t).array();
            }
        } else {
            y_ = states_.block(0, steps * N, H, N);
        }
        final_.resize(static_cast<std::size_t>(cell_->states()));
        for (Index k = 0; k < cell_->states(); ++k) final_[static_cast<std::size_t>(k)] = states_.block(k * H, steps * N, H, N);
        return y_;
    }

    const Mat& backward_packed(const Mat& dy) override { return backward_packed(dy, nullptr); }

    // dy: like the output (an empty matrix when only d_final is given);
    // d_final: dL/d(final state) (e.g. from a decoder's initial-state gradient).
    const Mat& backward_packed(const Mat& dy, const State* d_final) {
        if (!x_) throw Error(this->where() + ": backward called before forward");
        const Index H = units_, N = batch_, T = steps_, SH = cell_->states() * H, G = cell_->gates() * H;
        const bool has_dy = dy.size() != 0;
        if (!has_dy && !d_final) throw ShapeError(this->where() + ": backward needs an output gradient or a final-state gradient, found neither");
        if (has_dy && (dy.rows() != H || dy.cols() != output_steps(T) * N))
            throw ShapeError(this->where() + ": expected an output gradient " + std::to_string(H) + "x" + std::to_string(output_steps(T) * N) +
                             ", found " + detail::shape_of(dy));

        ds_.setZero(SH, N);
        if (d_final) {
            check_state(*d_final, N, "final-state gradient");
            for (Index k = 0; k < cell_->states(); ++k) ds_.middleRows(k * H, H) = (*d_final)[static_cast<std::size_t>(k)];
        }
        if (has_dy && output_ == RnnOutput::last) ds_.topRows(H) += dy;

        const bool shared = cell_->shared_gate_grad();
        da_.resize(G, T * N);
        if (!shared) db_.resize(G, T * N);
        dprev_.resize(SH, N);
        backward_steps(dy, has_dy);
        init_grad_.resize(static_cast<std::size_t>(cell_->states()));
        for (Index k = 0; k < cell_->states(); ++k) init_grad_[static_cast<std::size_t>(k)] = ds_.middleRows(k * H, H);

        const Mat& dB = shared ? da_ : db_;
        // dW_ih += dA X^T, db_ih += sum dA, dW_hh += dB H_prev^T, db_hh += sum dB
        detail::matmul(w_ih_.g(), da_, false, *x_, true, true);
        b_ih_.g().col(0) += da_.rowwise().sum();
        detail::matmul(w_hh_.g(), dB, false, states_.topLeftCorner(H, T * N), true, true);
        b_hh_.g().col(0) += dB.rowwise().sum();
        if (this->input_grad_) {
            dx_.resize(x_->rows(), T * N);
            detail::matmul(dx_, w_ih_.w(), true, da_, false, false);
        }
        return dx_;
    }

    // Seq interface with initial state and final-state gradient.
    using SequenceLayer<S>::forward_seq;
    using SequenceLayer<S>::backward_seq;
    const Seq& forward_seq(const Seq& x, Mode mode, const Mat* mask, const State* initial) {
        detail::check_sequence(x, this->where());
        detail::pack_into(x, this->seq_in_);
        this->seq_steps_ = static_cast<Index>(x.size());
        detail::unpack_into(forward_packed(this->seq_in_, this->seq_steps_, mode, mask, initial), output_steps(this->seq_steps_),
                            this->seq_out_);
        return this->seq_out_;
    }
    // dy may be empty when d_final is given.
    const Seq& backward_seq(const Seq& dy, const State* d_final) {
        if (dy.empty()) {
            this->seq_dy_.resize(0, 0);
        } else {
            detail::check_sequence(dy, this->where() + " backward");
            detail::pack_into(dy, this->seq_dy_);
        }
        detail::unpack_into(backward_packed(this->seq_dy_, d_final), this->seq_steps_, this->seq_dx_);
        return this->seq_dx_;
    }

    // State after the last step of the last forward ({h, c} or {h}, H x N each).
    const State& final_state() const { return final_; }
    // dL/d(initial state) from the last backward.
    const State& initial_state_grad() const { return init_grad_; }

    LayerConfig config() const override {
        LayerConfig c(cell_->name());
        c.set("units", units_).set("output", std::string(rnn_output_name(output_)));
        return c;
    }

    // Views of the parameters (valid once built and bound).
    MatrixMap<S> weight_ih() const { return w_ih_.w(); }
    MatrixMap<S> weight_hh() const { return w_hh_.w(); }
    MatrixMap<S> bias_ih() const { return b_ih_.w(); }
    MatrixMap<S> bias_hh() const { return b_hh_.w(); }
    const RecurrentCell<S>& cell() const { return *cell_; }

protected:
    void on_build(Shape in, Shape) override {
        const Index F = detail::shape_features(in), H = units_, G = cell_->gates() * H;
        this->set_dims(detail::shape_steps(in), F, H);
        const Init init = Init::uniform(1.0 / std::sqrt(static_cast<double>(H)));
        w_ih_ = {"weight_ih", G, F, init, true};
        w_hh_ = {"weight_hh", G, H, init, true};
        b_ih_ = {"bias_ih", G, 1, init, false};
        b_hh_ = {"bias_hh", G, 1, init, false};
    }

private:
    // BPTT over the steps, last to first: fills da_ (and db_), leaves dL/d(initial state) in ds_.
    void backward_steps(const Mat& dy, bool has_dy) {
        const Index H = units_, N = batch_, T = steps_;
        const bool shared = cell_->shared_gate_grad();
        for (Index t = T; t-- > 0;) {
            if (has_dy && output_ == RnnOutput::sequence) {
                if (masked_)
                    ds_.topRows(H).array() += dy.middleCols(t * N, N).array().rowwise() * mask01_.row(t).array();
                else
                    ds_.topRows(H) += dy.middleCols(t * N, N);
            }
            const Mat* d_new = &ds_;
            if (masked_) {  // padded columns: the state only carries through
                dnew_ = ds_;
                dnew_.array().rowwise() *= mask01_.row(t).array();
                d_new = &dnew_;
            }
            auto da = da_.middleCols(t * N, N);
            auto db = shared ? da_.middleCols(t * N, N) : db_.middleCols(t * N, N);
            cell_->backward(cache_.middleCols(t * N, N), states_.middleCols(t * N, N), *d_new, da, db, dprev_);
            // dh_{t-1} += W_hh^T dB_t
            detail::matmul(dprev_.topRows(H), w_hh_.w(), true, db, false, true);
            if (masked_) dprev_.array() += ds_.array().rowwise() * carry01_.row(t).array();
            ds_.swap(dprev_);
        }
    }

    void check_state(const State& s, Index batch, const char* what) const {
        if (static_cast<Index>(s.size()) != cell_->states())
            throw ShapeError(this->where() + ": expected an " + what + " of " + std::to_string(cell_->states()) +
                             " matrices, found " + std::to_string(s.size()));
        for (std::size_t k = 0; k < s.size(); ++k)
            if (s[k].rows() != units_ || s[k].cols() != batch)
                throw ShapeError(this->where() + ": expected " + what + " " + std::to_string(k) + " to be " + std::to_string(units_) + "x" +
                                 std::to_string(batch) + ", found " + detail::shape_of(s[k]));
    }

    std::unique_ptr<RecurrentCell<S>> cell_;
    Index units_;
    RnnOutput output_;
    ParamSlot<S> w_ih_, w_hh_, b_ih_, b_hh_;

    const Mat* x_ = nullptr;
    Index steps_ = 0, batch_ = 0;
    bool masked_ = false;
    Mat mask01_, carry01_;  // T x N: 1 for real steps / 1 for padded steps
    Mat a_;       // G*H x T*N: W_ih X + b_ih
    Mat b_;       // G*H x N: W_hh h + b_hh, one step
    Mat states_;  // S*H x (T+1)*N: the state before step 0 and after each step
    Mat cache_;   // C*H x T*N
    Mat y_;
    State final_, init_grad_;
    Mat ds_, dnew_, dprev_, da_, db_, dx_;
};

LATENT_NAMESPACE_END
