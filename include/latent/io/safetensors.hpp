// safetensors files with PyTorch's state_dict names and layouts, so weights
// move between latent and PyTorch (docs/interop.md).
//
// The format: u64 little-endian header length N, N bytes of JSON mapping each
// tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets
// into the data that follows) plus an optional "__metadata__" map of strings,
// then the raw little-endian data.
//
// Names are those of the equivalent PyTorch module tree: a Sequential's
// children numbered by position (every layer counts, as in nn.Sequential),
// an Autoencoder's halves "encoder." / "decoder.", Dense "weight" (out, in)
// and "bias", Conv2D "weight" (F, C, kh, kw), ConvTranspose2D "weight"
// (C_in, C_out, kh, kw), BatchNorm "weight", "bias", "running_mean",
// "running_var", "num_batches_tracked", LSTM/GRU "weight_ih_l0",
// "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", TimeDistributed(Dense) as the
// Linear it wraps. "__metadata__" carries latent's architecture, so a file we
// wrote also rebuilds the whole model (load_*_safetensors).
//
//   save_safetensors(model, path, options)   F32 (default) or F64, atomically
//   load_safetensors(model, path, options)   into a built model: F16/BF16/F32/F64,
//                                            converted; the model changes only
//                                            when every check passed
//   read_safetensors(path)                   the tensors and metadata of any file
//
// Every malformed file throws FormatError naming the tensor and what was
// expected and found: header length beyond the file or above 100 MB, bad
// JSON, unknown dtype, offsets out of range, overlapping, leaving holes or
// not aligned to the element size, a size that does not match the shape,
// and, when loading into a model, a missing tensor, a wrong dtype or shape
// for a slot, or a tensor the model has no slot for (unless ignore_extra).
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <string_view>

#include "latent/core/binary.hpp"
#include "latent/io/json.hpp"
#include "latent/io/layer_factory.hpp"
#include "latent/io/model_file.hpp"
#include "latent/io/sequence_file.hpp"
#include "latent/models/sequence.hpp"
#include "latent/version.hpp"

LATENT_NAMESPACE_BEGIN

// The safetensors dtypes.
enum class Dtype { f16, bf16, f32, f64, i8, i16, i32, i64, u8, u16, u32, u64, boolean };

inline const char* dtype_name(Dtype d) {
    switch (d) {
        case Dtype::f16: return "F16";
        case Dtype::bf16: return "BF16";
        case Dtype::f32: return "F32";
        case Dtype::f64: return "F64";
        case Dtype::i8: return "I8";
        case Dtype::i16: return "I16";
        case Dtype::i32: return "I32";
        case Dtype::i64: return "I64";
        case Dtype::u8: return "U8";
        case Dtype::u16: return "U16";
        case Dtype::u32: return "U32";
        case Dtype::u64: return "U64";
        case Dtype::boolean: return "BOOL";
    }
    return "?";
}

inline std::size_t dtype_size(Dtype d) {
    switch (d) {
        case Dtype::i8:
        case Dtype::u8:
        case Dtype::boolean: return 1;
        case Dtype::f16:
        case Dtype::bf16:
        case Dtype::i16:
        case Dtype::u16: return 2;
        case Dtype::f32:
        case Dtype::i32:
        case Dtype::u32: return 4;
        case Dtype::f64:
        case Dtype::i64:
        case Dtype::u64: return 8;
    }
    return 1;
}

inline bool dtype_is_float(Dtype d) { return d == Dtype::f16 || d == Dtype::bf16 || d == Dtype::f32 || d == Dtype::f64; }

struct SafetensorsOptions {
    // save: the dtype of the parameters, F32 (PyTorch's default) or F64.
    Dtype dtype = Dtype::f32;
    // load: skip tensors of the file that the model has no slot for
    // (an optimizer's state saved beside the weights, a classifier head).
    bool ignore_extra = false;
    // save and load: the file's name of each latent name. First the longest
    // matching prefix of prefix_map is replaced ({"encoder.", "enc."} turns
    // "encoder.0.weight" into "enc.0.weight"), then rename (when set) is
    // applied to the result.
    std::vector<std::pair<std::string, std::string>> prefix_map;
    std::function<std::string(const std::string&)> rename;
    // save: extra "__metadata__" entries (strings).
    std::vector<std::pair<std::string, std::string>> metadata;

    std::string file_name(const std::string& name) const {
        std::string out = name;
        std::size_t best = 0;
        const std::pair<std::string, std::string>* hit = nullptr;
        for (const auto& pm : prefix_map)
            if (name.compare(0, pm.first.size(), pm.first) == 0 && (hit == nullptr || pm.first.size() > best)) {
                hit = &pm;
                best = pm.first.size();
            }
        if (hit) out = hit->second + name.substr(hit->first.size());
        return rename ? rename(out) : out;
    }
};

// One tensor of a safetensors file: where its bytes are in the data section.
struct SafetensorInfo {
    std::string name;
    Dtype dtype = Dtype::f32;
    std::vector<std::int64_t> shape;
    std::size_t begin = 0, end = 0;  // byte offsets into the data section

    std::int64_t numel() const {
        std::int64_t n = 1;
        for (auto d : shape) n *= d;
        return n;
    }
};

inline std::string shape_str(const std::vector<std::int64_t>& shape) {
    std::string s = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + (shape.size() == 1 ? ",)" : ")");
}

namespace detail {

inline float half_to_float(std::uint16_t h) {
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
    std::uint32_t exp = (h >> 10) & 0x1Fu, mant = h & 0x3FFu, bits;
    if (exp == 0x1F) {
        bits = sign | 0x7F800000u | (mant << 13);  // inf, NaN
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (mant << 13);
    } else if (mant == 0) {
        bits = sign;  // +-0
    } else {          // subnormal: normalize
        exp = 113;
        while ((mant & 0x400u) == 0) {
            mant <<= 1;
            --exp;
        }
        bits = sign | (exp << 23) | ((mant & 0x3FFu) << 13);
    }
    return float_from_bits(bits);
}

inline float bfloat16_to_float(std::uint16_t b) {
    return float_from_bits(static_cast<std::uint32_t>(b) << 16);
}

// Element i of a tensor's bytes as a double (any dtype).
inline double element_as_double(const char* p, Dtype d) {
    const std::uint64_t v = load_le(p, dtype_size(d));
    switch (d) {
        case Dtype::f16: return half_to_float(static_cast<std::uint16_t>(v));
        case Dtype::bf16: return bfloat16_to_float(static_cast<std::uint16_t>(v));
        case Dtype::f32: return float_from_bits(static_cast<std::uint32_t>(v));
        case Dtype::f64: return double_from_bits(v);
        case Dtype::i8: return static_cast<std::int8_t>(v);
        case Dtype::i16: return static_cast<std::int16_t>(v);
        case Dtype::i32: return static_cast<std::int32_t>(v);
        case Dtype::i64: return static_cast<double>(static_cast<std::int64_t>(v));
        case Dtype::u8:
        case Dtype::u16:
        case Dtype::u32:
        case Dtype::u64:
        case Dtype::boolean: return static_cast<double>(v);
    }
    return 0;
}

}  // namespace detail

// A parsed safetensors file (it owns its bytes). parse() validates all of
// the header before anything is copied out.
class SafetensorsFile {
public:
    static constexpr std::uint64_t max_header_bytes = 100000000;  // as the reference implementation

    static SafetensorsFile parse(std::string bytes, const std::string& what) {
        SafetensorsFile f;
        f.bytes_ = std::move(bytes);
        f.what_ = what;
        f.validate();
        return f;
    }

    const std::vector<SafetensorInfo>& tensors() const { return tensors_; }
    const SafetensorInfo* find(const std::string& name) const {
        auto it = index_.find(name);
        return it == index_.end() ? nullptr : &tensors_[it->second];
    }
    const SafetensorInfo& at(const std::string& name) const {
        const SafetensorInfo* t = find(name);
        if (!t) throw FormatError(what_ + ": expected a tensor '" + name + "', found none");
        return *t;
    }
    const std::vector<std::pair<std::string, std::string>>& metadata() const { return metadata_; }
    const std::string* metadata(const std::string& key) const {
        for (const auto& kv : metadata_)
            if (kv.first == key) return &kv.second;
        return nullptr;
    }
    const std::string& what() const { return what_; }

    // The tensor's elements in file (row-major) order, converted to S.
    template <class S>
    std::vector<S> values(const SafetensorInfo& t) const {
        const std::size_t n = (t.end - t.begin) / dtype_size(t.dtype), es = dtype_size(t.dtype);
        std::vector<S> out(n);
        const char* p = bytes_.data() + data_start_ + t.begin;
        for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<S>(detail::element_as_double(p + i * es, t.dtype));
        return out;
    }
    // A 1-D or 2-D float tensor as a matrix: (d0, d1) row-major becomes the
    // d0 x d1 matrix (a 1-D tensor is a column).
    template <class S>
    Matrix<S> matrix(const std::string& name) const {
        const SafetensorInfo& t = at(name);
        if (t.shape.empty() || t.shape.size() > 2)
            throw FormatError(what_ + ": tensor '" + name + "': expected 1 or 2 dimensions, found shape " + shape_str(t.shape));
        const Index r = static_cast<Index>(t.shape[0]), c = t.shape.size() == 2 ? static_cast<Index>(t.shape[1]) : 1;
        const std::vector<S> v = values<S>(t);
        Matrix<S> m(r, c);
        for (Index i = 0; i < r; ++i)
            for (Index j = 0; j < c; ++j) m(i, j) = v[static_cast<std::size_t>(i * c + j)];
        return m;
    }

private:
    [[noreturn]] void fail(const std::string& msg) const { throw FormatError(what_ + ": " + msg); }

    void validate() {
        if (bytes_.size() < 8)
            fail("not a safetensors file: expected at least 8 bytes (header length), found " + std::to_string(bytes_.size()));
        const std::uint64_t n = detail::load_le(bytes_.data(), 8);
        if (n > max_header_bytes)
            fail("expected a header of at most " + std::to_string(max_header_bytes) + " bytes, found a length of " + std::to_string(n) +
                 " (not a safetensors file?)");
        if (n > bytes_.size() - 8)
            fail("truncated: the header length is " + std::to_string(n) + " bytes, but only " + std::to_string(bytes_.size() - 8) +
                 " bytes follow it");
        if (n < 2) fail("expected a JSON header of at least 2 bytes, found " + std::to_string(n));
        data_start_ = 8 + static_cast<std::size_t>(n);
        const std::size_t data_size = bytes_.size() - data_start_;
        const detail::JsonValue header = detail::parse_json(std::string_view(bytes_).substr(8, static_cast<std::size_t>(n)), what_ + " header");
        if (!header.is_object()) fail("expected the header to be a JSON object, found another JSON value");
        for (const auto& kv : header.members()) {
            if (kv.first == "__metadata__") {
                if (!kv.second.is_object()) fail("expected \"__metadata__\" to be an object of strings, found another JSON value");
                for (const auto& m : kv.second.members()) {
                    if (!m.second.is_string()) fail("expected __metadata__ value '" + m.first + "' to be a string, found another JSON value");
                    metadata_.emplace_back(m.first, m.second.as_string());
                }
                continue;
            }
            tensors_.push_back(tensor_info(kv.first, kv.second, data_size));
        }
        // Every byte of the data belongs to exactly one tensor: sorted by
        // offset, each begins where the previous one ended.
        std::vector<const SafetensorInfo*> order;
        for (const auto& t : tensors_) order.push_back(&t);
        std::sort(order.begin(), order.end(), [](const SafetensorInfo* a, const SafetensorInfo* b) {
            return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
        });
        std::size_t at = 0;
        const SafetensorInfo* prev = nullptr;
        for (const auto* t : order) {
            if (t->begin < at)
                fail("tensor '" + t->name + "' (bytes " + std::to_string(t->begin) + ".." + std::to_string(t->end) + ") overlaps tensor '" +
                     prev->name + "' (bytes " + std::to_string(prev->begin) + ".." + std::to_string(prev->end) + ")");
            if (t->begin > at)
                fail("expected tensor '" + t->name + "' to begin at byte " + std::to_string(at) + " of the data (no holes), found " +
                     std::to_string(t->begin));
            at = t->end;
            prev = t;
        }
        if (at != data_size)
            fail("expected " + std::to_string(at) + " bytes of tensor data after the header, found " + std::to_string(data_size));
        for (std::size_t i = 0; i < tensors_.size(); ++i) index_[tensors_[i].name] = i;
    }

    SafetensorInfo tensor_info(const std::string& name, const detail::JsonValue& v, std::size_t data_size) const {
        const std::string where = "tensor '" + name + "'";
        if (!v.is_object()) fail(where + ": expected an object {dtype, shape, data_offsets}, found another JSON value");
        SafetensorInfo t;
        t.name = name;
        for (const auto& m : v.members())
            if (m.first != "dtype" && m.first != "shape" && m.first != "data_offsets")
                fail(where + ": expected the keys dtype, shape and data_offsets, found '" + m.first + "'");
        const detail::JsonValue* dtype = v.find("dtype");
        const detail::JsonValue* shape = v.find("shape");
        const detail::JsonValue* offsets = v.find("data_offsets");
        if (!dtype || !dtype->is_string()) fail(where + ": expected a string \"dtype\", found none");
        if (!shape || !shape->is_array()) fail(where + ": expected an array \"shape\", found none");
        if (!offsets || !offsets->is_array()) fail(where + ": expected an array \"data_offsets\", found none");
        bool known = false;
        for (Dtype d : {Dtype::f16, Dtype::bf16, Dtype::f32, Dtype::f64, Dtype::i8, Dtype::i16, Dtype::i32, Dtype::i64, Dtype::u8, Dtype::u16,
                        Dtype::u32, Dtype::u64, Dtype::boolean})
            if (dtype->as_string() == dtype_name(d)) {
                t.dtype = d;
                known = true;
            }
        if (!known)
            fail(where + ": expected a dtype of F16, BF16, F32, F64, I8, I16, I32, I64, U8, U16, U32, U64 or BOOL, found '" +
                 dtype->as_string() + "'");
        if (shape->items().size() > 16) fail(where + ": expected at most 16 dimensions, found " + std::to_string(shape->items().size()));
        const std::size_t es = dtype_size(t.dtype);
        std::uint64_t bytes = es;
        for (const auto& d : shape->items()) {
            if (!d.is_uint() || d.as_uint() > (std::uint64_t(1) << 53))
                fail(where + ": expected the shape to hold integers in [0, 2^53], found another JSON value");
            // bytes * d stays within the data section (checked before multiplying)
            if (d.as_uint() != 0 && bytes > data_size / d.as_uint())
                fail(where + ": shape needs more bytes than the file holds (" + std::to_string(data_size) + " bytes of data)");
            bytes *= d.as_uint();
            t.shape.push_back(static_cast<std::int64_t>(d.as_uint()));
        }
        if (offsets->items().size() != 2 || !offsets->items()[0].is_uint() || !offsets->items()[1].is_uint())
            fail(where + ": expected \"data_offsets\" to be [begin, end], two non-negative integers");
        const std::uint64_t b = offsets->items()[0].as_uint(), e = offsets->items()[1].as_uint();
        if (b > e) fail(where + ": expected data_offsets begin <= end, found [" + std::to_string(b) + ", " + std::to_string(e) + "]");
        if (e > data_size)
            fail(where + ": data_offsets [" + std::to_string(b) + ", " + std::to_string(e) + "] run past the " + std::to_string(data_size) +
                 " bytes of data");
        if (e - b != bytes)
            fail(where + ": shape " + shape_str(t.shape) + " of " + dtype_name(t.dtype) + " needs " + std::to_string(bytes) +
                 " bytes, found data_offsets [" + std::to_string(b) + ", " + std::to_string(e) + "] (" + std::to_string(e - b) + " bytes)");
        if (b % es != 0)
            fail(where + ": expected data_offsets aligned to the " + std::to_string(es) + "-byte element size, found begin " + std::to_string(b));
        t.begin = static_cast<std::size_t>(b);
        t.end = static_cast<std::size_t>(e);
        return t;
    }

    std::string bytes_;
    std::string what_;
    std::size_t data_start_ = 0;
    std::vector<SafetensorInfo> tensors_;
    std::map<std::string, std::size_t> index_;
    std::vector<std::pair<std::string, std::string>> metadata_;
};

// Reads and validates any safetensors file.
inline SafetensorsFile read_safetensors(const std::string& path) {
    return SafetensorsFile::parse(detail::read_file_bytes(path), "safetensors file '" + path + "'");
}

namespace detail {

// One tensor of the PyTorch state_dict of a latent layer tree.
template <class S>
struct TorchTensor {
    std::string name;                 // the state_dict name ("encoder.0.weight")
    std::vector<std::int64_t> shape;  // PyTorch's shape
    ParamSlot<S>* slot = nullptr;     // nullptr: BatchNorm's num_batches_tracked (latent keeps no counter)
    bool transpose = false;           // PyTorch's row-major (rows, cols) of our column-major rows x cols slot
};

inline std::string join_name(const std::string& prefix, const std::string& name) { return prefix.empty() ? name : prefix + "." + name; }

// The state_dict of `layer` as PyTorch names it (see the file comment).
template <class S>
void torch_tensors(Layer<S>& layer, const std::string& prefix, std::vector<TorchTensor<S>>& out) {
    if (auto* seq = dynamic_cast<Sequential<S>*>(&layer)) {
        for (std::size_t i = 0; i < seq->size(); ++i) torch_tensors((*seq)[i], join_name(prefix, seq->name(i)), out);
        return;
    }
    if (auto* td = dynamic_cast<TimeDistributed<S>*>(&layer)) {  // nn.Linear applies to every step itself
        torch_tensors(td->layer(), prefix, out);
        return;
    }
    std::vector<NamedSlot<S>> slots;
    layer.collect_params("", slots);
    const std::string type = layer.type();
    const bool recurrent = dynamic_cast<Recurrent<S>*>(&layer) != nullptr;
    const bool norm = dynamic_cast<BatchNorm<S>*>(&layer) != nullptr;
    auto* conv = dynamic_cast<ConvLayerBase<S>*>(&layer);
    for (const auto& s : slots) {
        TorchTensor<S> t;
        t.slot = s.slot;
        t.name = join_name(prefix, s.name + (recurrent ? "_l0" : ""));
        if (conv && s.name == "weight") {  // memory is PyTorch's already
            const Index c = layer.input_shape().c, f = conv->filters();
            if (type == "ConvTranspose2D")
                t.shape = {c, f, conv->kernel().h, conv->kernel().w};
            else
                t.shape = {f, c, conv->kernel().h, conv->kernel().w};
        } else if (s.slot->cols == 1 && (norm || s.name.compare(0, 6, "weight") != 0)) {  // biases, norms: 1-D
            t.shape = {s.slot->rows};
        } else {
            t.shape = {s.slot->rows, s.slot->cols};
            t.transpose = true;
        }
        out.push_back(std::move(t));
    }
    if (norm) {
        TorchTensor<S> t;
        t.name = join_name(prefix, "num_batches_tracked");
        out.push_back(std::move(t));
    }
}

template <class S>
std::vector<TorchTensor<S>> torch_tensors(Layer<S>& layer, const std::string& prefix = "") {
    std::vector<TorchTensor<S>> out;
    torch_tensors(layer, prefix, out);
    return out;
}

// LayerConfig <-> JSON ({"type", "attrs": {key: string}, "children": [...]}).
inline JsonValue config_to_json(const LayerConfig& c) {
    JsonValue v = JsonValue::make(JsonValue::Kind::object);
    v.set("type", JsonValue::string(c.type));
    JsonValue attrs = JsonValue::make(JsonValue::Kind::object);
    for (const auto& kv : c.attrs) attrs.set(kv.first, JsonValue::string(kv.second));
    v.set("attrs", std::move(attrs));
    JsonValue children = JsonValue::make(JsonValue::Kind::array);
    for (const auto& ch : c.children) children.push(config_to_json(ch));
    v.set("children", std::move(children));
    return v;
}

inline LayerConfig config_from_json(const JsonValue& v, const std::string& what) {
    const JsonValue* type = v.is_object() ? v.find("type") : nullptr;
    if (!type || !type->is_string()) throw FormatError(what + ": expected a layer {\"type\", \"attrs\", \"children\"}, found another JSON value");
    LayerConfig c(type->as_string());
    if (const JsonValue* attrs = v.find("attrs")) {
        if (!attrs->is_object()) throw FormatError(what + ": layer " + c.type + ": expected \"attrs\" to be an object of strings");
        for (const auto& kv : attrs->members()) {
            if (!kv.second.is_string()) throw FormatError(what + ": layer " + c.type + ": expected attribute '" + kv.first + "' to be a string");
            c.attrs.emplace_back(kv.first, kv.second.as_string());
        }
    }
    if (const JsonValue* children = v.find("children")) {
        if (!children->is_array()) throw FormatError(what + ": layer " + c.type + ": expected \"children\" to be an array");
        for (const auto& ch : children->items()) c.children.push_back(config_from_json(ch, what));
    }
    return c;
}

inline std::string shape_to_text(Shape s) { return std::to_string(s.c) + "," + std::to_string(s.h) + "," + std::to_string(s.w); }

inline Shape shape_from_text(const std::string& text, const std::string& what) {
    Shape s;
    Index* parts[3] = {&s.c, &s.h, &s.w};
    const char* p = text.data();
    const char* end = text.data() + text.size();
    for (int i = 0; i < 3; ++i) {
        long long v = 0;
        const auto r = std::from_chars(p, end, v);
        if (r.ec != std::errc() || v <= 0 || (i < 2 && (r.ptr == end || *r.ptr != ',')) || (i == 2 && r.ptr != end))
            throw FormatError(what + ": expected __metadata__ latent.input_shape as three positive integers c,h,w, found '" + text + "'");
        *parts[i] = static_cast<Index>(v);
        p = r.ptr + 1;
    }
    return s;
}

// Writes the tensors (values of S, converted to options.dtype) and the
// metadata as safetensors bytes.
template <class S>
std::string encode_safetensors(const std::vector<TorchTensor<S>>& tensors, std::vector<std::pair<std::string, std::string>> metadata,
                               const SafetensorsOptions& o) {
    if (o.dtype != Dtype::f32 && o.dtype != Dtype::f64)
        throw ConfigError(std::string("save_safetensors: expected dtype F32 or F64, found ") + dtype_name(o.dtype));
    for (const auto& kv : o.metadata) metadata.push_back(kv);
    struct Out {
        std::string name;
        const TorchTensor<S>* t;
        Dtype dtype;
    };
    std::vector<Out> outs;
    for (const auto& t : tensors) {
        if (t.slot && !t.slot->bound()) throw Error("save_safetensors: parameter '" + t.name + "' is not bound; build the model before saving");
        outs.push_back({o.file_name(t.name), &t, t.slot ? o.dtype : Dtype::i64});
    }
    // 8-byte elements first, then 4-byte ones: every tensor stays aligned to its element size.
    std::stable_sort(outs.begin(), outs.end(), [](const Out& a, const Out& b) { return dtype_size(a.dtype) > dtype_size(b.dtype); });
    JsonValue header = JsonValue::make(JsonValue::Kind::object);
    if (!metadata.empty()) {
        JsonValue meta = JsonValue::make(JsonValue::Kind::object);
        for (const auto& kv : metadata) meta.set(kv.first, JsonValue::string(kv.second));
        header.set("__metadata__", std::move(meta));
    }
    ByteWriter data;
    for (const auto& out : outs) {
        if (out.name.empty() || out.name == "__metadata__" || header.find(out.name))
            throw ConfigError("save_safetensors: two tensors (or the metadata) would share the name '" + out.name + "'; check prefix_map/rename");
        const std::size_t begin = data.size();
        const TorchTensor<S>& t = *out.t;
        if (!t.slot) {
            data.i64(0);  // num_batches_tracked: latent keeps no counter
        } else {
            const MatrixMap<S> w = t.slot->w();
            const auto put = [&](S v) {
                if (out.dtype == Dtype::f32)
                    data.scalar<float>(static_cast<float>(v));
                else
                    data.scalar<double>(static_cast<double>(v));
            };
            if (t.transpose) {
                for (Index r = 0; r < w.rows(); ++r)
                    for (Index c = 0; c < w.cols(); ++c) put(w(r, c));
            } else {
                for (Index i = 0; i < w.size(); ++i) put(w.data()[i]);
            }
        }
        JsonValue info = JsonValue::make(JsonValue::Kind::object);
        info.set("dtype", JsonValue::string(dtype_name(out.dtype)));
        JsonValue shape = JsonValue::make(JsonValue::Kind::array);
        for (auto d : t.shape) shape.push(JsonValue::unsigned_integer(static_cast<std::uint64_t>(d)));
        info.set("shape", std::move(shape));
        JsonValue offsets = JsonValue::make(JsonValue::Kind::array);
        offsets.push(JsonValue::unsigned_integer(begin));
        offsets.push(JsonValue::unsigned_integer(data.size()));
        info.set("data_offsets", std::move(offsets));
        header.set(out.name, std::move(info));
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');  // the data starts 8-byte aligned
    ByteWriter file;
    file.u64(text.size());
    file.raw(text.data(), text.size());
    file.raw(data.buffer().data(), data.size());
    return std::move(file.buffer());
}

// latent's architecture in the metadata: enough to rebuild the model.
inline std::vector<std::pair<std::string, std::string>> latent_metadata(const std::string& kind, Shape input, const LayerConfig& arch,
                                                                        const char* scalar) {
    return {{"format", "pt"},
            {"latent.version", std::to_string(version_major) + "." + std::to_string(version_minor) + "." + std::to_string(version_patch)},
            {"latent.kind", kind},
            {"latent.scalar", scalar},
            {"latent.input_shape", shape_to_text(input)},
            {"latent.architecture", config_to_json(arch).dump()}};
}

// Checks every tensor of `tensors` against the file (name, dtype, shape;
// extra tensors) and only then copies the values into the slots.
template <class S>
void assign_tensors(const std::vector<TorchTensor<S>>& tensors, const SafetensorsFile& f, const SafetensorsOptions& o) {
    const std::string& what = f.what();
    std::vector<std::vector<S>> staged(tensors.size());
    std::map<std::string, bool> used;
    for (std::size_t k = 0; k < tensors.size(); ++k) {
        const TorchTensor<S>& t = tensors[k];
        const std::string name = o.file_name(t.name);
        const SafetensorInfo* info = f.find(name);
        if (!info) {
            if (!t.slot) continue;  // a missing num_batches_tracked changes nothing
            std::string missing;
            std::size_t count = 0;
            for (const auto& u : tensors)
                if (u.slot && !f.find(o.file_name(u.name))) missing += (count++ < 8 ? (count > 1 ? ", '" : "'") + o.file_name(u.name) + "'" : "");
            throw FormatError(what + ": missing tensor '" + name + "' (expected shape " + shape_str(t.shape) + "); " + std::to_string(count) +
                              " of the model's " + std::to_string(tensors.size()) + " tensors are missing: " + missing +
                              (count > 8 ? ", ..." : "") + " (names differ? see SafetensorsOptions::prefix_map)");
        }
        used[name] = true;
        if (!t.slot) {  // num_batches_tracked: any integer scalar, ignored
            if (dtype_is_float(info->dtype) || info->shape.size() > 1 || info->numel() != 1)
                throw FormatError(what + ": tensor '" + name + "': expected an integer scalar (I64, shape ()), found " + dtype_name(info->dtype) +
                                  " shape " + shape_str(info->shape));
            continue;
        }
        if (!dtype_is_float(info->dtype))
            throw FormatError(what + ": tensor '" + name + "': expected a float dtype (F16, BF16, F32 or F64), found " + dtype_name(info->dtype));
        if (info->shape != t.shape)
            throw FormatError(what + ": tensor '" + name + "': expected shape " + shape_str(t.shape) + ", found " + shape_str(info->shape));
        std::vector<S> v = f.values<S>(*info);
        if (t.transpose) {  // row-major (rows, cols) -> column-major
            const Index r = t.slot->rows, c = t.slot->cols;
            std::vector<S> cm(v.size());
            for (Index i = 0; i < r; ++i)
                for (Index j = 0; j < c; ++j) cm[static_cast<std::size_t>(j * r + i)] = v[static_cast<std::size_t>(i * c + j)];
            v.swap(cm);
        }
        staged[k] = std::move(v);
    }
    if (!o.ignore_extra)
        for (const auto& info : f.tensors())
            if (!used.count(info.name))
                throw FormatError(what + ": unexpected tensor '" + info.name + "' shape " + shape_str(info.shape) +
                                  ": the model has no such parameter (set SafetensorsOptions::ignore_extra to skip it, or map names)");
    for (std::size_t k = 0; k < tensors.size(); ++k)
        if (tensors[k].slot) std::copy(staged[k].begin(), staged[k].end(), tensors[k].slot->value);
}

template <class S>
void require_built(Layer<S>& layer, const char* what) {
    if (!layer.built()) throw Error(std::string(what) + ": expected a built model, found one not yet built");
}

template <class S>
std::vector<TorchTensor<S>> seq2seq_tensors(Seq2Seq<S>& model) {
    std::vector<TorchTensor<S>> out;
    torch_tensors<S>(model.encoder(), "encoder", out);
    torch_tensors<S>(model.decoder(), "decoder", out);
    torch_tensors<S>(model.output(), "output", out);
    return out;
}

}  // namespace detail

// The PyTorch state_dict names and shapes latent writes for a built layer
// tree (root: no prefix), in order.
template <class S>
std::vector<std::pair<std::string, std::vector<std::int64_t>>> torch_state_dict_shapes(Layer<S>& layer) {
    std::vector<std::pair<std::string, std::vector<std::int64_t>>> out;
    for (const auto& t : detail::torch_tensors(layer)) out.emplace_back(t.name, t.shape);
    return out;
}

// ------------------------------------------------------------------ save

// A single built layer (e.g. ae.encoder(), names without a prefix, as the
// state_dict of the nn.Sequential it stands for). A tied decoder is stored
// untied, as io/model_file.hpp does.
template <class S>
void save_safetensors(Layer<S>& layer, const std::string& path, const SafetensorsOptions& o = {}) {
    detail::require_built(layer, "save_safetensors");
    if (auto untied = detail::untied_copy(layer)) {
        save_safetensors(untied->root(), path, o);
        return;
    }
    detail::write_file_atomic(path, detail::encode_safetensors<S>(detail::torch_tensors(layer),
                                                                  detail::latent_metadata("Layer", layer.input_shape(), layer.config(), scalar_name<S>()), o));
}

template <class S>
void save_safetensors(Network<S>& net, const std::string& path, const SafetensorsOptions& o = {}) {
    save_safetensors(net.root(), path, o);
}

template <class S>
void save_safetensors(Autoencoder<S>& ae, const std::string& path, const SafetensorsOptions& o = {}) {
    if (!ae.built()) throw Error("save_safetensors: expected a built autoencoder, found one not yet built");
    Layer<S>& root = ae.network().root();
    detail::write_file_atomic(path, detail::encode_safetensors<S>(detail::torch_tensors(root),
                                                                  detail::latent_metadata("Autoencoder", ae.input_shape(), root.config(), scalar_name<S>()), o));
}

// Names: encoder.* (its last layer outputs [mu; logvar]: torch code splits it
// with .chunk(2, dim=1)), decoder.*; the sampler holds nothing.
template <class S>
void save_safetensors(VariationalAutoencoder<S>& vae, const std::string& path, const SafetensorsOptions& o = {}) {
    if (!vae.built()) throw Error("save_safetensors: expected a built variational autoencoder, found one not yet built");
    detail::write_file_atomic(path, detail::encode_safetensors<S>(detail::torch_tensors(vae.network().root()),
                                                                  detail::latent_metadata("VariationalAutoencoder", vae.input_shape(), vae.config(),
                                                                                          scalar_name<S>()),
                                                                  o));
}

// Names: encoder.K.*_l0 (one nn.LSTM/GRU per stacked layer), decoder.K.*_l0, output.weight/bias.
template <class S>
void save_safetensors(SequenceAutoencoder<S>& model, const std::string& path, const SafetensorsOptions& o = {}) {
    Layer<S>& root = model.network().root();
    detail::write_file_atomic(path, detail::encode_safetensors<S>(detail::torch_tensors(root),
                                                                  detail::latent_metadata("SequenceAutoencoder", model.network().input_shape(),
                                                                                          root.config(), scalar_name<S>()),
                                                                  o));
}

// Names: encoder.*_l0, decoder.*_l0, output.weight/bias.
template <class S>
void save_safetensors(Seq2Seq<S>& model, const std::string& path, const SafetensorsOptions& o = {}) {
    const auto& op = model.options();
    detail::write_file_atomic(path, detail::encode_safetensors<S>(detail::seq2seq_tensors(model),
                                                                  detail::latent_metadata("Seq2Seq", sequence_shape(op.source_steps, op.source_features),
                                                                                          model.config(), scalar_name<S>()),
                                                                  o));
}

// ------------------------------------------------------------------ load into a built model

template <class S>
void load_safetensors(Layer<S>& layer, const std::string& path, const SafetensorsOptions& o = {}) {
    detail::require_built(layer, "load_safetensors");
    detail::assign_tensors(detail::torch_tensors(layer), read_safetensors(path), o);
}
template <class S>
void load_safetensors(Network<S>& net, const std::string& path, const SafetensorsOptions& o = {}) {
    load_safetensors(net.root(), path, o);
}
template <class S>
void load_safetensors(Autoencoder<S>& ae, const std::string& path, const SafetensorsOptions& o = {}) {
    if (!ae.built()) throw Error("load_safetensors: expected a built autoencoder, found one not yet built");
    load_safetensors(ae.network().root(), path, o);
}
template <class S>
void load_safetensors(VariationalAutoencoder<S>& vae, const std::string& path, const SafetensorsOptions& o = {}) {
    if (!vae.built()) throw Error("load_safetensors: expected a built variational autoencoder, found one not yet built");
    load_safetensors(vae.network().root(), path, o);
}
template <class S>
void load_safetensors(SequenceAutoencoder<S>& model, const std::string& path, const SafetensorsOptions& o = {}) {
    load_safetensors(model.network().root(), path, o);
}
template <class S>
void load_safetensors(Seq2Seq<S>& model, const std::string& path, const SafetensorsOptions& o = {}) {
    detail::assign_tensors(detail::seq2seq_tensors(model), read_safetensors(path), o);
}

// ------------------------------------------------------------------ rebuild from the file alone

namespace detail {

// The kind, input shape and architecture a latent-written file carries.
inline ModelFileHeader safetensors_model_header(const SafetensorsFile& f) {
    const std::string* kind = f.metadata("latent.kind");
    const std::string* input = f.metadata("latent.input_shape");
    const std::string* arch = f.metadata("latent.architecture");
    if (!kind || !input || !arch)
        throw FormatError(f.what() + ": expected latent's architecture in __metadata__ (latent.kind, latent.input_shape, latent.architecture), " +
                          "found none (written by PyTorch?); build the model in code and call load_safetensors(model, path)");
    ModelFileHeader h;
    h.kind = *kind;
    h.input = shape_from_text(*input, f.what());
    h.arch = config_from_json(parse_json(*arch, f.what() + " __metadata__ latent.architecture"), f.what() + " __metadata__ latent.architecture");
    return h;
}

inline void require_kind(const ModelFileHeader& h, const std::string& kind, const SafetensorsFile& f, const char* hint) {
    if (h.kind != kind) throw FormatError(f.what() + ": expected a " + kind + ", found a " + h.kind + " (" + h.arch.type + "); " + hint);
}

}  // namespace detail

template <class S>
Autoencoder<S> load_autoencoder_safetensors(const std::string& path, const SafetensorsOptions& o = {},
                                            const LayerFactory<S>& factory = LayerFactory<S>::builtin()) {
    const SafetensorsFile f = read_safetensors(path);
    const auto h = detail::safetensors_model_header(f);
    detail::require_kind(h, "Autoencoder", f, "load it with load_network_safetensors");
    if (h.arch.type != "Sequential" || h.arch.children.size() != 2)
        throw FormatError(f.what() + ": expected an Autoencoder architecture Sequential[encoder, decoder], found " + h.arch.str());
    Autoencoder<S> ae(factory.make(h.arch.children[0]), factory.make(h.arch.children[1]));
    Rng rng(0);
    ae.build(h.input, rng);
    detail::assign_tensors(detail::torch_tensors(ae.network().root()), f, o);
    return ae;
}

// Any latent-written file except a Seq2Seq, as a Network (an autoencoder's
// encoder.* / decoder.*, a VAE's encoder -> sampler -> decoder, ...).
template <class S>
Network<S> load_network_safetensors(const std::string& path, const SafetensorsOptions& o = {},
                                    const LayerFactory<S>& factory = LayerFactory<S>::builtin()) {
    const SafetensorsFile f = read_safetensors(path);
    const auto h = detail::safetensors_model_header(f);
    if (h.kind == "Seq2Seq") throw FormatError(f.what() + ": a Seq2Seq is not one layer stack; load it with load_seq2seq_safetensors");
    Rng rng(0);
    if (h.kind == "Autoencoder") {  // built as one, so that tied decoder layers find their encoder Dense
        Autoencoder<S> ae = load_autoencoder_safetensors<S>(path, o, factory);
        return std::move(ae.network());
    }
    Network<S> net(factory.make(h.arch));
    net.build(h.input, rng);
    detail::assign_tensors(detail::torch_tensors(net.root()), f, o);
    return net;
}

template <class S>
VariationalAutoencoder<S> load_vae_safetensors(const std::string& path, const SafetensorsOptions& o = {},
                                               const LayerFactory<S>& factory = LayerFactory<S>::builtin()) {
    const SafetensorsFile f = read_safetensors(path);
    const auto h = detail::safetensors_model_header(f);
    detail::require_kind(h, "VariationalAutoencoder", f, "load it with load_autoencoder_safetensors or load_network_safetensors");
    VariationalAutoencoder<S> vae = detail::vae_from_header<S>(h, factory, path);
    Rng rng(0);
    vae.build(h.input, rng);
    detail::assign_tensors(detail::torch_tensors(vae.network().root()), f, o);
    return vae;
}

template <class S>
SequenceAutoencoder<S> load_sequence_autoencoder_safetensors(const std::string& path, const SafetensorsOptions& o = {}) {
    const SafetensorsFile f = read_safetensors(path);
    const auto h = detail::safetensors_model_header(f);
    detail::require_kind(h, "SequenceAutoencoder", f, "load it with the loader of its kind");
    Rng rng(0);
    SequenceAutoencoder<S> model(detail::sequence_autoencoder_options(h.arch, h.input, f.what()), rng);
    if (model.network().root().config() != h.arch)
        throw FormatError(f.what() + ": architecture mismatch: file has " + h.arch.str() + ", rebuilt " + model.network().root().config().str());
    detail::assign_tensors(detail::torch_tensors(model.network().root()), f, o);
    return model;
}

template <class S>
Seq2Seq<S> load_seq2seq_safetensors(const std::string& path, const SafetensorsOptions& o = {}) {
    const SafetensorsFile f = read_safetensors(path);
    const auto h = detail::safetensors_model_header(f);
    detail::require_kind(h, "Seq2Seq", f, "load it with the loader of its kind");
    Rng rng(0);
    Seq2Seq<S> model(detail::seq2seq_options(h.arch), rng);
    if (model.config() != h.arch)
        throw FormatError(f.what() + ": architecture mismatch: file has " + h.arch.str() + ", rebuilt " + model.config().str());
    detail::assign_tensors(detail::seq2seq_tensors(model), f, o);
    return model;
}

LATENT_NAMESPACE_END
