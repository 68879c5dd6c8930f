// Network: a root layer that has been built for an input shape, with the
// model's one flat parameter buffer and its own random generator. It is the
// one owner of a model's lifecycle; every model (Autoencoder,
// VariationalAutoencoder, SequenceAutoencoder, Seq2Seq, the classifier)
// keeps its layers in one:
//
//   build           build the layers for an input shape, bind the parameter
//                   slots into one flat buffer, initialize them (detail::build_and_bind)
//   build_shared    the same layers bound read-only to another network's
//                   parameters: an inference copy (serve/predictor.hpp)
//   for_chunks      the one chunked-inference loop: checks the rows, the
//                   batch size (ConfigError when <= 0) and returns nothing
//                   for empty input; predict / predict_into run the root on it
//   model files     io/model_file.hpp saves and loads a Network's root config,
//                   input shape and parameter slots (save / load_network)
//
// Thread safety: a Network is not safe to share between threads for
// forward/predict (layers cache activations). Share one const model and
// give each thread a Predictor (serve/predictor.hpp) instead.
#pragma once

#include "latent/core/abi.hpp"

#include <memory>

#include "latent/core/chunks.hpp"
#include "latent/layers/layer.hpp"

LATENT_NAMESPACE_BEGIN

namespace detail {

// The one build/bind/initialize: build `layer` for `input`, lay its
// parameter slots out back to back in `params` and initialize them from
// `init` (Network::build, Seq2Seq, testing::build_standalone).
template <class S>
void build_and_bind(Layer<S>& layer, Shape input, ParamBuffer<S>& params, Rng& init) {
    layer.build(input);
    std::vector<NamedSlot<S>> slots;
    layer.collect_params("", slots);
    params.bind(std::move(slots));
    params.initialize(init);
}

}  // namespace detail

template <class S>
class Network {
public:
    using Mat = Matrix<S>;

    Network() = default;
    explicit Network(LayerPtr<S> root) : root_(std::move(root)) {
        if (!root_) throw ConfigError("Network: expected a layer, found nullptr");
    }
    Network(Network&&) noexcept = default;
    Network& operator=(Network&&) noexcept = default;

    // Build for `input`, lay out the parameters, initialize them from `rng`,
    // and take a generator of our own (split from `rng`) for dropout/noise.
    void build(Shape input, Rng& rng) {
        require_root();
        rng_ = std::make_unique<Rng>(rng.split());
        root_->attach_rng(rng_.get());
        root_->set_input_grad(false);  // the input is data
        detail::build_and_bind(*root_, input, params_, rng);
    }

    // Build for `input` with the parameter slots pointing at `source`'s
    // values (read only; ParamBuffer::share checks that they match). The
    // result runs forward in infer mode only: no generator, no gradients.
    void build_shared(Shape input, const ParamBuffer<S>& source) {
        require_root();
        root_->set_input_grad(false);
        root_->build(input);
        std::vector<NamedSlot<S>> slots;
        root_->collect_params("", slots);
        params_.share(std::move(slots), source);
    }
    bool built() const { return root_ && root_->built(); }

    Shape input_shape() const { return root_->input_shape(); }
    Shape output_shape() const { return root_->output_shape(); }

    const Mat& forward(const Mat& x, Mode mode) {
        require_built();
        return root_->forward(x, mode);
    }
    const Mat& backward(const Mat& dy) { return root_->backward(dy); }
    S penalty() const { return root_->penalty(); }

    // The chunked-inference loop every model uses: checks that the model is
    // built, that x has `rows` rows (ShapeError) and the batch size
    // (ConfigError when <= 0), then calls f(chunk, start) for consecutive
    // chunks of at most batch_size columns (none when x has no columns).
    template <class F>
    void for_chunks(const Mat& x, Index rows, Index batch_size, const char* what, F&& f) {
        require_built();
        if (x.rows() != rows)
            throw ShapeError(std::string(what) + ": expected " + std::to_string(rows) + " features per column, found " + std::to_string(x.rows()));
        for_column_chunks(x, batch_size, chunk_, what, std::forward<F>(f));
    }

    // Inference on any number of samples, `batch_size` columns at a time.
    Mat predict(const Mat& x, Index batch_size = 256) {
        Mat out(output_size(), x.cols());
        predict_into(x, out, batch_size);
        return out;
    }
    // The same into a caller's output_size x N buffer (no allocation once
    // the layers have seen this batch size).
    void predict_into(const Mat& x, Eigen::Ref<Mat> out, Index batch_size = 256) {
        run_into(*root_, x, input_size(), out, batch_size, "Network::predict");
    }

    // Runs `layer` (the root or one of its parts) on x in infer mode, chunk
    // by chunk, into out (layer's output size x N).
    void run_into(Layer<S>& layer, const Mat& x, Index rows, Eigen::Ref<Mat> out, Index batch_size, const char* what) {
        require_built();
        if (out.rows() != layer.output_shape().size() || out.cols() != x.cols())
            throw ShapeError(std::string(what) + ": expected an output buffer " + std::to_string(layer.output_shape().size()) + "x" +
                             std::to_string(x.cols()) + ", found " + std::to_string(out.rows()) + "x" + std::to_string(out.cols()));
        for_chunks(x, rows, batch_size, what,
                   [&](const Mat& chunk, Index start) { out.middleCols(start, chunk.cols()) = layer.forward(chunk, Mode::infer); });
    }

    Index input_size() const { return input_shape().size(); }
    Index output_size() const { return output_shape().size(); }

    Layer<S>& root() {
        require_root();
        return *root_;
    }
    const Layer<S>& root() const {
        require_root();
        return *root_;
    }
    ParamBuffer<S>& params() { return params_; }
    const ParamBuffer<S>& params() const { return params_; }
    std::vector<ParamView<S>> parameters() const { return params_.views(); }
    Rng& rng() { return *rng_; }
    void zero_grad() { params_.zero_grad(); }

private:
    void require_root() const {
        if (!root_) throw Error("Network: no layers; construct it with a layer");
    }
    void require_built() const {
        require_root();
        if (!root_->built()) throw Error("Network: expected a built model, found one not yet built (call build(input_shape, rng))");
    }

    LayerPtr<S> root_;
    ParamBuffer<S> params_;
    std::unique_ptr<Rng> rng_;
    Mat chunk_;
};

LATENT_NAMESPACE_END
