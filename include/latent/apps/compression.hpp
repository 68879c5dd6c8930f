// 8-bit code quantization and a small file format to store the codes.
//
//   latent::CodeQuantizer<float> q;
//   q.fit(ae.encode(x_train));                 // per-dimension range [lo_k, hi_k]
//   auto bytes = q.quantize(ae.encode(x));     // code_dim bytes per sample
//   Matrix<float> z = q.dequantize(bytes);     // back to codes -> ae.decode(z)
//   latent::save_codes("codes.ltq", q, bytes);
//
// Per dimension k: step_k = (hi_k - lo_k) / 255,
//   byte = round((z - lo_k) / step_k) clamped to [0, 255],  z' = lo_k + byte * step_k,
// so |z - z'| <= step_k / 2 for z in [lo_k, hi_k] (values outside are clamped).
//
// File layout (little-endian): "LTQC" u32 version=1, u32 dim, u64 count,
// dim x f32 lo, dim x f32 hi, dim*count bytes (sample-major: sample j's code
// is bytes [j*dim, (j+1)*dim)), u64 FNV-1a checksum of everything before it.
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "latent/core/tensor.hpp"
#include "latent/core/binary.hpp"

LATENT_NAMESPACE_BEGIN

// Quantized codes: dim bytes per sample, sample-major.
struct QuantizedCodes {
    Index dim = 0;
    Index count = 0;
    std::vector<std::uint8_t> bytes;
    Index bytes_per_sample() const { return dim; }
};

template <class S>
class CodeQuantizer {
public:
    using Mat = Matrix<S>;

    CodeQuantizer() = default;
    CodeQuantizer(Vector<S> lo, Vector<S> hi) { set_range(std::move(lo), std::move(hi)); }

    // Range per dimension from calibration codes (dim x N): min and max of each row.
    void fit(const Mat& codes) {
        if (codes.size() == 0) throw DataError("CodeQuantizer::fit: expected codes, found a " + detail::shape_of(codes) + " matrix");
        detail::check_finite(codes, "CodeQuantizer::fit");
        set_range(codes.rowwise().minCoeff(), codes.rowwise().maxCoeff());
    }

    void set_range(Vector<S> lo, Vector<S> hi) {
        if (lo.size() == 0 || lo.size() != hi.size())
            throw ShapeError("CodeQuantizer: expected lo and hi of one non-zero length, found " + std::to_string(lo.size()) + " and " +
                             std::to_string(hi.size()));
        for (Index k = 0; k < lo.size(); ++k) {
            if (!std::isfinite(static_cast<double>(lo(k))) || !std::isfinite(static_cast<double>(hi(k))) || hi(k) < lo(k))
                throw DataError("CodeQuantizer: expected finite lo <= hi, found [" + std::to_string(static_cast<double>(lo(k))) + ", " +
                                std::to_string(static_cast<double>(hi(k))) + "] in dimension " + std::to_string(k));
        }
        lo_ = std::move(lo);
        hi_ = std::move(hi);
    }

    bool fitted() const { return lo_.size() > 0; }
    Index dim() const { return lo_.size(); }
    const Vector<S>& lo() const { return lo_; }
    const Vector<S>& hi() const { return hi_; }
    // Largest possible error for an in-range value in dimension k: step_k / 2.
    S max_error(Index k) const { return step(k) / S(2); }

    QuantizedCodes quantize(const Mat& codes) const {
        require_fitted("CodeQuantizer::quantize");
        if (codes.rows() != dim())
            throw ShapeError("CodeQuantizer::quantize: expected codes with " + std::to_string(dim()) + " rows, found " +
                             std::to_string(codes.rows()));
        detail::check_finite(codes, "CodeQuantizer::quantize");
        QuantizedCodes q;
        q.dim = dim();
        q.count = codes.cols();
        q.bytes.resize(static_cast<std::size_t>(q.dim * q.count));
        for (Index j = 0; j < codes.cols(); ++j)
            for (Index k = 0; k < dim(); ++k) {
                const S s = step(k);
                const double v = s > S(0) ? std::round(static_cast<double>((codes(k, j) - lo_(k)) / s)) : 0.0;
                q.bytes[static_cast<std::size_t>(j * q.dim + k)] = static_cast<std::uint8_t>(std::min(255.0, std::max(0.0, v)));
            }
        return q;
    }

    Mat dequantize(const QuantizedCodes& q) const {
        require_fitted("CodeQuantizer::dequantize");
        if (q.dim != dim()) throw ShapeError("CodeQuantizer::dequantize: expected codes of dimension " + std::to_string(dim()) +
                                             ", found " + std::to_string(q.dim));
        if (static_cast<Index>(q.bytes.size()) != q.dim * q.count)
            throw FormatError("CodeQuantizer::dequantize: expected " + std::to_string(q.dim * q.count) + " bytes, found " +
                              std::to_string(q.bytes.size()));
        Mat z(dim(), q.count);
        for (Index j = 0; j < q.count; ++j)
            for (Index k = 0; k < dim(); ++k)
                z(k, j) = lo_(k) + static_cast<S>(q.bytes[static_cast<std::size_t>(j * q.dim + k)]) * step(k);
        return z;
    }

private:
    S step(Index k) const { return (hi_(k) - lo_(k)) / S(255); }
    void require_fitted(const char* what) const {
        if (!fitted()) throw Error(std::string(what) + ": no range yet; call fit(calibration_codes) or set_range first");
    }
    Vector<S> lo_, hi_;
};

// Serialized size of save_codes' file for `count` samples of `dim` bytes.
inline std::size_t code_file_size(Index dim, Index count) {
    return 4 + 4 + 4 + 8 + 8 * static_cast<std::size_t>(dim) + static_cast<std::size_t>(dim * count) + 8;
}

template <class S>
std::string encode_code_file(const CodeQuantizer<S>& q, const QuantizedCodes& codes) {
    if (!q.fitted()) throw Error("encode_code_file: the quantizer has no range");
    if (codes.dim != q.dim() || static_cast<Index>(codes.bytes.size()) != codes.dim * codes.count)
        throw ShapeError("encode_code_file: expected codes of dimension " + std::to_string(q.dim()) + " with dim*count bytes, found dimension " +
                         std::to_string(codes.dim) + " and " + std::to_string(codes.bytes.size()) + " bytes");
    detail::ByteWriter w;
    w.raw("LTQC", 4);
    w.u32(1);
    w.u32(static_cast<std::uint32_t>(codes.dim));
    w.u64(static_cast<std::uint64_t>(codes.count));
    for (Index k = 0; k < q.dim(); ++k) w.scalar(static_cast<float>(q.lo()(k)));
    for (Index k = 0; k < q.dim(); ++k) w.scalar(static_cast<float>(q.hi()(k)));
    w.raw(reinterpret_cast<const char*>(codes.bytes.data()), codes.bytes.size());
    w.u64(detail::fnv1a(w.buffer().data(), w.size()));
    return w.buffer();
}

// Writes the quantizer's range and the codes (atomically).
template <class S>
void save_codes(const std::string& path, const CodeQuantizer<S>& q, const QuantizedCodes& codes) {
    detail::write_file_atomic(path, encode_code_file(q, codes));
}

// Reads a file written by save_codes; FormatError on a wrong magic, version,
// truncation or checksum.
template <class S>
QuantizedCodes decode_code_file(const std::string& data, CodeQuantizer<S>& q, const std::string& what = "code file") {
    detail::ByteReader r(data, what);
    r.need(4);
    if (data.compare(0, 4, "LTQC") != 0) throw FormatError(what + ": expected magic 'LTQC', found another file type");
    r.u32();  // magic, already checked
    const std::uint32_t version = r.u32();
    if (version != 1) throw FormatError(what + ": expected version 1, found " + std::to_string(version));
    const Index dim = static_cast<Index>(r.u32());
    const auto count = static_cast<Index>(r.u64());
    if (dim <= 0) throw FormatError(what + ": expected a code dimension > 0, found " + std::to_string(dim));
    if (data.size() != code_file_size(dim, count))
        throw FormatError(what + ": expected " + std::to_string(code_file_size(dim, count)) + " bytes for " + std::to_string(count) +
                          " codes of dimension " + std::to_string(dim) + ", found " + std::to_string(data.size()));
    const std::uint64_t expect = detail::fnv1a(data.data(), data.size() - 8);
    Vector<S> lo(dim), hi(dim);
    for (Index k = 0; k < dim; ++k) lo(k) = static_cast<S>(r.scalar<float>());
    for (Index k = 0; k < dim; ++k) hi(k) = static_cast<S>(r.scalar<float>());
    QuantizedCodes codes;
    codes.dim = dim;
    codes.count = count;
    codes.bytes.resize(static_cast<std::size_t>(dim * count));
    for (auto& b : codes.bytes) b = r.u8();
    if (r.u64() != expect) throw FormatError(what + ": checksum mismatch (the file is corrupted)");
    q.set_range(std::move(lo), std::move(hi));
    return codes;
}

template <class S>
QuantizedCodes load_codes(const std::string& path, CodeQuantizer<S>& q) {
    return decode_code_file(detail::read_file_bytes(path), q, path);
}

LATENT_NAMESPACE_END
