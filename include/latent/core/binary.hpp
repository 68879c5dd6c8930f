// Little-endian byte streams, a checksum, and atomic file writes: the
// plumbing under the model file format.
#pragma once

#include "latent/core/abi.hpp"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <type_traits>

#include "latent/core/error.hpp"

LATENT_NAMESPACE_BEGIN
namespace detail {

// FNV-1a, 64-bit.
inline std::uint64_t fnv1a(const char* data, std::size_t n, std::uint64_t h = 0xcbf29ce484222325ull) {
    for (std::size_t i = 0; i < n; ++i) {
        h ^= static_cast<unsigned char>(data[i]);
        h *= 0x100000001b3ull;
    }
    return h;
}

// The n-byte little-endian unsigned integer at p (n <= 8), and IEEE bits as floats.
inline std::uint64_t load_le(const char* p, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
    return v;
}
inline float float_from_bits(std::uint32_t bits) {
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}
inline double double_from_bits(std::uint64_t bits) {
    double d;
    std::memcpy(&d, &bits, 8);
    return d;
}

class ByteWriter {
public:
    void u8(std::uint8_t v) { buf_.push_back(static_cast<char>(v)); }
    void u32(std::uint32_t v) {
        for (int i = 0; i < 4; ++i) u8(static_cast<std::uint8_t>(v >> (8 * i)));
    }
    void u64(std::uint64_t v) {
        for (int i = 0; i < 8; ++i) u8(static_cast<std::uint8_t>(v >> (8 * i)));
    }
    void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
    void str(const std::string& s) {
        u32(static_cast<std::uint32_t>(s.size()));
        buf_ += s;
    }
    void raw(const char* p, std::size_t n) { buf_.append(p, n); }
    template <class S>
    void scalar(S v) {
        static_assert(std::is_floating_point<S>::value, "scalar");
        if constexpr (sizeof(S) == 4) {
            std::uint32_t bits;
            std::memcpy(&bits, &v, 4);
            u32(bits);
        } else {
            std::uint64_t bits;
            std::memcpy(&bits, &v, 8);
            u64(bits);
        }
    }
    std::string& buffer() { return buf_; }
    std::size_t size() const { return buf_.size(); }

private:
    std::string buf_;
};

class ByteReader {
public:
    ByteReader(const std::string& data, std::string what) : d_(data), what_(std::move(what)) {}

    std::uint8_t u8() {
        need(1);
        return static_cast<std::uint8_t>(d_[pos_++]);
    }
    std::uint32_t u32() {
        need(4);
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(d_[pos_++])) << (8 * i);
        return v;
    }
    std::uint64_t u64() {
        need(8);
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(d_[pos_++])) << (8 * i);
        return v;
    }
    std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
    std::string str() {
        const std::uint32_t n = u32();
        need(n);
        std::string s = d_.substr(pos_, n);
        pos_ += n;
        return s;
    }
    template <class S>
    S scalar() {
        S v;
        if constexpr (sizeof(S) == 4) {
            const std::uint32_t bits = u32();
            std::memcpy(&v, &bits, 4);
        } else {
            const std::uint64_t bits = u64();
            std::memcpy(&v, &bits, 8);
        }
        return v;
    }
    void skip(std::size_t n) {
        need(n);
        pos_ += n;
    }
    std::size_t pos() const { return pos_; }
    std::size_t remaining() const { return d_.size() - pos_; }

    void need(std::size_t n) const {
        if (d_.size() - pos_ < n)
            throw FormatError(what_ + ": truncated: expected " + std::to_string(n) + " more bytes at offset " + std::to_string(pos_) +
                              ", found " + std::to_string(d_.size() - pos_));
    }

private:
    const std::string& d_;
    std::string what_;
    std::size_t pos_ = 0;
};

inline std::string read_file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw FormatError("cannot open '" + path + "' for reading");
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw FormatError("error while reading '" + path + "'");
    return data;
}

// Write to a temporary file beside `path`, then rename over it: a failed
// save never leaves a half-written file behind.
inline void write_file_atomic(const std::string& path, const std::string& bytes) {
    std::random_device rd;
    const std::string tmp = path + ".tmp-" + std::to_string(rd());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw FormatError("cannot open '" + tmp + "' for writing (does the directory exist and is it writable?)");
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        out.flush();
        if (!out) {
            out.close();
            std::remove(tmp.c_str());
            throw FormatError("error while writing '" + tmp + "' (disk full?); '" + path + "' was left untouched");
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw FormatError("cannot rename '" + tmp + "' to '" + path + "'");
    }
}

}  // namespace detail
LATENT_NAMESPACE_END
