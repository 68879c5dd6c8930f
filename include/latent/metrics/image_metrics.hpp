// Image quality metrics, per image (one image per column, channel-major
// C x H x W) and averaged over the images.
//
//   mse   mean squared error over every pixel of every image
//   psnr  10 log10(R^2 / MSE_i) per image, averaged (R = data range, 1 for
//         images in [0, 1]); an image's MSE is floored at 1e-12 R^2, so an
//         exact copy scores 120 dB rather than infinity
//   ssim  Wang, Bovik, Sheikh & Simoncelli (2004): an 11x11 Gaussian window
//         (sigma 1.5, normalized), K1 = 0.01, K2 = 0.03, C1 = (K1 R)^2,
//         C2 = (K2 R)^2, weighted local means, variances and covariance
//         (no N/(N-1) correction), the SSIM map over the positions where the
//         window lies inside the image ('valid', as Wang's MATLAB code),
//         averaged over the map, then over channels, then over images.
#pragma once

#include "latent/core/abi.hpp"

#include <cmath>
#include <vector>

#include "latent/core/tensor.hpp"
#include "latent/data/image_filter.hpp"

LATENT_NAMESPACE_BEGIN

namespace detail {

template <class S>
void check_same_images(const Matrix<S>& a, const Matrix<S>& b, const char* what) {
    if (a.rows() != b.rows() || a.cols() != b.cols())
        throw ShapeError(std::string(what) + ": expected two batches of the same shape, found " + shape_of(a) + " and " + shape_of(b));
    if (a.cols() == 0) throw DataError(std::string(what) + ": expected at least one image, found none");
}

}  // namespace detail

// Mean squared error over every entry.
template <class S>
double mse(const Matrix<S>& a, const Matrix<S>& b) {
    detail::check_same_images(a, b, "mse");
    return (a.template cast<double>() - b.template cast<double>()).squaredNorm() / static_cast<double>(a.size());
}

// PSNR of each column (dB).
template <class S>
Vector<double> psnr_per_image(const Matrix<S>& a, const Matrix<S>& b, double data_range = 1.0) {
    detail::check_same_images(a, b, "psnr");
    if (!(data_range > 0)) throw ConfigError("psnr: expected data_range > 0, found " + std::to_string(data_range));
    Vector<double> out(a.cols());
    const double r2 = data_range * data_range;
    for (Index j = 0; j < a.cols(); ++j) {
        const double m = (a.col(j).template cast<double>() - b.col(j).template cast<double>()).squaredNorm() / static_cast<double>(a.rows());
        out(j) = 10.0 * std::log10(r2 / std::max(m, 1e-12 * r2));
    }
    return out;
}

// PSNR per image, averaged (dB).
template <class S>
double psnr(const Matrix<S>& a, const Matrix<S>& b, double data_range = 1.0) {
    return psnr_per_image(a, b, data_range).mean();
}

// SSIM of each column; `shape` is one image's C x H x W (H, W >= 11).
template <class S>
Vector<double> ssim_per_image(const Matrix<S>& a, const Matrix<S>& b, Shape shape, double data_range = 1.0) {
    detail::check_same_images(a, b, "ssim");
    if (shape.size() != a.rows())
        throw ShapeError("ssim: expected images of " + std::to_string(a.rows()) + " values, found shape " + shape.str() + " of " +
                         std::to_string(shape.size()));
    constexpr int win = 11;
    constexpr double sigma = 1.5;
    if (shape.h < win || shape.w < win)
        throw ShapeError("ssim: expected images of at least 11x11 (the Gaussian window), found " + shape.str());
    if (!(data_range > 0)) throw ConfigError("ssim: expected data_range > 0, found " + std::to_string(data_range));

    const std::vector<double> g = detail::gaussian_taps(sigma, win / 2);
    const double c1 = (0.01 * data_range) * (0.01 * data_range), c2 = (0.03 * data_range) * (0.03 * data_range);

    const Index H = shape.h, W = shape.w, Ho = H - win + 1, Wo = W - win + 1;
    // Separable filtering of the five maps x, y, x^2, y^2, xy: rows first (H x Wo), then columns (Ho x Wo).
    std::vector<double> rows(static_cast<std::size_t>(5 * H * Wo));
    Vector<double> out(a.cols());
    for (Index j = 0; j < a.cols(); ++j) {
        double image_sum = 0;
        for (Index c = 0; c < shape.c; ++c) {
            const Index base = c * H * W;
            for (Index y = 0; y < H; ++y)
                for (Index x = 0; x < Wo; ++x) {
                    double m[5] = {0, 0, 0, 0, 0};
                    for (int k = 0; k < win; ++k) {
                        const double u = static_cast<double>(a(base + y * W + x + k, j)), v = static_cast<double>(b(base + y * W + x + k, j));
                        m[0] += g[k] * u;
                        m[1] += g[k] * v;
                        m[2] += g[k] * u * u;
                        m[3] += g[k] * v * v;
                        m[4] += g[k] * u * v;
                    }
                    for (int q = 0; q < 5; ++q) rows[static_cast<std::size_t>((q * H + y) * Wo + x)] = m[q];
                }
            double map_sum = 0;
            for (Index y = 0; y < Ho; ++y)
                for (Index x = 0; x < Wo; ++x) {
                    double m[5] = {0, 0, 0, 0, 0};
                    for (int k = 0; k < win; ++k)
                        for (int q = 0; q < 5; ++q) m[q] += g[k] * rows[static_cast<std::size_t>((q * H + y + k) * Wo + x)];
                    const double mx = m[0], my = m[1];
                    const double vx = m[2] - mx * mx, vy = m[3] - my * my, cxy = m[4] - mx * my;
                    map_sum += ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
                }
            image_sum += map_sum / static_cast<double>(Ho * Wo);
        }
        out(j) = image_sum / static_cast<double>(shape.c);
    }
    return out;
}

// SSIM per image, averaged.
template <class S>
double ssim(const Matrix<S>& a, const Matrix<S>& b, Shape shape, double data_range = 1.0) {
    return ssim_per_image(a, b, shape, data_range).mean();
}

LATENT_NAMESPACE_END
