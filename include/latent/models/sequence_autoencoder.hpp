// SequenceAutoencoder: encoder RNN(s) -> code (last state) ->
// RepeatVector(T) -> decoder RNN(s) -> TimeDistributed(Dense(F)), per-step
// MSE. Data layout, masks and parameter names: models/sequence.hpp.
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

LATENT_NAMESPACE_END
