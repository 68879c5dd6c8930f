// Seq2Seq: encoder RNN -> final state (h, c) -> decoder RNN started from it
// -> TimeDistributed(Dense(V)) -> per-step softmax cross-entropy; teacher
// forcing in training, greedy decoding at inference. Data layout, masks and
// parameter names: models/sequence.hpp.
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <memory>

#include "latent/data/tokens.hpp"
#include "latent/layers/cells.hpp"
#include "latent/layers/dense.hpp"
#include "latent/layers/sequence_layer.hpp"
#include "latent/layers/sequence_layers.hpp"
#include "latent/losses/sequence_losses.hpp"
#include "latent/models/network.hpp"
#include "latent/models/sequential.hpp"
#include "latent/train/trainable.hpp"

LATENT_NAMESPACE_BEGIN

namespace detail {

// Seq2Seq's three layers as one root for its Network: each child is built
// for its own input shape (they are not a pipeline; Seq2Seq runs them one
// by one), and its parameters are named "<name>.<param>".
template <class S>
class LayerGroup : public NamedLayers<S> {
public:
    LayerGroup& add(std::string name, LayerPtr<S> layer, Shape input) {
        this->append(std::move(name), std::move(layer));
        inputs_.push_back(input);
        return *this;
    }
    std::string type() const override { return "LayerGroup"; }
    Shape compute_output_shape(Shape) const override { return layers_.back()->output_shape(inputs_.back()); }
    const Matrix<S>& forward(const Matrix<S>&, Mode) override { throw Error("LayerGroup: its layers run one by one, not as a pipeline"); }
    const Matrix<S>& backward(const Matrix<S>&) override { throw Error("LayerGroup: its layers run one by one, not as a pipeline"); }
    void set_input_grad(bool needed) override {
        this->input_grad_ = needed;
        for (auto& l : layers_) l->set_input_grad(needed);
    }
    LayerConfig config() const override {
        LayerConfig c("LayerGroup");
        for (const auto& l : layers_) c.children.push_back(l->config());
        return c;
    }

protected:
    Shape build_shapes(Shape) override {
        Shape out;
        for (std::size_t i = 0; i < layers_.size(); ++i) out = layers_[i]->build(inputs_[i]);
        return out;
    }

private:
    using NamedLayers<S>::layers_;
    std::vector<Shape> inputs_;
};

}  // namespace detail

struct Seq2SeqOptions {
    Index source_steps = 0, source_features = 0;  // source: T_s steps of F_s features (e.g. one-hot tokens)
    Index target_steps = 0, target_vocab = 0;     // target: T_t tokens of a vocabulary V, one-hot
    Index units = 128;                            // encoder and decoder hidden size
    CellType cell = CellType::lstm;
    Index start_token = 0;                        // the decoder's input at step 0 (a token of the vocabulary)
};

template <class S>
class Seq2Seq : public Trainable<S> {
public:
    using Mat = Matrix<S>;
    using Seq = Sequence<S>;
    using State = typename Recurrent<S>::State;

    // Builds and initializes the model from `rng`.
    Seq2Seq(const Seq2SeqOptions& o, Rng& rng) : Seq2Seq(o) { build(rng); }
    // The layers only, not yet built: call build(rng), or build_shared (an inference copy).
    explicit Seq2Seq(const Seq2SeqOptions& o) : opt_(o) {
        if (o.source_steps <= 0 || o.source_features <= 0 || o.target_steps <= 0 || o.target_vocab <= 0 || o.units <= 0)
            throw ConfigError("Seq2Seq: expected positive source_steps, source_features, target_steps, target_vocab and units");
        if (o.start_token < 0 || o.start_token >= o.target_vocab)
            throw ConfigError("Seq2Seq: expected start_token in [0, " + std::to_string(o.target_vocab) + "), found " +
                              std::to_string(o.start_token));
        auto enc = make_recurrent<S>(o.cell, o.units, RnnOutput::last);
        auto dec = make_recurrent<S>(o.cell, o.units, RnnOutput::sequence);
        auto out = std::make_unique<TimeDistributed<S>>(std::make_unique<Dense<S>>(o.target_vocab));
        encoder_ = enc.get();
        decoder_ = dec.get();
        output_ = out.get();
        auto group = std::make_unique<detail::LayerGroup<S>>();
        group->add("encoder", std::move(enc), source_shape())
            .add("decoder", std::move(dec), sequence_shape(o.target_steps, o.target_vocab))
            .add("output", std::move(out), sequence_shape(o.target_steps, o.units));
        net_ = Network<S>(std::move(group));
        loss_ = std::make_unique<SequenceCrossEntropyLoss<S>>();
    }

    // Build the three layers and initialize the parameters from rng.
    void build(Rng& rng) {
        net_.build(source_shape(), rng);
        output_->set_input_grad(true);  // the decoder's output needs its gradient; the inputs are data
    }
    // Make this unbuilt model (same options as `source`) an inference copy of it.
    void build_shared(const Seq2Seq& source) { net_.build_shared(source_shape(), source.net_.params()); }
    bool built() const { return net_.built(); }
    Network<S>& network() { return net_; }
    const Network<S>& network() const { return net_; }

    const Seq2SeqOptions& options() const { return opt_; }
    Recurrent<S>& encoder() { return *encoder_; }
    Recurrent<S>& decoder() { return *decoder_; }
    TimeDistributed<S>& output() { return *output_; }
    std::vector<ParamView<S>> parameters() const { return net_.parameters(); }

    // Architecture for model files: the options as attributes, the three layers as children.
    LayerConfig config() const {
        LayerConfig c("Seq2Seq");
        c.set("source_steps", opt_.source_steps).set("source_features", opt_.source_features);
        c.set("target_steps", opt_.target_steps).set("target_vocab", opt_.target_vocab);
        c.set("units", opt_.units).set("cell", std::string(cell_type_name(opt_.cell))).set("start_token", opt_.start_token);
        for (const auto* l : layers()) c.children.push_back(l->config());
        return c;
    }

    // Greedy decoding: at each step the decoder's input is the one-hot of
    // its previous argmax (the start token first). x: (T_s*F_s) x N
    // flattened source; source_mask: T_s x N or null. Returns T_t x N tokens.
    TokenMatrix greedy_decode(const Mat& x, const Mat* source_mask = nullptr, Index batch_size = 256) {
        TokenMatrix tokens(opt_.target_steps, x.cols());
        greedy_decode_into(x, tokens, source_mask, batch_size);
        return tokens;
    }
    // The same into a caller's T_t x N token buffer.
    void greedy_decode_into(const Mat& x, Eigen::Ref<TokenMatrix> tokens, const Mat* source_mask = nullptr, Index batch_size = 256) {
        const char* what = "Seq2Seq::greedy_decode";
        if (source_mask) detail::check_step_mask(source_mask, opt_.source_steps, x.cols(), what);
        const Index T = opt_.target_steps, V = opt_.target_vocab;
        if (tokens.rows() != T || tokens.cols() != x.cols())
            throw ShapeError(std::string(what) + ": expected a token buffer " + std::to_string(T) + "x" + std::to_string(x.cols()) +
                             ", found " + std::to_string(tokens.rows()) + "x" + std::to_string(tokens.cols()));
        net_.for_chunks(x, input_size(), batch_size, what, [&](const Mat& chunk, Index s) {
            const Index n = chunk.cols();
            detail::flat_to_packed(chunk, opt_.source_steps, xp_);
            if (source_mask) mask_chunk_ = source_mask->middleCols(s, n);
            encoder_->forward_packed(xp_, opt_.source_steps, Mode::infer, source_mask ? &mask_chunk_ : nullptr);
            state_ = encoder_->final_state();
            step_in_.setZero(V, n);
            step_in_.row(opt_.start_token).setOnes();
            for (Index t = 0; t < T; ++t) {
                const Mat& h = decoder_->forward_packed(step_in_, 1, Mode::infer, nullptr, &state_);
                const Mat& logits = output_->forward_packed(h, 1, Mode::infer);
                step_in_.setZero();
                for (Index j = 0; j < n; ++j) {
                    Index k = 0;
                    logits.col(j).maxCoeff(&k);
                    tokens(t, s + j) = k;
                    step_in_(k, j) = S(1);
                }
                state_ = decoder_->final_state();
            }
        });
    }
    TokenMatrix greedy_decode(const Seq& source, const Mat* source_mask = nullptr) {
        return greedy_decode(flatten_sequence(source), source_mask);
    }

    // One teacher-forced forward and backward with explicit step masks
    // (source T_s x N, target T_t x N, either may be null). x, y flattened.
    S train_batch_masked(const Mat& x, const Mat& y, const Mat* source_mask, const Mat* target_mask) {
        prepare(x, y, "Seq2Seq::train_batch");
        const Mat& logits = forward(source_mask, target_mask, Mode::train);
        const S value = loss_->evaluate_packed(logits, yp_, opt_.target_steps, &grad_, target_mask, loss_scratch_);
        // logits -> decoder -> its initial state = the encoder's final state
        decoder_->backward_packed(output_->backward_packed(grad_));
        encoder_->backward_packed(Mat(), &decoder_->initial_state_grad());
        return value;
    }

    // Trainable: x (T_s*F_s) x N, y (T_t*V) x N one-hot; mask like y or null.
    ParamBuffer<S>& params() override { return net_.params(); }
    const ParamBuffer<S>& params() const { return net_.params(); }
    Index input_size() const override { return opt_.source_steps * opt_.source_features; }
    Index target_size() const override { return opt_.target_steps * opt_.target_vocab; }
    S train_batch(const Mat& x, const Mat& y, const Mat* mask) override {
        return train_batch_masked(x, y, nullptr, target_mask(mask, x.cols(), "Seq2Seq::train_batch"));
    }
    // Teacher-forced loss in infer mode.
    S eval_batch(const Mat& x, const Mat& y, const Mat* mask) override {
        const Mat* m = target_mask(mask, x.cols(), "Seq2Seq::eval_batch");
        prepare(x, y, "Seq2Seq::eval_batch");
        return loss_->evaluate_packed(forward(nullptr, m, Mode::infer), yp_, opt_.target_steps, nullptr, m, loss_scratch_);
    }

private:
    Shape source_shape() const { return sequence_shape(opt_.source_steps, opt_.source_features); }
    std::vector<const Layer<S>*> layers() const { return {encoder_, decoder_, output_}; }
    const Mat* target_mask(const Mat* mask, Index batch, const char* what) {
        if (!mask) return nullptr;
        detail::check_like(*mask, target_size(), batch, what, "a mask");
        detail::step_mask_from_flat(*mask, opt_.target_steps, step_mask_, what);
        return &step_mask_;
    }
    void prepare(const Mat& x, const Mat& y, const char* what) {
        detail::check_flat(x, input_size(), what);
        detail::check_like(y, target_size(), x.cols(), what, "targets");
        detail::flat_to_packed(x, opt_.source_steps, xp_);
        detail::flat_to_packed(y, opt_.target_steps, yp_);
    }
    // Teacher forcing: the decoder's input at step t is the target at t-1
    // (the start token at t = 0), starting from the encoder's final state.
    const Mat& forward(const Mat* source_mask, const Mat* target_mask, Mode mode) {
        const Index N = xp_.cols() / opt_.source_steps, T = opt_.target_steps;
        encoder_->forward_packed(xp_, opt_.source_steps, mode, source_mask);
        dec_in_.resize(opt_.target_vocab, T * N);
        dec_in_.leftCols(N).setZero();
        dec_in_.row(opt_.start_token).head(N).setOnes();
        if (T > 1) dec_in_.rightCols((T - 1) * N) = yp_.leftCols((T - 1) * N);
        const Mat& h = decoder_->forward_packed(dec_in_, T, mode, target_mask, &encoder_->final_state());
        return output_->forward_packed(h, T, mode);
    }

    Seq2SeqOptions opt_;
    Network<S> net_;  // root: a LayerGroup of the three below
    Recurrent<S>* encoder_ = nullptr;
    Recurrent<S>* decoder_ = nullptr;
    TimeDistributed<S>* output_ = nullptr;
    std::unique_ptr<SequenceLoss<S>> loss_;
    State state_;
    Mat xp_, yp_, dec_in_, grad_, step_mask_, mask_chunk_, step_in_;
    SequenceLossScratch<S> loss_scratch_;
};

LATENT_NAMESPACE_END
