// Sequential: an ordered list of layers, itself usable as a layer.
#pragma once

#include "latent/core/abi.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "latent/core/number_text.hpp"
#include "latent/layers/layer.hpp"

LATENT_NAMESPACE_BEGIN

namespace detail {

// Named child layers as one layer: the children's parameters are named
// "<name>.<param>", and the generator and state resets reach every child.
// Sequential (a pipeline) and Seq2Seq's LayerGroup (children run one by
// one) are built on it.
template <class S>
class NamedLayers : public Layer<S> {
public:
    std::size_t size() const { return layers_.size(); }
    bool empty() const { return layers_.empty(); }
    const Layer<S>& operator[](std::size_t i) const { return *layers_.at(i); }
    const std::string& name(std::size_t i) const { return names_.at(i); }

    void collect_params(const std::string& prefix, std::vector<NamedSlot<S>>& out) override {
        for (std::size_t i = 0; i < layers_.size(); ++i)
            layers_[i]->collect_params(prefix.empty() ? names_[i] : prefix + "." + names_[i], out);
    }
    void attach_rng(Rng* rng) override {
        this->rng_ = rng;
        for (auto& l : layers_) l->attach_rng(rng);
    }
    void reset_state() override {
        for (auto& l : layers_) l->reset_state();
    }
    Index use_bf16_weights() override {
        Index n = 0;
        for (auto& l : layers_) n += l->use_bf16_weights();
        return n;
    }

protected:
    void append(std::string name, LayerPtr<S> layer) {
        names_.push_back(std::move(name));
        layers_.push_back(std::move(layer));
    }

    std::vector<LayerPtr<S>> layers_;
    std::vector<std::string> names_;
};

}  // namespace detail

template <class S>
class Sequential : public detail::NamedLayers<S> {
public:
    using Mat = Matrix<S>;
    using detail::NamedLayers<S>::operator[];

    Sequential() = default;

    // Appends a layer; returns *this so calls chain:
    //   seq.add<Dense<float>>(128).add<Activation<float>>(Act::relu);
    Sequential& add(LayerPtr<S> layer, std::string name = {}) {
        if (!layer) throw ConfigError("Sequential::add: expected a layer, found nullptr");
        if (this->built()) throw Error("Sequential::add: the model is already built; add layers before building");
        this->append(name.empty() ? std::to_string(layers_.size()) : std::move(name), std::move(layer));
        return *this;
    }
    template <class L, class... Args>
    Sequential& add(Args&&... args) {
        return add(std::make_unique<L>(std::forward<Args>(args)...));
    }

    std::string type() const override { return "Sequential"; }
    Layer<S>& operator[](std::size_t i) { return *layers_.at(i); }

    Shape compute_output_shape(Shape in) const override {
        if (layers_.empty()) throw ShapeError("layer Sequential: expected at least one layer, found none");
        Shape s = in;
        for (std::size_t i = 0; i < layers_.size(); ++i) s = child_output_shape(i, s);
        return s;
    }

    const Mat& forward(const Mat& x, Mode mode) override {
        const Mat* h = &x;
        for (auto& l : layers_) h = &l->forward(*h, mode);
        return *h;
    }

    const Mat& backward(const Mat& dy) override {
        const Mat* g = &dy;
        for (std::size_t i = layers_.size(); i-- > 0;) g = &layers_[i]->backward(*g);
        return *g;
    }

    S penalty() const override {
        S p(0);
        for (const auto& l : layers_) p += l->penalty();
        return p;
    }

    void set_input_grad(bool needed) override {
        this->input_grad_ = needed;
        if (!layers_.empty()) layers_.front()->set_input_grad(needed);
    }
    // Names other than the default (the position) are stored one attribute
    // each, "name.<i>", so any name round trips (the attribute values are
    // length-prefixed in a model file). Files before this stored a single
    // comma-joined "names", which LayerFactory still reads.
    LayerConfig config() const override {
        LayerConfig c("Sequential");
        for (std::size_t i = 0; i < names_.size(); ++i)
            if (names_[i] != std::to_string(i)) c.set("name." + std::to_string(i), names_[i]);
        for (const auto& l : layers_) c.children.push_back(l->config());
        return c;
    }

protected:
    // Builds the children in order, so a child may depend on an earlier one
    // being built (a TiedDense decoder on the encoder's Dense).
    Shape build_shapes(Shape in) override {
        if (layers_.empty()) throw ShapeError("layer Sequential: expected at least one layer, found none");
        Shape s = in;
        for (std::size_t i = 0; i < layers_.size(); ++i) {
            child_output_shape(i, s);  // names the failing child
            s = layers_[i]->build(s);
        }
        layers_.front()->set_input_grad(this->input_grad_);
        return s;
    }

private:
    Shape child_output_shape(std::size_t i, Shape in) const {
        try {
            return layers_[i]->output_shape(in);
        } catch (const ShapeError& e) {
            throw ShapeError("Sequential layer " + names_[i] + " (" + layers_[i]->type() + "): " + e.what());
        }
    }

    using detail::NamedLayers<S>::layers_;
    using detail::NamedLayers<S>::names_;
};

// The child names a Sequential's config() stores ("name.<i>" attributes; the
// position when absent), reading too the comma-joined "names" of files
// written before names were stored one by one. FormatError on a malformed one.
inline std::vector<std::string> sequential_names(const LayerConfig& c) {
    std::vector<std::string> names(c.children.size());
    for (std::size_t i = 0; i < names.size(); ++i) names[i] = std::to_string(i);
    if (c.has("names")) {
        std::vector<std::string> old(1);
        for (char ch : c.get("names")) {
            if (ch == ',')
                old.emplace_back();
            else
                old.back() += ch;
        }
        if (old.size() != c.children.size())
            throw FormatError("layer Sequential: expected " + std::to_string(c.children.size()) + " names, found " +
                              std::to_string(old.size()));
        names = std::move(old);
    }
    for (const auto& kv : c.attrs) {
        if (kv.first.rfind("name.", 0) != 0) continue;
        std::int64_t i = -1;
        if (!detail::parse_integer(std::string_view(kv.first).substr(5), i) || i < 0 || static_cast<std::uint64_t>(i) >= c.children.size())
            throw FormatError("layer Sequential: expected attribute name.<i> with i below " + std::to_string(c.children.size()) +
                              ", found '" + kv.first + "'");
        names[static_cast<std::size_t>(i)] = kv.second;
    }
    return names;
}

LATENT_NAMESPACE_END
