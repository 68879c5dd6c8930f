// A builder for the common dense autoencoders: give the encoder's sizes,
// e.g. {784, 128, 32}; the decoder mirrors them ({32, 128, 784}).
#pragma once

#include "latent/core/abi.hpp"

#include "latent/layers/activation.hpp"
#include "latent/layers/dense.hpp"
#include "latent/layers/dropout.hpp"
#include "latent/layers/tied_dense.hpp"
#include "latent/layers/activity_penalty.hpp"
#include "latent/layers/contractive_dense.hpp"
#include "latent/models/autoencoder.hpp"

LATENT_NAMESPACE_BEGIN

struct DenseAutoencoderOptions {
    std::vector<Index> sizes;                 // input, hidden..., code
    Act hidden = Act::relu;                   // between hidden layers
    Act code = Act::identity;                 // on the code layer
    Act output = Act::sigmoid;                // on the reconstruction (identity for unbounded data)
    bool tied = false;                        // decoder uses W^T of the encoder's weights
    double dropout = 0.0;                     // after each hidden activation (train only)
    double input_noise = 0.0;                 // GaussianNoise stddev on the input (denoising)
    double l1_activity = 0.0;                 // sparse AE: lambda * mean_batch sum |code|
    double kl_rho = 0.0, kl_beta = 0.0;       // sparse AE: KL sparsity on a sigmoid code
    double contractive = 0.0;                 // contractive AE: lambda on the first layer (sigmoid units)
};

template <class S>
Autoencoder<S> make_dense_autoencoder(const DenseAutoencoderOptions& o, Rng& rng) {
    const auto& sz = o.sizes;
    if (sz.size() < 2) throw ConfigError("make_dense_autoencoder: expected at least {input, code} sizes, found " + std::to_string(sz.size()));
    for (Index s : sz)
        if (s <= 0) throw ConfigError("make_dense_autoencoder: expected positive sizes, found " + std::to_string(s));
    if (o.contractive > 0 && o.tied) throw ConfigError("make_dense_autoencoder: contractive and tied cannot be combined");
    if (o.contractive > 0 && sz.size() != 2)
        throw ConfigError("make_dense_autoencoder: the contractive penalty applies to a one-layer encoder {input, code}, found " +
                          std::to_string(sz.size() - 1) + " layers");

    auto enc = std::make_unique<Sequential<S>>();
    std::vector<Index> dense_at;  // position of each Dense in the encoder, for ties
    if (o.input_noise > 0) enc->template add<GaussianNoise<S>>(o.input_noise);
    const std::size_t n = sz.size() - 1;
    for (std::size_t i = 1; i <= n; ++i) {
        const bool is_code = i == n;
        if (o.contractive > 0) {
            dense_at.push_back(static_cast<Index>(enc->size()));
            enc->template add<ContractiveDense<S>>(sz[i], o.contractive);
            continue;
        }
        dense_at.push_back(static_cast<Index>(enc->size()));
        enc->template add<Dense<S>>(sz[i], true, o.hidden == Act::relu ? WeightInit::he : WeightInit::glorot);
        const Act a = is_code ? o.code : o.hidden;
        if (a != Act::identity) enc->template add<Activation<S>>(a);
        if (!is_code && o.dropout > 0) enc->template add<Dropout<S>>(o.dropout);
    }
    if (o.l1_activity > 0) enc->template add<ActivityL1<S>>(o.l1_activity);
    if (o.kl_beta > 0) enc->template add<KLSparsity<S>>(o.kl_rho, o.kl_beta);

    auto dec = std::make_unique<Sequential<S>>();
    for (std::size_t i = n; i >= 1; --i) {
        const bool is_out = i == 1;
        if (o.tied)
            dec->template add<TiedDense<S>>(dense_at[i - 1]);
        else
            dec->template add<Dense<S>>(sz[i - 1], true, o.hidden == Act::relu && !is_out ? WeightInit::he : WeightInit::glorot);
        const Act a = is_out ? o.output : o.hidden;
        if (a != Act::identity) dec->template add<Activation<S>>(a);
        if (!is_out && o.dropout > 0) dec->template add<Dropout<S>>(o.dropout);
    }

    Autoencoder<S> ae(std::move(enc), std::move(dec));
    ae.build(Shape{sz[0]}, rng);
    return ae;
}

LATENT_NAMESPACE_END
