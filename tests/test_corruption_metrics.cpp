// Corruption (Gaussian, masking, salt-and-pepper) and image metrics (MSE,
// PSNR, SSIM), with a golden SSIM from an independent PyTorch implementation
// (tests/golden/conv_golden.py).
#include "conv_support.hpp"
#include "golden/conv_golden_values.hpp"

#include <latent/data/corruption.hpp>
#include <latent/metrics/image_metrics.hpp>

using conv_test::fill;
using latent::Corruption;
using latent::Index;
using latent::Shape;
using MatF = latent::Matrix<float>;
using MatD = latent::Matrix<double>;

namespace {
// |a - b| <= rel * max(|a|, |b|, 1)
bool near(double a, double b, double rel) { return std::abs(a - b) <= rel * std::max({std::abs(a), std::abs(b), 1.0}); }
}  // namespace

TEST_CASE("Gaussian corruption: mean, spread, clipping, seeding", "[corruption]") {
    MatD x = MatD::Constant(200, 100, 0.5);
    latent::Rng rng(1);
    Corruption::gaussian(0.1, false)(x, rng);
    const double mean = x.mean() - 0.5;
    const double sd = std::sqrt((x.array() - 0.5).square().mean());
    CHECK(std::abs(mean) < 0.003);
    CHECK(std::abs(sd - 0.1) < 0.003);

    MatF y = MatF::Constant(100, 100, 0.5f);
    latent::Rng r2(2);
    Corruption::gaussian(0.5)(y, r2);
    CHECK(y.minCoeff() == 0.0f);
    CHECK(y.maxCoeff() == 1.0f);
    // clipped fraction at each end: P(N(0, .5) > .5) = 15.9%
    const double at_one = (y.array() == 1.0f).cast<double>().mean();
    CHECK(std::abs(at_one - 0.1587) < 0.015);

    // Same seed, same corruption; another seed, another.
    latent::Rng a(7), b(7), c(8);
    const MatF base = MatF::Constant(10, 10, 0.3f);
    const Corruption g = Corruption::gaussian(0.2);
    CHECK(g.apply(base, a) == g.apply(base, b));
    latent::Rng a2(7);
    CHECK(g.apply(base, a2) != g.apply(base, c));
}

TEST_CASE("masking and salt-and-pepper corruption hit the requested fraction", "[corruption]") {
    latent::Rng rng(3);
    MatD x = MatD::Constant(100, 200, 0.4);
    Corruption::masking(0.3)(x, rng);
    const double zeros = (x.array() == 0.0).cast<double>().mean();
    CHECK(std::abs(zeros - 0.3) < 0.01);
    CHECK(((x.array() == 0.0) || (x.array() == 0.4)).all());

    MatD y = MatD::Constant(100, 200, 0.4);
    Corruption::parse("saltpepper", 0.2)(y, rng);
    const double lo = (y.array() == 0.0).cast<double>().mean(), hi = (y.array() == 1.0).cast<double>().mean();
    CHECK(std::abs(lo - 0.1) < 0.01);
    CHECK(std::abs(hi - 0.1) < 0.01);
    CHECK(((y.array() == 0.0) || (y.array() == 1.0) || (y.array() == 0.4)).all());

    CHECK_THROWS_AS(Corruption::masking(1.5), latent::ConfigError);
    CHECK_THROWS_AS(Corruption::gaussian(-1), latent::ConfigError);
    CHECK_THROWS_AS(Corruption::parse("blur", 0.1), latent::ConfigError);
    CHECK(Corruption::parse("gaussian", 0.3).name() == "gaussian");
}

TEST_CASE("a Corruption is fit()'s input transform: inputs corrupted afresh, targets clean", "[corruption][e2e]") {
    // A model that records what it is trained on.
    struct Recorder : latent::Trainable<float> {
        latent::ParamBuffer<float> buffer;
        latent::ParamSlot<float> slot{"w", 1, 1, latent::Init::zeros()};
        std::vector<MatF> inputs, targets;
        Recorder() { buffer.bind({{"w", &slot}}); }
        latent::ParamBuffer<float>& params() override { return buffer; }
        float train_batch(const MatF& x, const MatF& y, const MatF*) override {
            inputs.push_back(x);
            targets.push_back(y);
            return 0.0f;
        }
        float eval_batch(const MatF&, const MatF&, const MatF*) override { return 0.0f; }
        Index input_size() const override { return 16; }
        Index target_size() const override { return 16; }
    } model;
    const MatF x = MatF::Constant(16, 8, 0.5f);
    latent::SGD<float> sgd(0.1);
    latent::FitOptions<float> o;
    o.epochs = 2;
    o.batch_size = 8;
    o.shuffle = false;
    o.progress = false;
    o.print_epochs = false;
    o.input_transform = Corruption::masking(0.5);
    latent::fit(model, sgd, x, o);
    REQUIRE(model.inputs.size() == 2);
    CHECK(model.targets[0] == x);
    CHECK(model.targets[1] == x);
    CHECK(model.inputs[0] != x);
    CHECK(model.inputs[0] != model.inputs[1]);  // a fresh draw each epoch
}

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
