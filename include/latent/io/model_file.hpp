// The latent model file (.lat), format version 1. Little-endian throughout:
//
//   8  magic "LATENTMF"
//   4  format version (1)
//   8  total file size in bytes
//   1  scalar: 4 = float32, 8 = float64
//   str kind ("Autoencoder", "VariationalAutoencoder" or "Layer")
//   3x i64 input shape (c, h, w)
//   architecture: LayerConfig tree (str type, u32 n, n x (str key, str value), u32 m, m children)
//   u32 parameter count, then per parameter: str name, i64 rows, i64 cols
//   the parameter values, in that order, column-major
//   8  FNV-1a 64 checksum of every byte before it
//
// (str = u32 length + bytes.) Loading checks, in order: magic, version,
// size (truncated), checksum (corrupted), scalar type, then architecture;
// each failure throws FormatError saying which.
#pragma once

#include "latent/core/abi.hpp"

#include "latent/core/binary.hpp"
#include "latent/io/layer_factory.hpp"
#include "latent/models/autoencoder.hpp"
#include "latent/models/variational.hpp"

LATENT_NAMESPACE_BEGIN

inline constexpr std::uint32_t model_format_version = 1;

// How a loader treats a file whose parameters are of the other scalar type
// than the model it makes: refuse, saying so (the default), or convert
// (float64 -> float32 rounds to nearest; float32 -> float64 is exact).
// Train in double, deploy in float:
//   LoadOptions lo;
//   lo.convert_scalar = true;
//   auto ae = load_autoencoder<float>("model_f64.lat", lo);
struct LoadOptions {
    bool convert_scalar = false;
};

namespace detail {

inline constexpr char model_magic[9] = "LATENTMF";

inline void write_config(ByteWriter& w, const LayerConfig& c) {
    w.str(c.type);
    w.u32(static_cast<std::uint32_t>(c.attrs.size()));
    for (const auto& kv : c.attrs) {
        w.str(kv.first);
        w.str(kv.second);
    }
    w.u32(static_cast<std::uint32_t>(c.children.size()));
    for (const auto& ch : c.children) write_config(w, ch);
}

inline LayerConfig read_config(ByteReader& r, int depth = 0) {
    if (depth > 64) throw FormatError("model file: architecture nested deeper than 64 levels (corrupted?)");
    LayerConfig c(r.str());
    const std::uint32_t n = r.u32();
    r.need(static_cast<std::size_t>(n) * 8);
    for (std::uint32_t i = 0; i < n; ++i) {
        std::string k = r.str();
        c.attrs.emplace_back(std::move(k), r.str());
    }
    const std::uint32_t m = r.u32();
    r.need(static_cast<std::size_t>(m) * 12);
    for (std::uint32_t i = 0; i < m; ++i) c.children.push_back(read_config(r, depth + 1));
    return c;
}

template <class S>
std::string encode_model(const std::string& kind, Shape input, const LayerConfig& arch, const std::vector<NamedSlot<S>>& slots) {
    ByteWriter w;
    w.raw(model_magic, 8);
    w.u32(model_format_version);
    w.u64(0);  // size, patched below
    w.u8(static_cast<std::uint8_t>(sizeof(S)));
    w.str(kind);
    w.i64(input.c);
    w.i64(input.h);
    w.i64(input.w);
    write_config(w, arch);
    w.u32(static_cast<std::uint32_t>(slots.size()));
    for (const auto& s : slots) {
        w.str(s.name);
        w.i64(s.slot->rows);
        w.i64(s.slot->cols);
    }
    for (const auto& s : slots) {
        if (!s.slot->bound()) throw Error("save: parameter '" + s.name + "' is not bound; build the model before saving");
        for (Index i = 0; i < s.slot->size(); ++i) w.scalar<S>(s.slot->value[i]);
    }
    const std::uint64_t total = w.size() + 8;
    for (int i = 0; i < 8; ++i) w.buffer()[12 + static_cast<std::size_t>(i)] = static_cast<char>(total >> (8 * i));
    w.u64(fnv1a(w.buffer().data(), w.size()));
    return std::move(w.buffer());
}

struct ParamEntry {
    std::string name;
    Index rows, cols;
};

struct ModelFileHeader {
    std::string kind;
    Shape input;
    LayerConfig arch;
    std::vector<ParamEntry> params;
    Index total_values = 0;  // sum of rows x cols over params, checked against the bytes that follow
    std::size_t values_offset = 0;
    int scalar_bytes = 0;
};

// `source` names the bytes in messages (a path, or e.g. "memory").
template <class S>
ModelFileHeader decode_header(const std::string& data, const std::string& source, const LoadOptions& lo = {}) {
    const std::string what = "model file '" + source + "'";
    if (data.size() < 8 || std::memcmp(data.data(), model_magic, 8) != 0)
        throw FormatError(what + ": not a latent model file (expected magic \"LATENTMF\", found " +
                          (data.size() < 8 ? std::to_string(data.size()) + " bytes" : "\"" + data.substr(0, 8) + "\"") + ")");
    ByteReader r(data, what);
    r.need(8 + 4 + 8);
    for (int i = 0; i < 8; ++i) r.u8();
    const std::uint32_t version = r.u32();
    if (version != model_format_version)
        throw FormatError(what + ": expected format version " + std::to_string(model_format_version) + ", found " +
                          std::to_string(version) + " (written by a newer latent?)");
    const std::uint64_t size = r.u64();
    if (data.size() < size)
        throw FormatError(what + ": truncated: expected " + std::to_string(size) + " bytes, found " + std::to_string(data.size()));
    if (data.size() > size)
        throw FormatError(what + ": expected " + std::to_string(size) + " bytes, found " + std::to_string(data.size()) +
                          " (trailing data)");
    if (size < 8 + 4 + 8 + 8)
        throw FormatError(what + ": expected at least " + std::to_string(8 + 4 + 8 + 8) + " bytes, found " + std::to_string(size));
    std::uint64_t stored = 0;
    for (int i = 0; i < 8; ++i) stored |= static_cast<std::uint64_t>(static_cast<unsigned char>(data[size - 8 + static_cast<std::size_t>(i)])) << (8 * i);
    if (fnv1a(data.data(), size - 8) != stored) throw FormatError(what + ": corrupted: checksum mismatch");

    // From here the bytes are as written -- by latent, or by anyone who can
    // compute a checksum: every count and size is checked before it is used.
    ModelFileHeader h;
    h.scalar_bytes = r.u8();
    if (h.scalar_bytes != 4 && h.scalar_bytes != 8)
        throw FormatError(what + ": expected scalar size 4 or 8, found " + std::to_string(h.scalar_bytes));
    if (h.scalar_bytes != static_cast<int>(sizeof(S)) && !lo.convert_scalar)
        throw FormatError(what + ": holds " + (h.scalar_bytes == 4 ? "float32" : "float64") + " parameters, expected " +
                          scalar_name<S>() + " (load it with the matching scalar type, or set LoadOptions::convert_scalar)");
    const std::size_t value_bytes = static_cast<std::size_t>(h.scalar_bytes);
    h.kind = r.str();
    h.input.c = r.i64();
    h.input.h = r.i64();
    h.input.w = r.i64();
    if (!shape_is_sane(h.input))
        throw FormatError(what + ": expected an input shape of non-negative sizes, at most 2^31 - 1 elements, found (" +
                          std::to_string(h.input.c) + "x" + std::to_string(h.input.h) + "x" + std::to_string(h.input.w) + ")");
    h.arch = read_config(r);
    const std::uint32_t n = r.u32();
    constexpr std::size_t min_entry = 4 + 8 + 8;  // empty name, rows, cols
    if (r.remaining() < 8 || n > (r.remaining() - 8) / min_entry)
        throw FormatError(what + ": truncated: a table of " + std::to_string(n) + " parameters needs at least " +
                          std::to_string(static_cast<std::uint64_t>(n) * min_entry) + " bytes, found " + std::to_string(r.remaining()));
    h.params.reserve(n);
    const std::size_t bytes_left = r.remaining();  // an upper bound on the values' bytes
    const Index max_values = static_cast<Index>(bytes_left / value_bytes);
    for (std::uint32_t i = 0; i < n; ++i) {
        ParamEntry e;
        e.name = r.str();
        e.rows = r.i64();
        e.cols = r.i64();
        if (e.rows < 0 || e.cols < 0 || (e.cols > 0 && e.rows > (max_values - h.total_values) / e.cols))
            throw FormatError(what + ": parameter '" + e.name + "': expected a non-negative size within the " +
                              std::to_string(bytes_left) + " bytes left in the file, found " + std::to_string(e.rows) + " x " +
                              std::to_string(e.cols));
        h.total_values += e.rows * e.cols;
        h.params.push_back(std::move(e));
    }
    h.values_offset = r.pos();
    const std::size_t expected = static_cast<std::size_t>(h.total_values) * value_bytes + 8;
    if (r.remaining() != expected)
        throw FormatError(what + ": the parameter table declares " + std::to_string(h.total_values) + " values (" +
                          std::to_string(expected - 8) + " bytes), found " +
                          (r.remaining() < 8 ? std::string("none") : std::to_string(r.remaining() - 8) + " bytes") + " of values");
    return h;
}

// Checks that the file's parameter table matches the model's slots, then
// copies the values into `values` (a staging vector, not yet the model).
template <class S>
void read_values(const std::string& data, const ModelFileHeader& h, const std::vector<NamedSlot<S>>& slots, Vector<S>& values,
                 const std::string& source) {
    const std::string what = "model file '" + source + "'";
    if (h.params.size() != slots.size())
        throw FormatError(what + ": architecture mismatch: file has " + std::to_string(h.params.size()) +
                          " parameter tensors, model has " + std::to_string(slots.size()));
    Index total = 0;
    for (std::size_t i = 0; i < slots.size(); ++i) {
        const auto& e = h.params[i];
        const auto& s = *slots[i].slot;
        if (e.name != slots[i].name || e.rows != s.rows || e.cols != s.cols)
            throw FormatError(what + ": architecture mismatch at parameter " + std::to_string(i) + ": file has '" + e.name + "' " +
                              std::to_string(e.rows) + "x" + std::to_string(e.cols) + ", model has '" + slots[i].name + "' " +
                              std::to_string(s.rows) + "x" + std::to_string(s.cols));
        total += s.size();
    }
    const std::size_t expected = static_cast<std::size_t>(total) * static_cast<std::size_t>(h.scalar_bytes) + 8;
    if (data.size() - h.values_offset != expected)
        throw FormatError(what + ": expected " + std::to_string(expected - 8) + " bytes of parameters, found " +
                          std::to_string(data.size() - h.values_offset - 8));
    ByteReader r(data, what);
    r.skip(h.values_offset);
    values.resize(total);
    // In the file's scalar type (decode_header allowed a conversion if it differs).
    if (h.scalar_bytes == 4)
        for (Index i = 0; i < total; ++i) values(i) = static_cast<S>(r.scalar<float>());
    else
        for (Index i = 0; i < total; ++i) values(i) = static_cast<S>(r.scalar<double>());
}

// Checks the file's parameter table against `params` and only then copies
// the values in (a failed load leaves the model as it was).
template <class S>
void assign_values(const std::string& data, const ModelFileHeader& h, ParamBuffer<S>& params, const std::string& source) {
    Vector<S> values;
    read_values<S>(data, h, params.slots(), values, source);
    params.values() = values;
}

// While a model is rebuilt from a file's architecture, its parameters may
// take no more values than the file's (checked) parameter table holds.
inline ParamBudget budget_of(const ModelFileHeader& h, const std::string& source) {
    return ParamBudget(h.total_values, "model file '" + source + "'");
}

// The one load path for every model kind: decode and check the bytes, make
// the (built) model from its header with make(h) under the file's parameter
// budget, then assign_values. `source` names the bytes in messages.
template <class S, class Make>
auto model_from_bytes(const std::string& data, const std::string& source, Make&& make, const LoadOptions& lo = {}) {
    const auto h = decode_header<S>(data, source, lo);
    auto model = [&] {
        const auto budget = budget_of(h, source);
        return make(h);
    }();
    assign_values<S>(data, h, model.params(), source);
    return model;
}

template <class S>
std::vector<NamedSlot<S>> slots_of(Layer<S>& layer) {
    std::vector<NamedSlot<S>> slots;
    layer.collect_params("", slots);
    return slots;
}

// A layer whose decoder weights are tied to an encoder outside it (a tied
// decoder saved on its own) cannot be rebuilt from its file alone. This
// returns the equivalent untied model -- each TiedDense, directly or as a
// child of a Sequential, becomes a Dense holding the transposed source
// weight and the same bias -- or nullptr when `layer` has no TiedDense.
template <class S>
std::unique_ptr<Network<S>> untied_copy(Layer<S>& layer, const LayerFactory<S>& factory = LayerFactory<S>::builtin()) {
    auto* seq = dynamic_cast<Sequential<S>*>(&layer);
    std::vector<Layer<S>*> parts;
    if (seq)
        for (std::size_t i = 0; i < seq->size(); ++i) parts.push_back(&(*seq)[i]);
    else
        parts.push_back(&layer);
    LayerConfig cfg = layer.config();
    bool any = false;
    for (std::size_t i = 0; i < parts.size(); ++i)
        if (auto* tied = dynamic_cast<TiedDense<S>*>(parts[i])) {
            LayerConfig dense("Dense");
            dense.set("units", tied->output_shape().size()).set("bias", true);
            (seq ? cfg.children[i] : cfg) = dense;
            any = true;
        }
    if (!any) return nullptr;
    auto net = std::make_unique<Network<S>>(factory.make(cfg));
    Rng rng(0);
    net->build(layer.input_shape(), rng);
    auto* copy_seq = dynamic_cast<Sequential<S>*>(&net->root());
    for (std::size_t i = 0; i < parts.size(); ++i) {
        Layer<S>& copy = copy_seq ? (*copy_seq)[i] : net->root();
        const auto to = slots_of(copy);
        if (auto* tied = dynamic_cast<TiedDense<S>*>(parts[i])) {
            auto& dense = dynamic_cast<Dense<S>&>(copy);
            dense.weight() = tied->effective_weight();
            to.at(1).slot->w() = tied->bias();  // Dense slots: weight, bias
            continue;
        }
        const auto from = slots_of(*parts[i]);
        for (std::size_t k = 0; k < from.size(); ++k) to.at(k).slot->w() = from[k].slot->w();
    }
    return net;
}

}  // namespace detail

// Save a built autoencoder (architecture + parameters), atomically.
template <class S>
void save(Autoencoder<S>& ae, const std::string& path) {
    if (!ae.built()) throw Error("save: expected a built autoencoder, found one not yet built");
    Layer<S>& root = ae.network().root();
    detail::write_file_atomic(path, detail::encode_model<S>("Autoencoder", ae.input_shape(), root.config(), detail::slots_of(root)));
}

// Save one built layer (e.g. ae.encoder() as a feature extractor), atomically.
// A tied decoder is stored untied (see detail::untied_copy): it loads alone.
// Storing it untied rebuilds it through `factory`: pass the one that knows
// your own layers, as to load_network.
template <class S>
void save(Layer<S>& layer, const std::string& path, const LayerFactory<S>& factory = LayerFactory<S>::builtin()) {
    if (!layer.built()) throw Error("save: expected a built layer, found one not yet built");
    if (auto untied = detail::untied_copy(layer, factory)) {  // a tied decoder alone: store it untied
        save(untied->root(), path, factory);
        return;
    }
    detail::write_file_atomic(path, detail::encode_model<S>("Layer", layer.input_shape(), layer.config(), detail::slots_of(layer)));
}

namespace detail {

// An unbuilt autoencoder of the architecture `arch` (a Sequential of encoder and decoder).
template <class S>
Autoencoder<S> autoencoder_from_config(const LayerConfig& arch, const LayerFactory<S>& factory) {
    return Autoencoder<S>(factory.make(arch.children.at(0)), factory.make(arch.children.at(1)));
}

}  // namespace detail

// Rebuild an autoencoder from the bytes of a model file; `source` names
// them in messages.
template <class S>
Autoencoder<S> autoencoder_from_bytes(const std::string& data, const LayerFactory<S>& factory = LayerFactory<S>::builtin(),
                                      const std::string& source = "memory", const LoadOptions& lo = {}) {
    return detail::model_from_bytes<S>(data, source, [&](const detail::ModelFileHeader& h) {
        if (h.kind != "Autoencoder" || h.arch.type != "Sequential" || h.arch.children.size() != 2)
            throw FormatError("model file '" + source + "': expected an Autoencoder, found a " + h.kind + " (" + h.arch.type +
                              "); load it with load_network");
        Autoencoder<S> ae = detail::autoencoder_from_config(h.arch, factory);
        Rng rng(0);
        ae.build(h.input, rng);
        return ae;
    }, lo);
}

// Rebuild an autoencoder from a file.
template <class S>
Autoencoder<S> load_autoencoder(const std::string& path, const LayerFactory<S>& factory = LayerFactory<S>::builtin()) {
    return autoencoder_from_bytes<S>(detail::read_file_bytes(path), factory, path);
}
template <class S>
Autoencoder<S> load_autoencoder(const std::string& path, const LoadOptions& lo, const LayerFactory<S>& factory = LayerFactory<S>::builtin()) {
    return autoencoder_from_bytes<S>(detail::read_file_bytes(path), factory, path, lo);
}

// Rebuild any saved model (a layer, or a whole autoencoder) as a Network,
// from the bytes of a model file.
template <class S>
Network<S> network_from_bytes(const std::string& data, const LayerFactory<S>& factory = LayerFactory<S>::builtin(),
                              const std::string& source = "memory", const LoadOptions& lo = {}) {
    return detail::model_from_bytes<S>(data, source, [&](const detail::ModelFileHeader& h) {
        Rng rng(0);
        if (h.kind == "Autoencoder" && h.arch.type == "Sequential" && h.arch.children.size() == 2) {
            // built as an Autoencoder so that tied decoder layers find their encoder Dense
            Autoencoder<S> ae = detail::autoencoder_from_config(h.arch, factory);
            ae.build(h.input, rng);
            return std::move(ae.network());
        }
        Network<S> net(factory.make(h.arch));
        net.build(h.input, rng);
        return net;
    }, lo);
}

// Rebuild any saved model (a layer, or a whole autoencoder) as a Network.
template <class S>
Network<S> load_network(const std::string& path, const LayerFactory<S>& factory = LayerFactory<S>::builtin()) {
    return network_from_bytes<S>(detail::read_file_bytes(path), factory, path);
}
template <class S>
Network<S> load_network(const std::string& path, const LoadOptions& lo, const LayerFactory<S>& factory = LayerFactory<S>::builtin()) {
    return network_from_bytes<S>(detail::read_file_bytes(path), factory, path, lo);
}

// Load parameters into an existing, built autoencoder of the same
// architecture. On any error the model is left as it was.
template <class S>
void load_weights(Autoencoder<S>& ae, const std::string& path, const LoadOptions& lo = {}) {
    const std::string data = detail::read_file_bytes(path);
    const auto h = detail::decode_header<S>(data, path, lo);
    const LayerConfig mine = ae.network().root().config();
    if (h.arch != mine)
        throw FormatError("model file '" + path + "': architecture mismatch: file has " + h.arch.str() + ", model has " + mine.str());
    if (h.input != ae.input_shape())
        throw FormatError("model file '" + path + "': expected input shape " + ae.input_shape().str() + ", found " + h.input.str());
    detail::assign_values<S>(data, h, ae.params(), path);
}

// Save a built VAE: architecture (type "VariationalAutoencoder": likelihood,
// beta, warm-up and free bits, children encoder and decoder) and parameters.
template <class S>
void save(VariationalAutoencoder<S>& vae, const std::string& path) {
    if (!vae.built()) throw Error("save: expected a built variational autoencoder, found one not yet built");
    detail::write_file_atomic(path, detail::encode_model<S>("VariationalAutoencoder", vae.input_shape(), vae.config(),
                                                            detail::slots_of(vae.network().root())));
}

namespace detail {

template <class S>
VariationalAutoencoder<S> vae_from_header(const ModelFileHeader& h, const LayerFactory<S>& factory, const std::string& path) {
    if (h.kind != "VariationalAutoencoder" || h.arch.type != "VariationalAutoencoder" || h.arch.children.size() != 2)
        throw FormatError("model file '" + path + "': expected a VariationalAutoencoder, found a " + h.kind + " (" + h.arch.type +
                          "); load it with load_autoencoder or load_network");
    try {
        VariationalAutoencoder<S> vae(factory.make(h.arch.children[0]), factory.make(h.arch.children[1]),
                                      Likelihood::from_name(h.arch.get("likelihood"), h.arch.get_double("sigma", 1.0)));
        vae.set_beta(h.arch.get_double("beta", 1.0));
        vae.set_kl_warmup(static_cast<long>(h.arch.get_index("kl_warmup", 0)));
        if (h.arch.has("kl_warmup_epochs")) vae.set_kl_warmup_epochs(h.arch.get_double("kl_warmup_epochs"));
        vae.set_free_bits(h.arch.get_double("free_bits", 0.0));
        return vae;
    } catch (const ConfigError& e) {
        throw FormatError("model file '" + path + "': invalid VariationalAutoencoder settings: " + e.what());
    }
}

}  // namespace detail

// Rebuild a VAE from the bytes of a model file (training and evaluation
// generators seeded 0).
template <class S>
VariationalAutoencoder<S> vae_from_bytes(const std::string& data, const LayerFactory<S>& factory = LayerFactory<S>::builtin(),
                                         const std::string& source = "memory", const LoadOptions& lo = {}) {
    return detail::model_from_bytes<S>(data, source, [&](const detail::ModelFileHeader& h) {
        VariationalAutoencoder<S> vae = detail::vae_from_header<S>(h, factory, source);
        Rng rng(0);
        vae.build(h.input, rng);
        return vae;
    }, lo);
}

// Rebuild a VAE from a file (training and evaluation generators seeded 0).
template <class S>
VariationalAutoencoder<S> load_vae(const std::string& path, const LayerFactory<S>& factory = LayerFactory<S>::builtin()) {
    return vae_from_bytes<S>(detail::read_file_bytes(path), factory, path);
}
template <class S>
VariationalAutoencoder<S> load_vae(const std::string& path, const LoadOptions& lo, const LayerFactory<S>& factory = LayerFactory<S>::builtin()) {
    return vae_from_bytes<S>(detail::read_file_bytes(path), factory, path, lo);
}

// Load parameters into an existing, built VAE of the same architecture
// (settings such as beta are not changed). On any error the model is left as it was.
template <class S>
void load_weights(VariationalAutoencoder<S>& vae, const std::string& path, const LoadOptions& lo = {}) {
    const std::string data = detail::read_file_bytes(path);
    const auto h = detail::decode_header<S>(data, path, lo);
    if (h.kind != "VariationalAutoencoder" || h.arch.children.size() != 2)
        throw FormatError("model file '" + path + "': expected a VariationalAutoencoder, found a " + h.kind);
    const LayerConfig mine = vae.config();
    if (h.arch.children != mine.children || h.arch.get("likelihood") != mine.get("likelihood"))
        throw FormatError("model file '" + path + "': architecture mismatch: file has " + h.arch.str() + ", model has " + mine.str());
    if (h.input != vae.input_shape())
        throw FormatError("model file '" + path + "': expected input shape " + vae.input_shape().str() + ", found " + h.input.str());
    detail::assign_values<S>(data, h, vae.params(), path);
}

LATENT_NAMESPACE_END
