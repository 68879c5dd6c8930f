// Network: a root layer that has been built for an input shape, with the
// model's one flat parameter buffer and its own random generator.
#pragma once

#include <memory>

#include "latent/layers/layer.hpp"

namespace latent {

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
        root_->build(input);
        std::vector<NamedSlot<S>> slots;
        root_->collect_params("", slots);
        params_.bind(std::move(slots));
        params_.initialize(rng);
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

    // Inference on any number of samples, `batch_size` columns at a time.
    Mat predict(const Mat& x, Index batch_size = 256) {
        require_built();
        if (x.rows() != input_shape().size())
            throw ShapeError("Network::predict: expected " + std::to_string(input_shape().size()) + " features per column, found " +
                             std::to_string(x.rows()));
        Mat out(output_shape().size(), x.cols());
        for (Index start = 0; start < x.cols(); start += batch_size) {
            const Index n = std::min(batch_size, x.cols() - start);
            chunk_ = x.middleCols(start, n);
            out.middleCols(start, n) = root_->forward(chunk_, Mode::infer);
        }
        return out;
    }

    Layer<S>& root() {
        require_root();
        return *root_;
    }
    const Layer<S>& root() const { return *root_; }
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

}  // namespace latent
