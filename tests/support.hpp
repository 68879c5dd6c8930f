// Helpers shared by latent's own tests (not part of the library).
#pragma once

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>

#include "catch.hpp"

#include <latent/testing/gradient_check.hpp>

namespace latent_test {

using MatD = latent::Matrix<double>;
using VecD = latent::Vector<double>;

// The bound every gradient check in latent's tests uses (LESSONS.md).
constexpr double grad_bound = 1e-6;

// Random matrix with entries in [lo, hi) but at least `gap` away from every
// point in `kinks` (ReLU's 0, ...), so central differences never cross one.
inline MatD random_away_from(latent::Index rows, latent::Index cols, latent::Rng& rng, double lo, double hi,
                             double gap = 0.0, double kink = 0.0) {
    MatD m(rows, cols);
    for (latent::Index j = 0; j < cols; ++j)
        for (latent::Index i = 0; i < rows; ++i) {
            double v;
            do v = rng.uniform(lo, hi);
            while (std::abs(v - kink) < gap);
            m(i, j) = v;
        }
    return m;
}

// A fresh scratch directory (created, never shared), removed with everything
// in it at the end of the test. `tag` starts its name.
struct TempDir {
    std::filesystem::path path;
    explicit TempDir(const std::string& tag = "latent_test") {
        namespace fs = std::filesystem;
        latent::Rng rng(static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(this)) ^
                        static_cast<std::uint64_t>(std::hash<std::string>{}(fs::current_path().string())) ^
                        static_cast<std::uint64_t>(std::random_device{}()));
        for (;;) {
            path = fs::temp_directory_path() / (tag + "_" + std::to_string(rng.next() % 1000000000ULL));
            if (fs::create_directory(path)) break;
        }
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string file(const std::string& name) const { return (path / name).string(); }
};

inline void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The bytes of a version-1 .npy file (header padded to 64 bytes) holding `data`.
inline std::string npy_file(const std::string& descr, const std::string& shape, const std::string& data, bool fortran = false) {
    std::string header = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + ", }";
    while ((10 + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    std::string s = "\x93NUMPY";
    s += '\x01';
    s += '\x00';
    s += static_cast<char>(header.size() & 0xff);
    s += static_cast<char>(header.size() >> 8);
    return s + header + data;
}

// Contains: true when `text` includes `part` (for error messages).
inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// f(batch_size) must throw ConfigError naming the batch size.
template <class F>
void check_bad_batch_sizes(F&& f) {
    for (latent::Index b : {latent::Index(0), latent::Index(-3)}) {
        try {
            f(b);
            FAIL("batch size " << b << " was accepted");
        } catch (const latent::ConfigError& e) {
            INFO(e.what());
            CHECK(latent_test::contains(e.what(), "batch_size > 0, found " + std::to_string(b)));
        }
    }
}

}  // namespace latent_test

// Runs a gradient report through Catch with its details on failure.
#define LATENT_CHECK_GRADIENT(report)                   \
    do {                                                \
        const auto& rep_ = (report);                    \
        INFO(rep_.str());                               \
        CHECK(rep_.checked > 0);                        \
        CHECK(rep_.ok(latent_test::grad_bound));        \
    } while (0)

// Checks that `expr` throws exactly `Type` (or a subclass) with a message containing each of the parts.
#define LATENT_CHECK_THROWS_WITH_ALL(expr, Type, ...)                                      \
    do {                                                                                   \
        bool thrown_ = false;                                                              \
        try {                                                                              \
            (void)(expr);                                                                  \
        } catch (const Type& e_) {                                                         \
            thrown_ = true;                                                                \
            const std::string what_ = e_.what();                                           \
            INFO("message: " << what_);                                                    \
            for (const char* part_ : {__VA_ARGS__}) {                                      \
                INFO("expected part: " << part_);                                          \
                CHECK(latent_test::contains(what_, part_));                                \
            }                                                                              \
        }                                                                                  \
        INFO("expected " #Type " from " #expr);                                            \
        CHECK(thrown_);                                                                    \
    } while (0)
