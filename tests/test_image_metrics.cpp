// Image metrics (metrics/image_metrics.hpp): MSE, PSNR and SSIM per image, with a
// golden SSIM from an independent PyTorch implementation (tests/golden/conv_golden.py).
#include "conv_support.hpp"
#include "golden/conv_golden_values.hpp"

#include <algorithm>
#include <cmath>

#include <latent/data/corruption.hpp>
#include <latent/metrics/image_metrics.hpp>

using conv_test::fill;
using latent::Corruption;
using latent::Shape;
using MatF = latent::Matrix<float>;
using MatD = latent::Matrix<double>;

namespace {
// |a - b| <= rel * max(|a|, |b|, 1)
bool near(double a, double b, double rel) { return std::abs(a - b) <= rel * std::max({std::abs(a), std::abs(b), 1.0}); }
}  // namespace

TEST_CASE("MSE and PSNR per image, averaged", "[metrics]") {
    MatF a = MatF::Zero(100, 2), b = MatF::Zero(100, 2);
    b.col(0).setConstant(0.1f);   // MSE 0.01 -> 20 dB
    b.col(1).setConstant(0.01f);  // MSE 1e-4 -> 40 dB
    CHECK(std::abs(latent::mse(a, b) - (0.01 + 1e-4) / 2) < 1e-8);
    const auto per = latent::psnr_per_image(a, b);
    CHECK(near(per(0), 20.0, 1e-5));
    CHECK(near(per(1), 40.0, 1e-5));
    CHECK(near(latent::psnr(a, b), 30.0, 1e-5));
    CHECK(near(latent::psnr(a, a), 120.0, 1e-9));  // documented floor, not infinity
    CHECK(near(latent::psnr(a, b, 255.0), 30.0 + 20 * std::log10(255.0), 1e-5));
    CHECK_THROWS_AS(latent::psnr(a, MatF(MatF::Zero(100, 3))), latent::ShapeError);
    CHECK_THROWS_AS(latent::mse(MatF(0, 0), MatF(0, 0)), latent::DataError);
}

TEST_CASE("SSIM matches an independent PyTorch implementation (Gaussian 11x11, sigma 1.5)", "[metrics][golden]") {
    const Shape shape{2, 13, 16};
    const MatD a = (0.5 + 0.4 * fill(shape.size(), 3, 0.37, 0.1).array()).matrix();
    const MatD b = (a.array() + 0.15 * fill(shape.size(), 3, 0.91, 0.6).array()).cwiseMax(0.0).cwiseMin(1.0).matrix();
    const auto s = latent::ssim_per_image(a, b, shape);
    CHECK(conv_test::max_abs_diff(s, golden::ssim_ssim) < 1e-12);
    CHECK(conv_test::max_abs_diff(latent::psnr_per_image(a, b), golden::ssim_psnr) < 1e-10);
    CHECK(near(latent::ssim(a, a, shape), 1.0, 1e-12));
    // float input, same answer to float precision
    CHECK(near(latent::ssim(MatF(a.cast<float>()), MatF(b.cast<float>()), shape), s.mean(), 1e-5));
    CHECK_THROWS_AS(latent::ssim(a, b, Shape{2, 8, 26}), latent::ShapeError);   // smaller than the window
    CHECK_THROWS_AS(latent::ssim(a, b, Shape{1, 13, 16}), latent::ShapeError);  // wrong size
}

TEST_CASE("SSIM falls as noise grows; PSNR of noisy images tracks sigma", "[metrics]") {
    latent::Rng rng(5);
    MatF clean(28 * 28, 20);
    rng.fill_uniform(clean);
    double last_ssim = 1.0;
    for (double sigma : {0.05, 0.1, 0.3}) {
        const MatF noisy = Corruption::gaussian(sigma, false).apply(clean, rng);
        const double p = latent::psnr(clean, noisy), s = latent::ssim(clean, noisy, Shape{1, 28, 28});
        CHECK(std::abs((p) - (-20 * std::log10(sigma))) < 0.2);
        CHECK(s < last_ssim);
        last_ssim = s;
    }
}
