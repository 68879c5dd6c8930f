// LayerFactory: rebuilds layers from their LayerConfig (type + attributes +
// children), so a saved model loads without code. Built-in layers are
// registered by builtin(); users add their own with add().
#pragma once

#include "latent/core/abi.hpp"

#include <functional>
#include <map>

#include "latent/layers/activation.hpp"
#include "latent/layers/batch_norm.hpp"
#include "latent/layers/conv2d.hpp"
#include "latent/layers/conv_transpose2d.hpp"
#include "latent/layers/dense.hpp"
#include "latent/layers/dropout.hpp"
#include "latent/layers/gaussian_sampler.hpp"
#include "latent/layers/gru.hpp"
#include "latent/layers/lstm.hpp"
#include "latent/layers/pool2d.hpp"
#include "latent/layers/reshape.hpp"
#include "latent/layers/sequence_layers.hpp"
#include "latent/layers/tied_dense.hpp"
#include "latent/layers/upsample2d.hpp"
#include "latent/layers/activity_penalty.hpp"
#include "latent/layers/contractive_dense.hpp"
#include "latent/models/sequential.hpp"

LATENT_NAMESPACE_BEGIN

template <class S>
class LayerFactory {
public:
    using Maker = std::function<LayerPtr<S>(const LayerConfig&, const LayerFactory&)>;

    // The factory that knows every layer type latent ships.
    static LayerFactory builtin() {
        LayerFactory f;
        f.add_simple("Dense", &Dense<S>::from_config);
        f.add_simple("Activation", &Activation<S>::from_config);
        f.add_simple("Dropout", &Dropout<S>::from_config);
        f.add_simple("GaussianNoise", &GaussianNoise<S>::from_config);
        f.add_simple("ActivityL1", &ActivityL1<S>::from_config);
        f.add_simple("KLSparsity", &KLSparsity<S>::from_config);
        f.add_simple("ContractiveDense", &ContractiveDense<S>::from_config);
        f.add_simple("Conv2D", &Conv2D<S>::from_config);
        f.add_simple("ConvTranspose2D", &ConvTranspose2D<S>::from_config);
        f.add_simple("MaxPool2D", &MaxPool2D<S>::from_config);
        f.add_simple("AvgPool2D", &AvgPool2D<S>::from_config);
        f.add_simple("Upsample2D", &Upsample2D<S>::from_config);
        f.add_simple("Flatten", &Flatten<S>::from_config);
        f.add_simple("Reshape", &Reshape<S>::from_config);
        f.add_simple("GaussianSampler", &GaussianSampler<S>::from_config);
        // A saved VariationalAutoencoder loads as the network encoder ->
        // GaussianSampler -> decoder (infer mode: decodes the posterior mean).
        f.add("VariationalAutoencoder", [](const LayerConfig& c, const LayerFactory& fac) -> LayerPtr<S> {
            if (c.children.size() != 2)
                throw FormatError("VariationalAutoencoder: expected 2 children (encoder, decoder), found " +
                                  std::to_string(c.children.size()));
            auto seq = std::make_unique<Sequential<S>>();
            seq->add(fac.make(c.children[0]), "encoder")
                .add(std::make_unique<GaussianSampler<S>>(), "sampler")
                .add(fac.make(c.children[1]), "decoder");
            return seq;
        });
        f.add_simple("BatchNorm", &BatchNorm<S>::from_config);
        f.add_simple("LSTM", &LSTM<S>::from_config);
        f.add_simple("GRU", &GRU<S>::from_config);
        f.add_simple("RepeatVector", &RepeatVector<S>::from_config);
        f.add("TimeDistributed", [](const LayerConfig& c, const LayerFactory& fac) -> LayerPtr<S> {
            if (c.children.size() != 1)
                throw FormatError("layer TimeDistributed: expected 1 wrapped layer, found " + std::to_string(c.children.size()));
            return std::make_unique<TimeDistributed<S>>(fac.make(c.children[0]));
        });
        f.add_simple("TiedDense", [](const LayerConfig& c) -> LayerPtr<S> {
            return std::make_unique<TiedDense<S>>(c.get_index("source"));
        });
        f.add("Sequential", [](const LayerConfig& c, const LayerFactory& fac) -> LayerPtr<S> {
            auto seq = std::make_unique<Sequential<S>>();
            const std::vector<std::string> names = sequential_names(c);
            for (std::size_t i = 0; i < c.children.size(); ++i) seq->add(fac.make(c.children[i]), names[i]);
            return seq;
        });
        return f;
    }

    void add(const std::string& type, Maker maker) { makers_[type] = std::move(maker); }
    void add_simple(const std::string& type, std::function<LayerPtr<S>(const LayerConfig&)> maker) {
        makers_[type] = [maker](const LayerConfig& c, const LayerFactory&) { return maker(c); };
    }
    bool knows(const std::string& type) const { return makers_.count(type) != 0; }

    LayerPtr<S> make(const LayerConfig& c) const {
        auto it = makers_.find(c.type);
        if (it == makers_.end()) {
            std::string known;
            for (const auto& kv : makers_) known += (known.empty() ? "" : ", ") + kv.first;
            throw FormatError("unknown layer type '" + c.type + "'; expected one of: " + known +
                              " (register custom layers with LayerFactory::add)");
        }
        try {
            return it->second(c, *this);
        } catch (const ConfigError& e) {
            throw FormatError("layer " + c.str() + ": invalid configuration: " + e.what());
        }
    }

private:
    std::map<std::string, Maker> makers_;
};

LATENT_NAMESPACE_END
