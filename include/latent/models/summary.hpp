// latent::summary(model): one line a layer -- its path, type, output shape
// and parameter count -- and the totals, as Keras' model.summary() prints:
//
//   std::cout << latent::summary(ae);
//
//   Layer (type)                Output shape      Params
//   --------------------------------------------------------
//   encoder.0 (Dense)           (128)             100,480
//   encoder.1 (Activation)      (128)                   0
//   ...
//   --------------------------------------------------------
//   Total parameters: 209,968 (820.2 KiB as float32)
//
// Containers (Sequential, and the sequence models' layer groups) are opened
// up; any other layer is one line with all of its parameters.
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "latent/models/network.hpp"
#include "latent/models/sequence.hpp"
#include "latent/models/sequential.hpp"

LATENT_NAMESPACE_BEGIN

namespace detail {

// 1234567 -> "1,234,567"
inline std::string with_commas(Index v) {
    std::string digits = std::to_string(v < 0 ? -v : v), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return v < 0 ? "-" + out : out;
}

struct SummaryRow {
    std::string name, type, shape;
    Index params = 0;
};

template <class S>
Index layer_param_count(const Layer<S>& layer) {
    std::vector<NamedSlot<S>> slots;
    // collect_params only lists pointers to the layer's slots; it changes nothing
    const_cast<Layer<S>&>(layer).collect_params("", slots);
    Index n = 0;
    for (const auto& s : slots) n += s.slot->size();
    return n;
}

template <class S>
void summary_rows(const Layer<S>& layer, const std::string& name, std::vector<SummaryRow>& rows) {
    if (const auto* seq = dynamic_cast<const Sequential<S>*>(&layer)) {
        for (std::size_t i = 0; i < seq->size(); ++i)
            summary_rows((*seq)[i], name.empty() ? seq->name(i) : name + "." + seq->name(i), rows);
        return;
    }
    if (const auto* group = dynamic_cast<const LayerGroup<S>*>(&layer)) {
        for (std::size_t i = 0; i < group->size(); ++i)
            summary_rows((*group)[i], name.empty() ? group->name(i) : name + "." + group->name(i), rows);
        return;
    }
    rows.push_back({name.empty() ? std::string("0") : name, layer.type(), layer.built() ? layer.output_shape().str() : "?",
                    layer_param_count(layer)});
}

}  // namespace detail

// The summary of a built network (any model's network()).
template <class S>
std::string summary(const Network<S>& net) {
    std::vector<detail::SummaryRow> rows;
    detail::summary_rows(net.root(), "", rows);
    std::size_t w0 = std::string("Layer (type)").size(), w1 = std::string("Output shape").size(), w2 = std::string("Params").size();
    Index total = 0;
    for (const auto& r : rows) {
        w0 = std::max(w0, r.name.size() + r.type.size() + 3);
        w1 = std::max(w1, r.shape.size());
        w2 = std::max(w2, detail::with_commas(r.params).size());
        total += r.params;
    }
    auto pad = [](std::string s, std::size_t w, bool right) {
        const std::string fill(w > s.size() ? w - s.size() : 0, ' ');
        return right ? fill + s : s + fill;
    };
    const std::string rule(w0 + w1 + w2 + 4, '-');
    std::string out = pad("Layer (type)", w0, false) + "  " + pad("Output shape", w1, false) + "  " + pad("Params", w2, true) + "\n" + rule + "\n";
    for (const auto& r : rows)
        out += pad(r.name + " (" + r.type + ")", w0, false) + "  " + pad(r.shape, w1, false) + "  " +
               pad(detail::with_commas(r.params), w2, true) + "\n";
    const double kib = static_cast<double>(total) * static_cast<double>(sizeof(S)) / 1024.0;
    std::string size = std::to_string(static_cast<long long>(kib * 10 + 0.5));
    if (size.size() < 2) size.insert(0, "0");
    size.insert(size.size() - 1, ".");
    out += rule + "\nInput shape: " + net.input_shape().str() + "\nTotal parameters: " + detail::with_commas(total) + " (" + size +
           " KiB as " + scalar_name<S>() + ")\n";
    return out;
}

// Any model that keeps its layers in a Network: Autoencoder,
// VariationalAutoencoder, SequenceAutoencoder, Seq2Seq.
template <class Model>
auto summary(const Model& model) -> decltype(summary(model.network())) {
    return summary(model.network());
}

LATENT_NAMESPACE_END
