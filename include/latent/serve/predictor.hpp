// Serving: inference on ONE shared, const model from many threads.
//
//   const latent::Autoencoder<float>& ae = ...;         // trained or loaded once, shared
//   // in each worker thread:
//   latent::AutoencoderPredictor<float> p(ae);          // the thread's workspace
//   const auto& y = p.reconstruct(x);                   // x: 784 x n (any Eigen matrix, map or column)
//   p.reconstruct(x, out);                              // into a caller's 784 x n buffer
//   std::vector<float> v = p.reconstruct_sample(x_col); // one sample in, a vector out
//
// Design. Layers cache their activations (the layer contract: forward
// keeps what backward needs), so a model's own encode/reconstruct write
// the model and two threads must not call them at once. A Predictor is a
// per-thread workspace that holds an inference copy of the model: the same
// layer tree rebuilt from the model's config() through a LayerFactory
// (io/layer_factory.hpp; pass yours when the model has custom layers),
// built for the same input shape, with every parameter slot pointing into
// the shared model's flat parameter buffer (ParamBuffer::share: read only,
// never written). Activations live in the copy, so the shared model is only
// read and any number of Predictors may run on it at once. The layer
// forward/backward contract is unchanged; a copy costs the activation
// buffers of one batch, no second set of weights unless copy_weights() asks for one (below). Results are bitwise
// the model's own for the same batch (the same code runs on the same
// parameters).
//
// copy_weights() gives one Predictor a copy of the weights of its own (one
// more set of parameters in memory per Predictor; the results stay bitwise
// the same). Worker threads on different cores then each read their own
// memory instead of cache lines that every core shares: with two workers
// scoring the small AE 784-128-32-128-784 one sample at a time, each request
// took 7.2-7.6 us on the shared weights and 6.8-6.9 us on copies (6.6-6.7 us
// for one worker alone) on an Intel(R) Xeon(R) Processor (family 6 model
// 167, avx512f). Worth it for models that fit in a core's cache; for large
// ones, sharing saves the memory.
//
// use_bf16_weights() (Network, Autoencoder and VAE Predictors; opt-in)
// rounds this Predictor's copy of every Dense weight matrix to bfloat16
// (core/bfloat16.hpp): half the bytes read per sample, products still
// accumulated in float, so the only error is the rounding of each weight
// (2^-9 relative at most; the small AE's reconstructions of Fashion-MNIST,
// in [0, 1], moved by at most 0.005). For one sample the product is bound
// by reading the weights: the small AE above scored one sample in 4.3
// instead of 7.6-8.6 us on an AMD EPYC (family 26 model 2, avx512f)
// (README, "Serving"). Results are no longer bitwise the model's own, but
// they are bitwise the same on every CPU and thread count. Call it before
// serving (the rounded copy is independent of copy_weights()); it returns
// the number of matrices rounded (0: no Dense layer, or a double model).
// TiedDense, convolution and recurrent weights stay float.
//
// Allocation: none after the first call of a given batch size, for the
// calls that return a reference into the workspace or write a caller's
// buffer (the _sample calls allocate only the vector they return).
//
// Thread safety, in short:
//   safe to share between threads:  a const model (Autoencoder, VAE,
//       SequenceAutoencoder, Seq2Seq, Network) while no thread trains,
//       loads into or rebuilds it; Likelihood; a const LayerFactory;
//       SoftmaxClassifier::predict_sample, AnomalyDetector::score_sample and
//       LatentIndex::query (const, each with the caller's Predictor).
//   one per thread:  each Predictor; every model's own (non-const) encode,
//       reconstruct, predict, fit; Loss objects' evaluate/per_sample.
// A Predictor refers to the model's parameters: it must not outlive the
// model, and training or load_weights into the model while Predictors run
// is a data race. Products run on latent::num_threads() threads each; with
// N worker threads set latent::set_num_threads(1).
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <vector>

#include "latent/io/model_file.hpp"
#include "latent/io/sequence_file.hpp"

LATENT_NAMESPACE_BEGIN

namespace detail {

// Inference copies (see above): the architecture rebuilt through `factory`,
// the parameters bound read-only to the model's.
template <class S>
Network<S> inference_copy(const Network<S>& model, const LayerFactory<S>& factory) {
    const LayerConfig cfg = model.root().config();
    if (cfg.type == "Sequential" && cfg.children.size() == 2 && sequential_names(cfg) == std::vector<std::string>{"encoder", "decoder"}) {
        // an autoencoder's network: built as one so tied decoder layers find their encoder Dense
        Autoencoder<S> ae = autoencoder_from_config(cfg, factory);
        ae.build_shared(model);
        return std::move(ae.network());
    }
    Network<S> copy(factory.make(cfg));
    copy.build_shared(model.input_shape(), model.params());
    return copy;
}
template <class S>
Autoencoder<S> inference_copy(const Autoencoder<S>& model, const LayerFactory<S>& factory) {
    Autoencoder<S> copy = autoencoder_from_config(model.network().root().config(), factory);
    copy.build_shared(model);
    return copy;
}
template <class S>
VariationalAutoencoder<S> inference_copy(const VariationalAutoencoder<S>& model, const LayerFactory<S>& factory) {
    ModelFileHeader h;
    h.kind = "VariationalAutoencoder";
    h.arch = model.config();
    VariationalAutoencoder<S> copy = vae_from_header<S>(h, factory, "(inference copy)");
    copy.build_shared(model);
    return copy;
}
template <class S>
SequenceAutoencoder<S> inference_copy(const SequenceAutoencoder<S>& model) {
    SequenceAutoencoder<S> copy(model.options());
    copy.build_shared(model);
    return copy;
}
template <class S>
Seq2Seq<S> inference_copy(const Seq2Seq<S>& model) {
    Seq2Seq<S> copy(model.options());
    copy.build_shared(model);
    return copy;
}

// The workspace every Predictor shares: the input staged as a Matrix
// (layers take const Matrix&) and the output buffer, both reused.
template <class S>
class PredictorBuffers {
protected:
    using Mat = Matrix<S>;

    // Copies x into the staging matrix (no allocation once it has this size).
    const Mat& stage(const Eigen::Ref<const Mat>& x) {
        x_.resize(x.rows(), x.cols());
        x_ = x;
        return x_;
    }
    Mat& output(Index rows, Index cols) {
        out_.resize(rows, cols);
        return out_;
    }
    // One chunk for the whole call (at least 1, so empty input is accepted).
    static Index whole(const Eigen::Ref<const Mat>& x) { return std::max<Index>(x.cols(), 1); }
    static std::vector<S> to_vector(const Mat& m) { return std::vector<S>(m.data(), m.data() + m.size()); }

    Mat x_, out_;
};

}  // namespace detail

// Network (any saved model loaded with load_network): predict.
template <class S>
class NetworkPredictor : detail::PredictorBuffers<S> {
public:
    using Mat = Matrix<S>;
    explicit NetworkPredictor(const Network<S>& model, const LayerFactory<S>& factory = LayerFactory<S>::builtin())
        : copy_(detail::inference_copy(model, factory)) {}
    void copy_weights() { copy_.params().copy_shared_values(); }  // see the header comment
    Index use_bf16_weights() { return copy_.root().use_bf16_weights(); }  // see the header comment

    const Mat& predict(const Eigen::Ref<const Mat>& x) {
        Mat& out = this->output(copy_.output_size(), x.cols());
        predict(x, out);
        return out;
    }
    void predict(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> out) { copy_.predict_into(this->stage(x), out, this->whole(x)); }
    std::vector<S> predict_sample(const Eigen::Ref<const Vector<S>>& x) { return this->to_vector(predict(x)); }

private:
    Network<S> copy_;
};

// Autoencoder: encode, decode, reconstruct, score (the model's loss per sample).
template <class S>
class AutoencoderPredictor : detail::PredictorBuffers<S> {
public:
    using Mat = Matrix<S>;
    explicit AutoencoderPredictor(const Autoencoder<S>& model, const LayerFactory<S>& factory = LayerFactory<S>::builtin())
        : model_(&model), copy_(detail::inference_copy(model, factory)) {}
    void copy_weights() { copy_.params().copy_shared_values(); }  // see the header comment
    Index use_bf16_weights() { return copy_.network().root().use_bf16_weights(); }  // see the header comment

    // Results are references into this workspace, valid until its next call.
    const Mat& encode(const Eigen::Ref<const Mat>& x) { return into_output(x, copy_.code_shape().size(), &Autoencoder<S>::encode_into); }
    const Mat& decode(const Eigen::Ref<const Mat>& z) { return into_output(z, copy_.output_shape().size(), &Autoencoder<S>::decode_into); }
    const Mat& reconstruct(const Eigen::Ref<const Mat>& x) { return into_output(x, copy_.output_shape().size(), &Autoencoder<S>::reconstruct_into); }
    // One score per column: the shared model's loss of the reconstruction.
    const Vector<S>& score(const Eigen::Ref<const Mat>& x) {
        scores_.resize(x.cols());
        score(x, scores_);
        return scores_;
    }

    // Into a caller's buffers.
    void encode(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> out) { copy_.encode_into(this->stage(x), out, this->whole(x)); }
    void decode(const Eigen::Ref<const Mat>& z, Eigen::Ref<Mat> out) { copy_.decode_into(this->stage(z), out, this->whole(z)); }
    void reconstruct(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> out) { copy_.reconstruct_into(this->stage(x), out, this->whole(x)); }
    void score(const Eigen::Ref<const Mat>& x, Eigen::Ref<Vector<S>> out) {
        Mat& y = this->output(copy_.output_shape().size(), x.cols());
        copy_.reconstruct_into(this->stage(x), y, this->whole(x));
        model_->loss().per_sample_into(y, this->x_, scratch_, out);
    }

    // One sample in, a vector out.
    std::vector<S> encode_sample(const Eigen::Ref<const Vector<S>>& x) { return this->to_vector(encode(x)); }
    std::vector<S> decode_sample(const Eigen::Ref<const Vector<S>>& z) { return this->to_vector(decode(z)); }
    std::vector<S> reconstruct_sample(const Eigen::Ref<const Vector<S>>& x) { return this->to_vector(reconstruct(x)); }
    S score_sample(const Eigen::Ref<const Vector<S>>& x) { return score(x)(0); }

    const Autoencoder<S>& model() const { return *model_; }

private:
    using Into = void (Autoencoder<S>::*)(const Mat&, Eigen::Ref<Mat>, Index);
    const Mat& into_output(const Eigen::Ref<const Mat>& x, Index rows, Into f) {
        Mat& out = this->output(rows, x.cols());
        (copy_.*f)(this->stage(x), out, this->whole(x));
        return out;
    }

    const Autoencoder<S>* model_;
    Autoencoder<S> copy_;
    Vector<S> scores_;
    typename Loss<S>::Arr scratch_;
};

// VariationalAutoencoder: posterior means, E[x | z], reconstructions.
template <class S>
class VaePredictor : detail::PredictorBuffers<S> {
public:
    using Mat = Matrix<S>;
    explicit VaePredictor(const VariationalAutoencoder<S>& model, const LayerFactory<S>& factory = LayerFactory<S>::builtin())
        : copy_(detail::inference_copy(model, factory)) {}
    void copy_weights() { copy_.params().copy_shared_values(); }  // see the header comment
    Index use_bf16_weights() { return copy_.network().root().use_bf16_weights(); }  // see the header comment

    const Mat& encode_mean(const Eigen::Ref<const Mat>& x) {
        Mat& out = this->output(copy_.latent_size(), x.cols());
        encode_mean(x, out);
        return out;
    }
    const Mat& decode(const Eigen::Ref<const Mat>& z) {
        Mat& out = this->output(copy_.target_size(), z.cols());
        decode(z, out);
        return out;
    }
    const Mat& reconstruct(const Eigen::Ref<const Mat>& x) {
        Mat& out = this->output(copy_.target_size(), x.cols());
        reconstruct(x, out);
        return out;
    }
    void encode_mean(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> out) { copy_.encode_mean_into(this->stage(x), out, this->whole(x)); }
    void decode(const Eigen::Ref<const Mat>& z, Eigen::Ref<Mat> out) { copy_.decode_into(this->stage(z), out, this->whole(z)); }
    void reconstruct(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> out) { copy_.reconstruct_into(this->stage(x), out, this->whole(x)); }

    std::vector<S> encode_mean_sample(const Eigen::Ref<const Vector<S>>& x) { return this->to_vector(encode_mean(x)); }
    std::vector<S> decode_sample(const Eigen::Ref<const Vector<S>>& z) { return this->to_vector(decode(z)); }
    std::vector<S> reconstruct_sample(const Eigen::Ref<const Vector<S>>& x) { return this->to_vector(reconstruct(x)); }

private:
    VariationalAutoencoder<S> copy_;
};

// SequenceAutoencoder: codes and reconstructions of flattened sequences
// ((T*F) x N, time-major), optional step masks (T x N).
template <class S>
class SequencePredictor : detail::PredictorBuffers<S> {
public:
    using Mat = Matrix<S>;
    explicit SequencePredictor(const SequenceAutoencoder<S>& model) : copy_(detail::inference_copy(model)) {}
    void copy_weights() { copy_.params().copy_shared_values(); }  // see the header comment

    const Mat& encode(const Eigen::Ref<const Mat>& x, const Mat* step_mask = nullptr) {
        Mat& out = this->output(copy_.code_size(), x.cols());
        encode(x, out, step_mask);
        return out;
    }
    const Mat& reconstruct(const Eigen::Ref<const Mat>& x, const Mat* step_mask = nullptr) {
        Mat& out = this->output(copy_.input_size(), x.cols());
        reconstruct(x, out, step_mask);
        return out;
    }
    void encode(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> out, const Mat* step_mask = nullptr) {
        copy_.encode_into(this->stage(x), out, step_mask, this->whole(x));
    }
    void reconstruct(const Eigen::Ref<const Mat>& x, Eigen::Ref<Mat> out, const Mat* step_mask = nullptr) {
        copy_.reconstruct_into(this->stage(x), out, step_mask, this->whole(x));
    }
    // Per-sequence reconstruction error (the model's loss; allocates its result).
    Vector<S> score(const Eigen::Ref<const Mat>& x, const Mat* step_mask = nullptr) {
        return copy_.reconstruction_error(this->stage(x), step_mask, this->whole(x));
    }

    std::vector<S> encode_sample(const Eigen::Ref<const Vector<S>>& x) { return this->to_vector(encode(x)); }
    std::vector<S> reconstruct_sample(const Eigen::Ref<const Vector<S>>& x) { return this->to_vector(reconstruct(x)); }
    S score_sample(const Eigen::Ref<const Vector<S>>& x) { return score(x)(0); }

private:
    SequenceAutoencoder<S> copy_;
};

// Seq2Seq: greedy decoding of flattened sources ((T_s*F_s) x N).
template <class S>
class Seq2SeqPredictor : detail::PredictorBuffers<S> {
public:
    using Mat = Matrix<S>;
    explicit Seq2SeqPredictor(const Seq2Seq<S>& model) : copy_(detail::inference_copy(model)) {}
    void copy_weights() { copy_.params().copy_shared_values(); }  // see the header comment

    const TokenMatrix& greedy_decode(const Eigen::Ref<const Mat>& x, const Mat* source_mask = nullptr) {
        tokens_.resize(copy_.options().target_steps, x.cols());
        greedy_decode(x, tokens_, source_mask);
        return tokens_;
    }
    void greedy_decode(const Eigen::Ref<const Mat>& x, Eigen::Ref<TokenMatrix> tokens, const Mat* source_mask = nullptr) {
        copy_.greedy_decode_into(this->stage(x), tokens, source_mask, this->whole(x));
    }
    std::vector<Index> greedy_decode_sample(const Eigen::Ref<const Vector<S>>& x) {
        const TokenMatrix& t = greedy_decode(x);
        return std::vector<Index>(t.data(), t.data() + t.size());
    }

private:
    Seq2Seq<S> copy_;
    TokenMatrix tokens_;
};

LATENT_NAMESPACE_END
