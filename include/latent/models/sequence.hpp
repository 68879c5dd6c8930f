// Sequence models, both Trainable (so fit(), optimizers, clip_norm,
// callbacks and the progress bar apply unchanged):
//
//   SequenceAutoencoder  encoder RNN(s) -> code (last state) -> RepeatVector(T)
//                        -> decoder RNN(s) -> TimeDistributed(Dense(F)), per-step MSE
//   Seq2Seq              encoder RNN -> final state (h, c) -> decoder RNN started
//                        from it -> TimeDistributed(Dense(V)) -> per-step softmax
//                        cross-entropy; teacher forcing in training, greedy
//                        decoding at inference
//
// Data for fit(): sequences flattened time-major, one sample per column,
// (T*F) x N with rows t*F .. t*F+F-1 = step t (flatten_sequence /
// unflatten_sequence). A fit() mask is shaped like the targets; a step whose
// mask entries are all 0 is padding (mask_from_lengths + expand_step_mask
// build one), and a step must be all-0 or all-1. Inside, the models work on
// the packed layout (sequence_layer.hpp) and pass the step mask to every
// recurrent layer, so padded steps carry the state and give no gradient.
//
// Parameters live in one flat ParamBuffer per model (the layers' ParamSlots),
// named PyTorch-style: "encoder.0.weight_ih", "decoder.0.bias_hh", "output.layer.weight".
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <memory>

#include "latent/layers/dense.hpp"
#include "latent/layers/gru.hpp"
#include "latent/layers/lstm.hpp"
#include "latent/layers/sequence_layers.hpp"
#include "latent/losses/sequence_losses.hpp"
#include "latent/models/network.hpp"
#include "latent/models/sequential.hpp"
#include "latent/train/trainable.hpp"

LATENT_NAMESPACE_BEGIN

enum class CellType { lstm, gru };

inline const char* cell_type_name(CellType c) { return c == CellType::lstm ? "LSTM" : "GRU"; }
inline CellType cell_type_from_name(const std::string& s) {
    if (s == "LSTM" || s == "lstm") return CellType::lstm;
    if (s == "GRU" || s == "gru") return CellType::gru;
    throw ConfigError("cell type: expected LSTM or GRU, found '" + s + "'");
}

template <class S>
std::unique_ptr<Recurrent<S>> make_recurrent(CellType cell, Index units, RnnOutput output) {
    if (cell == CellType::lstm) return std::make_unique<LSTM<S>>(units, output);
    return std::make_unique<GRU<S>>(units, output);
}

// Token indices, steps x batch.
using TokenMatrix = Eigen::Matrix<Index, Eigen::Dynamic, Eigen::Dynamic>;

// Tokens (T x N) -> one-hot sequences flattened for fit(), (T*V) x N.
template <class S>
Matrix<S> one_hot(const TokenMatrix& tokens, Index vocab) {
    Matrix<S> out = Matrix<S>::Zero(tokens.rows() * vocab, tokens.cols());
    for (Index n = 0; n < tokens.cols(); ++n)
        for (Index t = 0; t < tokens.rows(); ++t) {
            const Index k = tokens(t, n);
            if (k < 0 || k >= vocab)
                throw DataError("one_hot: expected tokens in [0, " + std::to_string(vocab) + "), found " + std::to_string(k) +
                                " at step " + std::to_string(t) + ", sample " + std::to_string(n));
            out(t * vocab + k, n) = S(1);
        }
    return out;
}

namespace detail {

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

namespace detail {

// Seq2Seq's three layers as one root for its Network: each child is built
// for its own input shape (they are not a pipeline; Seq2Seq runs them one
// by one), and its parameters are named "<name>.<param>".
template <class S>
class LayerGroup : public Layer<S> {
public:
    LayerGroup& add(std::string name, LayerPtr<S> layer, Shape input) {
        names_.push_back(std::move(name));
        layers_.push_back(std::move(layer));
        inputs_.push_back(input);
        return *this;
    }
    std::string type() const override { return "LayerGroup"; }
    std::size_t size() const { return layers_.size(); }
    const Layer<S>& operator[](std::size_t i) const { return *layers_.at(i); }
    const std::string& name(std::size_t i) const { return names_.at(i); }
    Shape compute_output_shape(Shape) const override { return layers_.back()->output_shape(inputs_.back()); }
    void collect_params(const std::string& prefix, std::vector<NamedSlot<S>>& out) override {
        for (std::size_t i = 0; i < layers_.size(); ++i) layers_[i]->collect_params(prefix.empty() ? names_[i] : prefix + "." + names_[i], out);
    }
    const Matrix<S>& forward(const Matrix<S>&, Mode) override { throw Error("LayerGroup: its layers run one by one, not as a pipeline"); }
    const Matrix<S>& backward(const Matrix<S>&) override { throw Error("LayerGroup: its layers run one by one, not as a pipeline"); }
    void set_input_grad(bool needed) override {
        this->input_grad_ = needed;
        for (auto& l : layers_) l->set_input_grad(needed);
    }
    void attach_rng(Rng* rng) override {
        this->rng_ = rng;
        for (auto& l : layers_) l->attach_rng(rng);
    }
    void reset_state() override {
        for (auto& l : layers_) l->reset_state();
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
    std::vector<LayerPtr<S>> layers_;
    std::vector<std::string> names_;
    std::vector<Shape> inputs_;
};

}  // namespace detail

struct SequenceAutoencoderOptions {
    Index steps = 0;                        // T; shorter sequences go through a mask
    Index features = 0;                     // F per step
    std::vector<Index> encoder_units{64};   // stacked recurrent layers; the last one's units = code size
    std::vector<Index> decoder_units;       // empty: the encoder's, reversed
    CellType cell = CellType::lstm;
};

template <class S>
class SequenceAutoencoder : public Trainable<S> {
public:
    using Mat = Matrix<S>;
    using Seq = Sequence<S>;

    // Builds and initializes the model from `rng`.
    SequenceAutoencoder(const SequenceAutoencoderOptions& o, Rng& rng) : SequenceAutoencoder(o) { build(rng); }
    // The layers only, not yet built: call build(rng), or build_shared (an inference copy).
    explicit SequenceAutoencoder(const SequenceAutoencoderOptions& o) : opt_(o) {
        if (o.steps <= 0 || o.features <= 0)
            throw ConfigError("SequenceAutoencoder: expected steps > 0 and features > 0, found " + std::to_string(o.steps) + " and " +
                              std::to_string(o.features));
        if (o.encoder_units.empty()) throw ConfigError("SequenceAutoencoder: expected at least one encoder layer, found none");
        if (opt_.decoder_units.empty()) opt_.decoder_units.assign(o.encoder_units.rbegin(), o.encoder_units.rend());
        auto enc = std::make_unique<Sequential<S>>();
        for (std::size_t i = 0; i < o.encoder_units.size(); ++i) {
            auto r = make_recurrent<S>(o.cell, o.encoder_units[i], i + 1 == o.encoder_units.size() ? RnnOutput::last : RnnOutput::sequence);
            encoder_.push_back(r.get());
            enc->add(std::move(r));
        }
        auto dec = std::make_unique<Sequential<S>>();
        for (Index u : opt_.decoder_units) {
            auto r = make_recurrent<S>(o.cell, u, RnnOutput::sequence);
            decoder_.push_back(r.get());
            dec->add(std::move(r));
        }
        auto rep = std::make_unique<RepeatVector<S>>(o.steps);
        auto out = std::make_unique<TimeDistributed<S>>(std::make_unique<Dense<S>>(o.features));
        repeat_ = rep.get();
        output_ = out.get();
        auto root = std::make_unique<Sequential<S>>();
        root->add(std::move(enc), "encoder").add(std::move(rep), "repeat").add(std::move(dec), "decoder").add(std::move(out), "output");
        net_ = Network<S>(std::move(root));
        loss_ = std::make_unique<SequenceMSELoss<S>>();
    }

    // Build for (steps x features) and initialize the parameters from rng.
    void build(Rng& rng) { net_.build(sequence_shape(opt_.steps, opt_.features), rng); }
    // Make this unbuilt model (same options as `source`) an inference copy
    // of it: its parameter slots read source's values (serve/predictor.hpp).
    void build_shared(const SequenceAutoencoder& source) {
        net_.build_shared(sequence_shape(opt_.steps, opt_.features), source.net_.params());
    }
    bool built() const { return net_.built(); }

    const SequenceAutoencoderOptions& options() const { return opt_; }
    Index steps() const { return opt_.steps; }
    Index features() const { return opt_.features; }
    Index code_size() const { return opt_.encoder_units.back(); }

    void set_loss(std::unique_ptr<SequenceLoss<S>> loss) {
        if (!loss) throw ConfigError("SequenceAutoencoder::set_loss: expected a loss, found nullptr");
        loss_ = std::move(loss);
    }
    const SequenceLoss<S>& loss() const { return *loss_; }

    // x: (T*F) x N flattened time-major; step_mask: T x N or null. Chunked
    // by Network::for_chunks (batch_size <= 0: ConfigError; no columns: empty).
    Mat encode(const Mat& x, const Mat* step_mask = nullptr, Index batch_size = 256) {
        Mat out(code_size(), x.cols());
        encode_into(x, out, step_mask, batch_size);
        return out;
    }
    Mat reconstruct(const Mat& x, const Mat* step_mask = nullptr, Index batch_size = 256) {
        Mat out(steps() * features(), x.cols());
        reconstruct_into(x, out, step_mask, batch_size);
        return out;
    }
    Seq reconstruct(const Seq& x, const Mat* step_mask = nullptr) {
        return unflatten_sequence(reconstruct(flatten_sequence(x), step_mask), steps());
    }
    // The same into a caller's buffer (code_size x N, (T*F) x N).
    void encode_into(const Mat& x, Eigen::Ref<Mat> out, const Mat* step_mask = nullptr, Index batch_size = 256) {
        detail::check_like(out, code_size(), x.cols(), "SequenceAutoencoder::encode", "an output buffer");
        chunked(x, step_mask, batch_size, "SequenceAutoencoder::encode", [&](const Mat* m, Index start, Index n) {
            out.middleCols(start, n) = run_encoder(xp_, m, Mode::infer);
        });
    }
    void reconstruct_into(const Mat& x, Eigen::Ref<Mat> out, const Mat* step_mask = nullptr, Index batch_size = 256) {
        detail::check_like(out, steps() * features(), x.cols(), "SequenceAutoencoder::reconstruct", "an output buffer");
        chunked(x, step_mask, batch_size, "SequenceAutoencoder::reconstruct", [&](const Mat* m, Index start, Index n) {
            detail::packed_to_flat(run(xp_, m, Mode::infer), steps(), flat_);
            out.middleCols(start, n) = flat_;
        });
    }
    // Per-step loss (T x N; 0 at padded steps): an anomaly score over time.
    Mat step_errors(const Mat& x, const Mat* step_mask = nullptr, Index batch_size = 256) {
        Mat out(steps(), x.cols());
        chunked(x, step_mask, batch_size, "SequenceAutoencoder::step_errors", [&](const Mat* m, Index start, Index n) {
            out.middleCols(start, n) = loss_->per_step_packed(run(xp_, m, Mode::infer), xp_, steps(), m);
        });
        return out;
    }
    // Per-sequence loss (N): the mean of step_errors over each sequence's real steps.
    Vector<S> reconstruction_error(const Mat& x, const Mat* step_mask = nullptr, Index batch_size = 256) {
        if (step_mask) detail::check_step_mask(step_mask, steps(), x.cols(), "SequenceAutoencoder::reconstruction_error");
        const Mat e = step_errors(x, step_mask, batch_size);
        Vector<S> out(e.cols());
        for (Index j = 0; j < e.cols(); ++j) {
            const S k = step_mask ? (step_mask->col(j).array() != S(0)).template cast<S>().sum() : static_cast<S>(steps());
            out(j) = k > S(0) ? e.col(j).sum() / k : S(0);
        }
        return out;
    }

    // The model as one flat-interface layer stack (no masks there):
    // Sequential{encoder, repeat, decoder, output}.
    Network<S>& network() { return net_; }
    const Network<S>& network() const { return net_; }
    std::vector<ParamView<S>> parameters() const { return net_.parameters(); }
    Recurrent<S>& encoder_layer(std::size_t i) { return *encoder_.at(i); }
    Recurrent<S>& decoder_layer(std::size_t i) { return *decoder_.at(i); }

    // Trainable: x, y (T*F) x N; mask like y or null.
    ParamBuffer<S>& params() override { return net_.params(); }
    Index input_size() const override { return steps() * features(); }
    Index target_size() const override { return steps() * features(); }

    S train_batch(const Mat& x, const Mat& y, const Mat* mask) override {
        const Mat* m = prepare(x, y, mask, "SequenceAutoencoder::train_batch");
        const Mat& pred = run(xp_, m, Mode::train);
        const S value = loss_->evaluate_packed(pred, yp_, steps(), &grad_, m, loss_scratch_);
        backward(grad_);
        return value;
    }
    S eval_batch(const Mat& x, const Mat& y, const Mat* mask) override {
        const Mat* m = prepare(x, y, mask, "SequenceAutoencoder::eval_batch");
        return loss_->evaluate_packed(run(xp_, m, Mode::infer), yp_, steps(), nullptr, m, loss_scratch_);
    }

private:
    const Mat* prepare(const Mat& x, const Mat& y, const Mat* mask, const char* what) {
        detail::check_flat(x, input_size(), what);
        detail::check_like(y, target_size(), x.cols(), what, "targets");
        detail::flat_to_packed(x, steps(), xp_);
        detail::flat_to_packed(y, steps(), yp_);
        if (!mask) return nullptr;
        detail::check_like(*mask, target_size(), x.cols(), what, "a mask");
        detail::step_mask_from_flat(*mask, steps(), step_mask_, what);
        return &step_mask_;
    }

    // packed x (F x T*N) -> code (H x N)
    const Mat& run_encoder(const Mat& xp, const Mat* m, Mode mode) {
        const Mat* h = &xp;
        for (auto* r : encoder_) h = &r->forward_packed(*h, steps(), mode, m);
        return *h;
    }
    // packed x -> packed reconstruction (F x T*N)
    const Mat& run(const Mat& xp, const Mat* m, Mode mode) {
        const Mat* h = &repeat_->forward_packed(run_encoder(xp, m, mode), 1, mode);
        for (auto* r : decoder_) h = &r->forward_packed(*h, steps(), mode, m);
        return output_->forward_packed(*h, steps(), mode);
    }
    void backward(const Mat& grad) {
        const Mat* g = &output_->backward_packed(grad);
        for (std::size_t i = decoder_.size(); i-- > 0;) g = &decoder_[i]->backward_packed(*g);
        g = &repeat_->backward_packed(*g);
        for (std::size_t i = encoder_.size(); i-- > 0;) g = &encoder_[i]->backward_packed(*g);
    }

    // Network::for_chunks over the flattened columns; each chunk packed into
    // xp_ (and its step mask cut) before f(mask or null, start, n).
    template <class F>
    void chunked(const Mat& x, const Mat* step_mask, Index batch_size, const char* what, F&& f) {
        if (step_mask) detail::check_step_mask(step_mask, steps(), x.cols(), what);
        net_.for_chunks(x, steps() * features(), batch_size, what, [&](const Mat& chunk, Index start) {
            const Index n = chunk.cols();
            detail::flat_to_packed(chunk, steps(), xp_);
            if (step_mask) mask_chunk_ = step_mask->middleCols(start, n);
            f(step_mask ? &mask_chunk_ : nullptr, start, n);
        });
    }

    SequenceAutoencoderOptions opt_;
    Network<S> net_;
    std::vector<Recurrent<S>*> encoder_, decoder_;
    RepeatVector<S>* repeat_ = nullptr;
    TimeDistributed<S>* output_ = nullptr;
    std::unique_ptr<SequenceLoss<S>> loss_;
    Mat xp_, yp_, grad_, step_mask_, mask_chunk_, flat_;
    SequenceLossScratch<S> loss_scratch_;
};

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
