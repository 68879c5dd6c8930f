// Variational autoencoders: the KL term (values, Monte-Carlo agreement,
// gradients, free bits), likelihoods, gradient checks through the whole VAE
// loss with a fixed noise draw, beta / warm-up / reduction, ELBO and IWAE
// estimates, active units, generation helpers, save/load, reproducibility and
// a small end-to-end run.
#include "support.hpp"

#include <cstdio>
#include <limits>
#include <memory>

#include <latent/latent.hpp>

using namespace latent;
using latent::testing::check_gradient;
using latent_test::MatD;
using latent_test::VecD;

namespace {

// A small dense VAE in double: in -> hidden (tanh, smooth for finite
// differences) -> 2*latent; latent -> hidden -> k*in.
VariationalAutoencoder<double> small_vae(Index in, Index hidden, Index latent, Likelihood lik, std::uint64_t seed = 7) {
    Rng rng(seed);
    auto vae = make_dense_vae<double>({in, hidden, latent}, rng, lik, Act::tanh);
    return vae;
}

MatD binary_data(Index rows, Index cols, Rng& rng) {
    MatD x(rows, cols);
    for (Index j = 0; j < cols; ++j)
        for (Index i = 0; i < rows; ++i) x(i, j) = rng.bernoulli(0.4) ? 1.0 : 0.0;
    return x;
}

// The training objective at the current parameters with a fixed noise draw
// (the training generator reseeded before every evaluation) and a fixed
// warm-up position; fills the gradient when asked.
double objective(VariationalAutoencoder<double>& vae, const MatD& x, std::uint64_t noise_seed, long step, VecD* grad = nullptr) {
    vae.network().rng().reseed(noise_seed);
    vae.set_train_steps(step);
    vae.params().zero_grad();
    const double loss = vae.train_batch(x, x, nullptr);
    if (grad) *grad = vae.params().grads();
    return loss;
}

testing::GradientReport check_vae(VariationalAutoencoder<double>& vae, const MatD& x, long step = 0) {
    VecD analytic;
    objective(vae, x, 99, step, &analytic);
    const VecD w0 = vae.params().values();
    auto f = [&](const VecD& w) {
        vae.params().values() = w;
        return objective(vae, x, 99, step);
    };
    auto rep = check_gradient(f, w0, analytic, 1e-4, "param");
    vae.params().values() = w0;
    return rep;
}

}  // namespace

// ---------------------------------------------------------------- KL

TEST_CASE("KL is zero at the prior and matches hand values", "[vae][kl]") {
    const MatD zero = MatD::Zero(5, 3);
    CHECK(gaussian_kl(zero, zero) == 0.0);
    CHECK(gaussian_kl_per_sample(zero, zero).cwiseAbs().maxCoeff() == 0.0);

    // mu = 1, logvar = 0 in 3 dims: 0.5 * 3 = 1.5 nats per example.
    // mu = 0, logvar = log 4 in 1 dim: 0.5 (4 - 1 - log 4) = 0.8068528...
    MatD mu = MatD::Ones(3, 2), lv = MatD::Zero(3, 2);
    CHECK(gaussian_kl(mu, lv) == Approx(1.5).epsilon(1e-15));
    MatD mu1 = MatD::Zero(1, 1), lv1 = MatD::Constant(1, 1, std::log(4.0));
    CHECK(gaussian_kl(mu1, lv1) == Approx(0.5 * (3.0 - std::log(4.0))).epsilon(1e-14));

    // logvar is the log-VARIANCE: sigma = 2 means logvar = log 4, not log 2.
    MatD lv_std = MatD::Constant(1, 1, std::log(2.0));
    CHECK(gaussian_kl(mu1, lv_std) != Approx(gaussian_kl(mu1, lv1)));
}

TEST_CASE("KL reduction: sum over latent dimensions, mean over the batch", "[vae][kl]") {
    Rng rng(3);
    MatD mu(4, 6), lv(4, 6);
    rng.fill_normal(mu);
    rng.fill_normal(lv, 0.0, 0.5);
    const MatD el = gaussian_kl_elementwise(mu, lv);
    double by_hand = 0;
    for (Index j = 0; j < 6; ++j)
        for (Index i = 0; i < 4; ++i) by_hand += 0.5 * (mu(i, j) * mu(i, j) + std::exp(lv(i, j)) - 1 - lv(i, j));
    CHECK(el.sum() == Approx(by_hand).epsilon(1e-14));
    CHECK(gaussian_kl(mu, lv) == Approx(by_hand / 6).epsilon(1e-14));
    CHECK(gaussian_kl_per_sample(mu, lv).sum() == Approx(by_hand).epsilon(1e-14));
    CHECK(gaussian_kl_per_dim(mu, lv).sum() == Approx(by_hand / 6).epsilon(1e-14));
    // Duplicating the batch leaves the per-example value unchanged.
    MatD mu2(4, 12), lv2(4, 12);
    mu2 << mu, mu;
    lv2 << lv, lv;
    CHECK(gaussian_kl(mu2, lv2) == Approx(gaussian_kl(mu, lv)).epsilon(1e-14));
}

TEST_CASE("Analytic KL equals a Monte-Carlo estimate", "[vae][kl]") {
    Rng rng(11);
    const Index dims = 3, draws = 400000;
    MatD mu(dims, 1), lv(dims, 1);
    mu << 0.7, -1.2, 0.1;
    lv << -0.5, 0.8, -2.0;
    const double analytic = gaussian_kl(mu, lv);
    // KL = E_q[log q(z) - log p(z)], z ~ q, with the full densities (log 2 pi included on both sides).
    const double half_log_2pi = 0.5 * std::log(2 * 3.14159265358979323846);
    double sum = 0, sum_sq = 0;
    for (Index n = 0; n < draws; ++n) {
        double v = 0;
        for (Index j = 0; j < dims; ++j) {
            const double s = std::exp(0.5 * lv(j)), e = rng.normal(), z = mu(j) + s * e;
            const double log_q = -0.5 * e * e - std::log(s) - half_log_2pi;
            const double log_p = -0.5 * z * z - half_log_2pi;
            v += log_q - log_p;
        }
        sum += v;
        sum_sq += v * v;
    }
    const double mean = sum / draws, se = std::sqrt((sum_sq / draws - mean * mean) / draws);
    INFO("analytic " << analytic << ", Monte-Carlo " << mean << " +- " << se);
    CHECK(std::abs(mean - analytic) < 4 * se);
    CHECK(se < 0.01 * analytic);

    // The library's Monte-Carlo helper agrees on the same kind of draws.
    MatD mus = mu.replicate(1, 50000), lvs = lv.replicate(1, 50000), eps(dims, 50000);
    rng.fill_normal(eps);
    const MatD z = mus.array() + (0.5 * lvs.array()).exp() * eps.array();
    CHECK(gaussian_kl_monte_carlo(lvs, eps, z) == Approx(analytic).epsilon(0.02));
}

TEST_CASE("KL gradients in mu and logvar", "[vae][kl][gradcheck]") {
    Rng rng(5);
    for (Index dims : {3, 12}) {
        const Index batch = dims == 12 ? 10 : 4;  // 120 entries each in the larger case
        MatD mu(dims, batch), lv(dims, batch);
        rng.fill_normal(mu);
        rng.fill_normal(lv, 0.0, 0.7);
        const double scale = 1.7;
        MatD dmu, dlv;
        gaussian_kl(mu, lv, &dmu, &dlv, scale);
        auto f_mu = [&](const VecD& v) { return scale * gaussian_kl(MatD(Eigen::Map<const MatD>(v.data(), dims, batch)), lv); };
        auto f_lv = [&](const VecD& v) { return scale * gaussian_kl(mu, MatD(Eigen::Map<const MatD>(v.data(), dims, batch))); };
        LATENT_CHECK_GRADIENT(check_gradient(f_mu, Eigen::Map<const VecD>(mu.data(), mu.size()),
                                             Eigen::Map<const VecD>(dmu.data(), dmu.size()), 1e-4, "mu"));
        LATENT_CHECK_GRADIENT(check_gradient(f_lv, Eigen::Map<const VecD>(lv.data(), lv.size()),
                                             Eigen::Map<const VecD>(dlv.data(), dlv.size()), 1e-4, "logvar"));
    }
}

TEST_CASE("Free bits: sum_j max(lambda, batch-mean KL_j), no gradient below the floor", "[vae][kl][gradcheck]") {
    Rng rng(8);
    MatD mu(6, 5), lv(6, 5);
    rng.fill_normal(mu);
    rng.fill_normal(lv, 0.0, 0.5);
    mu.row(2) *= 0.05;  // dimensions 2 and 4 carry almost no information
    lv.row(2) *= 0.05;
    mu.row(4) *= 0.05;
    lv.row(4) *= 0.05;
    const VecD per_dim = gaussian_kl_per_dim(mu, lv);
    const double lambda = 0.1;
    REQUIRE(per_dim(2) < lambda);
    REQUIRE(per_dim(4) < lambda);
    for (Index j = 0; j < 6; ++j) REQUIRE(std::abs(per_dim(j) - lambda) > 1e-3);  // away from the kink

    double expected = 0;
    for (Index j = 0; j < 6; ++j) expected += std::max(lambda, per_dim(j));
    MatD dmu, dlv;
    CHECK(free_bits_kl(mu, lv, lambda, &dmu, &dlv) == Approx(expected).epsilon(1e-14));
    CHECK(free_bits_kl(mu, lv, 0.0) == Approx(gaussian_kl(mu, lv)).epsilon(1e-14));
    CHECK(dmu.row(2).isZero(0));
    CHECK(dlv.row(4).isZero(0));
    CHECK(!dmu.row(0).isZero(0));

    auto f_mu = [&](const VecD& v) { return free_bits_kl(MatD(Eigen::Map<const MatD>(v.data(), 6, 5)), lv, lambda); };
    auto f_lv = [&](const VecD& v) { return free_bits_kl(mu, MatD(Eigen::Map<const MatD>(v.data(), 6, 5)), lambda); };
    LATENT_CHECK_GRADIENT(check_gradient(f_mu, Eigen::Map<const VecD>(mu.data(), 30), Eigen::Map<const VecD>(dmu.data(), 30), 1e-4, "mu"));
    LATENT_CHECK_GRADIENT(check_gradient(f_lv, Eigen::Map<const VecD>(lv.data(), 30), Eigen::Map<const VecD>(dlv.data(), 30), 1e-4, "logvar"));
    CHECK_THROWS_AS(free_bits_kl(mu, lv, -1.0), ConfigError);
}

// ---------------------------------------------------------------- likelihoods

TEST_CASE("Likelihoods: values, per-sample sums and gradients", "[vae][likelihood][gradcheck]") {
    Rng rng(21);
    const Index d = 7, b = 3;
    MatD x(d, b);
    rng.fill_uniform(x);
    const double pi = 3.14159265358979323846;
    for (Likelihood lik : {Likelihood::bernoulli(), Likelihood::gaussian(0.3), Likelihood::gaussian_learned()}) {
        DYNAMIC_SECTION(lik.name()) {
            MatD out(lik.outputs_per_feature() * d, b);
            rng.fill_normal(out);
            // hand value, entry by entry
            auto entry = [&](Index i, Index j) {
                const double o = out(i, j), t = x(i, j);
                switch (lik.kind()) {
                    case LikelihoodKind::bernoulli: {
                        const double p = 1 / (1 + std::exp(-o));
                        return -(t * std::log(p) + (1 - t) * std::log(1 - p));
                    }
                    case LikelihoodKind::gaussian: return (t - o) * (t - o) / (2 * 0.09) + 0.5 * std::log(2 * pi * 0.09);
                    case LikelihoodKind::gaussian_learned: {
                        const double v = out(d + i, j);
                        return 0.5 * ((t - o) * (t - o) / std::exp(v) + v + std::log(2 * pi));
                    }
                }
                return 0.0;
            };
            double hand = 0;
            for (Index j = 0; j < b; ++j)
                for (Index i = 0; i < d; ++i) hand += entry(i, j);
            MatD grad;
            VecD per;
            const double value = lik.neg_log_prob(out, x, &grad, 0.5, nullptr, &per);
            CHECK(value == Approx(hand).epsilon(1e-12));
            CHECK(per.size() == b);
            CHECK(per.sum() == Approx(hand).epsilon(1e-12));
            auto f = [&](const VecD& v) { return 0.5 * lik.neg_log_prob(MatD(Eigen::Map<const MatD>(v.data(), out.rows(), b)), x); };
            LATENT_CHECK_GRADIENT(check_gradient(f, Eigen::Map<const VecD>(out.data(), out.size()),
                                                 Eigen::Map<const VecD>(grad.data(), grad.size())));
            // A mask drops entries from the value and the gradient, even when they hold NaN.
            MatD mask = MatD::Ones(d, b);
            mask(2, 1) = 0;
            MatD xn = x;
            xn(2, 1) = std::numeric_limits<double>::quiet_NaN();
            MatD gm;
            const double masked = lik.neg_log_prob(out, xn, &gm, 1.0, &mask);
            CHECK(masked == Approx(hand - entry(2, 1)).epsilon(1e-12));
            CHECK(gm(2, 1) == 0.0);
            if (lik.outputs_per_feature() == 2) CHECK(gm(d + 2, 1) == 0.0);
            CHECK(gm(3, 1) == Approx(2 * grad(3, 1)).epsilon(1e-14));
        }
    }
    // The Bernoulli term is BCEWithLogits summed over features.
    MatD logits(d, b);
    rng.fill_normal(logits, 0.0, 3.0);
    BCEWithLogitsLoss<double> bce(Reduction::sum_features);
    CHECK(Likelihood::bernoulli().neg_log_prob(logits, x) / b == Approx(bce.evaluate(logits, x)).epsilon(1e-13));
    // Stable for huge logits.
    MatD big = MatD::Constant(d, b, 800.0);
    CHECK(std::isfinite(Likelihood::bernoulli().neg_log_prob(big, x)));
    CHECK(std::isfinite(Likelihood::bernoulli().neg_log_prob(MatD(-big), x)));
    CHECK(Likelihood::bernoulli().mean(MatD(-big)).maxCoeff() == 0.0);
    CHECK_THROWS_AS(Likelihood::bernoulli().neg_log_prob(MatD(d + 1, b), x), ShapeError);
    CHECK_THROWS_AS(Likelihood::gaussian(0.0), ConfigError);
}

// ---------------------------------------------------------------- whole-model gradient checks

TEST_CASE("Gradient check through the whole VAE loss with a fixed noise draw", "[vae][gradcheck]") {
    Rng rng(31);
    SECTION("bernoulli, beta 1") {
        auto vae = small_vae(10, 8, 3, Likelihood::bernoulli());
        REQUIRE(vae.params().size() > 100);
        const MatD x = binary_data(10, 5, rng);
        LATENT_CHECK_GRADIENT(check_vae(vae, x));
    }
    SECTION("bernoulli, beta 0.3, warm-up half way, continuous targets") {
        auto vae = small_vae(9, 6, 4, Likelihood::bernoulli());
        vae.set_beta(0.3);
        vae.set_kl_warmup(10);
        MatD x(9, 4);
        rng.fill_uniform(x);
        LATENT_CHECK_GRADIENT(check_vae(vae, x, 5));
    }
    SECTION("gaussian, fixed sigma") {
        auto vae = small_vae(8, 6, 2, Likelihood::gaussian(0.5));
        MatD x(8, 4);
        rng.fill_normal(x);
        LATENT_CHECK_GRADIENT(check_vae(vae, x));
    }
    SECTION("gaussian, learned variance") {
        auto vae = small_vae(8, 6, 2, Likelihood::gaussian_learned());
        MatD x(8, 4);
        rng.fill_normal(x);
        LATENT_CHECK_GRADIENT(check_vae(vae, x));
    }
    SECTION("free bits") {
        auto vae = small_vae(10, 8, 4, Likelihood::bernoulli());
        const MatD x = binary_data(10, 6, rng);
        const auto post = vae.encode(x);
        const VecD kl = gaussian_kl_per_dim(post.mu, post.logvar);
        // a floor in the widest gap between the dimensions' KLs, away from each
        VecD sorted = kl;
        std::sort(sorted.data(), sorted.data() + sorted.size());
        Index gap = 0;
        for (Index i = 1; i + 1 < sorted.size(); ++i)
            if (sorted(i + 1) - sorted(i) > sorted(gap + 1) - sorted(gap)) gap = i;
        const double lambda = 0.5 * (sorted(gap) + sorted(gap + 1));
        INFO("per-dimension KL " << kl.transpose() << ", lambda " << lambda);
        REQUIRE((kl.array() - lambda).abs().minCoeff() > 1e-4);
        vae.set_free_bits(lambda);
        LATENT_CHECK_GRADIENT(check_vae(vae, x));
    }
}

TEST_CASE("Gradient check through a convolutional VAE", "[vae][gradcheck][conv]") {
    // encoder: (1x6x6) conv 3x3 stride 2 pad 1 -> (3x3x3) -> flatten -> dense 2*3
    // decoder: 3 -> dense 27 -> reshape (3x3x3) -> transposed conv 4x4 stride 2 pad 1 -> (1x6x6) logits
    auto enc = std::make_unique<Sequential<double>>();
    enc->add<Conv2D<double>>(3, Size2(3), ConvOptions::padded(1, 2)).add<Activation<double>>(Act::tanh).add<Flatten<double>>().add<Dense<double>>(6);
    auto dec = std::make_unique<Sequential<double>>();
    dec->add<Dense<double>>(27).add<Activation<double>>(Act::tanh).add<Reshape<double>>(Shape{3, 3, 3}).add<ConvTranspose2D<double>>(
        1, Size2(4), ConvOptions::padded(1, 2));
    VariationalAutoencoder<double> vae(std::move(enc), std::move(dec));
    Rng rng(2);
    vae.build(Shape{1, 6, 6}, rng);
    CHECK(vae.latent_size() == 3);
    CHECK(vae.output_shape() == Shape(1, 6, 6));
    MatD x(36, 3);
    rng.fill_uniform(x);
    LATENT_CHECK_GRADIENT(check_vae(vae, x));
}

// ---------------------------------------------------------------- loss composition

TEST_CASE("VAE loss: reduction, parts, beta and warm-up", "[vae]") {
    Rng rng(41);
    auto vae = small_vae(12, 10, 3, Likelihood::bernoulli());
    const MatD x = binary_data(12, 8, rng);

    // The loss is recon + KL in nats per example, recomputed by hand from the same draw.
    const double loss = objective(vae, x, 5, 0);
    const auto parts = vae.loss_parts();
    REQUIRE(parts.size() == 2);
    CHECK(parts[0].first == "recon");
    CHECK(parts[1].first == "kl");
    const double recon = parts[0].second, kl = parts[1].second;
    CHECK(loss == Approx(recon + kl).epsilon(1e-14));
    const MatD eps = vae.sampler().noise();
    const MatD h = vae.encoder().forward(x, Mode::train);
    const MatD z = vae.sampler().sample(h, eps);
    const MatD logits = vae.decoder().forward(z, Mode::train);
    double bce = 0;
    for (Index j = 0; j < x.cols(); ++j)
        for (Index i = 0; i < x.rows(); ++i) {
            const double p = 1 / (1 + std::exp(-logits(i, j)));
            bce -= x(i, j) * std::log(p) + (1 - x(i, j)) * std::log(1 - p);
        }
    CHECK(recon == Approx(bce / 8).epsilon(1e-12));  // sum over pixels, mean over the batch
    CHECK(kl == Approx(gaussian_kl(h.topRows(3), h.bottomRows(3))).epsilon(1e-14));

    // Doubling beta doubles the KL part of the loss (same draw).
    vae.set_beta(2.0);
    const double loss2 = objective(vae, x, 5, 0);
    CHECK(vae.loss_parts()[0].second == Approx(recon).epsilon(1e-14));
    CHECK(loss2 - recon == Approx(2 * (loss - recon)).epsilon(1e-12));
    vae.set_beta(4.0);
    CHECK(objective(vae, x, 5, 0) - recon == Approx(4 * (loss - recon)).epsilon(1e-12));
    vae.set_beta(0.0);
    CHECK(objective(vae, x, 5, 0) == Approx(recon).epsilon(1e-14));

    // Warm-up: beta_t = beta * min(1, t / steps); the KL is still reported in full.
    vae.set_beta(2.0);
    vae.set_kl_warmup(8);
    vae.set_train_steps(0);
    CHECK(vae.current_beta() == 0.0);
    CHECK(objective(vae, x, 5, 0) == Approx(recon).epsilon(1e-14));
    CHECK(vae.loss_parts()[1].second == Approx(kl).epsilon(1e-14));
    CHECK(vae.train_steps() == 1);
    vae.set_train_steps(2);
    CHECK(vae.current_beta() == Approx(0.5));
    CHECK(objective(vae, x, 5, 4) - recon == Approx(1.0 * kl).epsilon(1e-12));  // t = 4: beta_t = 1
    vae.set_train_steps(100);
    CHECK(vae.current_beta() == 2.0);

    // eval_batch: the negative ELBO (beta 1, no free bits) whatever the training settings.
    vae.set_free_bits(5.0);
    Rng r1(77), r2(77);
    vae.eval_rng() = r1;
    const double e1 = vae.eval_batch(x, x, nullptr);
    const ElboEstimate est = vae.evaluate(x, r2, 256);
    CHECK(e1 == Approx(est.neg_elbo()).epsilon(1e-12));

    CHECK_THROWS_AS(vae.set_beta(-1), ConfigError);
    CHECK_THROWS_AS(vae.set_kl_warmup(-1), ConfigError);
    CHECK_THROWS_AS(vae.train_batch(MatD(11, 2), MatD(12, 2), nullptr), ShapeError);
}

// ---------------------------------------------------------------- evaluation

TEST_CASE("IWAE: k = 1 is the one-draw ELBO with a Monte-Carlo KL; k > 1 is tighter", "[vae][iwae]") {
    Rng rng(51);
    auto vae = small_vae(12, 10, 3, Likelihood::bernoulli());
    const MatD x = binary_data(12, 40, rng);

    // Same generator state, one chunk: the same eps for both.
    Rng ra(9), rb(9), rc(9);
    const ElboEstimate elbo = vae.evaluate(x, ra, 64);
    const double iw1 = vae.iwae(x, 1, rb, 64);
    MatD eps(3, 40);
    rc.fill_normal(eps);
    const auto post = vae.encode(x);
    const MatD z = post.mu.array() + (0.5 * post.logvar.array()).exp() * eps.array();
    const double mc_kl = gaussian_kl_monte_carlo(post.logvar, eps, z);
    CHECK(iw1 == Approx(elbo.recon + mc_kl).epsilon(1e-11));

    // Averaged over draws, k = 1 estimates the analytic negative ELBO.
    double mean_iw1 = 0, mean_elbo = 0;
    const int reps = 200;
    for (int r = 0; r < reps; ++r) {
        Rng g(1000 + r), g2(5000 + r);
        mean_iw1 += vae.iwae(x, 1, g) / reps;
        mean_elbo += vae.evaluate(x, g2).neg_elbo() / reps;
    }
    CHECK(mean_iw1 == Approx(mean_elbo).epsilon(0.01));

    // The importance-weighted bound is tighter: -log p(x) estimates decrease with k, below -ELBO.
    Rng g5(1), g50(2);
    const double iw5 = vae.iwae(x, 5, g5), iw50 = vae.iwae(x, 50, g50);
    INFO("-ELBO " << mean_elbo << ", IWAE k=5 " << iw5 << ", k=50 " << iw50);
    CHECK(iw5 < mean_elbo);
    CHECK(iw50 < iw5);
    // per-sample values average to the mean
    Rng g(3), gg(3);
    CHECK(vae.iwae_per_sample(x, 4, g).mean() == Approx(vae.iwae(x, 4, gg)).epsilon(1e-14));
    CHECK_THROWS_AS(vae.iwae(x, 0, g), ConfigError);
}

TEST_CASE("IWAE is numerically stable for very unlikely data", "[vae][iwae]") {
    // Gaussian likelihood with a tiny sigma: log weights around -1e8, far
    // beyond exp's range; the log-sum-exp keeps the estimate finite.
    auto vae = small_vae(6, 5, 2, Likelihood::gaussian(1e-3));
    MatD x = MatD::Constant(6, 4, 50.0);
    Rng rng(1), rng2(1);
    const double iw = vae.iwae(x, 20, rng);
    const double elbo = vae.evaluate(x, rng2).neg_elbo();
    INFO("IWAE " << iw << ", -ELBO " << elbo);
    CHECK(std::isfinite(iw));
    CHECK(iw > 1e6);
    CHECK(iw <= elbo * (1 + 1e-6));
}

TEST_CASE("Per-dimension KL and active units", "[vae]") {
    Rng rng(61);
    auto vae = small_vae(12, 10, 4, Likelihood::bernoulli());
    const MatD x = binary_data(12, 50, rng);
    const auto post = vae.encode(x);
    const VecD kl = vae.kl_per_dim(x);
    CHECK(kl.size() == 4);
    CHECK(kl.sum() == Approx(gaussian_kl(post.mu, post.logvar)).epsilon(1e-12));
    const VecD a = vae.activity(x);
    for (Index u = 0; u < 4; ++u) {
        const double m = post.mu.row(u).mean();
        CHECK(a(u) == Approx((post.mu.row(u).array() - m).square().mean()).epsilon(1e-12));
    }
    CHECK(vae.active_units(x, 0.0) == 4);
    CHECK(vae.active_units(x, 1e9) == 0);
    CHECK(vae.active_units(x, a.minCoeff() * 0.5 + a.maxCoeff() * 0.5) == (a.array() > a.minCoeff() * 0.5 + a.maxCoeff() * 0.5).count());

    // A unit whose posterior mean ignores x is inactive: zero its mu row.
    auto& enc = dynamic_cast<Sequential<double>&>(vae.encoder());
    auto& head = dynamic_cast<Dense<double>&>(enc[enc.size() - 1]);
    head.weight().row(1).setZero();
    CHECK(vae.activity(x)(1) == Approx(0.0).margin(1e-20));
    CHECK(vae.active_units(x) <= 3);
}

// ---------------------------------------------------------------- generation

TEST_CASE("Generation: prior samples, interpolation, latent grid", "[vae]") {
    CHECK(detail::normal_quantile(0.5) == Approx(0.0).margin(1e-12));
    CHECK(detail::normal_quantile(0.975) == Approx(1.959963984540054).epsilon(1e-12));
    CHECK(detail::normal_quantile(0.05) == Approx(-1.6448536269514729).epsilon(1e-12));
    CHECK_THROWS_AS(detail::normal_quantile(1.0), ConfigError);

    auto vae = small_vae(12, 10, 2, Likelihood::bernoulli());
    Rng rng(71);
    const MatD s = vae.sample(9, rng);
    CHECK(s.rows() == 12);
    CHECK(s.cols() == 9);
    CHECK(s.minCoeff() >= 0.0);
    CHECK(s.maxCoeff() <= 1.0);

    const MatD x = binary_data(12, 2, rng);
    const MatD path = vae.interpolate(x.col(0), x.col(1), 5);
    CHECK(path.cols() == 5);
    const MatD mu = vae.encode_mean(x);
    CHECK(path.col(0).isApprox(vae.decode(mu.col(0)), 1e-12));
    CHECK(path.col(4).isApprox(vae.decode(mu.col(1)), 1e-12));
    CHECK(path.col(2).isApprox(vae.decode(MatD(0.5 * (mu.col(0) + mu.col(1)))), 1e-12));
    CHECK(vae.reconstruct(x).isApprox(vae.decode(mu), 1e-14));

    const MatD grid = vae.latent_grid(4);
    CHECK(grid.cols() == 16);
    // column r*n + c: z = (Phi^-1(q_c), Phi^-1(q_{n-1-r})), q_i = (i + 0.5)/n
    MatD z(2, 1);
    z << detail::normal_quantile(3.5 / 4), detail::normal_quantile(0.5 / 4);
    CHECK(grid.col(3 * 4 + 3).isApprox(vae.decode(z), 1e-12));
    CHECK_THROWS_AS(vae.latent_grid(4, 0, 0), ConfigError);
    CHECK_THROWS_AS(vae.interpolate(x, x, 5), ShapeError);
}

// ---------------------------------------------------------------- construction errors

TEST_CASE("VAE construction errors name what was expected", "[vae]") {
    {
        auto enc = std::make_unique<Sequential<float>>();
        enc->add<Dense<float>>(5);  // odd: cannot split into mu and logvar
        auto dec = std::make_unique<Sequential<float>>();
        dec->add<Dense<float>>(8);
        VariationalAutoencoder<float> vae(std::move(enc), std::move(dec));
        Rng rng(1);
        LATENT_CHECK_THROWS_WITH_ALL(vae.build(Shape{8}, rng), ShapeError, "even number", "(5)");
    }
    {
        auto enc = std::make_unique<Dense<float>>(4);
        auto dec = std::make_unique<Dense<float>>(7);  // gaussian_learned needs 2 outputs per feature
        VariationalAutoencoder<float> vae(std::move(enc), std::move(dec), Likelihood::gaussian_learned());
        Rng rng(1);
        LATENT_CHECK_THROWS_WITH_ALL(vae.build(Shape{7}, rng), ShapeError, "gaussian_learned", "7 outputs");
    }
    CHECK_THROWS_AS(VariationalAutoencoder<float>(nullptr, std::make_unique<Dense<float>>(3)), ConfigError);
    VariationalAutoencoder<float> vae(std::make_unique<Dense<float>>(4), std::make_unique<Dense<float>>(6));
    CHECK_THROWS_AS(vae.encode(MatD(6, 1).cast<float>()), Error);  // not built
    Rng r(1);
    CHECK_THROWS_AS(make_dense_vae<float>({6}, r), ConfigError);
}

TEST_CASE("make_dense_vae starts from PyTorch's nn.Linear initialization", "[vae]") {
    Rng rng(3);
    auto vae = make_dense_vae<double>({30, 20, 4}, rng);
    // encoder 30 -> 20 -> 8, decoder 4 -> 20 -> 30: U(+-1/sqrt(fan_in)) for weights and biases
    const Index fan_in[] = {30, 30, 20, 20, 4, 4, 20, 20};
    const auto views = vae.parameters();
    REQUIRE(views.size() == 8);
    for (std::size_t i = 0; i < views.size(); ++i) {
        INFO(views[i].name);
        const double bound = 1 / std::sqrt(static_cast<double>(fan_in[i]));
        CHECK(views[i].value.cwiseAbs().maxCoeff() <= bound);
        CHECK(views[i].value.cwiseAbs().maxCoeff() > 0.8 * bound);  // filled, not zero
    }
    // the init is part of the layer's configuration and round-trips
    const LayerConfig c = Dense<double>(3, true, WeightInit::pytorch).config();
    CHECK(c.get("init") == "pytorch");
    CHECK(Dense<double>::from_config(c)->config() == c);
    LayerConfig bad = c;
    bad.set("init", "bogus");
    CHECK_THROWS_AS(Dense<double>::from_config(bad), ConfigError);
}

// ---------------------------------------------------------------- save / load

TEST_CASE("VAE save and load", "[vae][io]") {
    Rng rng(81);
    auto vae = small_vae(12, 10, 3, Likelihood::gaussian(0.4));
    vae.set_beta(0.25);
    vae.set_free_bits(0.125);
    vae.set_kl_warmup(17);
    const std::string path = "test_vae_model.lat";
    save(vae, path);
    auto loaded = load_vae<double>(path);
    CHECK(loaded.likelihood() == Likelihood::gaussian(0.4));
    CHECK(loaded.beta() == 0.25);
    CHECK(loaded.free_bits() == 0.125);
    CHECK(loaded.kl_warmup() == 17);
    CHECK(loaded.params().values() == vae.params().values());
    MatD x(12, 5);
    rng.fill_uniform(x);
    Rng a(4), b(4);
    CHECK(loaded.evaluate(x, a).neg_elbo() == vae.evaluate(x, b).neg_elbo());
    CHECK(loaded.encode(x).logvar == vae.encode(x).logvar);

    // Any latent loader reads it as encoder -> sampler -> decoder (posterior-mean reconstruction).
    auto net = load_network<double>(path);
    CHECK(net.predict(x).isApprox(vae.decode_output(vae.encode_mean(x)), 1e-14));

    // load_weights into a fresh model of the same architecture; mismatches leave it untouched.
    auto fresh = small_vae(12, 10, 3, Likelihood::gaussian(0.4), 123);
    load_weights(fresh, path);
    CHECK(fresh.params().values() == vae.params().values());
    auto other = small_vae(12, 9, 3, Likelihood::gaussian(0.4), 5);
    const VecD before = other.params().values();
    CHECK_THROWS_AS(load_weights(other, path), FormatError);
    CHECK(other.params().values() == before);

    // Not a VAE file / not an autoencoder file.
    auto ae_file = "test_vae_plain_layer.lat";
    save(vae.encoder(), ae_file);
    LATENT_CHECK_THROWS_WITH_ALL(load_vae<double>(ae_file), FormatError, "expected a VariationalAutoencoder");
    LATENT_CHECK_THROWS_WITH_ALL(load_autoencoder<double>(path), FormatError, "expected an Autoencoder");
    std::remove(path.c_str());
    std::remove(ae_file);
}

// ---------------------------------------------------------------- training

TEST_CASE("Same seed, same VAE: bitwise identical training", "[vae]") {
    Rng data_rng(91);
    const MatD xd = binary_data(16, 64, data_rng);
    const Matrix<float> x = xd.cast<float>();
    auto run = [&](std::uint64_t seed) {
        Rng rng(seed);
        auto vae = make_dense_vae<float>({16, 12, 3}, rng);
        Adam<float> adam(1e-2);
        FitOptions<float> o;
        o.epochs = 3;
        o.batch_size = 16;
        o.seed = seed;
        o.progress = false;
        o.val_x = &x;
        fit(vae, adam, x, o);
        Rng e(1);
        return std::make_pair(Vector<float>(vae.params().values()), vae.iwae(x, 3, e));
    };
    const auto a = run(5), b = run(5), c = run(6);
    CHECK(a.first == b.first);
    CHECK(a.second == b.second);
    CHECK(a.first != c.first);
}

TEST_CASE("Validation does not change the training noise", "[vae]") {
    Rng data_rng(92);
    const Matrix<float> x = binary_data(10, 32, data_rng).cast<float>();
    auto run = [&](bool validate) {
        Rng rng(3);
        auto vae = make_dense_vae<float>({10, 8, 2}, rng);
        Adam<float> adam(1e-2);
        FitOptions<float> o;
        o.epochs = 2;
        o.batch_size = 8;
        o.progress = false;
        if (validate) o.val_x = &x;
        fit(vae, adam, x, o);
        return Vector<float>(vae.params().values());
    };
    CHECK(run(true) == run(false));
}

TEST_CASE("A small VAE learns synthetic data", "[vae][e2e]") {
    // 4 prototype binary patterns of 32 pixels, each pixel flipped with p = 0.05.
    Rng rng(101);
    const Index d = 32, n = 1200;
    MatD protos = binary_data(d, 4, rng);
    Matrix<float> x(d, n), test(d, 200);
    for (Matrix<float>* m : {&x, &test})
        for (Index j = 0; j < m->cols(); ++j) {
            const Index k = static_cast<Index>(rng.below(4));
            for (Index i = 0; i < d; ++i) (*m)(i, j) = static_cast<float>(rng.bernoulli(0.05) ? 1 - protos(i, k) : protos(i, k));
        }
    auto vae = make_dense_vae<float>({d, 32, 4}, rng);
    vae.set_kl_warmup(50);
    Adam<float> adam(3e-3);
    FitOptions<float> o;
    o.epochs = 15;
    o.batch_size = 32;
    o.progress = false;
    o.val_x = &test;
    const auto hist = fit(vae, adam, x, o);
    const double first = hist.epochs.front().loss, last = hist.epochs.back().loss;
    Rng e1(1), e2(2);
    const double neg_elbo = vae.evaluate(test, e1).neg_elbo(), iw = vae.iwae(test, 50, e2);
    INFO("train loss " << first << " -> " << last << ", test -ELBO " << neg_elbo << ", IWAE(50) " << iw << ", active units "
                       << vae.active_units(test));
    // start: ~32 * log 2 = 22 nats; the noise floor is 32 * H(0.05) + log 4 = 7.6 nats
    CHECK(last < 0.6 * first);
    CHECK(neg_elbo < 13.0);
    CHECK(iw < neg_elbo);
    CHECK(hist.epochs.back().val_loss < hist.epochs.front().val_loss);
    CHECK(vae.active_units(test) >= 1);
    REQUIRE(hist.epochs.back().parts.size() == 2);
    CHECK(hist.epochs.back().parts[1].second > 0.5);  // the KL did not collapse
}

TEST_CASE("KL warm-up given in epochs: fit turns it into steps, files keep it", "[vae][train]") {
    Rng rng(83);
    auto vae = small_vae(12, 10, 3, Likelihood::gaussian(0.4));
    vae.set_kl_warmup_epochs(2.5);
    CHECK(vae.kl_warmup_epochs() == 2.5);
    MatD x(12, 40);
    rng.fill_uniform(x);
    Adam<double> adam(1e-3);
    FitOptions<double> fo;
    fo.epochs = 1;
    fo.batch_size = 10;  // 4 steps an epoch: 2.5 epochs = 10 steps
    fo.print_epochs = false;
    fit(vae, adam, x, fo);
    CHECK(vae.kl_warmup() == 10);
    CHECK(vae.train_steps() == 4);
    CHECK(vae.current_beta() == Approx(0.4));
    fo.batch_size = 20;  // the next fit takes 2 steps an epoch: 5 steps
    fit(vae, adam, x, fo);
    CHECK(vae.kl_warmup() == 5);

    const std::string path = "test_vae_warmup_epochs.lat";
    save(vae, path);
    auto loaded = load_vae<double>(path);
    std::remove(path.c_str());
    CHECK(loaded.kl_warmup_epochs() == 2.5);
    CHECK(loaded.kl_warmup() == 5);

    vae.set_kl_warmup(3);  // steps replace epochs
    CHECK(vae.kl_warmup_epochs() == 0.0);
    fit(vae, adam, x, fo);
    CHECK(vae.kl_warmup() == 3);
    CHECK_THROWS_AS(vae.set_kl_warmup_epochs(-1.0), ConfigError);
    CHECK_THROWS_AS(vae.set_kl_warmup_epochs(std::numeric_limits<double>::infinity()), ConfigError);
}

TEST_CASE("make_dense_vae returns a built model, for a flat input or an image shape of the same size", "[vae]") {
    Rng a(4), b(4);
    auto flat = make_dense_vae<float>({36, 8, 2}, a);
    CHECK(flat.built());
    CHECK(flat.input_shape() == Shape{36});
    DenseVaeOptions o;
    o.sizes = {36, 8, 2};
    o.input = Shape{1, 6, 6};
    auto image = make_dense_vae<float>(o, b);
    CHECK(image.input_shape() == Shape{1, 6, 6});
    CHECK(image.params().values() == flat.params().values());  // the same layers, drawn from the same generator
    o.input = Shape{1, 5, 6};
    Rng c(4);
    LATENT_CHECK_THROWS_WITH_ALL(make_dense_vae<float>(o, c), ShapeError, "36 values", "1x5x6");
}
