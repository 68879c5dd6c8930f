// data/image_filter.hpp: Gaussian smoothing of image batches against a
// direct 2-D convolution with reflected borders, and its invariants.
#include "support.hpp"

#include <cmath>

#include <latent/data/image_filter.hpp>

using namespace latent;

namespace {

// The 2-D Gaussian applied directly (not separably), borders reflected.
double direct(const Matrix<double>& img, Index col, Shape s, Index c, Index y, Index x, double sigma) {
    const int r = static_cast<int>(std::floor(4 * sigma + 0.5));
    double total = 0, acc = 0;
    for (int dy = -r; dy <= r; ++dy)
        for (int dx = -r; dx <= r; ++dx) total += std::exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
    for (int dy = -r; dy <= r; ++dy)
        for (int dx = -r; dx <= r; ++dx) {
            Index yy = y + dy, xx = x + dx;
            while (yy < 0 || yy >= s.h) yy = yy < 0 ? -yy - 1 : 2 * s.h - yy - 1;
            while (xx < 0 || xx >= s.w) xx = xx < 0 ? -xx - 1 : 2 * s.w - xx - 1;
            acc += std::exp(-(dx * dx + dy * dy) / (2 * sigma * sigma)) * img(c * s.h * s.w + yy * s.w + xx, col);
        }
    return acc / total;
}

}  // namespace

TEST_CASE("gaussian_blur equals the direct 2-D filter with reflected borders", "[data][image_filter]") {
    const Shape s{2, 5, 7};
    Matrix<double> img(s.size(), 3);
    Rng rng(1);
    rng.fill_uniform(img);
    for (double sigma : {0.5, 1.0, 2.0}) {  // 2.0: the kernel is wider than the image (reflected more than once)
        const Matrix<double> out = gaussian_blur(img, s, sigma);
        for (Index j = 0; j < 3; ++j)
            for (Index c = 0; c < s.c; ++c)
                for (Index y = 0; y < s.h; ++y)
                    for (Index x = 0; x < s.w; ++x) {
                        INFO("sigma " << sigma << " at " << c << "," << y << "," << x);
                        CHECK(out(c * 35 + y * 7 + x, j) == Approx(direct(img, j, s, c, y, x, sigma)).epsilon(1e-12));
                    }
    }
}

TEST_CASE("gaussian_blur keeps constants, sums and channels apart; sigma 0 copies; bad input throws", "[data][image_filter]") {
    const Shape s{2, 9, 9};
    Matrix<float> flat = Matrix<float>::Constant(s.size(), 2, 0.25f);
    CHECK(gaussian_blur(flat, s, 1.3).isApprox(flat, 1e-6f));
    Matrix<double> impulse = Matrix<double>::Zero(s.size(), 1);
    impulse(4 * 9 + 4, 0) = 1.0;  // centre of channel 0; radius 4 at sigma 1 stays inside
    const Matrix<double> spread = gaussian_blur(impulse, s, 1.0);
    CHECK(spread.topRows(81).sum() == Approx(1.0).epsilon(1e-12));
    CHECK(spread.bottomRows(81).isZero());                   // the other channel is untouched
    CHECK(spread(4 * 9 + 3, 0) == Approx(spread(3 * 9 + 4, 0)));  // isotropic
    CHECK(gaussian_blur(impulse, s, 0.0) == impulse);
    CHECK_THROWS_AS(gaussian_blur(impulse, Shape{1, 9, 9}, 1.0), ShapeError);
    CHECK_THROWS_AS(gaussian_blur(impulse, s, -0.5), ConfigError);
    CHECK_THROWS_AS(gaussian_blur(impulse, s, std::nan("")), ConfigError);
}
