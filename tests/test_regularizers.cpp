// losses/regularizers.hpp (weight L1/L2) and the penalties in a model: the
// whole autoencoder objective (loss + penalties) checked against its
// gradient, the builder's placement, training vs inference. The penalty
// layers have their own files (test_activity_penalty, test_contractive_dense).
#include "support.hpp"

#include <latent/latent.hpp>

using namespace latent;
using latent::testing::build_standalone;
using latent::testing::check_gradient;
using latent::testing::check_layer;
using latent_test::MatD;
using latent_test::random_away_from;
using latent_test::VecD;

TEST_CASE("WeightPenalty: l1 and l2 value and gradient, biases untouched", "[regularizers]") {
    Rng rng(1);
    Sequential<double> s;
    s.add<Dense<double>>(3).add<Dense<double>>(2);
    ParamBuffer<double> p;
    build_standalone(s, Shape{4}, p, rng);
    rng.fill_uniform(p.values(), -1, 1);
    const auto views = s.parameters();  // 0.weight, 0.bias, 1.weight, 1.bias
    REQUIRE(views.size() == 4);
    CHECK(views[0].decay);
    CHECK_FALSE(views[1].decay);

    WeightPenalty<double> wp{0.01, 0.2};
    double l1 = 0, l2 = 0;
    for (int k : {0, 2}) {
        l1 += views[k].value.cwiseAbs().sum();
        l2 += views[k].value.squaredNorm();
    }
    p.zero_grad();
    const double v = wp.apply(p, true);
    CHECK(v == Approx(0.01 * l1 + 0.2 * l2).epsilon(1e-14));
    // gradient by hand
    const MatD g0 = 0.01 * views[0].value.array().sign().matrix() + 0.4 * views[0].value;
    CHECK(views[0].grad.isApprox(g0, 1e-14));
    CHECK(views[1].grad.isZero(0));
    CHECK(views[3].grad.isZero(0));
    // and by differences
    const VecD analytic = p.grads();
    auto f = [&](const VecD& w) {
        p.values() = w;
        return wp.apply(p, false);
    };
    LATENT_CHECK_GRADIENT(check_gradient(f, p.values(), analytic));
    // without add_grad, no gradient; inactive: 0
    p.zero_grad();
    wp.apply(p, false);
    CHECK(p.grads().isZero(0));
    CHECK(WeightPenalty<double>{}.apply(p, true) == 0.0);
    CHECK_FALSE(WeightPenalty<double>{}.active());
}

namespace {

// The autoencoder's whole objective as a function of its flat parameters:
// what train_batch returns, and its gradient.
void check_objective(Autoencoder<double>& ae, const MatD& x, const MatD& y, const MatD* mask = nullptr) {
    auto& params = ae.params();
    const VecD theta = params.values();
    params.zero_grad();
    ae.train_batch(x, y, mask);
    const VecD analytic = params.grads();
    auto f = [&](const VecD& w) {
        params.values() = w;
        params.zero_grad();
        return static_cast<double>(ae.train_batch(x, y, mask));
    };
    LATENT_CHECK_GRADIENT(check_gradient(f, theta, analytic));
    params.values() = theta;
}

}  // namespace

TEST_CASE("autoencoder objective with penalties: gradient check", "[regularizers][gradcheck][models]") {
    Rng rng(7);
    const MatD x = random_away_from(8, 5, rng, 0.05, 0.95);
    DenseAutoencoderOptions o;
    o.sizes = {8, 5, 3};
    o.hidden = Act::tanh;
    SECTION("L1 activity + weight penalty") {
        o.code = Act::tanh;
        o.l1_activity = 0.05;
        auto ae = make_dense_autoencoder<double>(o, rng);
        ae.set_weight_penalty({0.001, 0.01});
        check_objective(ae, x, x);
    }
    SECTION("KL sparsity on a sigmoid code, BCE loss") {
        o.code = Act::sigmoid;
        o.kl_rho = 0.05;
        o.kl_beta = 0.5;
        auto ae = make_dense_autoencoder<double>(o, rng);
        ae.set_loss(std::make_unique<BCELoss<double>>());
        check_objective(ae, x, x);
    }
    SECTION("contractive, with a mask") {
        o.sizes = {8, 4};
        o.contractive = 0.3;
        auto ae = make_dense_autoencoder<double>(o, rng);
        MatD mask = MatD::Ones(8, 5);
        mask(2, 1) = 0;
        mask(7, 4) = 0;
        check_objective(ae, x, x, &mask);
    }
    SECTION("tied weights, sum-over-features MSE, L2") {
        o.tied = true;
        auto ae = make_dense_autoencoder<double>(o, rng);
        ae.set_loss(std::make_unique<MSELoss<double>>(Reduction::sum_features));
        ae.set_weight_penalty({0.0, 0.05});
        check_objective(ae, x, x);
    }
    SECTION("input-to-target pairs") {
        o.output = Act::identity;
        auto ae = make_dense_autoencoder<double>(o, rng);
        const MatD y = MatD::Random(8, 5);
        check_objective(ae, x, y);
    }
}

TEST_CASE("the builder places the regularizers", "[regularizers][models]") {
    Rng rng(8);
    DenseAutoencoderOptions o;
    o.sizes = {10, 6};
    o.code = Act::sigmoid;
    o.l1_activity = 0.1;
    o.kl_rho = 0.05;
    o.kl_beta = 1;
    auto ae = make_dense_autoencoder<double>(o, rng);
    auto& enc = static_cast<Sequential<double>&>(ae.encoder());
    REQUIRE(enc.size() == 4);
    CHECK(enc[0].type() == "Dense");
    CHECK(enc[1].type() == "Activation");
    CHECK(enc[2].type() == "ActivityL1");
    CHECK(enc[3].type() == "KLSparsity");

    o.l1_activity = 0;
    o.kl_beta = 0;
    o.contractive = 0.1;
    auto cae = make_dense_autoencoder<double>(o, rng);
    CHECK(static_cast<Sequential<double>&>(cae.encoder())[0].type() == "ContractiveDense");
    o.sizes = {10, 6, 3};
    CHECK_THROWS_AS(make_dense_autoencoder<double>(o, rng), ConfigError);
    o.sizes = {10, 6};
    o.tied = true;
    CHECK_THROWS_AS(make_dense_autoencoder<double>(o, rng), ConfigError);
}

TEST_CASE("penalties count in the training loss, not in inference", "[regularizers][models]") {
    Rng rng(9);
    DenseAutoencoderOptions o;
    o.sizes = {6, 3};
    o.code = Act::sigmoid;
    o.l1_activity = 0.5;
    auto ae = make_dense_autoencoder<double>(o, rng);
    const MatD x = random_away_from(6, 4, rng, 0.1, 0.9);
    const double train = ae.train_batch(x, x, nullptr);
    const double eval = ae.eval_batch(x, x, nullptr);
    const MatD code = ae.encode(x);
    CHECK(train == Approx(eval + 0.5 * code.cwiseAbs().sum() / 4).epsilon(1e-12));
}
