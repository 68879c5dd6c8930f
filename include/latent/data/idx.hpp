// IDX reader for the MNIST family (MNIST, Fashion-MNIST, KMNIST, EMNIST).
//
// File layout (big-endian):  0x00 0x00 <dtype> <ndims>, ndims x u32 sizes, data.
// Only dtype 0x08 (unsigned byte) is used by these data sets and supported here.
// Images (ndims 3: N x H x W, row-major) become a features x N matrix whose
// column j is image j with index y*W + x (channel-major with c = 1), values
// scaled to [0, 1] by default. Labels (ndims 1) become std::vector<int>.
//
// Files ending in .gz (or starting with the gzip magic 1f 8b) are read through
// zlib when the build defines LATENT_HAS_ZLIB (the CMake option LATENT_WITH_ZLIB
// with zlib found); otherwise they throw FeatureError saying how to fix it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#ifdef LATENT_HAS_ZLIB
#include <zlib.h>
#endif

#include "latent/core/error.hpp"
#include "latent/core/tensor.hpp"
#include "latent/data/image_set.hpp"

namespace latent {

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
    Index item_size() const {     // product of dims[1..]
        Index n = 1;
        for (std::size_t i = 1; i < dims.size(); ++i) n *= dims[i];
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

inline bool looks_gzipped(const std::string& path) {
    if (ends_with(path, ".gz")) return true;
    std::ifstream f(path, std::ios::binary);
    unsigned char m[2] = {0, 0};
    f.read(reinterpret_cast<char*>(m), 2);
    return f.gcount() == 2 && m[0] == 0x1f && m[1] == 0x8b;
}

// A sequential byte source over a plain or gzip-compressed file.
class ByteSource {
public:
    explicit ByteSource(const std::string& path) : path_(path) {
        if (!file_exists(path)) throw FormatError("cannot open '" + path + "': expected a readable file, found none");
        if (looks_gzipped(path)) {
#ifdef LATENT_HAS_ZLIB
            gz_ = gzopen(path.c_str(), "rb");
            if (!gz_) throw FormatError("cannot open '" + path + "' through zlib");
            gzbuffer(gz_, 1 << 17);
#else
            throw FeatureError("'" + path +
                               "' is gzip-compressed, but this build of latent has no zlib support "
                               "(LATENT_HAS_ZLIB is not defined). Either decompress it (gunzip -k '" +
                               path + "') or build with zlib (install zlib1g-dev and configure with -DLATENT_WITH_ZLIB=ON)");
#endif
        } else {
            file_.open(path, std::ios::binary);
            if (!file_) throw FormatError("cannot open '" + path + "' for reading");
        }
    }
    ~ByteSource() {
#ifdef LATENT_HAS_ZLIB
        if (gz_) gzclose(gz_);
#endif
    }
    ByteSource(const ByteSource&) = delete;
    ByteSource& operator=(const ByteSource&) = delete;

    // Reads up to n bytes into dst; returns how many were read (< n only at end of data).
    std::size_t read(void* dst, std::size_t n) {
        auto* p = static_cast<char*>(dst);
        std::size_t got = 0;
#ifdef LATENT_HAS_ZLIB
        if (gz_) {
            while (got < n) {
                const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(n - got, 1u << 30));
                const int r = gzread(gz_, p + got, chunk);
                if (r < 0) {
                    int code = 0;
                    const char* msg = gzerror(gz_, &code);
                    throw FormatError("'" + path_ + "': corrupted gzip data (" + std::string(msg ? msg : "zlib error") + ")");
                }
                if (r == 0) {
                    // A gzip stream cut short reads as end of data; zlib reports it as Z_BUF_ERROR.
                    int code = 0;
                    const char* msg = gzerror(gz_, &code);
                    if (code != Z_OK && code != Z_STREAM_END && got < n)
                        throw FormatError("'" + path_ + "': truncated or corrupted gzip data (" +
                                          std::string(msg ? msg : "zlib error") + ")");
                    break;
                }
                got += static_cast<std::size_t>(r);
            }
            return got;
        }
#endif
        file_.read(p, static_cast<std::streamsize>(n));
        got = static_cast<std::size_t>(file_.gcount());
        if (file_.bad()) throw FormatError("error while reading '" + path_ + "'");
        return got;
    }

    const std::string& path() const { return path_; }
    // Bytes left in a plain file; -1 for gzip (unknown without decompressing).
    long long remaining() {
#ifdef LATENT_HAS_ZLIB
        if (gz_) return -1;
#endif
        const auto here = file_.tellg();
        file_.seekg(0, std::ios::end);
        const auto end = file_.tellg();
        file_.seekg(here);
        return static_cast<long long>(end - here);
    }

private:
    std::string path_;
    std::ifstream file_;
#ifdef LATENT_HAS_ZLIB
    gzFile gz_ = nullptr;
#endif
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

inline IdxRaw read_idx_raw(const std::string& path, Index limit) {
    if (limit < 0) throw ConfigError("read_idx: expected limit >= 0, found " + std::to_string(limit));
    ByteSource src(path);
    IdxRaw r;
    r.header = read_idx_header(src);
    const Index total = r.header.count();
    r.count = (limit > 0 && limit < total) ? limit : total;
    double declared = 1;  // in double: corrupted dims must not overflow
    for (Index d : r.header.dims) declared *= static_cast<double>(d);
    if (declared > 0x1p40)
        throw FormatError("'" + path + "': implausible IDX dimensions (" + std::to_string(r.header.dims.size()) +
                          " dims, over 2^40 bytes of data declared); corrupted header?");
    const std::size_t want = static_cast<std::size_t>(r.count) * static_cast<std::size_t>(r.header.item_size());
    // A plain file shorter than declared fails before a large allocation.
    const long long left = src.remaining();
    std::size_t got = 0;
    if (left >= 0 && static_cast<unsigned long long>(left) < want) {
        got = static_cast<std::size_t>(left);
    } else {
        // gzip: grow in chunks, so a corrupted size cannot demand a huge buffer up front
        const std::size_t chunk = left >= 0 ? want : std::size_t{1} << 26;
        while (got < want) {
            const std::size_t n = std::min(chunk, want - got);
            r.bytes.resize(got + n);
            const std::size_t k = src.read(r.bytes.data() + got, n);
            got += k;
            if (k < n) break;
        }
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

// Images: features x N, column j = image j (first `limit` images; 0 = all).
// scale: divide by 255 so pixels lie in [0, 1]; otherwise raw 0..255.
template <class S>
Matrix<S> read_idx_images(const std::string& path, Index limit = 0, bool scale = true) {
    detail::IdxRaw raw = detail::read_idx_raw(path, limit);
    if (raw.header.dims.size() < 2)
        throw FormatError("'" + path + "': expected an IDX image file (2 or more dimensions), found " +
                          std::to_string(raw.header.dims.size()) + " dimension(s); is this a label file?");
    const Index features = raw.header.item_size();
    Matrix<S> x(features, raw.count);
    const S k = scale ? S(1) / S(255) : S(1);
    S* out = x.data();
    for (std::size_t i = 0; i < raw.bytes.size(); ++i) out[i] = static_cast<S>(raw.bytes[i]) * k;
    return x;
}

// Labels: the first `limit` entries (0 = all) of a 1-dimensional IDX file.
inline std::vector<int> read_idx_labels(const std::string& path, Index limit = 0) {
    detail::IdxRaw raw = detail::read_idx_raw(path, limit);
    if (raw.header.dims.size() != 1)
        throw FormatError("'" + path + "': expected an IDX label file (1 dimension), found " +
                          std::to_string(raw.header.dims.size()) + " dimensions; is this an image file?");
    return std::vector<int>(raw.bytes.begin(), raw.bytes.end());
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

}  // namespace latent
