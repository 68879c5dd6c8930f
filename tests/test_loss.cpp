// Losses (losses/loss.hpp): gradient checks for every loss, reduction and mask; values
// against hand-computed cases; mask semantics; per-sample values; stability; one loss
// object shared by two threads (evaluate / per_sample are const, no scratch kept).
#include "support.hpp"

#include <atomic>
#include <limits>
#include <memory>
#include <thread>
#include <vector>

#include <latent/latent.hpp>

using namespace latent;
using latent::testing::check_gradient;
using latent_test::MatD;
using latent_test::VecD;

namespace {

enum class Kind { mse, mae, huber, huber_half, bce, bce_logits };

std::unique_ptr<Loss<double>> make(Kind k, Reduction r) {
    switch (k) {
        case Kind::mse: return std::make_unique<MSELoss<double>>(r);
        case Kind::mae: return std::make_unique<MAELoss<double>>(r);
        case Kind::huber: return std::make_unique<HuberLoss<double>>(1.0, r);
        case Kind::huber_half: return std::make_unique<HuberLoss<double>>(0.5, r);
        case Kind::bce: return std::make_unique<BCELoss<double>>(r);
        case Kind::bce_logits: return std::make_unique<BCEWithLogitsLoss<double>>(r);
    }
    return nullptr;
}

const char* kind_name(Kind k) {
    switch (k) {
        case Kind::mse: return "MSE";
        case Kind::mae: return "MAE";
        case Kind::huber: return "Huber(1)";
        case Kind::huber_half: return "Huber(0.5)";
        case Kind::bce: return "BCE";
        case Kind::bce_logits: return "BCEWithLogits";
    }
    return "?";
}

// Prediction/target pairs in each loss's domain, away from its kinks
// (|p - t| = 0 for MAE, |p - t| = delta for Huber).
void draw(Kind k, Rng& rng, MatD& pred, MatD& target) {
    const Index rows = 5, cols = 4;
    pred.resize(rows, cols);
    target.resize(rows, cols);
    for (Index j = 0; j < cols; ++j)
        for (Index i = 0; i < rows; ++i) {
            double p = 0, t = 0;
            switch (k) {
                case Kind::mse:
                case Kind::mae:
                case Kind::huber:
                case Kind::huber_half: {
                    const double delta = k == Kind::huber_half ? 0.5 : 1.0;
                    t = rng.uniform(-1, 1);
                    double d;
                    do d = rng.uniform(-2.5, 2.5);
                    while (std::abs(d) < 0.05 || std::abs(std::abs(d) - delta) < 0.05);
                    p = t + d;
                    break;
                }
                case Kind::bce:
                    p = rng.uniform(0.05, 0.95);
                    t = rng.uniform();
                    break;
                case Kind::bce_logits:
                    p = rng.uniform(-4, 4);
                    t = rng.uniform();
                    break;
            }
            pred(i, j) = p;
            target(i, j) = t;
        }
}

MatD random_mask(Index rows, Index cols, Rng& rng) {
    MatD m(rows, cols);
    for (Index i = 0; i < m.size(); ++i) m.data()[i] = rng.bernoulli(0.6) ? 1.0 : 0.0;
    m(0, 0) = 1;  // at least one observed entry
    m(1, 0) = 0;  // at least one ignored entry
    return m;
}

VecD flat(const MatD& m) { return Eigen::Map<const VecD>(m.data(), m.size()); }

const Kind all_kinds[] = {Kind::mse, Kind::mae, Kind::huber, Kind::huber_half, Kind::bce, Kind::bce_logits};

}  // namespace

TEST_CASE("every loss, both reductions, with and without a mask: gradient check", "[losses][gradcheck]") {
    for (Kind k : all_kinds)
        for (Reduction r : {Reduction::mean, Reduction::sum_features})
            for (bool masked : {false, true}) {
                DYNAMIC_SECTION(kind_name(k) << (r == Reduction::mean ? " mean" : " sum_features") << (masked ? " masked" : "")) {
                    Rng rng(100 + static_cast<int>(k) * 4 + static_cast<int>(r) * 2 + masked);
                    MatD pred, target;
                    draw(k, rng, pred, target);
                    const MatD mask = random_mask(pred.rows(), pred.cols(), rng);
                    const MatD* m = masked ? &mask : nullptr;
                    auto loss = make(k, r);
                    MatD grad;
                    loss->evaluate(pred, target, &grad, m);
                    REQUIRE(grad.rows() == pred.rows());
                    REQUIRE(grad.cols() == pred.cols());
                    auto f = [&](const VecD& v) {
                        const MatD p = Eigen::Map<const MatD>(v.data(), pred.rows(), pred.cols());
                        return loss->evaluate(p, target, nullptr, m);
                    };
                    LATENT_CHECK_GRADIENT(check_gradient(f, flat(pred), flat(grad)));
                }
            }
}

TEST_CASE("loss values against hand-computed cases", "[losses]") {
    MatD p(2, 2), t(2, 2);
    p << 1, 2, 3, 4;
    t << 0, 2, 1, 1;  // differences 1, 0 / 2, 3
    SECTION("MSE") {
        CHECK(MSELoss<double>().evaluate(p, t) == Approx(14.0 / 4));
        CHECK(MSELoss<double>(Reduction::sum_features).evaluate(p, t) == Approx(14.0 / 2));
    }
    SECTION("MAE") {
        CHECK(MAELoss<double>().evaluate(p, t) == Approx(6.0 / 4));
        CHECK(MAELoss<double>(Reduction::sum_features).evaluate(p, t) == Approx(6.0 / 2));
        MatD g;
        MAELoss<double>().evaluate(p, t, &g);
        CHECK(g(0, 1) == 0);  // subgradient 0 at p = t
        CHECK(g(1, 1) == Approx(0.25));
    }
    SECTION("Huber, PyTorch's definition") {
        // delta 1: 0.5, 0, 1*(2-0.5), 1*(3-0.5)
        CHECK(HuberLoss<double>().evaluate(p, t) == Approx(4.5 / 4));
        // delta 2: 0.5, 0, 0.5*4, 2*(3-1)
        CHECK(HuberLoss<double>(2.0).evaluate(p, t) == Approx(6.5 / 4));
        CHECK(HuberLoss<double>(2.0, Reduction::sum_features).evaluate(p, t) == Approx(6.5 / 2));
        CHECK_THROWS_AS(HuberLoss<double>(0.0), ConfigError);
    }
    SECTION("BCE on probabilities") {
        MatD q(3, 1), y(3, 1);
        q << 0.8, 0.3, 0.6;
        y << 1, 0, 0.5;
        const double expect = -(std::log(0.8) + std::log(0.7) + 0.5 * std::log(0.6) + 0.5 * std::log(0.4));
        CHECK(BCELoss<double>().evaluate(q, y) == Approx(expect / 3).epsilon(1e-14));
        CHECK(BCELoss<double>(Reduction::sum_features).evaluate(q, y) == Approx(expect).epsilon(1e-14));
        // saturated probabilities are clamped, not infinite
        MatD q0(2, 1), y0(2, 1);
        q0 << 0.0, 1.0;
        y0 << 1.0, 0.0;
        const double v = BCELoss<double>().evaluate(q0, y0);
        CHECK(std::isfinite(v));
        CHECK(v > 20);
    }
    SECTION("BCE with logits") {
        MatD x(3, 1), y(3, 1);
        x << 0, 2, -1;
        y << 1, 0, 0.25;
        const double expect = std::log(2.0) + std::log1p(std::exp(2.0)) +
                              (0.25 * std::log1p(std::exp(1.0)) + 0.75 * std::log1p(std::exp(-1.0)));
        CHECK(BCEWithLogitsLoss<double>().evaluate(x, y) == Approx(expect / 3).epsilon(1e-14));
        // agrees with BCE on sigmoid(x)
        const MatD s = x.unaryExpr([](double v) { return 1 / (1 + std::exp(-v)); });
        CHECK(BCELoss<double>().evaluate(s, y) == Approx(BCEWithLogitsLoss<double>().evaluate(x, y)).epsilon(1e-12));
    }
}

TEST_CASE("BCEWithLogits is stable for |x| = 100", "[losses]") {
    MatD x(4, 1), y(4, 1);
    x << 100, 100, -100, -100;
    y << 1, 0, 1, 0;
    BCEWithLogitsLoss<double> l(Reduction::sum_features);
    MatD g;
    const double v = l.evaluate(x, y, &g);
    CHECK(std::isfinite(v));
    CHECK(v == Approx(200.0).epsilon(1e-14));  // the two wrong ones cost 100 each, the right ones ~e^-100
    CHECK(g.allFinite());
    CHECK(g(0, 0) == Approx(0.0).margin(1e-40));
    CHECK(g(1, 0) == Approx(1.0));
    CHECK(g(2, 0) == Approx(-1.0));
    CHECK(g(3, 0) == Approx(0.0).margin(1e-40));
    const VecD ps = l.per_sample(x, y);
    CHECK(ps(0) == Approx(200.0));
    // in float too
    Matrix<float> xf = x.cast<float>(), yf = y.cast<float>(), gf;
    const float vf = BCEWithLogitsLoss<float>(Reduction::sum_features).evaluate(xf, yf, &gf);
    CHECK(std::isfinite(vf));
    CHECK(vf == Approx(200.0f));
    CHECK(gf.allFinite());
}

TEST_CASE("mask: ignored entries contribute nothing, mean divides by the observed count", "[losses]") {
    for (Kind k : all_kinds)
        for (Reduction r : {Reduction::mean, Reduction::sum_features}) {
            DYNAMIC_SECTION(kind_name(k) << (r == Reduction::mean ? " mean" : " sum_features")) {
                Rng rng(200 + static_cast<int>(k));
                MatD pred, target;
                draw(k, rng, pred, target);
                const MatD mask = random_mask(pred.rows(), pred.cols(), rng);
                auto loss = make(k, r);
                MatD g1, g2;
                const double v1 = loss->evaluate(pred, target, &g1, &mask);

                // by hand: element losses (from the unmasked per-element values) over observed entries
                const auto none = make(k, Reduction::sum_features);
                double total = 0;
                for (Index j = 0; j < pred.cols(); ++j)
                    for (Index i = 0; i < pred.rows(); ++i)
                        if (mask(i, j) != 0) {
                            const MatD pi = pred.block(i, j, 1, 1), ti = target.block(i, j, 1, 1);
                            total += none->evaluate(pi, ti);
                        }
                const double expect = r == Reduction::mean ? total / mask.sum() : total / static_cast<double>(pred.cols());
                CHECK(v1 == Approx(expect).epsilon(1e-12));

                // change (even to NaN) what is ignored: nothing moves
                MatD pred2 = pred, target2 = target;
                for (Index i = 0; i < mask.size(); ++i)
                    if (mask.data()[i] == 0) {
                        pred2.data()[i] = k == Kind::bce ? 0.5 : 7.0;
                        target2.data()[i] = std::numeric_limits<double>::quiet_NaN();
                    }
                const double v2 = loss->evaluate(pred2, target2, &g2, &mask);
                CHECK(v2 == Approx(v1).epsilon(1e-14));
                CHECK(g2.allFinite());
                CHECK(g2.isApprox(g1, 1e-14));
                for (Index i = 0; i < mask.size(); ++i)
                    if (mask.data()[i] == 0) CHECK(g1.data()[i] == 0);
                const VecD ps = loss->per_sample(pred2, target2, &mask);
                CHECK(ps.allFinite());
            }
        }
}

TEST_CASE("a mask of ones equals no mask; an all-zero mask gives 0", "[losses]") {
    Rng rng(300);
    MatD pred, target;
    draw(Kind::mse, rng, pred, target);
    const MatD ones = MatD::Ones(pred.rows(), pred.cols()), zeros = MatD::Zero(pred.rows(), pred.cols());
    for (Reduction r : {Reduction::mean, Reduction::sum_features}) {
        MSELoss<double> l(r);
        MatD g1, g2, g3;
        CHECK(l.evaluate(pred, target, &g1, &ones) == Approx(l.evaluate(pred, target, &g2)).epsilon(1e-15));
        CHECK(g1.isApprox(g2, 1e-15));
        CHECK(l.evaluate(pred, target, &g3, &zeros) == 0.0);
        CHECK(g3.isZero(0));
    }
}

TEST_CASE("per_sample values", "[losses]") {
    MatD p(2, 3), t(2, 3);
    p << 1, 0, 2, 3, 0, 0;
    t << 0, 0, 0, 1, 1, 0;  // squared errors: col0 1+4, col1 0+1, col2 4+0
    MSELoss<double> mean, sum(Reduction::sum_features);
    const VecD a = mean.per_sample(p, t), b = sum.per_sample(p, t);
    REQUIRE(a.size() == 3);
    CHECK(a(0) == Approx(2.5));
    CHECK(a(1) == Approx(0.5));
    CHECK(a(2) == Approx(2.0));
    CHECK(b(0) == Approx(5));
    CHECK(b(1) == Approx(1));
    CHECK(b(2) == Approx(4));
    // the mean of per-sample values is the reduced loss (no mask)
    CHECK(a.mean() == Approx(mean.evaluate(p, t)));
    CHECK(b.mean() == Approx(sum.evaluate(p, t)));
    // with a mask: mean over observed features of each sample; a fully masked sample scores 0
    MatD m(2, 3);
    m << 1, 0, 0, 0, 1, 0;
    const VecD c = mean.per_sample(p, t, &m), d = sum.per_sample(p, t, &m);
    CHECK(c(0) == Approx(1));
    CHECK(c(1) == Approx(1));
    CHECK(c(2) == 0);
    CHECK(d(0) == Approx(1));
    CHECK(d(1) == Approx(1));
    CHECK(d(2) == 0);
}

TEST_CASE("loss shape errors", "[losses]") {
    MSELoss<double> l;
    const MatD p = MatD::Zero(3, 2), t = MatD::Zero(2, 3), m = MatD::Ones(3, 3);
    LATENT_CHECK_THROWS_WITH_ALL(l.evaluate(p, t), ShapeError, "MSE", "3x2", "2x3");
    LATENT_CHECK_THROWS_WITH_ALL(l.evaluate(p, p, nullptr, &m), ShapeError, "mask", "3x2", "3x3");
    LATENT_CHECK_THROWS_WITH_ALL(l.per_sample(p, t), ShapeError, "3x2", "2x3");
    const MatD e(3, 0);
    CHECK_THROWS_AS(l.evaluate(e, e), DataError);
}

TEST_CASE("losses in float agree with double", "[losses]") {
    Rng rng(400);
    for (Kind k : all_kinds) {
        MatD pred, target;
        draw(k, rng, pred, target);
        auto ld = make(k, Reduction::mean);
        std::unique_ptr<Loss<float>> lf;
        switch (k) {
            case Kind::mse: lf = std::make_unique<MSELoss<float>>(); break;
            case Kind::mae: lf = std::make_unique<MAELoss<float>>(); break;
            case Kind::huber: lf = std::make_unique<HuberLoss<float>>(1.0); break;
            case Kind::huber_half: lf = std::make_unique<HuberLoss<float>>(0.5); break;
            case Kind::bce: lf = std::make_unique<BCELoss<float>>(); break;
            case Kind::bce_logits: lf = std::make_unique<BCEWithLogitsLoss<float>>(); break;
        }
        const Matrix<float> pf = pred.cast<float>(), tf = target.cast<float>();
        Matrix<float> gf;
        MatD gd;
        INFO(kind_name(k));
        CHECK(lf->evaluate(pf, tf, &gf) == Approx(ld->evaluate(pred, target, &gd)).epsilon(1e-5));
        CHECK(gf.cast<double>().isApprox(gd, 1e-5));
    }
}

TEST_CASE("BCE on probabilities equals PyTorch's at the edges", "[losses]") {
    const double p[] = {0, 0, 1, 1, 0.5, 1e-30, 0.3};
    const double t[] = {0, 1, 0, 1, 0.5, 1, 0.3};
    const double loss64[] = {0, 100, 100, 0, 0.6931471805599453, 69.07755278982137, 0.6108643020548935};
    const double grad64[] = {0, -1000000003995.8029, 1000000003995.8029, 0, 0, -1000000003995.8029, 0};
    const float loss32[] = {0, 100, 100, 0, 0.6931471824645996f, 69.07755279541016f, 0.6108643412590027f};
    const float grad32[] = {0, -999999995904.0f, 999999995904.0f, 0, 0, -999999995904.0f, 0};
    MatD pd(7, 1), td(7, 1);
    for (int i = 0; i < 7; ++i) pd(i) = p[i], td(i) = t[i];
    MatD gd;
    BCELoss<double> bd(Reduction::sum_features);
    bd.evaluate(pd, td, &gd);
    Matrix<float> pf = pd.cast<float>(), tf = td.cast<float>(), gf;
    BCELoss<float> bf(Reduction::sum_features);
    bf.evaluate(pf, tf, &gf);
    for (int i = 0; i < 7; ++i) {
        INFO("p " << p[i] << " t " << t[i]);
        MatD pi(1, 1), ti(1, 1);
        pi(0, 0) = p[i];
        ti(0, 0) = t[i];
        CHECK(bd.evaluate(pi, ti) == Approx(loss64[i]).epsilon(1e-15));
        CHECK(gd(i) == Approx(grad64[i]).epsilon(1e-15));
        Matrix<float> pfi(1, 1), tfi(1, 1);
        pfi(0, 0) = static_cast<float>(p[i]);
        tfi(0, 0) = static_cast<float>(t[i]);
        CHECK(bf.evaluate(pfi, tfi) == Approx(loss32[i]).epsilon(1e-6));
        CHECK(gf(i) == Approx(grad32[i]).epsilon(1e-6));
    }
}

namespace {

template <class L>
void check_shared_between_threads(const L& loss) {
    // Two threads, different batch sizes (so a shared buffer would be resized under the other's feet).
    Rng rng(4);
    std::vector<Matrix<float>> preds, targets;
    std::vector<float> expected;
    for (Index cols : {1, 257}) {
        Matrix<float> p(33, cols), t(33, cols);
        rng.fill_uniform(p, 0.05, 0.95);
        rng.fill_uniform(t, 0.05, 0.95);
        preds.push_back(p);
        targets.push_back(t);
        expected.push_back(loss.evaluate(p, t));
    }
    std::atomic<int> wrong{0};
    auto work = [&](std::size_t k) {
        Matrix<float> grad;
        for (int i = 0; i < 2000; ++i) {
            if (loss.evaluate(preds[k], targets[k], &grad) != expected[k]) ++wrong;
            if (loss.per_sample(preds[k], targets[k]).size() != preds[k].cols()) ++wrong;
        }
    };
    std::thread a(work, 0), b(work, 1);
    a.join();
    b.join();
    CHECK(wrong == 0);
}

}  // namespace

TEST_CASE("one loss object shared by two threads gives each its own result", "[losses][threads]") {
    check_shared_between_threads(MSELoss<float>());
    check_shared_between_threads(BCELoss<float>(Reduction::sum_features));
    check_shared_between_threads(HuberLoss<float>(0.3));
}
