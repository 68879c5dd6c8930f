// core/math.hpp: the shared numerics (logistic, softplus, BCE on logits,
// log-sum-exp, softmax), finite for every finite input and equal to the
// textbook formulas where those do not overflow.
#include "support.hpp"

#include <cmath>
#include <limits>

#include <latent/core/math.hpp>

using namespace latent;

TEST_CASE("logistic and softplus: textbook values, no overflow at the extremes", "[math]") {
    for (double x : {-30.0, -3.0, -0.5, 0.0, 0.25, 2.0, 30.0}) {
        CHECK(detail::sigmoid(x) == Approx(1.0 / (1.0 + std::exp(-x))).epsilon(1e-14));
        CHECK(detail::softplus(x) == Approx(std::log1p(std::exp(x))).epsilon(1e-12));
    }
    Eigen::ArrayXf x(6);
    x << -1e4f, -100.f, -1.f, 0.f, 1.f, 1e4f;
    const Eigen::ArrayXf s = detail::logistic(x);
    const Eigen::ArrayXf sp = detail::softplus_array(x);
    CHECK(s.allFinite());
    CHECK(sp.allFinite());
    CHECK(s(0) == 0.0f);
    CHECK(s(5) == 1.0f);
    CHECK(s(3) == 0.5f);
    CHECK(sp(0) == Approx(0.0f).margin(1e-30));  // Eigen's exp saturates near e^-88, not at 0
    CHECK(sp(5) == 1e4f);
    CHECK(s(1) == Approx(0.0f).margin(1e-30));  // e^-100: below float's normal range
    CHECK(sp(1) == Approx(0.0f).margin(1e-30));
    for (int i = 2; i < 5; ++i) {
        CHECK(s(i) == Approx(detail::sigmoid(x(i))).epsilon(1e-6));
        CHECK(sp(i) == Approx(detail::softplus(x(i))).epsilon(1e-6));
    }
}

TEST_CASE("bce_with_logits: value and gradient against the formula and finite differences (double)", "[math]") {
    Eigen::ArrayXXd x(3, 2), t(3, 2);
    x << -4.0, 0.3, 0.0, 2.5, 7.0, -0.7;
    t << 0.0, 1.0, 0.5, 0.2, 1.0, 0.9;
    Eigen::ArrayXXd out(3, 2);
    Eigen::MatrixXd grad;
    grad.resize(3, 2);
    detail::bce_with_logits(x, t, out, &grad, 2.0);
    const double h = 1e-6;
    for (Index i = 0; i < x.size(); ++i) {
        const double v = x(i), p = 1.0 / (1.0 + std::exp(-v));
        CHECK(out(i) == Approx(-(t(i) * std::log(p) + (1 - t(i)) * std::log(1 - p))).epsilon(1e-12));
        const auto f = [&](double z) { return std::log1p(std::exp(z)) - z * t(i); };
        CHECK(grad(i) == Approx(2.0 * (f(v + h) - f(v - h)) / (2 * h)).epsilon(1e-7));
    }
    // No gradient asked: the value alone, the same.
    Eigen::ArrayXXd out2(3, 2);
    detail::bce_with_logits(x, t, out2, static_cast<Eigen::MatrixXd*>(nullptr), 1.0);
    CHECK(out2.isApprox(out, 0.0));
    // Extreme logits: finite, and the limits of the formula.
    Eigen::ArrayXf big(2), tb(2), ob(2);
    big << -1e4f, 1e4f;
    tb << 1.0f, 1.0f;
    Eigen::MatrixXf gb(2, 1);
    detail::bce_with_logits(big, tb, ob, &gb, 1.0f);
    CHECK(ob.allFinite());
    CHECK(ob(0) == 1e4f);
    CHECK(ob(1) == 0.0f);
    CHECK(gb(0) == -1.0f);
    CHECK(gb(1) == 0.0f);
}

TEST_CASE("log_sum_exp and softmax_columns: shifted, so nothing overflows", "[math]") {
    Eigen::VectorXd v(3);
    v << 1.0, 2.0, 3.0;
    CHECK(detail::log_sum_exp(v) == Approx(std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0))).epsilon(1e-14));
    v << 1000.0, 1000.0, -std::numeric_limits<double>::infinity();
    CHECK(detail::log_sum_exp(v) == Approx(1000.0 + std::log(2.0)).epsilon(1e-14));
    v.setConstant(-std::numeric_limits<double>::infinity());
    CHECK(detail::log_sum_exp(v) == -std::numeric_limits<double>::infinity());
    CHECK(detail::log_sum_exp(Eigen::VectorXd()) == -std::numeric_limits<double>::infinity());

    Eigen::MatrixXf z(3, 2);
    z << 1000.f, 0.f, 1000.f, 1.f, -1000.f, 2.f;
    detail::softmax_columns(z);
    CHECK(z.allFinite());
    CHECK(z(0, 0) == Approx(0.5f));
    CHECK(z(2, 0) == 0.0f);
    for (Index j = 0; j < 2; ++j) CHECK(z.col(j).sum() == Approx(1.0f));
    CHECK(z(2, 1) / z(1, 1) == Approx(std::exp(1.0f)));
}
