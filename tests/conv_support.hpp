// Helpers for the image-layer tests (test_conv, test_pool, test_batchnorm).
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "catch.hpp"

#include <latent/latent.hpp>
#include <latent/testing/gradient_check.hpp>

namespace conv_test {

using latent::Index;
using MatD = latent::Matrix<double>;

constexpr double grad_bound = 1e-6;

// The formula tests/golden/conv_golden.py fills tensors with: sin(a*i + b),
// i in PyTorch's contiguous (N, C, H, W) order, which is a channel-major
// features x N matrix read column by column.
inline MatD fill(Index rows, Index cols, double a, double b) {
    MatD m(rows, cols);
    for (Index i = 0; i < m.size(); ++i) m.data()[i] = std::sin(a * static_cast<double>(i) + b);
    return m;
}

inline void copy_into(latent::MatrixMap<double> dst, const MatD& src) {
    REQUIRE(dst.size() == src.size());
    std::copy(src.data(), src.data() + src.size(), dst.data());
}

// Largest |a - b| over two equally long sequences (fails on a length mismatch).
template <class A>
double max_abs_diff(const A& a, const std::vector<double>& b) {
    REQUIRE(static_cast<std::size_t>(a.size()) == b.size());
    double m = 0;
    for (std::size_t i = 0; i < b.size(); ++i) m = std::max(m, std::abs(static_cast<double>(a.data()[i]) - b[i]));
    return m;
}

// A layer built on its own with its parameter buffer and generator.
struct Standalone {
    latent::ParamBuffer<double> params;
    latent::Rng rng{7};
    Standalone(latent::Layer<double>& layer, latent::Shape in, std::uint64_t seed = 7) : rng(seed) {
        latent::testing::build_standalone(layer, in, params, rng);
    }
};

// Gradient check of `layer` on a random batch; values in [-1, 1].
inline latent::testing::GradientReport gradcheck(latent::Layer<double>& layer, latent::Shape in, Index batch,
                                                 std::uint64_t seed = 11, latent::Mode mode = latent::Mode::train) {
    Standalone s(layer, in, seed);
    // Non-zero biases so bias gradients are checked away from a trivial point.
    s.rng.fill_uniform(s.params.values(), -1.0, 1.0);
    MatD x(in.size(), batch);
    s.rng.fill_uniform(x, -1.0, 1.0);
    return latent::testing::check_layer(layer, s.params, x, s.rng, mode);
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace conv_test

#define CONV_CHECK_GRADIENT(report)               \
    do {                                          \
        const auto& rep_ = (report);              \
        INFO(rep_.str());                         \
        CHECK(rep_.checked > 0);                  \
        CHECK(rep_.ok(conv_test::grad_bound));    \
    } while (0)
