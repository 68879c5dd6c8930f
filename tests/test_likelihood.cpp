// The learned-variance Gaussian likelihood at extreme log-variances: finite
// in float where the exact value is (logvar = -100 overflowed exp(-logvar)),
// and still exact in double (gradient check).
#include "support.hpp"

#include <latent/latent.hpp>

using namespace latent;
using latent_test::MatD;

TEST_CASE("gaussian_learned in float: logvar = -100 gives a finite loss and gradient", "[vae][likelihood]") {
    const Likelihood lik = Likelihood::gaussian_learned();
    // D = 3 features, B = 2 samples; out = [means; logvars]
    Matrix<float> x(3, 2), out(6, 2);
    x << 0.5f, 0.25f, 0.5f, 0.75f, 1e-20f, 0.0f;
    out.topRows(3) = x;                 // exact means ...
    out(2, 0) = 0.0f;                   // ... but one off by 1e-20
    out.bottomRows(3).setConstant(-100.0f);
    Matrix<float> grad;
    Vector<float> per;
    const float v = lik.neg_log_prob(out, x, &grad, 1.0f, nullptr, &per);
    CHECK(std::isfinite(v));
    CHECK(grad.allFinite());
    CHECK(per.allFinite());
    // against the double computation
    const MatD xd = x.cast<double>(), od = out.cast<double>();
    MatD gd;
    const double vd = lik.neg_log_prob(od, xd, &gd);
    CHECK(v == Approx(vd).epsilon(1e-5));
    for (Index i = 0; i < gd.size(); ++i) CHECK(grad.data()[i] == Approx(gd.data()[i]).epsilon(1e-4).margin(1e-6));
    // d/dv = 0.5 (1 - (x - m)^2 e^-v): 0.5 where the mean is exact
    CHECK(grad(3, 0) == Approx(0.5f));
    // and at the other end, logvar = +100: e^-v underflows to 0 without harm
    out.bottomRows(3).setConstant(100.0f);
    CHECK(std::isfinite(lik.neg_log_prob(out, x, &grad)));
    CHECK(grad.allFinite());
}

TEST_CASE("gaussian_learned: gradient check in double at large negative and positive logvar", "[vae][likelihood][gradcheck]") {
    const Likelihood lik = Likelihood::gaussian_learned();
    Rng rng(9);
    const MatD x = latent_test::random_away_from(4, 3, rng, 0, 1);
    for (double lv : {-30.0, -3.0, 0.0, 25.0}) {
        INFO("logvar around " << lv);
        // means off by about one standard deviation, so every term matters
        MatD out(8, 3);
        out.bottomRows(4) = latent_test::random_away_from(4, 3, rng, lv - 0.5, lv + 0.5);
        out.topRows(4) = x.array() + (0.5 * out.bottomRows(4).array()).exp() * latent_test::random_away_from(4, 3, rng, -1.5, 1.5, 0.5).array();
        MatD grad;
        lik.neg_log_prob(out, x, &grad);
        const double h = 1e-6;
        for (Index i = 0; i < out.size(); ++i) {
            MatD a = out, b = out;
            const double step = h * std::max(1.0, std::abs(out.data()[i]));
            a.data()[i] += step;
            b.data()[i] -= step;
            const double num = (lik.neg_log_prob(a, x) - lik.neg_log_prob(b, x)) / (2 * step);
            const double ana = grad.data()[i];
            const double rel = std::abs(num - ana) / std::max(std::abs(num) + std::abs(ana), 1e-7);
            INFO("entry " << i << ": numeric " << num << ", analytic " << ana);
            CHECK(rel < latent_test::grad_bound);
        }
    }
}
