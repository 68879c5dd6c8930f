// Corruption (data/corruption.hpp): Gaussian noise (mean, spread, clipping,
// seeding), masking and salt-and-pepper fractions, and fit()'s input transform.
#include "catch.hpp"

#include <cmath>

#include <latent/latent.hpp>
#include <latent/data/corruption.hpp>

using latent::Corruption;
using latent::Index;
using MatF = latent::Matrix<float>;
using MatD = latent::Matrix<double>;

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
