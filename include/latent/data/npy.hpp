// NumPy .npy files (format versions 1.0, 2.0 and 3.0), so data, codes and
// scores move between Python and C++.
//
// Orientation. A latent batch is features x batch, one sample per column,
// column-major. A NumPy array (N, D) of N samples in C order holds exactly
// the same bytes as our D x N column-major matrix, so:
//
//   load_npy<S>(path)        (N, D) array -> D x N matrix, column n = row n
//                            (N,)   array -> 1 x N matrix (N samples of one value)
//   save_npy(path, m)        D x N matrix -> (N, D) float32/float64 array, C order
//   save_npy(path, v)        a Vector (N scores) -> (N,) array
//   read_npy(path)           the raw array: dtype, shape, order, bytes; values<S>()
//                            gives the elements in C (row-major) order
//
// Read: dtypes <f4 <f8 |u1 <i4 <i8 (little-endian; big-endian and every
// other dtype throw FormatError saying so), C or Fortran order, 1-D or 2-D.
// The header (magic, version, dict syntax, shape against the file size) is
// checked before anything is allocated.
#pragma once

#include "latent/core/abi.hpp"

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "latent/core/tensor.hpp"
#include "latent/core/binary.hpp"

LATENT_NAMESPACE_BEGIN

enum class NpyDtype { f4, f8, u1, i4, i8 };

inline const char* npy_descr(NpyDtype d) {
    switch (d) {
        case NpyDtype::f4: return "<f4";
        case NpyDtype::f8: return "<f8";
        case NpyDtype::u1: return "|u1";
        case NpyDtype::i4: return "<i4";
        case NpyDtype::i8: return "<i8";
    }
    return "?";
}
inline std::size_t npy_itemsize(NpyDtype d) {
    switch (d) {
        case NpyDtype::u1: return 1;
        case NpyDtype::f4:
        case NpyDtype::i4: return 4;
        case NpyDtype::f8:
        case NpyDtype::i8: return 8;
    }
    return 1;
}

// A .npy array as read: little-endian element bytes in the file's order.
struct NpyArray {
    NpyDtype dtype = NpyDtype::f4;
    std::vector<Index> shape;  // 1 or 2 dimensions
    bool fortran_order = false;
    std::string data;

    Index size() const {
        Index n = 1;
        for (Index d : shape) n *= d;
        return n;
    }
    Index rows() const { return shape.empty() ? 0 : shape[0]; }
    Index cols() const { return shape.size() == 2 ? shape[1] : 1; }

    // Element k in memory order, converted to S.
    template <class S>
    S element(Index k) const {
        const std::uint64_t v = detail::load_le(data.data() + static_cast<std::size_t>(k) * npy_itemsize(dtype), npy_itemsize(dtype));
        switch (dtype) {
            case NpyDtype::f4: return static_cast<S>(detail::float_from_bits(static_cast<std::uint32_t>(v)));
            case NpyDtype::f8: return static_cast<S>(detail::double_from_bits(v));
            case NpyDtype::u1: return static_cast<S>(v);
            case NpyDtype::i4: return static_cast<S>(static_cast<std::int32_t>(v));
            case NpyDtype::i8: return static_cast<S>(static_cast<std::int64_t>(v));
        }
        return S(0);
    }

    // All elements in C (row-major) order, converted to S.
    template <class S>
    std::vector<S> values() const {
        const Index r = rows(), c = cols();
        std::vector<S> out(static_cast<std::size_t>(size()));
        for (Index i = 0; i < r; ++i)
            for (Index j = 0; j < c; ++j) out[static_cast<std::size_t>(i * c + j)] = element<S>(fortran_order ? j * r + i : i * c + j);
        return out;
    }

    // The array as a latent batch: (N, D) -> D x N, (N,) -> 1 x N.
    template <class S>
    Matrix<S> batch() const {
        const Index n = rows(), d = cols();
        Matrix<S> m(d, n);
        for (Index i = 0; i < n; ++i)
            for (Index j = 0; j < d; ++j) m(j, i) = element<S>(fortran_order ? j * n + i : i * d + j);
        return m;
    }
};

// The header of .npy bytes: dtype, order, shape (0 to 16 dimensions) and
// where the data start. The one .npy header reader: parse_npy and the
// memory-mapped NpySource (data/file_source.hpp) both use it.
struct NpyLayout {
    NpyDtype dtype = NpyDtype::f4;
    bool fortran_order = false;
    std::vector<Index> shape;
    std::size_t data_offset = 0;
};

namespace detail {

inline constexpr char npy_magic[] = "\x93NUMPY";
inline constexpr std::size_t npy_max_header = 1u << 20;

// The header dict, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
class NpyHeaderParser {
public:
    NpyHeaderParser(std::string_view text, std::string what) : s_(text), what_(std::move(what)) {}

    // Fills a's dtype, order and shape.
    void parse(NpyLayout& a) {
        bool have_descr = false, have_order = false, have_shape = false;
        skip();
        expect('{');
        for (;;) {
            skip();
            if (peek() == '}') break;
            const std::string key = quoted();
            skip();
            expect(':');
            skip();
            if (key == "descr") {
                dtype(quoted(), a);
                have_descr = true;
            } else if (key == "fortran_order") {
                a.fortran_order = boolean();
                have_order = true;
            } else if (key == "shape") {
                shape(a);
                have_shape = true;
            } else {
                fail("expected the keys 'descr', 'fortran_order' and 'shape', found '" + key + "'");
            }
            skip();
            if (peek() != ',') break;
            ++p_;
        }
        skip();
        expect('}');
        while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\n')) ++p_;
        if (p_ != s_.size()) fail("expected only spaces and a newline after the header dict, found more");
        if (!have_descr || !have_order || !have_shape) fail("expected the keys 'descr', 'fortran_order' and 'shape', some are missing");
    }

private:
    [[noreturn]] void fail(const std::string& msg) const { throw FormatError(what_ + ": invalid .npy header: " + msg); }
    char peek() const { return p_ < s_.size() ? s_[p_] : '\0'; }
    void skip() {
        while (p_ < s_.size() && s_[p_] == ' ') ++p_;
    }
    void expect(char c) {
        if (peek() != c) fail(std::string("expected '") + c + "' at byte " + std::to_string(p_) + " of the header");
        ++p_;
    }
    std::string quoted() {
        const char q = peek();
        if (q != '\'' && q != '"') fail("expected a quoted string at byte " + std::to_string(p_) + " of the header");
        const std::size_t end = s_.find(q, p_ + 1);
        if (end == std::string_view::npos) fail("expected a closing quote");
        std::string out(s_.substr(p_ + 1, end - p_ - 1));
        p_ = end + 1;
        return out;
    }
    bool boolean() {
        if (s_.substr(p_, 4) == "True") {
            p_ += 4;
            return true;
        }
        if (s_.substr(p_, 5) == "False") {
            p_ += 5;
            return false;
        }
        fail("expected True or False for 'fortran_order'");
    }
    void dtype(const std::string& d, NpyLayout& a) {
        for (NpyDtype k : {NpyDtype::f4, NpyDtype::f8, NpyDtype::u1, NpyDtype::i4, NpyDtype::i8})
            if (d == npy_descr(k)) {
                a.dtype = k;
                return;
            }
        if (d == "<u1") {
            a.dtype = NpyDtype::u1;
            return;
        }
        const std::string supported = "expected one of <f4, <f8, |u1, <i4, <i8";
        if (!d.empty() && d[0] == '>') fail(supported + ", found big-endian '" + d + "' (convert with arr.astype('<" + d.substr(1) + "'))");
        fail(supported + ", found '" + d + "' (convert with arr.astype(np.float32))");
    }
    void shape(NpyLayout& a) {
        expect('(');
        skip();
        while (peek() != ')') {
            Index v = 0;
            const auto r = std::from_chars(s_.data() + p_, s_.data() + s_.size(), v);
            if (r.ec != std::errc() || v < 0)
                fail("expected non-negative sizes (integers) in 'shape', found something else at byte " + std::to_string(p_));
            p_ = static_cast<std::size_t>(r.ptr - s_.data());
            if (a.shape.size() == 16) fail("expected at most 16 dimensions in 'shape', found more");
            a.shape.push_back(v);
            skip();
            if (peek() == ',') {
                ++p_;
                skip();
            } else if (peek() != ')') {
                fail("expected ',' or ')' in 'shape'");
            }
        }
        ++p_;
    }

    std::string_view s_;
    std::string what_;
    std::size_t p_ = 0;
};

}  // namespace detail

// Reads the header at the start of .npy bytes p[0, size) (what names the
// source in messages); the data are not read.
inline NpyLayout parse_npy_layout(const char* p, std::size_t size, const std::string& what) {
    if (size < 10 || std::string_view(p, 6) != std::string_view(detail::npy_magic, 6))
        throw FormatError(what + ": not a .npy file (expected the magic \\x93NUMPY, found " +
                          (size < 6 ? std::to_string(size) + " bytes" : "other bytes") + ")");
    const int major = static_cast<unsigned char>(p[6]), minor = static_cast<unsigned char>(p[7]);
    if (!((major == 1 || major == 2 || major == 3) && minor == 0))
        throw FormatError(what + ": expected .npy format version 1.0, 2.0 or 3.0, found " + std::to_string(major) + "." + std::to_string(minor));
    const std::size_t len_bytes = major == 1 ? 2 : 4;
    if (size < 8 + len_bytes) throw FormatError(what + ": truncated .npy header");
    const auto hlen = static_cast<std::size_t>(detail::load_le(p + 8, len_bytes));
    const std::size_t start = 8 + len_bytes;
    if (hlen > detail::npy_max_header)
        throw FormatError(what + ": expected a .npy header of at most " + std::to_string(detail::npy_max_header) + " bytes, found " +
                          std::to_string(hlen));
    if (hlen > size - start)
        throw FormatError(what + ": truncated .npy header: it is " + std::to_string(hlen) + " bytes, but only " + std::to_string(size - start) +
                          " follow");
    const std::string_view header(p + start, hlen);
    if (hlen == 0 || header.back() != '\n') throw FormatError(what + ": invalid .npy header: expected it to end with a newline");
    NpyLayout a;
    detail::NpyHeaderParser(header, what).parse(a);
    a.data_offset = start + hlen;
    return a;
}

// Parses .npy bytes (what names the source in messages).
inline NpyArray parse_npy(std::string bytes, const std::string& what) {
    const NpyLayout l = parse_npy_layout(bytes.data(), bytes.size(), what);
    if (l.shape.empty() || l.shape.size() > 2)
        throw FormatError(what + ": expected a 1-D or 2-D array, found " + std::to_string(l.shape.size()) + " dimensions");
    NpyArray a;
    a.dtype = l.dtype;
    a.fortran_order = l.fortran_order;
    a.shape = l.shape;
    const std::size_t available = bytes.size() - l.data_offset, item = npy_itemsize(a.dtype);
    std::size_t need = item;
    for (Index d : a.shape) {
        const auto u = static_cast<std::size_t>(d);
        if (u != 0 && need > available / u)
            throw FormatError(what + ": shape needs more than the " + std::to_string(available) + " bytes of data the file holds");
        need *= u;
    }
    if (need != available)
        throw FormatError(what + ": expected " + std::to_string(need) + " bytes of data for the shape, found " + std::to_string(available));
    a.data = bytes.substr(l.data_offset);
    return a;
}

inline NpyArray read_npy(const std::string& path) { return parse_npy(detail::read_file_bytes(path), ".npy file '" + path + "'"); }

// (N, D) -> D x N (one sample per column); (N,) -> 1 x N.
template <class S>
Matrix<S> load_npy(const std::string& path) {
    return read_npy(path).batch<S>();
}

namespace detail {

inline std::string npy_bytes(NpyDtype dtype, const std::vector<Index>& shape, const char* data, std::size_t n) {
    std::string dict = std::string("{'descr': '") + npy_descr(dtype) + "', 'fortran_order': False, 'shape': (";
    for (std::size_t i = 0; i < shape.size(); ++i) dict += (i ? ", " : "") + std::to_string(shape[i]);
    dict += shape.size() == 1 ? ",), }" : "), }";
    // magic + version + u16 length + dict + padding + '\n' is a multiple of 64
    const std::size_t total = (10 + dict.size() + 1 + 63) / 64 * 64;
    dict.append(total - 10 - dict.size() - 1, ' ');
    dict += '\n';
    detail::ByteWriter w;
    w.raw(npy_magic, 6);
    w.u8(1);
    w.u8(0);
    w.u8(static_cast<std::uint8_t>(dict.size() & 0xFF));
    w.u8(static_cast<std::uint8_t>(dict.size() >> 8));
    w.raw(dict.data(), dict.size());
    w.raw(data, n);
    return std::move(w.buffer());
}

}  // namespace detail

// A D x N batch -> an (N, D) C-order array; a vector (N) -> (N,). float
// matrices give <f4, double ones <f8. Written atomically.
template <class D>
void save_npy(const std::string& path, const Eigen::MatrixBase<D>& m) {
    using S = typename D::Scalar;
    static_assert(std::is_same<S, float>::value || std::is_same<S, double>::value, "save_npy: expected a float or double matrix");
    const Matrix<S> plain = m;  // column-major, contiguous
    detail::ByteWriter w;
    for (Index i = 0; i < plain.size(); ++i) w.template scalar<S>(plain.data()[i]);
    const NpyDtype dtype = sizeof(S) == 4 ? NpyDtype::f4 : NpyDtype::f8;
    const std::vector<Index> shape = D::ColsAtCompileTime == 1 ? std::vector<Index>{plain.rows()} : std::vector<Index>{plain.cols(), plain.rows()};
    detail::write_file_atomic(path, detail::npy_bytes(dtype, shape, w.buffer().data(), w.size()));
}

LATENT_NAMESPACE_END
