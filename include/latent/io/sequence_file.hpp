// Model files for the sequence models (io/model_file.hpp format): kind
// "SequenceAutoencoder" or "Seq2Seq". A SequenceAutoencoder file also loads
// with load_network as its flat layer stack.
#pragma once

#include "latent/core/abi.hpp"

#include "latent/io/model_file.hpp"
#include "latent/models/sequence.hpp"

LATENT_NAMESPACE_BEGIN

namespace detail {

// The options a saved SequenceAutoencoder's architecture describes.
inline SequenceAutoencoderOptions sequence_autoencoder_options(const LayerConfig& arch, Shape input, const std::string& what) {
    if (arch.children.size() != 4 || arch.children[0].children.empty())
        throw FormatError(what + ": expected a SequenceAutoencoder architecture, found " + arch.str());
    SequenceAutoencoderOptions o;
    o.steps = shape_steps(input);
    o.features = shape_features(input);
    o.cell = cell_type_from_name(arch.children[0].children[0].type);
    o.encoder_units.clear();
    for (const auto& c : arch.children[0].children) o.encoder_units.push_back(c.get_index("units"));
    for (const auto& c : arch.children[2].children) o.decoder_units.push_back(c.get_index("units"));
    return o;
}

// The options a Seq2Seq's config holds as attributes.
inline Seq2SeqOptions seq2seq_options(const LayerConfig& arch) {
    Seq2SeqOptions o;
    o.source_steps = arch.get_index("source_steps");
    o.source_features = arch.get_index("source_features");
    o.target_steps = arch.get_index("target_steps");
    o.target_vocab = arch.get_index("target_vocab");
    o.units = arch.get_index("units");
    o.cell = cell_type_from_name(arch.get("cell"));
    o.start_token = arch.get_index("start_token");
    return o;
}

}  // namespace detail

template <class S>
void save(SequenceAutoencoder<S>& model, const std::string& path) {
    Layer<S>& root = model.network().root();
    detail::write_file_atomic(path, detail::encode_model<S>("SequenceAutoencoder", model.network().input_shape(), root.config(),
                                                            detail::slots_of(root)));
}

// Rebuild a SequenceAutoencoder from the bytes of a model file; `source`
// names them in messages.
template <class S>
SequenceAutoencoder<S> sequence_autoencoder_from_bytes(const std::string& data, const std::string& source = "memory",
                                                       const LoadOptions& lo = {}) {
    return detail::model_from_bytes<S>(data, source, [&](const detail::ModelFileHeader& h) {
        const std::string what = "model file '" + source + "'";
        if (h.kind != "SequenceAutoencoder" || h.arch.children.size() != 4 || h.arch.children[0].children.empty())
            throw FormatError(what + ": expected a SequenceAutoencoder, found a " + h.kind + " (" + h.arch.str() + ")");
        Rng rng(0);
        SequenceAutoencoder<S> model(detail::sequence_autoencoder_options(h.arch, h.input, what), rng);
        if (model.network().root().config() != h.arch)
            throw FormatError(what + ": architecture mismatch: file has " + h.arch.str() + ", rebuilt " +
                              model.network().root().config().str());
        return model;
    }, lo);
}

template <class S>
SequenceAutoencoder<S> load_sequence_autoencoder(const std::string& path, const LoadOptions& lo = {}) {
    return sequence_autoencoder_from_bytes<S>(detail::read_file_bytes(path), path, lo);
}

template <class S>
void save(Seq2Seq<S>& model, const std::string& path) {
    const auto& o = model.options();
    detail::write_file_atomic(path, detail::encode_model<S>("Seq2Seq", sequence_shape(o.source_steps, o.source_features), model.config(),
                                                            model.params().slots()));
}

// Rebuild a Seq2Seq from the bytes of a model file; `source` names them in messages.
template <class S>
Seq2Seq<S> seq2seq_from_bytes(const std::string& data, const std::string& source = "memory", const LoadOptions& lo = {}) {
    return detail::model_from_bytes<S>(data, source, [&](const detail::ModelFileHeader& h) {
        if (h.kind != "Seq2Seq" || h.arch.type != "Seq2Seq")
            throw FormatError("model file '" + source + "': expected a Seq2Seq, found a " + h.kind + " (" + h.arch.type + ")");
        Rng rng(0);
        Seq2Seq<S> model(detail::seq2seq_options(h.arch), rng);
        if (model.config() != h.arch)
            throw FormatError("model file '" + source + "': architecture mismatch: file has " + h.arch.str() + ", rebuilt " +
                              model.config().str());
        return model;
    }, lo);
}

template <class S>
Seq2Seq<S> load_seq2seq(const std::string& path, const LoadOptions& lo = {}) {
    return seq2seq_from_bytes<S>(detail::read_file_bytes(path), path, lo);
}

LATENT_NAMESPACE_END
