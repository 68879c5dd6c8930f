// Colour conversion between sRGB and CIELAB (D65 white, 2-degree observer),
// per pixel and for images in the library's layout (one image per column,
// channel-major 3 x H x W: index = c*H*W + y*W + x).
//
//   sRGB -> linear   c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055)^2.4   (IEC 61966-2-1)
//   linear -> XYZ    the IEC 61966-2-1 matrix below (rows X, Y, Z)
//   XYZ -> Lab       L = 116 f(Y/Yn) - 16,  a = 500 (f(X/Xn) - f(Y/Yn)),  b = 200 (f(Y/Yn) - f(Z/Zn))
//                    f(t) = t^(1/3) when t > (6/29)^3, else t / (3 (6/29)^2) + 4/29   (CIE 15)
//                    white (Xn, Yn, Zn) = (0.95047, 1, 1.08883)
//
// The inverse runs the same steps backwards (the XYZ -> linear matrix is the
// exact inverse of the one above, so in-gamut colours round-trip to about
// 1e-12). L is in [0, 100] for sRGB input; a and b lie roughly in
// [-128, 127] (pure sRGB red is (53.24, 80.09, 67.20)).
//
// sRGB values are in [0, 1]. srgb_to_lab on images rejects values outside
// [0, 1] and non-finite ones (DataError, naming the image, channel and pixel);
// lab_to_srgb on images clips the result to [0, 1] per channel (many Lab
// triples have no sRGB colour: that is gamut clipping, not lost input). The
// per-pixel functions do no checks and no clipping.
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "latent/core/error.hpp"
#include "latent/core/number_text.hpp"
#include "latent/core/tensor.hpp"

LATENT_NAMESPACE_BEGIN

namespace detail {

// Linear sRGB -> XYZ (IEC 61966-2-1, D65).
inline const Eigen::Matrix3d& srgb_to_xyz_matrix() {
    static const Eigen::Matrix3d m = (Eigen::Matrix3d() << 0.4124564, 0.3575761, 0.1804375,  //
                                      0.2126729, 0.7151522, 0.0721750,                        //
                                      0.0193339, 0.1191920, 0.9503041)
                                         .finished();
    return m;
}
// Its exact inverse (computed, not a rounded table, so round trips are exact to rounding).
inline const Eigen::Matrix3d& xyz_to_srgb_matrix() {
    static const Eigen::Matrix3d m = srgb_to_xyz_matrix().inverse();
    return m;
}
inline constexpr double lab_white[3] = {0.95047, 1.0, 1.08883};
inline constexpr double lab_delta = 6.0 / 29.0;

inline double srgb_to_linear(double c) { return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4); }
inline double linear_to_srgb(double c) { return c <= 0.0031308 ? 12.92 * c : 1.055 * std::pow(c, 1.0 / 2.4) - 0.055; }
inline double lab_f(double t) {
    return t > lab_delta * lab_delta * lab_delta ? std::cbrt(t) : t / (3 * lab_delta * lab_delta) + 4.0 / 29.0;
}
inline double lab_f_inverse(double f) { return f > lab_delta ? f * f * f : 3 * lab_delta * lab_delta * (f - 4.0 / 29.0); }

// rows == 3 * h * w for an image set of `shape`; the shape has 3 channels.
inline void check_color_images(Index rows, Shape shape, const char* what) {
    if (shape.c != 3 || shape.h <= 0 || shape.w <= 0)
        throw ShapeError(std::string(what) + ": expected a shape of 3 channels (3 x H x W), found " + shape.str());
    if (rows != shape.size())
        throw ShapeError(std::string(what) + ": expected " + std::to_string(shape.size()) + " values per image for shape " + shape.str() +
                         ", found " + std::to_string(rows));
}

}  // namespace detail

// One sRGB colour (r, g, b in [0, 1]) to CIELAB (L, a, b). No checks.
inline std::array<double, 3> srgb_to_lab(double r, double g, double b) {
    const Eigen::Vector3d lin(detail::srgb_to_linear(r), detail::srgb_to_linear(g), detail::srgb_to_linear(b));
    const Eigen::Vector3d xyz = detail::srgb_to_xyz_matrix() * lin;
    const double fx = detail::lab_f(xyz(0) / detail::lab_white[0]);
    const double fy = detail::lab_f(xyz(1) / detail::lab_white[1]);
    const double fz = detail::lab_f(xyz(2) / detail::lab_white[2]);
    return {116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)};
}

// One CIELAB colour to sRGB. Out-of-gamut colours give values outside [0, 1]
// (not clipped); linear values below 0 map linearly (12.92 c).
inline std::array<double, 3> lab_to_srgb(double L, double a, double b) {
    const double fy = (L + 16.0) / 116.0, fx = fy + a / 500.0, fz = fy - b / 200.0;
    const Eigen::Vector3d xyz(detail::lab_white[0] * detail::lab_f_inverse(fx), detail::lab_white[1] * detail::lab_f_inverse(fy),
                              detail::lab_white[2] * detail::lab_f_inverse(fz));
    const Eigen::Vector3d lin = detail::xyz_to_srgb_matrix() * xyz;
    return {detail::linear_to_srgb(lin(0)), detail::linear_to_srgb(lin(1)), detail::linear_to_srgb(lin(2))};
}

namespace detail {

// Every pixel of images in the 3 x H x W layout through f (three doubles in,
// three out): the loop both image conversions share. valid(v) checks each
// input value; a failing one throws DataError("<what>: expected <expected>,
// found ..." with its image, channel and pixel).
template <class D, class Valid, class F>
Matrix<typename D::Scalar> map_color_pixels(const Eigen::MatrixBase<D>& src, Shape shape, const char* what, const char* expected,
                                            Valid valid, F f) {
    using S = typename D::Scalar;
    check_color_images(src.rows(), shape, what);
    const Index plane = shape.h * shape.w;
    Matrix<S> dst(src.rows(), src.cols());
    for (Index n = 0; n < src.cols(); ++n)
        for (Index p = 0; p < plane; ++p) {
            double v[3];
            for (Index c = 0; c < 3; ++c) {
                v[c] = static_cast<double>(src(c * plane + p, n));
                if (!valid(v[c]))
                    throw DataError(std::string(what) + ": expected " + expected + ", found " + format_number(v[c], 6) + " in image " +
                                    std::to_string(n) + ", channel " + std::to_string(c) + ", pixel (y " + std::to_string(p / shape.w) +
                                    ", x " + std::to_string(p % shape.w) + ")");
            }
            const auto out = f(v[0], v[1], v[2]);
            for (Index c = 0; c < 3; ++c) dst(c * plane + p, n) = static_cast<S>(out[static_cast<std::size_t>(c)]);
        }
    return dst;
}

}  // namespace detail

// sRGB images (3 x H x W per column, values in [0, 1]) to CIELAB images in
// the same layout (channel 0 = L, 1 = a, 2 = b).
// ShapeError: shape not 3 x H x W, or rows != 3 H W. DataError: a value
// outside [0, 1] or not finite.
template <class D>
Matrix<typename D::Scalar> srgb_to_lab(const Eigen::MatrixBase<D>& rgb, Shape shape) {
    return detail::map_color_pixels(
        rgb, shape, "srgb_to_lab", "sRGB values in [0, 1]", [](double v) { return v >= 0.0 && v <= 1.0; },
        [](double r, double g, double b) { return srgb_to_lab(r, g, b); });
}

// CIELAB images (3 x H x W per column) to sRGB, each channel clipped to [0, 1].
// ShapeError: as srgb_to_lab. DataError: a value that is not finite.
template <class D>
Matrix<typename D::Scalar> lab_to_srgb(const Eigen::MatrixBase<D>& lab, Shape shape) {
    return detail::map_color_pixels(lab, shape, "lab_to_srgb", "finite Lab values", [](double v) { return std::isfinite(v); },
                                    [](double l, double a, double b) {
                                        auto out = lab_to_srgb(l, a, b);
                                        for (double& c : out) c = std::clamp(c, 0.0, 1.0);
                                        return out;
                                    });
}

LATENT_NAMESPACE_END
