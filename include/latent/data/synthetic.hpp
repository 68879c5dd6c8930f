// A built-in labelled image set: ten classes of generated shapes on 28x28,
// used when Fashion-MNIST is absent and by the tests. Position, size,
// rotation and intensity are jittered, light Gaussian noise is added, and
// pixels lie in [0, 1]. All randomness comes from the caller's Rng, so a
// seed gives the same images everywhere.
//
// Classes: 0 filled circle, 1 ring, 2 square, 3 triangle, 4 cross (+),
// 5 horizontal bars, 6 vertical bars, 7 diagonal line, 8 checker blob, 9 two dots.
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "latent/core/error.hpp"
#include "latent/core/rng.hpp"
#include "latent/core/tensor.hpp"
#include "latent/data/image_set.hpp"

LATENT_NAMESPACE_BEGIN

inline const std::vector<std::string>& shape_class_names() {
    static const std::vector<std::string> names = {"circle", "ring",   "square",   "triangle", "cross",
                                                   "h-bars", "v-bars", "diagonal", "checker",  "two dots"};
    return names;
}

struct ShapesOptions {
    Index height = 28, width = 28;
    double noise = 0.04;           // std of additive Gaussian pixel noise
    double min_intensity = 0.6;    // shape brightness drawn from [min_intensity, 1]
    double shift = 3.0;            // centre jitter, pixels (each axis, uniform +-shift)
};

namespace detail {

// Coverage test in the shape's local frame (u right, v down, origin at its centre).
struct ShapeParams {
    int cls = 0;
    double a = 0, b = 0, c = 0;    // class-specific sizes
    int sign = 1;
};

inline bool shape_inside(const ShapeParams& p, double u, double v) {
    const double au = std::fabs(u), av = std::fabs(v);
    switch (p.cls) {
        case 0:  // filled circle, radius a
            return u * u + v * v <= p.a * p.a;
        case 1: {  // ring, outer radius a, thickness b
            const double r = std::sqrt(u * u + v * v);
            return r <= p.a && r >= p.a - p.b;
        }
        case 2:  // square, half side a
            return au <= p.a && av <= p.a;
        case 3: {  // triangle pointing up: apex (0,-a), base at v = 0.8a from -a to a
            if (v > 0.8 * p.a || v < -p.a) return false;
            const double half = p.a * (v + p.a) / (1.8 * p.a);  // half width grows linearly from apex
            return au <= half;
        }
        case 4:  // cross: arms of half length a, half thickness b
            return (au <= p.b && av <= p.a) || (av <= p.b && au <= p.a);
        case 5: {  // three horizontal bars, half length a, half thickness b, spacing c
            if (au > p.a) return false;
            for (int k = -1; k <= 1; ++k)
                if (std::fabs(v - k * p.c) <= p.b) return true;
            return false;
        }
        case 6: {  // three vertical bars
            if (av > p.a) return false;
            for (int k = -1; k <= 1; ++k)
                if (std::fabs(u - k * p.c) <= p.b) return true;
            return false;
        }
        case 7: {  // diagonal line (\ or /), half length a, half thickness b
            const double along = (u + p.sign * v) * 0.7071067811865476;
            const double across = (u - p.sign * v) * 0.7071067811865476;
            return std::fabs(along) <= p.a && std::fabs(across) <= p.b;
        }
        case 8: {  // checker blob: square of half side a, cells of size b
            if (au > p.a || av > p.a) return false;
            const long i = static_cast<long>(std::floor((u + p.a) / p.b));
            const long j = static_cast<long>(std::floor((v + p.a) / p.b));
            return ((i + j) & 1) == 0;
        }
        case 9: {  // two dots at (+-a, 0), radius b
            const double d1 = (u - p.a) * (u - p.a) + v * v, d2 = (u + p.a) * (u + p.a) + v * v;
            return d1 <= p.b * p.b || d2 <= p.b * p.b;
        }
        default:
            return false;
    }
}

// Draws one random instance of class cls into out (h*w values, row-major).
template <class S>
void draw_shape(int cls, Rng& rng, const ShapesOptions& o, S* out) {
    const double scale = static_cast<double>(std::min(o.height, o.width)) / 28.0;
    ShapeParams p;
    p.cls = cls;
    double angle = rng.uniform(-0.25, 0.25);  // small rotation keeps bars/cross/diagonal distinct
    switch (cls) {
        case 0: p.a = rng.uniform(5.0, 9.0); break;
        case 1: p.a = rng.uniform(7.0, 10.5); p.b = rng.uniform(1.8, 3.0); break;
        case 2: p.a = rng.uniform(5.0, 8.5); break;
        case 3: p.a = rng.uniform(7.0, 10.0); break;
        case 4: p.a = rng.uniform(7.0, 10.5); p.b = rng.uniform(1.3, 2.4); break;
        case 5:
        case 6: p.a = rng.uniform(7.0, 10.5); p.b = rng.uniform(1.0, 1.8); p.c = rng.uniform(5.0, 7.0); break;
        case 7: p.a = rng.uniform(9.0, 13.0); p.b = rng.uniform(1.3, 2.4); p.sign = rng.bernoulli(0.5) ? 1 : -1; break;
        case 8: p.a = rng.uniform(7.0, 10.0); p.b = rng.uniform(3.0, 4.5); break;
        case 9: p.a = rng.uniform(4.5, 7.5); p.b = rng.uniform(2.2, 3.5); angle = rng.uniform(0.0, 3.141592653589793); break;
        default: break;
    }
    p.a *= scale;
    p.b *= scale;
    p.c *= scale;
    const double cx = static_cast<double>(o.width - 1) / 2.0 + rng.uniform(-o.shift, o.shift) * scale;
    const double cy = static_cast<double>(o.height - 1) / 2.0 + rng.uniform(-o.shift, o.shift) * scale;
    const double intensity = rng.uniform(o.min_intensity, 1.0);
    const double cs = std::cos(angle), sn = std::sin(angle);
    // 3x3 supersampling gives soft edges.
    static constexpr double offs[3] = {-1.0 / 3.0, 0.0, 1.0 / 3.0};
    for (Index y = 0; y < o.height; ++y)
        for (Index x = 0; x < o.width; ++x) {
            int hits = 0;
            for (double oy : offs)
                for (double ox : offs) {
                    const double dx = static_cast<double>(x) + ox - cx, dy = static_cast<double>(y) + oy - cy;
                    const double u = cs * dx + sn * dy, v = -sn * dx + cs * dy;
                    hits += shape_inside(p, u, v) ? 1 : 0;
                }
            double val = intensity * hits / 9.0;
            if (o.noise > 0) val += rng.normal(0.0, o.noise);
            out[y * o.width + x] = static_cast<S>(std::clamp(val, 0.0, 1.0));
        }
}

}  // namespace detail

// n generated images, labels cycling 0..9 (so any prefix is balanced),
// x: (h*w) x n in [0, 1], shape {1, h, w}. Same rng state, same images.
template <class S>
ImageSet<S> make_shapes(Index n, Rng& rng, const ShapesOptions& options = {}) {
    if (n < 0) throw ConfigError("make_shapes: expected n >= 0, found " + std::to_string(n));
    if (options.height < 8 || options.width < 8)
        throw ConfigError("make_shapes: expected images of at least 8x8, found " + std::to_string(options.height) + "x" +
                          std::to_string(options.width));
    ImageSet<S> set;
    set.shape = Shape{1, options.height, options.width};
    set.x.resize(set.shape.size(), n);
    set.labels.resize(static_cast<std::size_t>(n));
    for (Index j = 0; j < n; ++j) {
        const int cls = static_cast<int>(j % 10);
        set.labels[static_cast<std::size_t>(j)] = cls;
        detail::draw_shape<S>(cls, rng, options, set.x.col(j).data());
    }
    return set;
}

LATENT_NAMESPACE_END
