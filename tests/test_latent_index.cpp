#include "catch.hpp"

#include <algorithm>
#include <numeric>

#include <latent/apps/latent_index.hpp>
#include <latent/models/dense_autoencoder.hpp>

using latent::Index;
using Mat = latent::Matrix<double>;

namespace {

// Sorted (distance, index) pairs for one query, by direct computation.
std::vector<std::pair<double, Index>> brute_force(const Mat& db, const Eigen::VectorXd& q, latent::Metric metric) {
    std::vector<std::pair<double, Index>> out;
    for (Index j = 0; j < db.cols(); ++j) {
        double d;
        if (metric == latent::Metric::euclidean) {
            d = (db.col(j) - q).norm();
        } else {
            const double na = db.col(j).norm(), nb = q.norm();
            d = (na > 0 && nb > 0) ? 1.0 - db.col(j).dot(q) / (na * nb) : 1.0;
        }
        out.emplace_back(d, j);
    }
    std::sort(out.begin(), out.end());
    return out;
}

void check_against_brute_force(latent::Metric metric, Index batch) {
    latent::Rng rng(3);
    Mat db(16, 500), queries(16, 37);
    rng.fill_normal(db);
    rng.fill_normal(queries);
    latent::VectorIndex<double> index(metric);
    index.add(db.leftCols(300));
    index.add(db.rightCols(200));  // two additions behave as one
    REQUIRE(index.size() == 500);
    const Index k = 7;
    const auto res = index.search(queries, k, batch);
    REQUIRE(res.indices.rows() == k);
    REQUIRE(res.indices.cols() == 37);
    for (Index q = 0; q < queries.cols(); ++q) {
        const auto truth = brute_force(db, queries.col(q), metric);
        for (Index i = 0; i < k; ++i) {
            INFO("query " << q << " rank " << i);
            CHECK(res.indices(i, q) == truth[static_cast<std::size_t>(i)].second);
            CHECK(res.distances(i, q) == Approx(truth[static_cast<std::size_t>(i)].first).margin(1e-9));
        }
    }
}

}  // namespace

TEST_CASE("VectorIndex matches brute force, Euclidean, batched", "[apps][index]") {
    check_against_brute_force(latent::Metric::euclidean, 8);
    check_against_brute_force(latent::Metric::euclidean, 1000);
}

TEST_CASE("VectorIndex matches brute force, cosine, batched", "[apps][index]") {
    check_against_brute_force(latent::Metric::cosine, 5);
    check_against_brute_force(latent::Metric::cosine, 256);
}

TEST_CASE("VectorIndex: cosine ignores scale, ties keep the lower index, zero vectors", "[apps][index]") {
    Mat db(2, 4);
    db << 1, 2, 0, 0,  //
        0, 0, 1, 0;
    latent::VectorIndex<double> cos(latent::Metric::cosine);
    cos.add(db);
    Mat q(2, 1);
    q << 5, 0;
    const auto r = cos.search(q, 4);
    CHECK(r.indices(0, 0) == 0);  // columns 0 and 1 tie at distance 0
    CHECK(r.indices(1, 0) == 1);
    CHECK(r.distances(0, 0) == Approx(0).margin(1e-12));
    CHECK(r.distances(1, 0) == Approx(0).margin(1e-12));
    CHECK(r.distances(2, 0) == Approx(1));  // orthogonal, and the zero vector: both 1
    CHECK(r.indices(2, 0) == 2);
    CHECK(r.indices(3, 0) == 3);

    latent::VectorIndex<double> euc;
    euc.add(db);
    const auto e = euc.search(q, 1);
    CHECK(e.indices(0, 0) == 1);
    CHECK(e.distances(0, 0) == Approx(3));
}

TEST_CASE("LatentIndex searches in code space", "[apps][index]") {
    latent::Rng rng(5);
    latent::DenseAutoencoderOptions o;
    o.sizes = {12, 6, 3};
    o.output = latent::Act::identity;
    auto ae = latent::make_dense_autoencoder<double>(o, rng);
    Mat x(12, 80), queries(12, 9);
    rng.fill_uniform(x);
    rng.fill_uniform(queries);

    latent::LatentIndex<double> index(ae, latent::Metric::euclidean);
    index.add(x);
    CHECK(index.size() == 80);
    CHECK(index.code_dim() == 3);
    CHECK(index.input_dim() == 12);
    const auto res = index.search(queries, 5, 4);

    // the same search done by hand on the codes
    latent::VectorIndex<double> direct;
    direct.add(ae.encode(x));
    const auto want = direct.search(ae.encode(queries), 5);
    CHECK(res.indices == want.indices);
    CHECK(res.distances.isApprox(want.distances));
    CHECK(index.search_codes(ae.encode(queries), 5).indices == want.indices);

    // a user encoder function works the same way
    latent::LatentIndex<double> fn([](const Mat& v) { Mat out = v.topRows(2); return out; }, 12);
    fn.add(x);
    CHECK(fn.code_dim() == 2);
}

TEST_CASE("index searches reject bad input", "[apps][index]") {
    latent::Rng rng(1);
    latent::VectorIndex<double> empty;
    CHECK_THROWS_AS(empty.search(Mat::Zero(3, 1), 1), latent::DataError);
    CHECK_THROWS_AS(empty.add(Mat(3, 0)), latent::DataError);

    latent::VectorIndex<double> index;
    Mat db(4, 10);
    rng.fill_normal(db);
    index.add(db);
    CHECK_THROWS_AS(index.add(Mat::Zero(5, 2)), latent::ShapeError);
    CHECK_THROWS_AS(index.search(Mat::Zero(5, 2), 1), latent::ShapeError);  // a query of the wrong dimension
    CHECK_THROWS_AS(index.search(Mat::Zero(4, 2), 0), latent::ConfigError);
    CHECK_THROWS_AS(index.search(Mat::Zero(4, 2), 11), latent::ConfigError);
    Mat bad = Mat::Zero(4, 1);
    bad(2, 0) = std::nan("");
    CHECK_THROWS_AS(index.search(bad, 1), latent::DataError);

    latent::DenseAutoencoderOptions o;
    o.sizes = {6, 2};
    auto ae = latent::make_dense_autoencoder<double>(o, rng);
    latent::LatentIndex<double> li(ae);
    li.add(Mat::Ones(6, 3));
    try {
        li.search(Mat::Ones(7, 1), 1);
        FAIL("expected ShapeError");
    } catch (const latent::ShapeError& e) {
        CHECK(std::string(e.what()).find("expected inputs with 6 features, found 7") != std::string::npos);
    }
}
