// data/color.hpp: sRGB <-> CIELAB (D65), per pixel and on image batches.
#include "catch.hpp"
#include "support.hpp"

#include <latent/latent.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

using latent::Index;
using latent::Shape;

namespace {

// Reference values computed from the CIE formulas in the header (sRGB
// companding, the IEC 61966-2-1 matrix, white 0.95047/1/1.08883) in double
// precision by an independent script; red, green and blue agree with the
// values Bruce Lindbloom's calculator publishes (53.2408, 80.0925, 67.2032 etc.).
struct Reference {
    std::array<double, 3> rgb, lab;
};
const Reference references[] = {
    {{1, 1, 1}, {100.0, 0.0, 0.0}},
    {{0, 0, 0}, {0.0, 0.0, 0.0}},
    {{1, 0, 0}, {53.2408, 80.0925, 67.2032}},
    {{0, 1, 0}, {87.7347, -86.1827, 83.1793}},
    {{0, 0, 1}, {32.2970, 79.1875, -107.8602}},
    {{0.5, 0.5, 0.5}, {53.3890, 0.0, 0.0}},     // mid grey (sRGB 0.5)
    {{0.01, 0.01, 0.01}, {0.6991, 0.0, 0.0}},   // dark: the linear branches of both curves
};

}  // namespace

TEST_CASE("srgb_to_lab matches reference values from the CIE formulas", "[data][color]") {
    for (const auto& r : references) {
        const auto lab = latent::srgb_to_lab(r.rgb[0], r.rgb[1], r.rgb[2]);
        INFO("rgb " << r.rgb[0] << " " << r.rgb[1] << " " << r.rgb[2] << " -> " << lab[0] << " " << lab[1] << " " << lab[2]);
        for (int c = 0; c < 3; ++c) CHECK(std::abs(lab[static_cast<std::size_t>(c)] - r.lab[static_cast<std::size_t>(c)]) < 1e-3);
    }
}

TEST_CASE("lab_to_srgb inverts the reference values", "[data][color]") {
    for (const auto& r : references) {
        const auto rgb = latent::lab_to_srgb(r.lab[0], r.lab[1], r.lab[2]);
        INFO("lab " << r.lab[0] << " " << r.lab[1] << " " << r.lab[2] << " -> " << rgb[0] << " " << rgb[1] << " " << rgb[2]);
        // the references carry 4 decimals, so the inverse is good to about 1e-4 in sRGB
        for (int c = 0; c < 3; ++c) CHECK(std::abs(rgb[static_cast<std::size_t>(c)] - r.rgb[static_cast<std::size_t>(c)]) < 2e-4);
    }
}

TEST_CASE("greys have a = b = 0 and L grows with the grey level", "[data][color]") {
    double last = -1;
    for (int i = 0; i <= 20; ++i) {
        const double g = i / 20.0;
        const auto lab = latent::srgb_to_lab(g, g, g);
        CHECK(std::abs(lab[1]) < 1e-3);
        CHECK(std::abs(lab[2]) < 1e-3);
        CHECK(lab[0] > last);
        last = lab[0];
    }
}

TEST_CASE("sRGB -> Lab -> sRGB round-trips over a grid of colours", "[data][color]") {
    double worst = 0;
    for (int r = 0; r <= 10; ++r)
        for (int g = 0; g <= 10; ++g)
            for (int b = 0; b <= 10; ++b) {
                const std::array<double, 3> rgb{r / 10.0, g / 10.0, b / 10.0};
                const auto lab = latent::srgb_to_lab(rgb[0], rgb[1], rgb[2]);
                const auto back = latent::lab_to_srgb(lab[0], lab[1], lab[2]);
                for (std::size_t c = 0; c < 3; ++c) worst = std::max(worst, std::abs(back[c] - rgb[c]));
            }
    CHECK(worst < 1e-9);
}

TEST_CASE("image srgb_to_lab / lab_to_srgb: channel-major layout, round trip, clipping", "[data][color]") {
    const Shape shape{3, 2, 3};
    const Index plane = 6;
    latent::Matrix<double> rgb(18, 2);
    latent::Rng rng(7);
    for (Index j = 0; j < rgb.cols(); ++j)
        for (Index i = 0; i < rgb.rows(); ++i) rgb(i, j) = rng.uniform();
    rgb(0 * plane + 4, 1) = 1;  // image 1, pixel 4 is pure red
    rgb(1 * plane + 4, 1) = 0;
    rgb(2 * plane + 4, 1) = 0;

    const latent::Matrix<double> lab = latent::srgb_to_lab(rgb, shape);
    REQUIRE(lab.rows() == 18);
    REQUIRE(lab.cols() == 2);
    CHECK(std::abs(lab(0 * plane + 4, 1) - 53.2408) < 1e-3);
    CHECK(std::abs(lab(1 * plane + 4, 1) - 80.0925) < 1e-3);
    CHECK(std::abs(lab(2 * plane + 4, 1) - 67.2032) < 1e-3);
    // every pixel agrees with the per-pixel function
    for (Index j = 0; j < 2; ++j)
        for (Index p = 0; p < plane; ++p) {
            const auto one = latent::srgb_to_lab(rgb(p, j), rgb(plane + p, j), rgb(2 * plane + p, j));
            for (Index c = 0; c < 3; ++c) CHECK(lab(c * plane + p, j) == one[static_cast<std::size_t>(c)]);
        }
    const latent::Matrix<double> back = latent::lab_to_srgb(lab, shape);
    CHECK((back - rgb).cwiseAbs().maxCoeff() < 1e-9);

    // float works too, to float precision
    const latent::Matrix<float> rgbf = rgb.cast<float>();
    const latent::Matrix<float> backf = latent::lab_to_srgb(latent::srgb_to_lab(rgbf, shape), shape);
    CHECK((backf - rgbf).cwiseAbs().maxCoeff() < 1e-4f);

    // out of gamut: L 50 with a huge a is no sRGB colour; the image version clips to [0, 1]
    latent::Matrix<double> wild = lab;
    wild(1 * plane + 0, 0) = 120;
    wild(2 * plane + 0, 0) = -120;
    const auto raw = latent::lab_to_srgb(wild(0, 0), 120.0, -120.0);
    CHECK((raw[0] > 1 || raw[1] < 0 || raw[2] > 1));
    const latent::Matrix<double> clipped = latent::lab_to_srgb(wild, shape);
    CHECK(clipped.minCoeff() >= 0.0);
    CHECK(clipped.maxCoeff() <= 1.0);
}

TEST_CASE("colour conversion rejects bad shapes and bad values, naming them", "[data][color]") {
    latent::Matrix<float> rgb = latent::Matrix<float>::Constant(12, 1, 0.5f);
    // not three channels
    LATENT_CHECK_THROWS_WITH_ALL(latent::srgb_to_lab(rgb, Shape{1, 2, 6}), latent::ShapeError, "3 channels", "1x2x6");
    LATENT_CHECK_THROWS_WITH_ALL(latent::lab_to_srgb(rgb, Shape{4, 1, 3}), latent::ShapeError, "3 channels");
    // rows do not match the shape
    LATENT_CHECK_THROWS_WITH_ALL(latent::srgb_to_lab(rgb, Shape{3, 2, 3}), latent::ShapeError, "expected 18", "found 12");
    LATENT_CHECK_THROWS_WITH_ALL(latent::lab_to_srgb(rgb, Shape{3, 3, 3}), latent::ShapeError, "expected 27", "found 12");
    // values: out of [0, 1], NaN, infinity
    rgb(5, 0) = 1.5f;  // channel 1, pixel 1 of 2x2 -> (y 0, x 1)
    LATENT_CHECK_THROWS_WITH_ALL(latent::srgb_to_lab(rgb, Shape{3, 2, 2}), latent::DataError, "[0, 1]", "1.5", "channel 1",
                                 "y 0, x 1");
    rgb(5, 0) = -0.25f;
    LATENT_CHECK_THROWS_WITH_ALL(latent::srgb_to_lab(rgb, Shape{3, 2, 2}), latent::DataError, "-0.25");
    rgb(5, 0) = std::numeric_limits<float>::quiet_NaN();
    LATENT_CHECK_THROWS_WITH_ALL(latent::srgb_to_lab(rgb, Shape{3, 2, 2}), latent::DataError, "nan");
    latent::Matrix<float> lab = latent::Matrix<float>::Constant(12, 1, 10.0f);
    lab(11, 0) = std::numeric_limits<float>::infinity();
    LATENT_CHECK_THROWS_WITH_ALL(latent::lab_to_srgb(lab, Shape{3, 2, 2}), latent::DataError, "finite", "inf", "channel 2");
}
