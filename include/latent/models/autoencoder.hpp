// Autoencoder: an encoder and a decoder (each a Sequential or any layer)
// built together with one flat parameter buffer. encode / decode /
// reconstruct run in infer mode, in batches; each half can be used, and
// saved, alone.
#pragma once

#include "latent/core/abi.hpp"

#include <memory>

#include "latent/layers/tied_dense.hpp"
#include "latent/losses/loss.hpp"
#include "latent/losses/regularizers.hpp"
#include "latent/models/network.hpp"
#include "latent/models/sequential.hpp"
#include "latent/train/trainable.hpp"

LATENT_NAMESPACE_BEGIN

template <class S>
class Autoencoder : public Trainable<S> {
public:
    using Mat = Matrix<S>;

    Autoencoder(LayerPtr<S> encoder, LayerPtr<S> decoder) {
        if (!encoder || !decoder) throw ConfigError("Autoencoder: expected an encoder and a decoder, found nullptr");
        encoder_ = encoder.get();
        decoder_ = decoder.get();
        auto root = std::make_unique<Sequential<S>>();
        root->add(std::move(encoder), "encoder").add(std::move(decoder), "decoder");
        net_ = Network<S>(std::move(root));
        loss_ = std::make_unique<MSELoss<S>>();
    }

    // Build for `input` and initialize the parameters from `rng`.
    void build(Shape input, Rng& rng) {
        tie_weights();
        net_.build(input, rng);
    }
    bool built() const { return net_.built(); }

    Shape input_shape() const { return net_.input_shape(); }
    Shape code_shape() const { return encoder_->output_shape(); }
    Shape output_shape() const { return net_.output_shape(); }

    void set_loss(std::unique_ptr<Loss<S>> loss) {
        if (!loss) throw ConfigError("Autoencoder::set_loss: expected a loss, found nullptr");
        loss_ = std::move(loss);
    }
    const Loss<S>& loss() const { return *loss_; }
    void set_weight_penalty(WeightPenalty<S> p) { weight_penalty_ = p; }
    const WeightPenalty<S>& weight_penalty() const { return weight_penalty_; }

    // Inference in infer mode, `batch_size` columns at a time (Network::for_chunks:
    // batch_size <= 0 throws ConfigError, no columns give an empty result).
    Mat encode(const Mat& x, Index batch_size = 256) { return run(*encoder_, x, input_size(), batch_size, "Autoencoder::encode"); }
    Mat decode(const Mat& z, Index batch_size = 256) { return run(*decoder_, z, code_shape().size(), batch_size, "Autoencoder::decode"); }
    Mat reconstruct(const Mat& x, Index batch_size = 256) { return run(net_.root(), x, input_size(), batch_size, "Autoencoder::reconstruct"); }

    // The same into a caller's buffer (code_size x N, input_size x N): no
    // allocation once the layers have seen this batch size.
    void encode_into(const Mat& x, Eigen::Ref<Mat> out, Index batch_size = 256) {
        net_.run_into(*encoder_, x, input_size(), out, batch_size, "Autoencoder::encode");
    }
    void decode_into(const Mat& z, Eigen::Ref<Mat> out, Index batch_size = 256) {
        net_.run_into(*decoder_, z, code_shape().size(), out, batch_size, "Autoencoder::decode");
    }
    void reconstruct_into(const Mat& x, Eigen::Ref<Mat> out, Index batch_size = 256) {
        net_.run_into(net_.root(), x, input_size(), out, batch_size, "Autoencoder::reconstruct");
    }

    // Per-sample reconstruction error under the model's loss (anomaly scores).
    Vector<S> reconstruction_error(const Mat& x, Index batch_size = 256) {
        return loss_->per_sample(reconstruct(x, batch_size), x);
    }

    // Make this (unbuilt) autoencoder, of the same architecture as `source`,
    // an inference copy of it: built for source's input shape, its parameter
    // slots reading source's values (never written). serve/predictor.hpp
    // builds one per thread.
    void build_shared(const Autoencoder& source) { build_shared(source.network()); }
    // The same from an autoencoder's network (as load_network returns it).
    void build_shared(const Network<S>& source) {
        tie_weights();
        net_.build_shared(source.input_shape(), source.params());
    }

    Layer<S>& encoder() { return *encoder_; }
    Layer<S>& decoder() { return *decoder_; }
    Network<S>& network() { return net_; }
    const Network<S>& network() const { return net_; }
    std::vector<ParamView<S>> parameters() const { return net_.parameters(); }

    // Trainable
    ParamBuffer<S>& params() override { return net_.params(); }
    const ParamBuffer<S>& params() const { return net_.params(); }
    Index input_size() const override { return input_shape().size(); }
    Index target_size() const override { return output_shape().size(); }

    S train_batch(const Mat& x, const Mat& y, const Mat* mask) override {
        const Mat& pred = net_.forward(x, Mode::train);
        S value = loss_->evaluate(pred, y, &grad_, mask, loss_scratch_);
        value += net_.penalty();
        value += weight_penalty_.apply(net_.params(), true);
        net_.backward(grad_);
        return value;
    }
    S eval_batch(const Mat& x, const Mat& y, const Mat* mask) override {
        const Mat& pred = net_.forward(x, Mode::infer);
        return loss_->evaluate(pred, y, nullptr, mask, loss_scratch_) + weight_penalty_.apply(net_.params(), false);
    }

private:
    // A TiedDense in a Sequential decoder names the encoder layer it mirrors.
    void tie_weights() {
        auto* dec = dynamic_cast<Sequential<S>*>(decoder_);
        if (!dec) return;
        for (std::size_t i = 0; i < dec->size(); ++i) {
            auto* tied = dynamic_cast<TiedDense<S>*>(&(*dec)[i]);
            if (!tied) continue;
            auto* enc = dynamic_cast<Sequential<S>*>(encoder_);
            const auto k = static_cast<std::size_t>(tied->source_index());
            Dense<S>* src = enc && k < enc->size() ? dynamic_cast<Dense<S>*>(&(*enc)[k]) : nullptr;
            if (!src)
                throw ConfigError("Autoencoder: decoder layer " + std::to_string(i) + " is tied to encoder layer " +
                                  std::to_string(k) + ", expected a Dense layer there, found " +
                                  (enc && k < enc->size() ? (*enc)[k].type() : std::string("none")));
            tied->tie(src);
        }
    }

    Mat run(Layer<S>& layer, const Mat& x, Index rows, Index batch_size, const char* what) {
        Mat out(layer.output_shape().size(), x.cols());
        net_.run_into(layer, x, rows, out, batch_size, what);
        return out;
    }

    Network<S> net_;
    Layer<S>* encoder_ = nullptr;
    Layer<S>* decoder_ = nullptr;
    std::unique_ptr<Loss<S>> loss_;
    WeightPenalty<S> weight_penalty_;
    Mat grad_;
    typename Loss<S>::Arr loss_scratch_;  // the loss's work buffer (losses keep none, so they can be shared)
};

LATENT_NAMESPACE_END
