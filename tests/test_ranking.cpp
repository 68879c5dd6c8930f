#include "catch.hpp"

#include <latent/core/rng.hpp>
#include <latent/metrics/ranking.hpp>

using latent::Index;

namespace {

Eigen::VectorXd vec(std::initializer_list<double> v) {
    Eigen::VectorXd out(static_cast<Index>(v.size()));
    Index i = 0;
    for (double x : v) out(i++) = x;
    return out;
}

// P(score+ > score-) + 0.5 P(tie), by counting every pair.
double pairwise_auc(const Eigen::VectorXd& s, const std::vector<int>& y) {
    double wins = 0, pairs = 0;
    for (Index i = 0; i < s.size(); ++i)
        for (Index j = 0; j < s.size(); ++j)
            if (y[static_cast<std::size_t>(i)] && !y[static_cast<std::size_t>(j)]) {
                pairs += 1;
                wins += s(i) > s(j) ? 1.0 : (s(i) == s(j) ? 0.5 : 0.0);
            }
    return wins / pairs;
}

}  // namespace

TEST_CASE("roc_auc matches hand-computed cases", "[metrics]") {
    // Desc order: .8(+) .4(-) .35(+) .1(-): 3 of 4 pairs ordered.
    CHECK(latent::roc_auc(vec({0.1, 0.4, 0.35, 0.8}), {0, 0, 1, 1}) == Approx(0.75));
    CHECK(latent::roc_auc(vec({1, 2, 3, 4}), {0, 0, 1, 1}) == Approx(1.0));
    CHECK(latent::roc_auc(vec({4, 3, 2, 1}), {0, 0, 1, 1}) == Approx(0.0));
    // float scores in a row vector are fine too
    Eigen::RowVectorXf f(3);
    f << 0.2f, 0.9f, 0.5f;
    CHECK(latent::roc_auc(f, {0, 1, 0}) == Approx(1.0));
}

TEST_CASE("roc_auc counts ties as one half", "[metrics]") {
    CHECK(latent::roc_auc(vec({0.5, 0.5, 0.5, 0.5}), {0, 1, 0, 1}) == Approx(0.5));
    // positive 2 ties negative 2 (1/2) and beats negative 1; positive 3 beats both: 3.5 / 4
    CHECK(latent::roc_auc(vec({1, 2, 2, 3}), {0, 0, 1, 1}) == Approx(0.875));
    // a tie group holding two positives and one negative
    CHECK(latent::roc_auc(vec({1, 1, 1, 0}), {1, 1, 0, 0}) == Approx((0.5 + 1 + 0.5 + 1) / 4));
}

TEST_CASE("roc_auc agrees with pairwise counting on random tied scores", "[metrics]") {
    latent::Rng rng(7);
    for (int trial = 0; trial < 20; ++trial) {
        const Index n = 50 + static_cast<Index>(rng.below(150));
        Eigen::VectorXd s(n);
        std::vector<int> y(static_cast<std::size_t>(n));
        for (Index i = 0; i < n; ++i) {
            s(i) = static_cast<double>(rng.below(8));  // few values: many ties
            y[static_cast<std::size_t>(i)] = rng.bernoulli(0.3) ? 1 : 0;
        }
        y[0] = 1;
        y[1] = 0;
        CHECK(latent::roc_auc(s, y) == Approx(pairwise_auc(s, y)).margin(1e-12));
    }
}

TEST_CASE("average_precision matches hand-computed cases", "[metrics]") {
    // thresholds .8: R .5 P 1; .4: no recall gained; .35: R 1 P 2/3  ->  .5 + .5 * 2/3
    CHECK(latent::average_precision(vec({0.1, 0.4, 0.35, 0.8}), {0, 0, 1, 1}) == Approx(0.5 + 0.5 * 2.0 / 3.0));
    CHECK(latent::pr_auc(vec({1, 2, 3, 4}), {0, 0, 1, 1}) == Approx(1.0));
    // a tie is one threshold: everything at once
    CHECK(latent::average_precision(vec({0.5, 0.5, 0.5, 0.5}), {0, 1, 0, 1}) == Approx(0.5));
    CHECK(latent::average_precision(vec({3, 2, 2, 1}), {1, 0, 1, 0}) == Approx(0.5 + 0.5 * 2.0 / 3.0));
    // all negatives ranked first: precision 1/3 at recall 1 for the lone positive
    CHECK(latent::average_precision(vec({3, 2, 1}), {0, 0, 1}) == Approx(1.0 / 3.0));
}

TEST_CASE("confusion_at, precision_at_k and retrieval precision", "[metrics]") {
    const auto c = latent::confusion_at(vec({0.1, 0.4, 0.35, 0.8, 0.9}), {0, 0, 1, 1, 0}, 0.35);
    // predicted positive: .4 (fp), .8 (tp), .9 (fp); .35 is not > .35 (fn); .1 (tn)
    CHECK(c.tp == 1);
    CHECK(c.fp == 2);
    CHECK(c.fn == 1);
    CHECK(c.tn == 1);
    CHECK(c.precision() == Approx(1.0 / 3));
    CHECK(c.recall() == Approx(0.5));
    CHECK(c.false_positive_rate() == Approx(2.0 / 3));
    CHECK(c.f1() == Approx(2 * (1.0 / 3) * 0.5 / (1.0 / 3 + 0.5)));
    CHECK(c.accuracy() == Approx(0.4));

    CHECK(latent::precision_at_k(vec({0.1, 0.4, 0.35, 0.8, 0.9}), {0, 0, 1, 1, 0}, 2) == Approx(0.5));
    CHECK(latent::precision_at_k(vec({0.1, 0.4, 0.35, 0.8, 0.9}), {0, 0, 1, 1, 0}, 5) == Approx(0.4));

    Eigen::Matrix<Index, Eigen::Dynamic, Eigen::Dynamic> nb(3, 2);
    nb << 0, 3,  //
        1, 2,    //
        2, 0;
    // query 0 (label 1): db labels 1, 1, 0 -> 2/3 at k=3, 1 at k=2; query 1 (label 0): 0, 0, 1 -> 2/3, 1
    const std::vector<int> db = {1, 1, 0, 0};
    CHECK(latent::retrieval_precision_at_k(nb, db, {1, 0}, 3) == Approx(2.0 / 3));
    CHECK(latent::retrieval_precision_at_k(nb, db, {1, 0}, 2) == Approx(1.0));
    CHECK(latent::retrieval_precision_at_k(nb, db, {0, 0}, 1) == Approx(0.5));
}

TEST_CASE("ranking metrics reject bad input", "[metrics]") {
    CHECK_THROWS_AS(latent::roc_auc(vec({1, 2, 3}), {0, 1}), latent::ShapeError);
    CHECK_THROWS_AS(latent::roc_auc(Eigen::VectorXd(), {}), latent::DataError);
    CHECK_THROWS_AS(latent::roc_auc(vec({1, 2}), {1, 1}), latent::DataError);  // no negatives
    CHECK_THROWS_AS(latent::roc_auc(vec({1, 2}), {0, 0}), latent::DataError);  // no positives
    CHECK_THROWS_AS(latent::roc_auc(vec({1, std::nan("")}), {0, 1}), latent::DataError);
    CHECK_THROWS_AS(latent::roc_auc(Eigen::MatrixXd::Zero(2, 2), {0, 1, 0, 1}), latent::ShapeError);
    CHECK_THROWS_AS(latent::average_precision(vec({1, 2}), {0, 0}), latent::DataError);
    CHECK_THROWS_AS(latent::precision_at_k(vec({1, 2}), {0, 1}, 3), latent::ConfigError);
    CHECK_THROWS_AS(latent::confusion_at(vec({1, 2}), {0, 1}, std::nan("")), latent::ConfigError);
    Eigen::Matrix<Index, Eigen::Dynamic, Eigen::Dynamic> nb(2, 1);
    nb << 0, 9;
    CHECK_THROWS_AS(latent::retrieval_precision_at_k(nb, {0, 1}, {0}, 2), latent::ShapeError);
    CHECK_THROWS_AS(latent::retrieval_precision_at_k(nb, {0, 1}, {0}, 3), latent::ConfigError);
    CHECK_THROWS_AS(latent::retrieval_precision_at_k(nb, {0, 1}, {0, 1}, 1), latent::ShapeError);
}
