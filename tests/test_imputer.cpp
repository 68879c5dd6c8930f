#include "catch.hpp"

#include <cmath>

#include <latent/apps/imputer.hpp>
#include <latent/core/number_text.hpp>

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

TEST_CASE("make_table_imputer fills numbers and categories better than the mean and the mode", "[apps][imputer][table]") {
    // a numeric column u, y = 2u + noise, and a category set by the sign of u
    latent::Rng rng(17);
    latent::CsvCells cells;
    cells.columns = {"u", "y", "side"};
    cells.source = "generated";
    const Index n = 600;
    for (Index r = 0; r < n; ++r) {
        const double u = rng.normal();
        cells.rows.push_back({latent::detail::format_number(u, 17), latent::detail::format_number(2 * u + 0.1 * rng.normal(), 17), u < -0.3 ? "left" : "right"});
        cells.lines.push_back(r + 2);
    }
    const latent::TableSchema s = latent::TableSchema::fit(cells);
    const latent::EncodedTable<double> truth = s.encode<double>(cells);
    // hide y or side (never both) in the last 200 rows
    latent::EncodedTable<double> holes = truth;
    std::vector<Index> hid_y, hid_side;
    for (Index r = n - 200; r < n; ++r) {
        if (r % 2) {
            holes.mask(1, r) = 0;
            hid_y.push_back(r);
        } else {
            holes.mask.col(r).segment(2, 2).setZero();
            hid_side.push_back(r);
        }
    }
    latent::ImputerOptions o;
    o.hidden = {32, 8};
    o.epochs = 60;
    o.batch_size = 32;
    o.learning_rate = 3e-3;
    o.seed = 2;
    o.progress = false;
    latent::Imputer<double> imp = latent::make_table_imputer<double>(s, o);
    imp.fit(truth.with_nan().leftCols(n - 200));
    const latent::Matrix<double> filled = imp.impute(holes.with_nan());
    // observed cells unchanged
    CHECK((holes.mask.array() == 0).select(0.0, filled.array() - truth.data.array()).abs().maxCoeff() == 0);
    double se = 0, se_mean = 0;
    for (Index r : hid_y) {
        se += std::pow(filled(1, r) - truth.data(1, r), 2);
        se_mean += std::pow(truth.data(1, r), 2);  // the mean of a standardized column is ~0
    }
    const std::vector<Index> got = s.categories_of(filled, 2), want = s.categories_of(truth.data, 2);
    Index right = 0, mode_right = 0;
    const Index mode = s.columns()[2].category("right");  // P(u >= -0.3) ~ 0.62: the mode
    for (Index r : hid_side) {
        right += got[static_cast<std::size_t>(r)] == want[static_cast<std::size_t>(r)];
        mode_right += want[static_cast<std::size_t>(r)] == mode;
    }
    INFO("AE RMSE " << std::sqrt(se / hid_y.size()) << " vs mean " << std::sqrt(se_mean / hid_y.size()) << "; AE accuracy " << right
                    << " vs mode " << mode_right << " of " << hid_side.size());
    CHECK(se < 0.1 * se_mean);
    CHECK(right > mode_right + 20);
}

TEST_CASE("masked_column_errors points at the column that does not fit its row", "[apps][imputer][table]") {
    // y = 2u + noise and a category from the sign of u; row 0 gets the wrong category, row 1 a y of
    // the wrong sign: each should stand out in its own column
    latent::Rng rng(23);
    latent::CsvCells cells;
    cells.columns = {"u", "y", "side"};
    cells.source = "generated";
    for (Index r = 0; r < 500; ++r) {
        const double u = rng.normal();
        const double y = 2 * u + 0.1 * rng.normal();
        std::string side = u < 0 ? "left" : "right";
        if (r == 0) side = "left", cells.rows.push_back({"1.5", "3.0", side});
        else if (r == 1) cells.rows.push_back({"-1.5", "3.0", "left"});
        else cells.rows.push_back({latent::detail::format_number(u, 17), latent::detail::format_number(y, 17), side});
        cells.lines.push_back(r + 2);
    }
    const latent::TableSchema s = latent::TableSchema::fit(cells);
    const latent::EncodedTable<double> t = s.encode<double>(cells);
    latent::ImputerOptions o;
    o.hidden = {32, 16};
    o.epochs = 80;
    o.batch_size = 32;
    o.learning_rate = 3e-3;
    o.seed = 5;
    o.progress = false;
    latent::Imputer<double> imp = latent::make_table_imputer<double>(s, o);
    imp.fit(t.with_nan().rightCols(400));  // normal rows only
    const latent::Matrix<double> e = latent::masked_column_errors(imp, s, t.with_nan());
    REQUIRE(e.rows() == 3);
    REQUIRE(e.cols() == 500);
    const Eigen::VectorXd typical = e.rightCols(400).rowwise().mean();
    INFO("typical per-column errors " << typical.transpose() << "; row 0 " << e.col(0).transpose() << "; row 1 " << e.col(1).transpose());
    CHECK(e(2, 0) > 10 * typical(2));  // the wrong category
    CHECK(e(1, 1) > 10 * typical(1));  // y does not fit u (and u does not fit y)
    // in units of each column's typical error, the wrong cell stands out most in its row
    const Eigen::VectorXd r0 = e.col(0).cwiseQuotient(typical), r1 = e.col(1).cwiseQuotient(typical);
    CHECK(r0(2) > r0(0));
    CHECK(r0(2) > r0(1));
    CHECK(r1(1) > r1(2));
    // a missing cell scores 0 in its column
    latent::Matrix<double> holes = t.with_nan();
    holes(1, 5) = std::numeric_limits<double>::quiet_NaN();
    CHECK(latent::masked_column_errors(imp, s, holes)(1, 5) == 0);
    CHECK_THROWS_AS(latent::masked_column_errors(imp, s, latent::Matrix<double>(latent::Matrix<double>::Zero(3, 2))), latent::ShapeError);
}
