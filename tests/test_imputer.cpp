#include "catch.hpp"

#include <cmath>

#include <latent/apps/imputer.hpp>

using latent::Index;
using Mat = latent::Matrix<float>;

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();

// Rank-3 data in 12 dimensions with an offset and per-feature scales.
Mat low_rank(Index n, latent::Rng& rng) {
    static const Mat basis = [] {
        latent::Rng r(100);
        Mat b(12, 3);
        r.fill_normal(b);
        return b;
    }();
    Mat z(3, n), noise(12, n);
    rng.fill_normal(z);
    rng.fill_normal(noise, 0.0, 0.05);
    Mat x = basis * z + noise;
    for (Index i = 0; i < 12; ++i) x.row(i) = x.row(i) * static_cast<float>(1 + i) + Eigen::RowVectorXf::Constant(n, 10.0f * static_cast<float>(i));
    return x;
}

Mat hide(const Mat& x, double rate, latent::Rng& rng) {
    Mat out = x;
    for (Index j = 0; j < x.cols(); ++j) {
        for (Index i = 0; i < x.rows(); ++i)
            if (rng.bernoulli(rate)) out(i, j) = kNaN;
        if (out.col(j).array().isNaN().all()) out(0, j) = x(0, j);  // keep something observed
    }
    return out;
}

double rmse_on_missing(const Mat& filled, const Mat& truth, const Mat& with_nan) {
    double se = 0;
    Index n = 0;
    for (Index j = 0; j < truth.cols(); ++j)
        for (Index i = 0; i < truth.rows(); ++i)
            if (std::isnan(with_nan(i, j))) {
                se += std::pow(static_cast<double>(filled(i, j) - truth(i, j)), 2);
                ++n;
            }
    return std::sqrt(se / static_cast<double>(n));
}

latent::ImputerOptions small_options() {
    latent::ImputerOptions o;
    o.hidden = {32, 8};
    o.epochs = 60;
    o.batch_size = 32;
    o.learning_rate = 3e-3;
    o.progress = false;
    return o;
}

}  // namespace

TEST_CASE("Imputer fills missing entries, leaves observed ones, beats mean imputation", "[apps][imputer][e2e]") {
    latent::Rng rng(21);
    const Mat truth_train = low_rank(800, rng), truth_test = low_rank(200, rng);
    const Mat train = hide(truth_train, 0.3, rng), test = hide(truth_test, 0.3, rng);

    latent::Imputer<float> imp(small_options());
    const auto hist = imp.fit(train);
    CHECK(hist.epochs.back().loss < hist.epochs.front().loss);
    const Mat filled = imp.impute(test);

    REQUIRE(filled.rows() == test.rows());
    REQUIRE(filled.cols() == test.cols());
    CHECK(filled.allFinite());
    for (Index j = 0; j < test.cols(); ++j)
        for (Index i = 0; i < test.rows(); ++i)
            if (!std::isnan(test(i, j))) REQUIRE(filled(i, j) == test(i, j));  // bit for bit

    const Mat by_mean = latent::mean_impute(test, latent::observed_means(train));
    const double ae = rmse_on_missing(filled, truth_test, test), mean = rmse_on_missing(by_mean, truth_test, test);
    INFO("AE " << ae << ", mean " << mean);
    CHECK(ae < 0.5 * mean);

    // without the mask indicator, with a varying drop rate, it still runs
    auto o = small_options();
    o.mask_indicator = false;
    o.vary_drop_rate = true;
    o.epochs = 2;
    latent::Imputer<float> plain(o);
    plain.fit(train);
    CHECK(plain.impute(test).allFinite());
}

TEST_CASE("Imputer uses a custom hide pattern", "[apps][imputer]") {
    latent::Rng rng(6);
    const Mat truth = low_rank(300, rng);
    auto o = small_options();
    o.epochs = 30;
    latent::Imputer<float> imp(o);
    long calls = 0;
    // always hide features 0..3 together: the model learns them from 4..11
    imp.set_hide_pattern([&calls](Mat& hide, latent::Rng&) {
        ++calls;
        CHECK(hide.rows() == 12);
        CHECK(hide.isZero());
        hide.topRows(4).setOnes();
    });
    imp.fit(truth);
    CHECK(calls == 30 * ((300 + 31) / 32));
    Mat test = low_rank(100, rng);
    const Mat full = test;
    test.topRows(4).setConstant(kNaN);
    const Mat filled = imp.impute(test);
    const Mat by_mean = latent::mean_impute(test, latent::observed_means(truth));
    CHECK(rmse_on_missing(filled, full, test) < 0.5 * rmse_on_missing(by_mean, full, test));
}

TEST_CASE("mean_impute and knn_impute on hand-made data", "[apps][imputer]") {
    Mat ref(3, 4);
    ref << 0, 1, 10, 11,  //
        0, 1, 10, 11,     //
        5, 6, 50, 60;
    Mat x(3, 2);
    x << 0.5f, 10.5f,  //
        kNaN, 10.5f,   //
        kNaN, kNaN;
    // column 0 is nearest to reference columns 0 and 1 (on feature 0), column 1 to 2 and 3
    const Mat knn = latent::knn_impute(x, ref, 2);
    CHECK(knn(0, 0) == 0.5f);
    CHECK(knn(1, 0) == Approx(0.5));
    CHECK(knn(2, 0) == Approx(5.5));
    CHECK(knn(2, 1) == Approx(55));
    CHECK(knn(1, 1) == 10.5f);

    const latent::Vector<float> means = latent::observed_means(Mat(x.topRows(2)));
    CHECK(means(0) == Approx(5.5));
    CHECK(means(1) == Approx(10.5));
    latent::Vector<float> fill(3);
    fill << 1, 2, 3;
    const Mat m = latent::mean_impute(x, fill);
    CHECK(m(1, 0) == 2.0f);
    CHECK(m(2, 1) == 3.0f);
    CHECK(m(0, 1) == 10.5f);
    CHECK_THROWS_AS(latent::observed_means(x.bottomRows(1).eval()), latent::DataError);  // a feature never observed
    CHECK_THROWS_AS(latent::knn_impute(x, ref, 5), latent::ConfigError);
    CHECK_THROWS_AS(latent::knn_impute(x, ref.topRows(2).eval(), 1), latent::ShapeError);
}

TEST_CASE("Imputer rejects bad input", "[apps][imputer]") {
    latent::Rng rng(4);
    Mat x = low_rank(50, rng);
    auto o = small_options();
    o.epochs = 1;
    latent::Imputer<float> imp(o);
    CHECK_THROWS_AS(imp.impute(x), latent::Error);  // not fitted

    Mat all_nan_sample = x;
    all_nan_sample.col(7).setConstant(kNaN);  // one sample with nothing observed
    try {
        imp.fit(all_nan_sample);
        FAIL("expected DataError");
    } catch (const latent::DataError& e) {
        CHECK(std::string(e.what()).find("sample 7") != std::string::npos);
    }
    Mat all_nan_feature = x;
    all_nan_feature.row(3).setConstant(kNaN);
    try {
        imp.fit(all_nan_feature);
        FAIL("expected DataError");
    } catch (const latent::DataError& e) {
        CHECK(std::string(e.what()).find("feature 3") != std::string::npos);
    }
    Mat inf = x;
    inf(2, 2) = std::numeric_limits<float>::infinity();
    CHECK_THROWS_AS(imp.fit(inf), latent::DataError);
    CHECK_THROWS_AS(imp.fit(Mat(12, 0)), latent::DataError);
    CHECK_THROWS_AS(latent::Imputer<float>([] { latent::ImputerOptions b; b.drop_rate = 1.0; return b; }()), latent::ConfigError);

    imp.fit(x);
    CHECK_THROWS_AS(imp.impute(Mat::Zero(11, 3)), latent::ShapeError);
    CHECK_THROWS_AS(imp.impute(all_nan_sample), latent::DataError);
}
