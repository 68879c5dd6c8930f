// Gaussian smoothing of images (one image per column, channel-major
// C x H x W), separable, each channel plane on its own:
//
//   Matrix<float> smooth = latent::gaussian_blur(images, Shape{1, 28, 28}, 1.0);
//
// The kernel is exp(-d^2 / (2 sigma^2)) for |d| <= round(4 sigma), normalized
// to sum 1; borders reflect the image about its edge (d c b a | a b c d), as
// scipy.ndimage.gaussian_filter's default mode. The anomaly detector uses it
// to score the low frequencies of a reconstruction's error.
#pragma once

#include "latent/core/abi.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "latent/core/tensor.hpp"

LATENT_NAMESPACE_BEGIN

namespace detail {

// Normalized Gaussian taps g[0 .. 2 radius], centre at index radius.
inline std::vector<double> gaussian_taps(double sigma, int radius) {
    std::vector<double> g(static_cast<std::size_t>(2 * radius + 1));
    double total = 0;
    for (int i = -radius; i <= radius; ++i) total += g[static_cast<std::size_t>(i + radius)] = std::exp(-0.5 * i * i / (sigma * sigma));
    for (double& v : g) v /= total;
    return g;
}

// Index i reflected into [0, n) about the edges (d c b a | a b c d).
inline Index reflect_index(Index i, Index n) {
    const Index period = 2 * n;
    i %= period;
    if (i < 0) i += period;
    return i < n ? i : period - 1 - i;
}

}  // namespace detail

// Smooths every channel plane of every column of `images` (C*H*W x N) with a
// Gaussian of standard deviation `sigma` pixels (sigma 0: a copy).
template <class S>
Matrix<S> gaussian_blur(const Matrix<S>& images, Shape shape, double sigma) {
    if (shape.size() != images.rows())
        throw ShapeError("gaussian_blur: expected images of " + std::to_string(images.rows()) + " values, found shape " + shape.str() +
                         " of " + std::to_string(shape.size()));
    if (!(sigma >= 0) || !std::isfinite(sigma)) throw ConfigError("gaussian_blur: expected sigma >= 0, found " + std::to_string(sigma));
    if (sigma == 0) return images;
    const int radius = static_cast<int>(std::floor(4.0 * sigma + 0.5));
    const std::vector<double> g = detail::gaussian_taps(sigma, radius);
    const Index H = shape.h, W = shape.w, plane = H * W;
    Matrix<S> out(images.rows(), images.cols());
    std::vector<double> rows(static_cast<std::size_t>(plane));
    for (Index j = 0; j < images.cols(); ++j)
        for (Index c = 0; c < shape.c; ++c) {
            const S* src = images.col(j).data() + c * plane;
            S* dst = out.col(j).data() + c * plane;
            for (Index y = 0; y < H; ++y)  // along each row
                for (Index x = 0; x < W; ++x) {
                    double v = 0;
                    for (int k = -radius; k <= radius; ++k)
                        v += g[static_cast<std::size_t>(k + radius)] * static_cast<double>(src[y * W + detail::reflect_index(x + k, W)]);
                    rows[static_cast<std::size_t>(y * W + x)] = v;
                }
            for (Index y = 0; y < H; ++y)  // then along each column
                for (Index x = 0; x < W; ++x) {
                    double v = 0;
                    for (int k = -radius; k <= radius; ++k)
                        v += g[static_cast<std::size_t>(k + radius)] * rows[static_cast<std::size_t>(detail::reflect_index(y + k, H) * W + x)];
                    dst[y * W + x] = static_cast<S>(v);
                }
        }
    return out;
}

LATENT_NAMESPACE_END
