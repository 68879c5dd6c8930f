// Helpers shared by the example programs (not part of the library): common
// flags, data loading with a synthetic fallback, aligned result tables, JSON
// metrics, and PNG output (image grids, line and scatter plots).
//
// Each example is a single .cpp, so this header also compiles the stb PNG
// writer (static functions: a program made of several .cpp files that each
// include this header still links). Define LATENT_EX_NO_STB_IMPL before
// including it to provide stb's implementation yourself.
#pragma once

#include <CLI/CLI.hpp>

#ifndef LATENT_EX_NO_STB_IMPL
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#endif
#include <stb_image_write.h>

#include <latent/latent.hpp>
#include <latent/data/idx.hpp>
#include <latent/data/synthetic.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace ex {

// ---------------------------------------------------------------- flags

struct CommonFlags {
    std::string data = "/usr/share/datasets/fashion-mnist";
    long epochs = 10;
    latent::Index batch = 128;
    std::uint64_t seed = 42;
    int threads = 1;
    std::string json;         // --json PATH: write metrics (empty: don't)
    std::string out = "out";  // --out DIR: PNGs go here (created if missing)
    latent::Index train_limit = 0, test_limit = 0;  // use the first N (0: all)
};

// Registers --data --epochs --batch --seed --threads --json --out --train-limit --test-limit.
inline void add_common_flags(CLI::App& app, CommonFlags& f, long default_epochs, latent::Index default_batch) {
    f.epochs = default_epochs;
    f.batch = default_batch;
    app.add_option("--data", f.data, "Fashion-MNIST directory (IDX files, plain or .gz); synthetic shapes if absent")
        ->capture_default_str();
    app.add_option("--epochs", f.epochs, "Training epochs")->capture_default_str()->check(CLI::NonNegativeNumber);
    app.add_option("--batch", f.batch, "Mini-batch size")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--seed", f.seed, "Random seed (init, shuffling, noise)")->capture_default_str();
    app.add_option("--threads", f.threads, "Threads for matrix products (needs OpenMP for > 1)")
        ->capture_default_str()
        ->check(CLI::Range(1, 1024));
    app.add_option("--json", f.json, "Write the metrics as JSON to this file");
    app.add_option("--out", f.out, "Directory for PNG output (created if missing)")->capture_default_str();
    app.add_option("--train-limit", f.train_limit, "Use only the first N training images (0: all)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_option("--test-limit", f.test_limit, "Use only the first N test images (0: all)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
}

inline void apply_threads(const CommonFlags& f) {
    if (f.threads > 1 && !latent::has_openmp()) {
        std::cerr << "note: --threads " << f.threads
                  << " ignored: this build has no OpenMP (configure with -DLATENT_WITH_OPENMP=ON); using 1 thread\n";
        latent::set_num_threads(1);
        return;
    }
    latent::set_num_threads(f.threads);
}

// Wall-clock seconds since construction.
class Timer {
public:
    Timer() : start_(std::chrono::steady_clock::now()) {}
    double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }
    void reset() { start_ = std::chrono::steady_clock::now(); }

private:
    std::chrono::steady_clock::time_point start_;
};

// Runs body() and turns a latent::Error (or any std::exception) into a
// one-line message on stderr and exit code 1:  int main(...) { ... return ex::run([&] { ...; return 0; }); }
template <class F>
int run(F&& body) {
    try {
        return body();
    } catch (const latent::Error& e) {
        std::cerr << "error: " << e.what() << "\n";
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
    }
    return 1;
}

// ---------------------------------------------------------------- data

struct ImageData {
    latent::Matrix<float> train_x, test_x;  // features x N, pixels in [0,1]
    std::vector<int> train_y, test_y;
    latent::Shape shape;                    // {1,28,28}
    int classes = 10;
    bool real = false;                      // Fashion-MNIST was found
    std::string source;
    std::vector<std::string> class_names;
};

// Synthetic sizes used when Fashion-MNIST is absent and no limit is given.
inline constexpr latent::Index synthetic_train_default = 12000;
inline constexpr latent::Index synthetic_test_default = 2000;

// Fashion-MNIST from f.data, else the synthetic shapes with a notice on stderr.
// Found but gzip-compressed in a build without zlib also falls back, with the reason.
inline ImageData load_image_data(const CommonFlags& f) {
    ImageData d;
    d.classes = 10;
    std::string why = "Fashion-MNIST not found at " + f.data;
    bool found = latent::fashion_mnist_available(f.data);
    if (found && !latent::has_zlib() &&
        latent::detail::looks_gzipped(latent::find_idx_file(f.data, "train-images-idx3-ubyte"))) {
        found = false;
        why = "Fashion-MNIST at " + f.data + " is gzip-compressed and this build has no zlib";
        std::cerr << "note: " << why << " (gunzip -k the files into a directory and pass --data DIR, or build with zlib).\n";
    }
    if (found) {
        auto train = latent::load_fashion_mnist<float>(f.data, latent::Split::train, f.train_limit);
        auto test = latent::load_fashion_mnist<float>(f.data, latent::Split::test, f.test_limit);
        d.train_x = std::move(train.x);
        d.train_y = std::move(train.labels);
        d.test_x = std::move(test.x);
        d.test_y = std::move(test.labels);
        d.shape = train.shape;
        d.real = true;
        d.source = "Fashion-MNIST (" + f.data + ")";
        d.class_names = latent::fashion_mnist_class_names();
    } else {
        if (!latent::fashion_mnist_available(f.data))
            std::cerr << "note: Fashion-MNIST not found at " << f.data
                      << " (Debian: apt-get install dataset-fashion-mnist, or pass --data DIR);\n";
        std::cerr << "      using the built-in synthetic shapes instead (10 classes, 28x28).\n";
        const latent::Index n_train = f.train_limit > 0 ? f.train_limit : synthetic_train_default;
        const latent::Index n_test = f.test_limit > 0 ? f.test_limit : synthetic_test_default;
        latent::Rng rng(f.seed ^ 0x5eedda7aULL);
        auto train = latent::make_shapes<float>(n_train, rng);
        auto test = latent::make_shapes<float>(n_test, rng);
        d.train_x = std::move(train.x);
        d.train_y = std::move(train.labels);
        d.test_x = std::move(test.x);
        d.test_y = std::move(test.labels);
        d.shape = train.shape;
        d.real = false;
        d.source = "synthetic shapes (" + why + ")";
        d.class_names = latent::shape_class_names();
    }
    return d;
}

// Columns idx of m, in that order.
inline latent::Matrix<float> select_columns(const latent::Matrix<float>& m, const std::vector<latent::Index>& idx) {
    latent::Matrix<float> out(m.rows(), static_cast<latent::Index>(idx.size()));
    for (std::size_t j = 0; j < idx.size(); ++j) out.col(static_cast<latent::Index>(j)) = m.col(idx[j]);
    return out;
}

// Indices of the first `per_class` samples of each class 0..classes-1, grouped by class.
inline std::vector<latent::Index> first_per_class(const std::vector<int>& labels, int classes, int per_class) {
    std::vector<std::vector<latent::Index>> by(static_cast<std::size_t>(classes));
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const int c = labels[i];
        if (c >= 0 && c < classes && static_cast<int>(by[static_cast<std::size_t>(c)].size()) < per_class)
            by[static_cast<std::size_t>(c)].push_back(static_cast<latent::Index>(i));
    }
    std::vector<latent::Index> out;
    for (const auto& v : by) out.insert(out.end(), v.begin(), v.end());
    return out;
}

// ---------------------------------------------------------------- models

// A comma list of positive sizes ("2000,500,500") from the flag `flag`.
inline std::vector<latent::Index> parse_sizes(const std::string& text, const std::string& flag) {
    std::vector<latent::Index> out;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ','))
        if (!item.empty()) {
            std::size_t used = 0;
            long v = 0;
            try {
                v = std::stol(item, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used != item.size() || v <= 0)
                throw latent::ConfigError(flag + ": expected a comma list of positive sizes, found '" + text + "'");
            out.push_back(v);
        }
    return out;
}

// The whole chain of a mirrored autoencoder: {784, 256, 32} -> {784, 256, 32, 256, 784}.
inline std::vector<latent::Index> mirrored(const std::vector<latent::Index>& encoder_sizes) {
    std::vector<latent::Index> chain = encoder_sizes;
    chain.insert(chain.end(), encoder_sizes.rbegin() + 1, encoder_sizes.rend());
    return chain;
}

// "784-256-32-256-784"
inline std::string join_sizes(const std::vector<latent::Index>& sizes) {
    std::string out;
    for (std::size_t i = 0; i < sizes.size(); ++i) out += (i ? "-" : "") + std::to_string(sizes[i]);
    return out;
}

// The dense autoencoder the application examples share, trained without
// labels on x: x.rows()-hidden...-code mirrored, ReLU hidden, linear code,
// sigmoid output, MSE, Adam(lr), flags' epochs, batch and seed.
inline latent::Autoencoder<float> train_dense_autoencoder(const latent::Matrix<float>& x, const std::vector<latent::Index>& hidden,
                                                          latent::Index code, const CommonFlags& f, double lr,
                                                          latent::History* history = nullptr) {
    latent::Rng rng(f.seed);
    latent::DenseAutoencoderOptions o;
    o.sizes = {x.rows()};
    o.sizes.insert(o.sizes.end(), hidden.begin(), hidden.end());
    o.sizes.push_back(code);
    o.output = latent::Act::sigmoid;
    auto ae = latent::make_dense_autoencoder<float>(o, rng);
    latent::Adam<float> adam(lr);
    latent::FitOptions<float> fo;
    fo.epochs = f.epochs;
    fo.batch_size = f.batch;
    fo.seed = f.seed;
    latent::History h = latent::fit(ae, adam, x, fo);
    if (history) *history = std::move(h);
    return ae;
}

// ---------------------------------------------------------------- tables

// Compact fixed formatting: 0.01234, 123.4, 1.2e-06, 3.4e+07; NaN -> "nan".
inline std::string num(double v, int precision = 4) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    const double a = std::fabs(v);
    if (a != 0.0 && (a < 1e-3 || a >= 1e7))
        std::snprintf(buf, sizeof buf, "%.*e", std::max(0, precision - 1), v);
    else if (a >= 1000.0)
        std::snprintf(buf, sizeof buf, "%.*f", std::max(0, precision - 3), v);
    else
        std::snprintf(buf, sizeof buf, "%.*f", precision, v);
    return buf;
}

// "data: <source>" and the split sizes, shape and load time, on stdout.
inline void print_data_summary(const ImageData& d, double load_seconds) {
    std::cout << "data: " << d.source << "\n"
              << "      train " << d.train_x.cols() << ", test " << d.test_x.cols() << " images " << d.shape << ", loaded in "
              << num(load_seconds, 2) << " s\n";
}

// Aligned text table; cells that look like numbers are right-aligned.
class Table {
public:
    explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
    void row(std::vector<std::string> cells) {
        cells.resize(std::max(cells.size(), header_.size()));
        rows_.push_back(std::move(cells));
    }
    void print(std::ostream& os = std::cout) const {
        std::vector<std::size_t> w(header_.size(), 0);
        for (std::size_t i = 0; i < header_.size(); ++i) w[i] = header_[i].size();
        for (const auto& r : rows_) {
            if (r.size() > w.size()) w.resize(r.size(), 0);
            for (std::size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], r[i].size());
        }
        // A column whose non-empty cells are all numbers is right-aligned, header included.
        std::vector<bool> numeric(w.size(), true);
        for (std::size_t i = 0; i < w.size(); ++i) {
            bool any = false;
            for (const auto& r : rows_)
                if (i < r.size() && !r[i].empty()) {
                    any = true;
                    if (!looks_numeric(r[i])) numeric[i] = false;
                }
            numeric[i] = numeric[i] && any;
        }
        auto line = [&](const std::vector<std::string>& cells, bool head) {
            for (std::size_t i = 0; i < w.size(); ++i) {
                const std::string c = i < cells.size() ? cells[i] : std::string();
                const std::string pad(w[i] - c.size(), ' ');
                os << (i ? "  " : "");
                if (head ? numeric[i] : looks_numeric(c))
                    os << pad << c;
                else if (i + 1 < w.size())
                    os << c << pad;
                else
                    os << c;
            }
            os << '\n';
        };
        line(header_, true);
        std::size_t total = 0;
        for (std::size_t i = 0; i < w.size(); ++i) total += w[i] + (i ? 2 : 0);
        os << std::string(total, '-') << '\n';
        for (const auto& r : rows_) line(r, false);
        os.flush();
    }

private:
    static bool looks_numeric(const std::string& s) {
        if (s.empty()) return false;
        if (s == "nan" || s == "inf" || s == "-inf") return true;
        char* end = nullptr;
        std::strtod(s.c_str(), &end);
        // allow a unit suffix such as "%" or "x" or " s"
        return end != s.c_str() && (*end == '\0' || std::string(end) == "%" || std::string(end) == "x" || std::string(end) == " s");
    }
    std::vector<std::string> header_;
    std::vector<std::vector<std::string>> rows_;
};

// ---------------------------------------------------------------- json

// An ordered JSON object built by set(key, value); str() pretty-prints it.
// Non-finite numbers are written as null (JSON has no NaN).
class Json {
public:
    Json& set(const std::string& k, double v) { return put(k, number(v)); }
    Json& set(const std::string& k, float v) { return put(k, number(static_cast<double>(v))); }
    Json& set(const std::string& k, int v) { return put(k, std::to_string(v)); }
    Json& set(const std::string& k, long v) { return put(k, std::to_string(v)); }
    Json& set(const std::string& k, long long v) { return put(k, std::to_string(v)); }
    Json& set(const std::string& k, unsigned v) { return put(k, std::to_string(v)); }
    Json& set(const std::string& k, unsigned long v) { return put(k, std::to_string(v)); }
    Json& set(const std::string& k, unsigned long long v) { return put(k, std::to_string(v)); }
    Json& set(const std::string& k, bool v) { return put(k, v ? "true" : "false"); }
    Json& set(const std::string& k, const std::string& v) { return put(k, quote(v)); }
    Json& set(const std::string& k, const char* v) { return put(k, quote(v)); }
    Json& set(const std::string& k, const Json& obj) { return put(k, obj.str_indented(1)); }
    Json& set(const std::string& k, const std::vector<double>& v) {
        std::string s = "[";
        for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + number(v[i]);
        return put(k, s + "]");
    }
    Json& set(const std::string& k, const std::vector<std::string>& v) {
        std::string s = "[";
        for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + quote(v[i]);
        return put(k, s + "]");
    }
    Json& set(const std::string& k, const std::vector<Json>& v) {
        if (v.empty()) return put(k, "[]");
        std::string s = "[\n";
        for (std::size_t i = 0; i < v.size(); ++i)
            s += std::string(4, ' ') + v[i].str_indented(2) + (i + 1 < v.size() ? ",\n" : "\n");
        return put(k, s + "  ]");
    }

    bool empty() const { return items_.empty(); }
    std::string str() const { return str_indented(0); }

    // Escaping and numbers are the library's (io/json.hpp: locale-free, %.10g-like).
    static std::string quote(const std::string& s) { return latent::detail::json_quote(s); }
    static std::string number(double v) { return latent::detail::json_number(v, 10); }

private:
    Json& put(const std::string& k, std::string raw) {
        for (auto& kv : items_)
            if (kv.first == k) {
                kv.second = std::move(raw);
                return *this;
            }
        items_.emplace_back(k, std::move(raw));
        return *this;
    }
    // Values nested inside are already rendered; re-indent their inner lines.
    std::string str_indented(int level) const {
        if (items_.empty()) return "{}";
        const std::string ind(static_cast<std::size_t>(2 * (level + 1)), ' ');
        std::string s = "{\n";
        for (std::size_t i = 0; i < items_.size(); ++i) {
            std::string v = items_[i].second;
            if (level > 0) {  // shift nested multi-line values
                std::string shifted;
                for (char c : v) {
                    shifted += c;
                    if (c == '\n') shifted += std::string(static_cast<std::size_t>(2 * level), ' ');
                }
                v = shifted;
            }
            s += ind + quote(items_[i].first) + ": " + v + (i + 1 < items_.size() ? ",\n" : "\n");
        }
        return s + std::string(static_cast<std::size_t>(2 * level), ' ') + "}";
    }
    std::vector<std::pair<std::string, std::string>> items_;
};

inline void ensure_parent_dir(const std::string& path) {
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
}

// Atomic (temp file + rename); no-op if path is empty.
inline void write_json(const std::string& path, const Json& j) {
    if (path.empty()) return;
    ensure_parent_dir(path);
    latent::detail::write_file_atomic(path, j.str() + "\n");
}

// --npy PATH: the codes or scores an example computes, as a NumPy array
// (one row per sample; latent/data/npy.hpp). Registered by the examples that have some.
inline void add_npy_flag(CLI::App& app, std::string& path, const std::string& what) {
    app.add_option("--npy", path, "Write " + what + " as a .npy array (one row per sample) to this file");
}
// Atomic; no-op if path is empty. m is D x N (N samples) or a vector of N scores.
template <class D>
void write_npy(const std::string& path, const Eigen::MatrixBase<D>& m) {
    if (path.empty()) return;
    ensure_parent_dir(path);
    latent::save_npy(path, m);
}

// Creates f.out if missing; returns f.out + "/" + file.
inline std::string out_path(const CommonFlags& f, const std::string& file) {
    const std::string dir = f.out.empty() ? std::string(".") : f.out;
    std::filesystem::create_directories(dir);
    return dir + "/" + file;
}

// ---------------------------------------------------------------- PNG

inline void write_png_gray(const std::string& path, int w, int h, const std::vector<std::uint8_t>& pixels) {
    if (w <= 0 || h <= 0 || pixels.size() != static_cast<std::size_t>(w) * static_cast<std::size_t>(h))
        throw latent::ConfigError("write_png_gray: expected " + std::to_string(w) + "x" + std::to_string(h) + " pixels, found " +
                                  std::to_string(pixels.size()));
    ensure_parent_dir(path);
    if (!stbi_write_png(path.c_str(), w, h, 1, pixels.data(), w))
        throw latent::FormatError("cannot write PNG '" + path + "'");
}

inline void write_png_rgb(const std::string& path, int w, int h, const std::vector<std::uint8_t>& rgb) {
    if (w <= 0 || h <= 0 || rgb.size() != 3 * static_cast<std::size_t>(w) * static_cast<std::size_t>(h))
        throw latent::ConfigError("write_png_rgb: expected 3x" + std::to_string(w) + "x" + std::to_string(h) + " bytes, found " +
                                  std::to_string(rgb.size()));
    ensure_parent_dir(path);
    if (!stbi_write_png(path.c_str(), w, h, 3, rgb.data(), 3 * w))
        throw latent::FormatError("cannot write PNG '" + path + "'");
}

inline std::uint8_t to_byte(double v) {
    if (!(v > 0.0)) return 0;  // also NaN
    if (v >= 1.0) return 255;
    return static_cast<std::uint8_t>(v * 255.0 + 0.5);
}

// A grid of images: rows[r] holds n images as columns (values in [0,1],
// channel-major shape {1,h,w} or {3,h,w}), drawn as row r of the grid. Cells
// are separated by 2 px of dark grey; `scale` enlarges pixels (nearest).
inline void write_image_grid(const std::string& path, const std::vector<latent::Matrix<float>>& rows, latent::Shape shape,
                             int scale = 2) {
    if (rows.empty()) throw latent::ConfigError("write_image_grid: expected at least one row, found none");
    if (shape.c != 1 && shape.c != 3)
        throw latent::ShapeError("write_image_grid: expected 1 or 3 channels, found shape " + shape.str());
    if (scale < 1) throw latent::ConfigError("write_image_grid: expected scale >= 1, found " + std::to_string(scale));
    const latent::Index n = rows[0].cols();
    for (std::size_t r = 0; r < rows.size(); ++r) {
        if (rows[r].rows() != shape.size())
            throw latent::ShapeError("write_image_grid: row " + std::to_string(r) + ": expected " + std::to_string(shape.size()) +
                                     " features for shape " + shape.str() + ", found " + std::to_string(rows[r].rows()));
        if (rows[r].cols() != n)
            throw latent::ShapeError("write_image_grid: row " + std::to_string(r) + ": expected " + std::to_string(n) +
                                     " images like row 0, found " + std::to_string(rows[r].cols()));
    }
    if (n == 0) throw latent::ConfigError("write_image_grid: expected at least one image per row, found none");
    const int pad = 2;
    const int ch = static_cast<int>(shape.h) * scale, cw = static_cast<int>(shape.w) * scale;
    const int W = static_cast<int>(n) * (cw + pad) + pad, H = static_cast<int>(rows.size()) * (ch + pad) + pad;
    const int C = static_cast<int>(shape.c);
    std::vector<std::uint8_t> px(static_cast<std::size_t>(W) * H * C, 48);
    const latent::Index plane = shape.h * shape.w;
    for (std::size_t r = 0; r < rows.size(); ++r)
        for (latent::Index j = 0; j < n; ++j) {
            const int x0 = pad + static_cast<int>(j) * (cw + pad), y0 = pad + static_cast<int>(r) * (ch + pad);
            for (int y = 0; y < ch; ++y)
                for (int x = 0; x < cw; ++x) {
                    const latent::Index src = (y / scale) * shape.w + (x / scale);
                    for (int c = 0; c < C; ++c)
                        px[(static_cast<std::size_t>(y0 + y) * W + (x0 + x)) * C + c] =
                            to_byte(rows[r](c * plane + src, j));
                }
        }
    if (C == 1)
        write_png_gray(path, W, H, px);
    else
        write_png_rgb(path, W, H, px);
}

using Rgb = std::array<std::uint8_t, 3>;

// 10 distinct colours (tab10-like); i wraps around.
inline Rgb palette(int i) {
    static const Rgb colours[10] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},  {148, 103, 189},
                                    {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
    const int k = ((i % 10) + 10) % 10;
    return colours[k];
}

// An RGB raster with simple drawing primitives (used by Plot and Figure).
class Canvas {
public:
    Canvas(int w, int h, Rgb bg = {255, 255, 255}) : w_(w), h_(h), px_(static_cast<std::size_t>(w) * h * 3) {
        if (w <= 0 || h <= 0)
            throw latent::ConfigError("Canvas: expected a positive size, found " + std::to_string(w) + "x" + std::to_string(h));
        for (std::size_t i = 0; i < px_.size(); i += 3) {
            px_[i] = bg[0];
            px_[i + 1] = bg[1];
            px_[i + 2] = bg[2];
        }
    }
    int width() const { return w_; }
    int height() const { return h_; }
    void set(int x, int y, Rgb c) {
        if (x < 0 || y < 0 || x >= w_ || y >= h_) return;
        std::uint8_t* p = &px_[(static_cast<std::size_t>(y) * w_ + x) * 3];
        p[0] = c[0];
        p[1] = c[1];
        p[2] = c[2];
    }
    void disk(double cx, double cy, double r, Rgb c) {
        const int x0 = static_cast<int>(std::floor(cx - r)), x1 = static_cast<int>(std::ceil(cx + r));
        const int y0 = static_cast<int>(std::floor(cy - r)), y1 = static_cast<int>(std::ceil(cy + r));
        for (int y = y0; y <= y1; ++y)
            for (int x = x0; x <= x1; ++x)
                if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r + 0.25) set(x, y, c);
    }
    void rect(int x0, int y0, int x1, int y1, Rgb c) {  // filled, inclusive
        for (int y = std::max(0, y0); y <= std::min(h_ - 1, y1); ++y)
            for (int x = std::max(0, x0); x <= std::min(w_ - 1, x1); ++x) set(x, y, c);
    }
    void segment(double xa, double ya, double xb, double yb, Rgb c, int thickness = 1) {
        const double len = std::max(std::fabs(xb - xa), std::fabs(yb - ya));
        const int steps = std::max(1, static_cast<int>(std::ceil(len)));
        for (int i = 0; i <= steps; ++i) {
            const double t = static_cast<double>(i) / steps;
            const double x = xa + t * (xb - xa), y = ya + t * (yb - ya);
            if (thickness <= 1)
                set(static_cast<int>(std::lround(x)), static_cast<int>(std::lround(y)), c);
            else
                disk(x, y, thickness / 2.0, c);
        }
    }
    // 5x7 bitmap text (digits, letters shown upper-case, . , - + : = % ( ) / _ and lower-case e, x),
    // top-left at (x, y); each character advances 6*scale pixels.
    void text(int x, int y, const std::string& s, Rgb c, int scale = 1) {
        auto digit = [&](std::size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; };
        for (std::size_t k = 0; k < s.size(); ++k) {
            // lower-case e and x keep their own glyphs only inside numbers (1.5e-3, 32x32)
            char ch = s[k];
            const bool after_digit = k > 0 && (digit(k - 1) || s[k - 1] == '.');
            const bool in_number = (ch == 'e' && after_digit && (digit(k + 1) || (k + 1 < s.size() && (s[k + 1] == '-' || s[k + 1] == '+')))) ||
                                   (ch == 'x' && after_digit);
            if (ch >= 'a' && ch <= 'z' && !in_number) ch = static_cast<char>(ch - 'a' + 'A');
            const std::uint8_t* rows = glyph(ch);
            if (!rows) continue;
            const int gx = x + static_cast<int>(k) * 6 * scale;
            for (int r = 0; r < 7; ++r)
                for (int b = 0; b < 5; ++b)
                    if (rows[r] & (0x10 >> b)) rect(gx + b * scale, y + r * scale, gx + (b + 1) * scale - 1, y + (r + 1) * scale - 1, c);
        }
    }
    static int text_width(const std::string& s, int scale = 1) { return s.empty() ? 0 : static_cast<int>(s.size()) * 6 * scale - scale; }
    static constexpr int text_height(int scale = 1) { return 7 * scale; }

    void blit(const Canvas& src, int ox, int oy) {
        for (int y = 0; y < src.h_; ++y)
            for (int x = 0; x < src.w_; ++x) {
                const std::uint8_t* p = &src.px_[(static_cast<std::size_t>(y) * src.w_ + x) * 3];
                set(ox + x, oy + y, Rgb{p[0], p[1], p[2]});
            }
    }
    void save(const std::string& path) const { write_png_rgb(path, w_, h_, px_); }
    const std::vector<std::uint8_t>& pixels() const { return px_; }

private:
    struct Glyph {
        char c;
        std::uint8_t rows[7];  // bit 4 = leftmost column
    };
    static const std::uint8_t* glyph(char ch) {
        static const Glyph glyphs[] = {
            {'0', {0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e}}, {'1', {0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e}}, {'2', {0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f}},
            {'3', {0x1e, 0x01, 0x01, 0x0e, 0x01, 0x01, 0x1e}}, {'4', {0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02}}, {'5', {0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e}},
            {'6', {0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e}}, {'7', {0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}}, {'8', {0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e}},
            {'9', {0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c}}, {'A', {0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11}}, {'B', {0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e}},
            {'C', {0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e}}, {'D', {0x1e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1e}}, {'E', {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f}},
            {'F', {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10}}, {'G', {0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f}}, {'H', {0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11}},
            {'I', {0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e}}, {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c}}, {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}},
            {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f}}, {'M', {0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11}}, {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
            {'O', {0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e}}, {'P', {0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10}}, {'Q', {0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d}},
            {'R', {0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11}}, {'S', {0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e}}, {'T', {0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
            {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e}}, {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04}}, {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a}},
            {'X', {0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11}}, {'Y', {0x11, 0x11, 0x0a, 0x04, 0x04, 0x04, 0x04}}, {'Z', {0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f}},
            {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c}}, {',', {0x00, 0x00, 0x00, 0x00, 0x0c, 0x04, 0x08}}, {'-', {0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00}},
            {'+', {0x00, 0x04, 0x04, 0x1f, 0x04, 0x04, 0x00}}, {':', {0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x00}}, {'=', {0x00, 0x00, 0x1f, 0x00, 0x1f, 0x00, 0x00}},
            {'%', {0x19, 0x19, 0x02, 0x04, 0x08, 0x13, 0x13}}, {'(', {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}}, {')', {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}},
            {'/', {0x01, 0x01, 0x02, 0x04, 0x08, 0x10, 0x10}}, {'_', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f}}, {'x', {0x00, 0x00, 0x11, 0x0a, 0x04, 0x0a, 0x11}},
            {'e', {0x00, 0x00, 0x0e, 0x11, 0x1f, 0x10, 0x0e}},
        };
        for (const auto& g : glyphs)
            if (g.c == ch) return g.rows;
        return nullptr;  // space and unknown characters leave a gap
    }
    int w_, h_;
    std::vector<std::uint8_t> px_;
};

// Raster line and scatter plots. Drawn: the axes box, light grid lines at
// "nice" ticks with their values (5x7 bitmap font), a dashed zero line when
// 0 is in range, an optional title and a legend (swatches, with labels when
// given). Primitives are stored and drawn at save()/render() time, so the
// automatic range covers everything added.
class Plot {
public:
    Plot(int width, int height) : w_(width), h_(height) {
        if (width < 64 || height < 48)
            throw latent::ConfigError("Plot: expected at least 64x48, found " + std::to_string(width) + "x" + std::to_string(height));
    }
    void set_range(double x0, double x1, double y0, double y1) {
        fixed_ = true;
        x0_ = x0;
        x1_ = x1;
        y0_ = y0;
        y1_ = y1;
    }
    void set_log_y(bool on = true) { log_y_ = on; }
    void title(const std::string& t) { title_ = t; }
    // Tick values on the axes (on by default).
    void show_ticks(bool on) { ticks_ = on; }
    void line(const std::vector<double>& x, const std::vector<double>& y, Rgb rgb, int thickness = 1) {
        check_xy(x, y, "Plot::line");
        items_.push_back(Item{Kind::line, x, y, {}, rgb, thickness});
    }
    // colour_index: palette(i); a negative index draws grey.
    void scatter(const std::vector<double>& x, const std::vector<double>& y, const std::vector<int>& colour_index, int radius = 2) {
        check_xy(x, y, "Plot::scatter");
        if (!colour_index.empty() && colour_index.size() != x.size())
            throw latent::ShapeError("Plot::scatter: expected " + std::to_string(x.size()) + " colour indices, found " +
                                     std::to_string(colour_index.size()));
        items_.push_back(Item{Kind::scatter, x, y, colour_index, {0, 0, 0}, radius});
    }
    void hline(double y, Rgb rgb) { items_.push_back(Item{Kind::hline, {}, {y}, {}, rgb, 1}); }
    void vline(double x, Rgb rgb) { items_.push_back(Item{Kind::vline, {x}, {}, {}, rgb, 1}); }
    // Legend swatches in the top-right corner (one per colour, top to bottom).
    void legend(const std::vector<Rgb>& colours) {
        for (const auto& c : colours) legend_.emplace_back(c, std::string());
    }
    // One legend entry: a swatch and its label.
    void add_legend(Rgb colour, const std::string& label) { legend_.emplace_back(colour, label); }

    void save(const std::string& path) const { render().save(path); }

    Canvas render() const {
        Canvas cv(w_, h_);
        double x0 = x0_, x1 = x1_, y0 = y0_, y1 = y1_;
        if (!fixed_) auto_range(x0, x1, y0, y1);
        if (log_y_) {
            y0 = std::log10(std::max(y0, 1e-300));
            y1 = std::log10(std::max(y1, 1e-300));
        }
        if (!(x1 > x0)) x1 = x0 + 1;
        if (!(y1 > y0)) y1 = y0 + 1;
        const std::vector<double> xt = ticks(x0, x1), yt = log_y_ ? log_ticks(y0, y1) : ticks(y0, y1);
        auto y_label = [&](double t) {
            if (!log_y_) return tick_label(t, step_of(yt));
            char b[32];
            std::snprintf(b, sizeof b, "%.3g", std::pow(10.0, t));
            return std::string(b);
        };
        // margins: left fits the widest y tick label, bottom the x tick labels, top the title
        int ml = 6, mb = 6, mt = title_.empty() ? 6 : 14;
        const int mr = 8;
        if (ticks_) {
            int widest = 0;
            for (double t : yt) widest = std::max(widest, Canvas::text_width(y_label(t)));
            ml = std::min(widest + 6, w_ / 3);
            mb = 13;
        }
        const double pw = w_ - ml - mr - 1, ph = h_ - mt - mb - 1;
        if (pw < 8 || ph < 8) throw latent::ConfigError("Plot: too small for its labels; use a larger size");
        auto X = [&](double x) { return ml + (x - x0) / (x1 - x0) * pw; };
        auto Yv = [&](double v) { return mt + (1.0 - (v - y0) / (y1 - y0)) * ph; };  // v in axis units
        auto Y = [&](double y) { return Yv(log_y_ ? std::log10(std::max(y, 1e-300)) : y); };
        const Rgb grid{232, 232, 232}, axis{60, 60, 60}, label{70, 70, 70};
        for (double t : xt) cv.segment(X(t), mt, X(t), mt + ph, grid);
        for (double t : yt) cv.segment(ml, Yv(t), ml + pw, Yv(t), grid);
        if (!log_y_ && y0 < 0 && y1 > 0) dashed(cv, ml, Y(0.0), ml + pw, Rgb{170, 170, 170});
        for (const auto& it : items_) {
            switch (it.kind) {
                case Kind::line:
                    for (std::size_t i = 1; i < it.x.size(); ++i)
                        if (std::isfinite(it.y[i - 1]) && std::isfinite(it.y[i]))
                            cv.segment(X(it.x[i - 1]), Y(it.y[i - 1]), X(it.x[i]), Y(it.y[i]), it.rgb, it.size);
                    if (it.x.size() == 1 && std::isfinite(it.y[0])) cv.disk(X(it.x[0]), Y(it.y[0]), it.size + 1, it.rgb);
                    break;
                case Kind::scatter:
                    for (std::size_t i = 0; i < it.x.size(); ++i) {
                        if (!std::isfinite(it.x[i]) || !std::isfinite(it.y[i])) continue;
                        const int ci = it.colour.empty() ? 0 : it.colour[i];
                        cv.disk(X(it.x[i]), Y(it.y[i]), it.size, ci < 0 ? Rgb{150, 150, 150} : palette(ci));
                    }
                    break;
                case Kind::hline: dashed(cv, ml, Y(it.y[0]), ml + pw, it.rgb); break;
                case Kind::vline: cv.segment(X(it.x[0]), mt, X(it.x[0]), mt + ph, it.rgb); break;
            }
        }
        // clear the margins (points outside the range are clipped), then the box
        const Rgb white{255, 255, 255};
        cv.rect(0, 0, w_ - 1, mt - 2, white);
        cv.rect(0, mt + static_cast<int>(ph) + 2, w_ - 1, h_ - 1, white);
        cv.rect(0, 0, ml - 2, h_ - 1, white);
        cv.rect(ml + static_cast<int>(pw) + 2, 0, w_ - 1, h_ - 1, white);
        cv.segment(ml - 1, mt - 1, ml + pw + 1, mt - 1, axis);
        cv.segment(ml - 1, mt + ph + 1, ml + pw + 1, mt + ph + 1, axis);
        cv.segment(ml - 1, mt - 1, ml - 1, mt + ph + 1, axis);
        cv.segment(ml + pw + 1, mt - 1, ml + pw + 1, mt + ph + 1, axis);
        if (ticks_) {
            int last_top = -100;  // y labels from the bottom up, skipping ones that would overlap
            for (double t : yt) {
                const std::string s = y_label(t);
                const int top = static_cast<int>(std::lround(Yv(t))) - 3;
                if (last_top > -100 && last_top - top < 9) continue;
                cv.text(ml - 3 - Canvas::text_width(s), std::clamp(top, 0, h_ - 7), s, label);
                last_top = top;
            }
            int last_right = -100;
            for (double t : xt) {
                const std::string s = tick_label(t, step_of(xt));
                const int left = std::clamp(static_cast<int>(std::lround(X(t))) - Canvas::text_width(s) / 2, 0,
                                            w_ - Canvas::text_width(s));
                if (left <= last_right + 4) continue;
                cv.text(left, mt + static_cast<int>(ph) + 4, s, label);
                last_right = left + Canvas::text_width(s);
            }
        }
        if (!title_.empty()) cv.text(ml, 3, title_, Rgb{20, 20, 20});
        for (std::size_t i = 0; i < legend_.size(); ++i) {
            const std::string& s = legend_[i].second;
            const int tw = s.empty() ? 0 : Canvas::text_width(s) + 4;
            const int sx = ml + static_cast<int>(pw) - 14 - tw, sy = mt + 4 + static_cast<int>(i) * 11;
            cv.rect(sx - 2, sy - 2, sx + 12 + tw + 1, sy + 8, white);
            cv.rect(sx, sy, sx + 9, sy + 6, legend_[i].first);
            if (!s.empty()) cv.text(sx + 13, sy, s, Rgb{20, 20, 20});
        }
        return cv;
    }

private:
    enum class Kind { line, scatter, hline, vline };
    struct Item {
        Kind kind;
        std::vector<double> x, y;
        std::vector<int> colour;
        Rgb rgb;
        int size;
    };
    static void check_xy(const std::vector<double>& x, const std::vector<double>& y, const char* what) {
        if (x.size() != y.size())
            throw latent::ShapeError(std::string(what) + ": expected as many y as x values (" + std::to_string(x.size()) +
                                     "), found " + std::to_string(y.size()));
    }
    static void dashed(Canvas& cv, double xa, double y, double xb, Rgb c) {
        for (double x = xa; x <= xb; x += 1.0)
            if ((static_cast<int>(x - xa) / 4) % 2 == 0) cv.set(static_cast<int>(std::lround(x)), static_cast<int>(std::lround(y)), c);
    }
    // 3-7 round tick positions inside [a, b].
    static std::vector<double> ticks(double a, double b) {
        std::vector<double> t;
        const double span = b - a;
        if (!(span > 0) || !std::isfinite(span)) return t;
        const double raw = span / 5.0, p = std::pow(10.0, std::floor(std::log10(raw)));
        const double step = raw / p < 1.5 ? p : raw / p < 3.5 ? 2 * p : raw / p < 7.5 ? 5 * p : 10 * p;
        for (double v = std::ceil(a / step) * step; v <= b + 1e-12 * span; v += step) t.push_back(std::fabs(v) < 1e-9 * step ? 0.0 : v);
        return t;
    }
    // log10 positions of 1-2-5 (or, when that gives too many, 1) times powers of ten in [10^a, 10^b].
    static std::vector<double> log_ticks(double a, double b) {
        std::vector<double> t;
        for (const std::vector<double>& mult : {std::vector<double>{1, 2, 5}, std::vector<double>{1}}) {
            t.clear();
            for (double k = std::floor(a); k <= std::ceil(b); k += 1)
                for (double m : mult) {
                    const double v = k + std::log10(m);
                    if (v >= a && v <= b) t.push_back(v);
                }
            if (t.size() <= 8) break;
        }
        return t;
    }
    static double step_of(const std::vector<double>& t) { return t.size() > 1 ? t[1] - t[0] : 0.0; }
    // Short label: enough decimals to tell ticks `step` apart; exponent form for very large/small values.
    static std::string tick_label(double v, double step) {
        char b[32];
        const double a = std::fabs(v);
        if (v == 0.0) return "0";
        if (a >= 1e5 || a < 1e-3) {
            std::snprintf(b, sizeof b, "%.1e", v);
            std::string s = b;  // 1.0e-04 -> 1e-4
            const auto e = s.find('e');
            std::string mant = s.substr(0, e), ex = s.substr(e + 1);
            if (mant.size() > 2 && mant.compare(mant.size() - 2, 2, ".0") == 0) mant.resize(mant.size() - 2);
            const bool neg = ex[0] == '-';
            ex = ex.substr(1);
            while (ex.size() > 1 && ex[0] == '0') ex.erase(0, 1);
            return mant + "e" + (neg ? "-" : "") + ex;
        }
        int decimals = 0;
        if (step > 0) decimals = std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
        else if (a < 1) decimals = 3;
        else if (a < 10) decimals = 2;
        else if (a < 100) decimals = 1;
        std::snprintf(b, sizeof b, "%.*f", std::min(decimals, 6), v);
        return b;
    }
    void auto_range(double& x0, double& x1, double& y0, double& y1) const {
        const double inf = std::numeric_limits<double>::infinity();
        x0 = y0 = inf;
        x1 = y1 = -inf;
        for (const auto& it : items_) {
            for (double v : it.x)
                if (std::isfinite(v)) x0 = std::min(x0, v), x1 = std::max(x1, v);
            for (double v : it.y)
                if (std::isfinite(v) && (!log_y_ || v > 0)) y0 = std::min(y0, v), y1 = std::max(y1, v);
        }
        if (!std::isfinite(x0)) x0 = 0, x1 = 1;
        if (!std::isfinite(y0)) y0 = log_y_ ? 0.1 : 0, y1 = 1;
        if (x1 == x0) x0 -= 0.5, x1 += 0.5;
        if (y1 == y0) {
            if (log_y_)
                y0 /= 2, y1 *= 2;
            else
                y0 -= 0.5 * (std::fabs(y0) + 1), y1 += 0.5 * (std::fabs(y1) + 1);
        }
        const double px = 0.03 * (x1 - x0);
        x0 -= px;
        x1 += px;
        if (log_y_) {
            y0 /= 1.15;
            y1 *= 1.15;
        } else {
            const double py = 0.05 * (y1 - y0);
            y0 -= py;
            y1 += py;
        }
    }

    int w_, h_;
    bool fixed_ = false, log_y_ = false, ticks_ = true;
    double x0_ = 0, x1_ = 1, y0_ = 0, y1_ = 1;
    std::string title_;
    std::vector<Item> items_;
    std::vector<std::pair<Rgb, std::string>> legend_;
};

// Several plots in one PNG: a grid of rows x cols panels of equal size.
class Figure {
public:
    Figure(int rows, int cols, int panel_width, int panel_height)
        : rows_(rows), cols_(cols), pw_(panel_width), ph_(panel_height) {
        if (rows < 1 || cols < 1) throw latent::ConfigError("Figure: expected at least 1x1 panels");
        panels_.reserve(static_cast<std::size_t>(rows * cols));
        for (int i = 0; i < rows * cols; ++i) panels_.emplace_back(panel_width, panel_height);
    }
    Plot& panel(int row, int col) {
        if (row < 0 || row >= rows_ || col < 0 || col >= cols_)
            throw latent::ConfigError("Figure::panel: expected row < " + std::to_string(rows_) + " and col < " +
                                      std::to_string(cols_) + ", found (" + std::to_string(row) + ", " + std::to_string(col) + ")");
        return panels_[static_cast<std::size_t>(row * cols_ + col)];
    }
    void save(const std::string& path) const {
        const int gap = 4;
        Canvas cv(cols_ * pw_ + (cols_ - 1) * gap, rows_ * ph_ + (rows_ - 1) * gap, Rgb{210, 210, 210});
        for (int r = 0; r < rows_; ++r)
            for (int c = 0; c < cols_; ++c)
                cv.blit(panels_[static_cast<std::size_t>(r * cols_ + c)].render(), c * (pw_ + gap), r * (ph_ + gap));
        cv.save(path);
    }

private:
    int rows_, cols_, pw_, ph_;
    std::vector<Plot> panels_;
};

}  // namespace ex
