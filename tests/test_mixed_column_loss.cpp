// MixedColumnLoss (losses/mixed_column_loss.hpp): gradient checks in double
// with and without a mask, values against hand-computed cases, masked cells
// contributing nothing, per-sample and per-column values, bad
// configurations, and fit training an autoencoder with it.
#include "support.hpp"

#include <cmath>
#include <limits>
#include <memory>

#include <latent/latent.hpp>

using namespace latent;
using latent::testing::check_gradient;
using latent_test::MatD;
using latent_test::VecD;

namespace {

VecD flat(const MatD& m) { return Eigen::Map<const VecD>(m.data(), m.size()); }

// numeric (w 1), categorical K=3 (w 0.5), numeric (w 2), categorical K=4 (w 1.5)
std::vector<MixedColumn> four_columns() { return {{1, false, 1.0}, {3, true, 0.5}, {1, false, 2.0}, {4, true, 1.5}}; }

// Random targets: numbers in numeric rows, a one-hot in each categorical block.
MatD random_targets(const std::vector<MixedColumn>& cols, Index n, Rng& rng) {
    Index e = 0;
    for (const auto& c : cols) e += c.width;
    MatD t = MatD::Zero(e, n);
    for (Index j = 0; j < n; ++j) {
        Index o = 0;
        for (const auto& c : cols) {
            if (c.categorical)
                t(o + static_cast<Index>(rng.below(static_cast<std::uint64_t>(c.width))), j) = 1;
            else
                t(o, j) = rng.normal();
            o += c.width;
        }
    }
    return t;
}

// A cell mask: each column of each sample missing with probability 0.3, a categorical block as a whole.
MatD random_cell_mask(const std::vector<MixedColumn>& cols, Index n, Rng& rng) {
    Index e = 0;
    for (const auto& c : cols) e += c.width;
    MatD m(e, n);
    for (Index j = 0; j < n; ++j) {
        Index o = 0;
        for (const auto& c : cols) {
            m.col(j).segment(o, c.width).setConstant(rng.bernoulli(0.3) ? 0.0 : 1.0);
            o += c.width;
        }
    }
    return m;
}

}  // namespace

TEST_CASE("MixedColumnLoss gradient check in double", "[losses][gradcheck]") {
    const auto cols = four_columns();
    for (int masked = 0; masked < 2; ++masked) {
        DYNAMIC_SECTION((masked ? "masked" : "unmasked")) {
            Rng rng(11 + static_cast<std::uint64_t>(masked));
            MatD pred(9, 6);
            rng.fill_normal(pred);
            pred *= 2.0;  // logits well away from uniform
            const MatD target = random_targets(cols, 6, rng);
            const MatD mask = random_cell_mask(cols, 6, rng);
            const MatD* m = masked ? &mask : nullptr;
            MixedColumnLoss<double> loss(cols);
            MatD grad;
            loss.evaluate(pred, target, &grad, m);
            auto f = [&](const VecD& v) {
                const MatD p = Eigen::Map<const MatD>(v.data(), pred.rows(), pred.cols());
                return loss.evaluate(p, target, nullptr, m);
            };
            LATENT_CHECK_GRADIENT(check_gradient(f, flat(pred), flat(grad)));
            if (masked) CHECK((mask.array() == 0).select(grad.array().abs(), 0.0).maxCoeff() == 0.0);
        }
    }
}

TEST_CASE("MixedColumnLoss gradient check with soft targets and a wide block", "[losses][gradcheck]") {
    // 120 categories: a block above 100 rows; targets a distribution, not a one-hot
    const std::vector<MixedColumn> cols = {{120, true, 0.7}, {1, false, 1.0}};
    Rng rng(5);
    MatD pred(121, 3), target(121, 3);
    rng.fill_normal(pred);
    for (Index j = 0; j < 3; ++j) {
        for (Index i = 0; i < 120; ++i) target(i, j) = rng.uniform(0.0, 1.0);
        target.col(j).head(120) /= target.col(j).head(120).sum();
        target(120, j) = rng.normal();
    }
    MixedColumnLoss<double> loss(cols);
    MatD grad;
    loss.evaluate(pred, target, &grad);
    auto f = [&](const VecD& v) { return loss.evaluate(Eigen::Map<const MatD>(v.data(), 121, 3), target); };
    LATENT_CHECK_GRADIENT(check_gradient(f, flat(pred), flat(grad)));
}

TEST_CASE("MixedColumnLoss values against hand-computed cases", "[losses]") {
    // numeric weight 2, categorical K=2 weight 1
    MixedColumnLoss<double> loss({{1, false, 2.0}, {2, true, 1.0}});
    MatD p(3, 2), t(3, 2);
    p << 0.5, 1.0,            //
        0.0, 0.0,             //
        std::log(3.0), 0.0;   // sample 0: softmax (1/4, 3/4); sample 1: (1/2, 1/2)
    t << 0.0, -1.0,  //
        0.0, 1.0,    //
        1.0, 0.0;
    const double s0 = 2 * 0.25 + std::log(4.0 / 3.0);  // 2 (0.5)^2 - log(3/4)
    const double s1 = 2 * 4.0 + std::log(2.0);         // 2 (2)^2 - log(1/2)
    const VecD per = loss.per_sample(p, t);
    CHECK(per(0) == Approx(s0).epsilon(1e-12));
    CHECK(per(1) == Approx(s1).epsilon(1e-12));
    CHECK(loss.evaluate(p, t) == Approx((s0 + s1) / 2).epsilon(1e-12));  // sum over columns, mean over the batch
    const MatD cols = loss.per_column(p, t);
    REQUIRE(cols.rows() == 2);
    CHECK(cols(0, 0) == Approx(0.5).epsilon(1e-12));
    CHECK(cols(1, 0) == Approx(std::log(4.0 / 3.0)).epsilon(1e-12));
    CHECK(cols(1, 1) == Approx(std::log(2.0)).epsilon(1e-12));
    MatD grad;
    loss.evaluate(p, t, &grad);
    CHECK(grad(0, 0) == Approx(2 * 2 * 0.5 / 2).epsilon(1e-12));     // d/dp w (p - t)^2 / batch
    CHECK(grad(1, 0) == Approx(0.25 / 2).epsilon(1e-12));            // (softmax - t) / batch
    CHECK(grad(2, 0) == Approx((0.75 - 1.0) / 2).epsilon(1e-12));
}

TEST_CASE("MixedColumnLoss: masked cells contribute nothing, even NaN ones", "[losses]") {
    const auto cols = four_columns();
    Rng rng(3);
    MatD pred(9, 4);
    rng.fill_normal(pred);
    MatD target = random_targets(cols, 4, rng);
    MatD mask = MatD::Ones(9, 4);
    mask.col(1).segment(1, 3).setZero();  // sample 1's first category missing
    mask(4, 2) = 0;                       // sample 2's second number missing
    MixedColumnLoss<double> loss(cols);
    MatD g0, g1;
    const double v0 = loss.evaluate(pred, target, &g0, &mask);
    MatD pred2 = pred, target2 = target;
    pred2.col(1).segment(1, 3) << 50, -3, 7;
    target2.col(1).segment(1, 3).setConstant(std::numeric_limits<double>::quiet_NaN());
    pred2(4, 2) = 1e3;
    target2(4, 2) = std::numeric_limits<double>::quiet_NaN();
    const double v1 = loss.evaluate(pred2, target2, &g1, &mask);
    CHECK(v1 == v0);
    CHECK(g1.allFinite());
    CHECK(g1.col(1).segment(1, 3).isZero(0));
    CHECK(g1(4, 2) == 0);
    const MatD per_col = loss.per_column(pred2, target2, &mask);
    CHECK(per_col(1, 1) == 0);
    CHECK(per_col(2, 2) == 0);
    CHECK(per_col(0, 1) > 0);
    // the same samples unmasked do contribute
    CHECK(loss.evaluate(pred, target) != Approx(v0));
}

TEST_CASE("MixedColumnLoss: weights scale their column's share", "[losses]") {
    Rng rng(8);
    MatD pred(9, 5);
    rng.fill_normal(pred);
    auto cols = four_columns();
    const MatD target = random_targets(cols, 5, rng);
    const MatD before = MixedColumnLoss<double>(cols).per_column(pred, target);
    cols[3].weight *= 3;
    const MatD after = MixedColumnLoss<double>(cols).per_column(pred, target);
    CHECK(after.row(3).isApprox(3 * before.row(3), 1e-12));
    CHECK(after.topRows(3) == before.topRows(3));
}

TEST_CASE("MixedColumnLoss rejects bad configurations and shapes", "[losses]") {
    LATENT_CHECK_THROWS_WITH_ALL(MixedColumnLoss<double>({}), ConfigError, "at least one column");
    LATENT_CHECK_THROWS_WITH_ALL(MixedColumnLoss<double>({{1, true, 1.0}}), ConfigError, "column 0", ">= 2 (categorical)", "found 1");
    LATENT_CHECK_THROWS_WITH_ALL(MixedColumnLoss<double>({{1, false, 1.0}, {2, false, 1.0}}), ConfigError, "column 1", "numeric");
    LATENT_CHECK_THROWS_WITH_ALL(MixedColumnLoss<double>({{1, false, -1.0}}), ConfigError, "weight >= 0", "-1");
    MixedColumnLoss<double> loss({{1, false, 1.0}, {3, true, 1.0}});
    CHECK(loss.encoded_size() == 4);
    CHECK(loss.offset(1) == 1);
    LATENT_CHECK_THROWS_WITH_ALL(loss.evaluate(MatD::Zero(5, 2), MatD::Zero(5, 2)), ShapeError, "expected 4 encoded rows", "found 5");
}

TEST_CASE("fit trains an autoencoder with MixedColumnLoss", "[losses][train]") {
    // two numeric columns and a 3-category column that is a function of the first
    Rng rng(21);
    const Index n = 256;
    MatD x = MatD::Zero(5, n);
    for (Index j = 0; j < n; ++j) {
        const double u = rng.normal();
        x(0, j) = u;
        x(1, j) = -u + 0.1 * rng.normal();
        x(2 + (u < -0.5 ? 0 : u < 0.5 ? 1 : 2), j) = 1;
    }
    DenseAutoencoderOptions o;
    o.sizes = {5, 16, 2};
    o.output = Act::identity;
    Autoencoder<double> ae = make_dense_autoencoder<double>(o, rng);
    ae.set_loss(std::make_unique<MixedColumnLoss<double>>(std::vector<MixedColumn>{{1, false, 1.0}, {1, false, 1.0}, {3, true, 1.0}}));
    Adam<double> adam(1e-2);
    FitOptions<double> fo;
    fo.epochs = 60;
    fo.batch_size = 32;
    fo.progress = fo.print_epochs = false;
    const History h = fit(ae, adam, x, x, fo);
    INFO("first epoch " << h.epochs.front().loss << ", last " << h.last().loss);
    CHECK(h.last().loss < 0.25 * h.epochs.front().loss);
    // the reconstructed category is right for most samples
    const MatD rec = ae.reconstruct(x);
    Index right = 0;
    for (Index j = 0; j < n; ++j) {
        Index a = 0, b = 0;
        rec.col(j).segment(2, 3).maxCoeff(&a);
        x.col(j).segment(2, 3).maxCoeff(&b);
        right += a == b;
    }
    CHECK(right > n * 8 / 10);
}
