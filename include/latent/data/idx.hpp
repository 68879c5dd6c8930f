// IDX reader for the MNIST family (MNIST, Fashion-MNIST, KMNIST, EMNIST).
//
// File layout (big-endian):  0x00 0x00 <dtype> <ndims>, ndims x u32 sizes, data.
// Only dtype 0x08 (unsigned byte) is used by these data sets and supported here.
// Images (ndims 3: N x H x W, row-major) become a features x N matrix whose
// column j is image j with index y*W + x (channel-major with c = 1), values
// scaled to [0, 1] by default. Labels (ndims 1) become std::vector<int>.
//
// Gzip-compressed files (those starting with the gzip magic 1f 8b, usually
// named .gz) are read through zlib when the build defines LATENT_HAS_ZLIB (the
// CMake option LATENT_WITH_ZLIB with zlib found); otherwise they throw
// FeatureError saying how to fix it. read_* take a path; parse_* the bytes.
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#ifdef LATENT_HAS_ZLIB
#include <zlib.h>
#endif

#include "latent/core/error.hpp"
#include "latent/core/tensor.hpp"
#include "latent/data/image_set.hpp"

LATENT_NAMESPACE_BEGIN

enum class Split { train, test };

inline constexpr bool has_zlib() {
#ifdef LATENT_HAS_ZLIB
    return true;
#else
    return false;
#endif
}

// Dimensions of an IDX file, from its header.
struct IdxHeader {
    int dtype = 0;                // 0x08 = unsigned byte
    std::vector<Index> dims;      // e.g. {60000, 28, 28}
    Index count() const { return dims.empty() ? 0 : dims[0]; }
    Index item_size() const {     // product of dims[1..]; FormatError past 2^62
        for (std::size_t i = 1; i < dims.size(); ++i)
            if (dims[i] == 0) return 0;
        Index n = 1;
        for (std::size_t i = 1; i < dims.size(); ++i) {
            if (dims[i] < 0 || n > (Index{1} << 62) / dims[i])
                throw FormatError("IDX header: expected an item size below 2^62, found dimensions whose product overflows");
            n *= dims[i];
        }
        return n;
    }
};

namespace detail {

inline bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

inline bool file_exists(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return static_cast<bool>(f);
}

// By content, as gzopen: a .gz name holding plain data reads as plain.
inline bool looks_gzipped(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    unsigned char m[2] = {0, 0};
    f.read(reinterpret_cast<char*>(m), 2);
    return f.gcount() == 2 && m[0] == 0x1f && m[1] == 0x8b;
}

// A sequential byte source over a file or a buffer in memory, plain or
// gzip-compressed (inflated through zlib as it is read: one code path for
// files and memory). Data is gzip when it starts with the gzip magic 1f 8b,
// whatever its name.
class ByteSource {
public:
    explicit ByteSource(const std::string& path) : path_(path) {
        if (!file_exists(path)) throw FormatError("cannot open '" + path + "': expected a readable file, found none");
        file_.open(path, std::ios::binary);
        if (!file_) throw FormatError("cannot open '" + path + "' for reading");
        if (looks_gzipped(path)) start_gzip();
    }
    // `name` stands for the buffer in messages; `bytes` must outlive the source.
    ByteSource(std::string_view bytes, std::string name) : path_(std::move(name)), mem_(bytes), in_memory_(true) {
        if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f && static_cast<unsigned char>(bytes[1]) == 0x8b)
            start_gzip();
    }
    ByteSource(const ByteSource&) = delete;
    ByteSource& operator=(const ByteSource&) = delete;

    // Reads up to n bytes into dst; returns how many were read (< n only at end of data).
    std::size_t read(void* dst, std::size_t n) {
        auto* p = static_cast<char*>(dst);
#ifdef LATENT_HAS_ZLIB
        if (gz_) return inflate_into(*static_cast<GzInflate*>(gz_.get()), p, n);
#endif
        return read_raw(p, n);
    }

    const std::string& path() const { return path_; }
    // Bytes left in plain data; -1 for gzip (unknown without decompressing).
    long long remaining() {
        if (gz_) return -1;
        if (in_memory_) return static_cast<long long>(mem_.size() - mem_pos_);
        const auto here = file_.tellg();
        file_.seekg(0, std::ios::end);
        const auto end = file_.tellg();
        file_.seekg(here);
        return static_cast<long long>(end - here);
    }

private:
    std::size_t read_raw(char* p, std::size_t n) {
        if (in_memory_) {
            const std::size_t k = std::min(n, mem_.size() - mem_pos_);
            std::memcpy(p, mem_.data() + mem_pos_, k);
            mem_pos_ += k;
            return k;
        }
        file_.read(p, static_cast<std::streamsize>(n));
        const auto got = static_cast<std::size_t>(file_.gcount());
        if (file_.bad()) throw FormatError("error while reading '" + path_ + "'");
        return got;
    }

    void start_gzip() {
#ifdef LATENT_HAS_ZLIB
        auto state = std::make_shared<GzInflate>();
        if (inflateInit2(&state->zs, 16 + MAX_WBITS) != Z_OK) throw FormatError("'" + path_ + "': zlib could not start inflating");
        state->started = true;
        state->in.resize(std::size_t{1} << 16);
        gz_ = std::move(state);
#else
        throw FeatureError("'" + path_ +
                           "' is gzip-compressed, but this build of latent has no zlib support "
                           "(LATENT_HAS_ZLIB is not defined). Either decompress it (gunzip -k '" +
                           path_ + "') or build with zlib (install zlib1g-dev and configure with -DLATENT_WITH_ZLIB=ON)");
#endif
    }

#ifdef LATENT_HAS_ZLIB
    struct GzInflate {
        z_stream zs{};
        std::vector<char> in;
        bool started = false, member_ended = false, done = false;
        GzInflate() = default;
        GzInflate(const GzInflate&) = delete;
        GzInflate& operator=(const GzInflate&) = delete;
        ~GzInflate() {
            if (started) inflateEnd(&zs);
        }
    };

    // Inflates up to n bytes. Concatenated gzip members are read one after
    // the other (as gunzip does); anything else after a member, or input
    // ending inside one, is corrupted or truncated data.
    std::size_t inflate_into(GzInflate& g, char* p, std::size_t n) {
        std::size_t got = 0;
        while (got < n && !g.done) {
            if (g.zs.avail_in == 0) {
                const std::size_t k = read_raw(g.in.data(), g.in.size());
                if (k == 0) {
                    if (g.member_ended) {
                        g.done = true;
                        break;
                    }
                    throw FormatError("'" + path_ + "': truncated gzip data (the compressed stream ends early)");
                }
                g.zs.next_in = reinterpret_cast<Bytef*>(g.in.data());
                g.zs.avail_in = static_cast<uInt>(k);
            }
            if (g.member_ended) {  // more input after a member: another member must follow
                if (g.zs.next_in[0] != 0x1f)
                    throw FormatError("'" + path_ +
                                      "': corrupted gzip data (expected another gzip member or the end after a member, found other bytes)");
                if (inflateReset(&g.zs) != Z_OK) throw FormatError("'" + path_ + "': zlib could not restart inflating");
                g.member_ended = false;
            }
            const std::size_t want = std::min<std::size_t>(n - got, 1u << 30);
            g.zs.next_out = reinterpret_cast<Bytef*>(p + got);
            g.zs.avail_out = static_cast<uInt>(want);
            const int r = inflate(&g.zs, Z_NO_FLUSH);
            got += want - g.zs.avail_out;
            if (r == Z_STREAM_END) {
                g.member_ended = true;
            } else if (r != Z_OK && r != Z_BUF_ERROR) {
                throw FormatError("'" + path_ + "': corrupted gzip data (" + std::string(g.zs.msg ? g.zs.msg : "zlib error") + ")");
            }
        }
        return got;
    }
#endif

    std::string path_;
    std::ifstream file_;
    std::string_view mem_;
    std::size_t mem_pos_ = 0;
    bool in_memory_ = false;
    // The inflate state (GzInflate) when the data is gzip; type-erased so
    // the class has one layout with and without LATENT_HAS_ZLIB.
    std::shared_ptr<void> gz_;
};

inline IdxHeader read_idx_header(ByteSource& src) {
    unsigned char m[4];
    const std::size_t got = src.read(m, 4);
    if (got < 4)
        throw FormatError("'" + src.path() + "': truncated IDX header: expected 4 magic bytes, found " + std::to_string(got));
    if (m[0] != 0 || m[1] != 0 || m[3] == 0 || m[3] > 8) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "%02x %02x %02x %02x", m[0], m[1], m[2], m[3]);
        throw FormatError("'" + src.path() + "': not an IDX file: expected magic 00 00 <dtype> <ndims 1..8>, found " + buf);
    }
    IdxHeader h;
    h.dtype = m[2];
    if (h.dtype != 0x08) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "0x%02x", m[2]);
        throw FormatError("'" + src.path() + "': unsupported IDX data type: expected 0x08 (unsigned byte), found " + buf);
    }
    for (int i = 0; i < m[3]; ++i) {
        unsigned char b[4];
        const std::size_t n = src.read(b, 4);
        if (n < 4)
            throw FormatError("'" + src.path() + "': truncated IDX header: expected " + std::to_string(m[3]) +
                              " dimension sizes, found " + std::to_string(i));
        const std::uint32_t d = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
        h.dims.push_back(static_cast<Index>(d));
    }
    return h;
}

// Header plus the first `limit` items (0: all) as raw bytes. Reading all of
// them also checks that nothing follows the data.
struct IdxRaw {
    IdxHeader header;
    Index count = 0;  // items read
    std::vector<std::uint8_t> bytes;
};

inline IdxRaw read_idx_raw(ByteSource& src, Index limit) {
    if (limit < 0) throw ConfigError("read_idx: expected limit >= 0, found " + std::to_string(limit));
    const std::string& path = src.path();
    IdxRaw r;
    r.header = read_idx_header(src);
    const Index total = r.header.count();
    r.count = (limit > 0 && limit < total) ? limit : total;
    double declared = 1, item = 1;  // in double: corrupted dims must not overflow
    for (std::size_t i = 0; i < r.header.dims.size(); ++i) {
        declared *= static_cast<double>(r.header.dims[i]);
        if (i > 0) item *= static_cast<double>(r.header.dims[i]);
    }
    if (declared > 0x1p40 || item > 0x1p31)
        throw FormatError("'" + path + "': implausible IDX dimensions (" + std::to_string(r.header.dims.size()) +
                          " dims, over 2^40 bytes of data or 2^31 bytes per item declared); corrupted header?");
    const std::size_t want = static_cast<std::size_t>(r.count) * static_cast<std::size_t>(r.header.item_size());
    // A plain file shorter than declared fails before a large allocation.
    const long long left = src.remaining();
    std::size_t got = 0;
    if (left >= 0 && static_cast<unsigned long long>(left) < want) {
        got = static_cast<std::size_t>(left);
    } else {
        // gzip: grow in doubling chunks (64 KB up to 64 MB), so a corrupted
        // size costs memory in proportion to the data actually there
        std::size_t chunk = left >= 0 ? want : std::size_t{1} << 16;
        while (got < want) {
            const std::size_t n = std::min(chunk, want - got);
            r.bytes.resize(got + n);
            const std::size_t k = src.read(r.bytes.data() + got, n);
            got += k;
            if (k < n) break;
            chunk = std::min(chunk * 2, std::max(chunk, std::size_t{1} << 26));
        }
        r.bytes.resize(got);
    }
    if (got < want) {
        const std::string each = std::to_string(r.header.item_size()) + " bytes each";
        if (r.count == total)
            throw FormatError("'" + path + "': truncated IDX data: expected " + std::to_string(want) + " bytes after the header (" +
                              std::to_string(total) + " items of " + each + "), found " + std::to_string(got));
        throw FormatError("'" + path + "': truncated IDX data: expected " + std::to_string(want) + " bytes for the first " +
                          std::to_string(r.count) + " of " + std::to_string(total) + " items (" + each + "), found " +
                          std::to_string(got));
    }
    if (r.count == total) {
        unsigned char extra;
        if (src.read(&extra, 1) != 0)
            throw FormatError("'" + path + "': expected " + std::to_string(want) +
                              " bytes of IDX data after the header, found more (trailing bytes; wrong header?)");
    }
    return r;
}

}  // namespace detail

// Header of an IDX file (dims and type), without reading the data.
inline IdxHeader read_idx_header(const std::string& path) {
    detail::ByteSource src(path);
    return detail::read_idx_header(src);
}
// The same from the bytes of an IDX file in memory (plain or gzip);
// `name` stands for them in messages.
inline IdxHeader parse_idx_header(std::string_view bytes, const std::string& name = "IDX data") {
    detail::ByteSource src(bytes, name);
    return detail::read_idx_header(src);
}

namespace detail {

template <class S>
Matrix<S> idx_images(ByteSource& src, Index limit, bool scale) {
    IdxRaw raw = read_idx_raw(src, limit);
    if (raw.header.dims.size() < 2)
        throw FormatError("'" + src.path() + "': expected an IDX image file (2 or more dimensions), found " +
                          std::to_string(raw.header.dims.size()) + " dimension(s); is this a label file?");
    const Index features = raw.header.item_size();
    Matrix<S> x(features, raw.count);
    const S k = scale ? S(1) / S(255) : S(1);
    S* out = x.data();
    for (std::size_t i = 0; i < raw.bytes.size(); ++i) out[i] = static_cast<S>(raw.bytes[i]) * k;
    return x;
}

inline std::vector<int> idx_labels(ByteSource& src, Index limit) {
    IdxRaw raw = read_idx_raw(src, limit);
    if (raw.header.dims.size() != 1)
        throw FormatError("'" + src.path() + "': expected an IDX label file (1 dimension), found " +
                          std::to_string(raw.header.dims.size()) + " dimensions; is this an image file?");
    return std::vector<int>(raw.bytes.begin(), raw.bytes.end());
}

}  // namespace detail

// Images: features x N, column j = image j (first `limit` images; 0 = all).
// scale: divide by 255 so pixels lie in [0, 1]; otherwise raw 0..255.
template <class S>
Matrix<S> read_idx_images(const std::string& path, Index limit = 0, bool scale = true) {
    detail::ByteSource src(path);
    return detail::idx_images<S>(src, limit, scale);
}
template <class S>
Matrix<S> parse_idx_images(std::string_view bytes, Index limit = 0, bool scale = true, const std::string& name = "IDX data") {
    detail::ByteSource src(bytes, name);
    return detail::idx_images<S>(src, limit, scale);
}

// Labels: the first `limit` entries (0 = all) of a 1-dimensional IDX file.
inline std::vector<int> read_idx_labels(const std::string& path, Index limit = 0) {
    detail::ByteSource src(path);
    return detail::idx_labels(src, limit);
}
inline std::vector<int> parse_idx_labels(std::string_view bytes, Index limit = 0, const std::string& name = "IDX data") {
    detail::ByteSource src(bytes, name);
    return detail::idx_labels(src, limit);
}

// One sample's shape from an image file's header: {1, H, W} for N x H x W,
// {C, H, W} for N x H x W x C is not used by the MNIST family and is refused.
inline Shape idx_image_shape(const IdxHeader& h, const std::string& path = "IDX file") {
    if (h.dims.size() == 2) return Shape{h.dims[1]};
    if (h.dims.size() == 3) return Shape{1, h.dims[1], h.dims[2]};
    throw FormatError("'" + path + "': expected image dims N x H x W or N x F, found " + std::to_string(h.dims.size()) +
                      " dimensions");
}

// An IDX file `base` in `dir`, plain or .gz (also accepting the "name.idx3-ubyte"
// spelling of the original MNIST files). Returns "" when none exists.
inline std::string find_idx_file(const std::string& dir, const std::string& base) {
    std::vector<std::string> names = {base};
    const auto dash = base.find("-idx");
    if (dash != std::string::npos) names.push_back(std::string(base).replace(dash, 1, "."));
    for (const auto& n : names)
        for (const char* ext : {"", ".gz"}) {
            const std::string p = dir + "/" + n + ext;
            if (detail::file_exists(p)) return p;
        }
    return {};
}

// True when the four Fashion-MNIST (or MNIST) IDX files are in dir.
inline bool fashion_mnist_available(const std::string& dir) {
    for (const char* b : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"})
        if (find_idx_file(dir, b).empty()) return false;
    return true;
}

// The train (60000) or test (10000) split of Fashion-MNIST (or MNIST) from
// dir: x is 784 x N in [0, 1], shape {1, 28, 28}. limit: first N (0 = all).
template <class S>
ImageSet<S> load_fashion_mnist(const std::string& dir, Split split = Split::train, Index limit = 0) {
    const std::string prefix = split == Split::train ? "train" : "t10k";
    const std::string img_base = prefix + "-images-idx3-ubyte", lab_base = prefix + "-labels-idx1-ubyte";
    const std::string img = find_idx_file(dir, img_base), lab = find_idx_file(dir, lab_base);
    if (img.empty() || lab.empty())
        throw FormatError("load_fashion_mnist: expected " + (img.empty() ? img_base : lab_base) + "[.gz] in '" + dir +
                          "', found none (Debian: apt-get install dataset-fashion-mnist)");
    const IdxHeader hi = read_idx_header(img), hl = read_idx_header(lab);
    if (hi.count() != hl.count())
        throw FormatError("load_fashion_mnist: image and label counts differ: '" + img + "' holds " + std::to_string(hi.count()) +
                          " images, '" + lab + "' holds " + std::to_string(hl.count()) + " labels");
    ImageSet<S> out;
    out.shape = idx_image_shape(hi, img);
    out.x = read_idx_images<S>(img, limit);
    out.labels = read_idx_labels(lab, limit);
    return out;
}

LATENT_NAMESPACE_END
