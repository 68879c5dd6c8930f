// Helpers for the image-layer tests (test_conv2d, test_conv_transpose2d,
// test_conv_engine, test_pool2d, test_upsample2d, test_reshape, test_batch_norm).
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

// Runs a layer against a golden case: x = fill(.., 0.37, 0.1), weight =
// 0.5 fill(.., 0.23, 0.7), bias = fill(.., 1.1, 0.2), upstream g = fill(.., 0.7, 0.3).
template <class L>
void check_golden(L& layer, latent::Shape in, Index batch, const std::vector<double>& y, const std::vector<double>& dx,
                  const std::vector<double>& dw, const std::vector<double>& db) {
    conv_test::Standalone s(layer, in);
    conv_test::copy_into(layer.weight(), 0.5 * fill(layer.weight().rows(), layer.weight().cols(), 0.23, 0.7));
    conv_test::copy_into(layer.bias(), fill(layer.bias().rows(), 1, 1.1, 0.2));
    const MatD x = fill(in.size(), batch, 0.37, 0.1);
    layer.set_input_grad(true);
    const MatD& out = layer.forward(x, latent::Mode::train);
    REQUIRE(out.rows() == layer.output_shape().size());
    CHECK(conv_test::max_abs_diff(out, y) < 1e-12);
    s.params.zero_grad();
    const MatD g = fill(out.rows(), out.cols(), 0.7, 0.3);
    const MatD& dxo = layer.backward(g);
    CHECK(conv_test::max_abs_diff(dxo, dx) < 1e-12);
    const auto views = layer.parameters();
    REQUIRE(views.size() == 2);
    CHECK(views[0].name == "weight");
    CHECK(conv_test::max_abs_diff(views[0].grad, dw) < 1e-12);
    CHECK(conv_test::max_abs_diff(views[1].grad, db) < 1e-12);
}

// Runs a parameterless layer against a golden case: forward fill(.., 0.37, 0.1),
// backward fill(.., 0.7, 0.3), as the golden script.
inline void check_golden(latent::Layer<double>& layer, latent::Shape in, Index batch, latent::Shape expected_out,
                         const std::vector<double>& y, const std::vector<double>& dx) {
    conv_test::Standalone s(layer, in);
    REQUIRE(layer.output_shape() == expected_out);
    const MatD x = fill(in.size(), batch, 0.37, 0.1);
    const MatD& out = layer.forward(x, latent::Mode::train);
    CHECK(conv_test::max_abs_diff(out, y) < 1e-12);
    const MatD& d = layer.backward(fill(out.rows(), out.cols(), 0.7, 0.3));
    CHECK(conv_test::max_abs_diff(d, dx) < 1e-12);
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
