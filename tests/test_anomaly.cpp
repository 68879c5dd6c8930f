#include "catch.hpp"

#include <algorithm>

#include <latent/apps/anomaly.hpp>
#include <latent/models/dense_autoencoder.hpp>
#include <latent/optim/adam.hpp>

using latent::Index;
using Mat = latent::Matrix<float>;

namespace {

// Normal data lies near a 3-dimensional subspace of R^20; anomalies do not.
struct Toy {
    Mat basis;  // 20 x 3
    explicit Toy(latent::Rng& rng) : basis(20, 3) { rng.fill_normal(basis, 0.0, 0.5); }
    Mat normal(Index n, latent::Rng& rng) const {
        Mat z(3, n), noise(20, n);
        rng.fill_normal(z);
        rng.fill_normal(noise, 0.0, 0.05);
        return basis * z + noise;
    }
    static Mat anomalous(Index n, latent::Rng& rng) {
        Mat x(20, n);
        rng.fill_normal(x, 0.0, 0.9);
        return x;
    }
};

latent::AnomalyDetector<float> make_detector(latent::Rng& rng) {
    latent::DenseAutoencoderOptions o;
    o.sizes = {20, 16, 3};
    o.hidden = latent::Act::tanh;
    o.output = latent::Act::identity;
    return latent::AnomalyDetector<float>(latent::make_dense_autoencoder<float>(o, rng));
}

}  // namespace

TEST_CASE("AnomalyDetector separates off-subspace points after training on normal data", "[apps][anomaly][e2e]") {
    latent::Rng rng(11);
    const Toy toy(rng);
    auto det = make_detector(rng);
    const Mat train = toy.normal(1500, rng), val = toy.normal(400, rng);
    latent::Adam<float> adam(3e-3);
    latent::FitOptions<float> fo;
    fo.epochs = 40;
    fo.batch_size = 32;
    fo.progress = false;
    fo.print_epochs = false;
    const auto hist = det.fit(train, adam, fo);
    CHECK(hist.epochs.back().loss < hist.epochs.front().loss);

    const Mat normal_test = toy.normal(300, rng), anomalies = Toy::anomalous(100, rng);
    Mat test(20, 400);
    test << normal_test, anomalies;
    std::vector<int> labels(400, 0);
    std::fill(labels.begin() + 300, labels.end(), 1);

    det.calibrate_fpr(val, 0.05);
    const auto report = det.evaluate(test, labels);
    CHECK(report.roc_auc > 0.97);
    CHECK(report.pr_auc > 0.9);
    CHECK(report.at_threshold.recall() > 0.8);
    CHECK(report.at_threshold.false_positive_rate() < 0.12);  // 5% on validation; the test set is a new sample

    const auto flags = det.predict(test);
    REQUIRE(flags.size() == 400u);
    const latent::Vector<float> s = det.score(test);
    for (Index j = 0; j < 400; ++j) CHECK(flags[static_cast<std::size_t>(j)] == (static_cast<double>(s(j)) > det.threshold() ? 1 : 0));

    // per-feature scores are the squared errors whose mean is the score
    const Mat f = det.feature_scores(test.leftCols(5));
    CHECK(f.rows() == 20);
    for (Index j = 0; j < 5; ++j) CHECK(f.col(j).mean() == Approx(s(j)).epsilon(1e-4));
}

TEST_CASE("AnomalyDetector thresholds from a validation quantile and from a target FPR", "[apps][anomaly]") {
    latent::Rng rng(2);
    auto det = make_detector(rng);  // untrained: the scores are just some spread of values
    Mat val(20, 101);
    rng.fill_normal(val);
    const latent::Vector<float> s = det.score(val);
    std::vector<double> sorted(s.data(), s.data() + s.size());
    std::sort(sorted.begin(), sorted.end());

    // 101 values: the q-quantile at q = k/100 is exactly the k-th order statistic
    CHECK(det.calibrate_quantile(val, 0.5) == Approx(sorted[50]));
    CHECK(det.calibrate_quantile(val, 0.9) == Approx(sorted[90]));
    CHECK(det.calibrate_quantile(val, 0.0) == Approx(sorted[0]));
    CHECK(det.calibrate_quantile(val, 1.0) == Approx(sorted[100]));
    // between order statistics: linear interpolation (numpy's default)
    CHECK(det.calibrate_quantile(val, 0.905) == Approx(sorted[90] + 0.5 * (sorted[91] - sorted[90])));

    for (double fpr : {0.0, 0.01, 0.05, 0.1, 0.333}) {
        const double t = det.calibrate_fpr(val, fpr);
        Index above = 0, at_or_above = 0;
        for (double v : sorted) {
            above += v > t;
            at_or_above += v >= t;
        }
        INFO("fpr " << fpr);
        CHECK(static_cast<double>(above) <= fpr * 101 + 1e-9);      // at most the target rate is flagged
        CHECK(static_cast<double>(at_or_above) > fpr * 101 - 1e-9);  // and t is the smallest such score
        const auto flags = det.predict(val);
        CHECK(std::count(flags.begin(), flags.end(), 1) == above);
    }
    CHECK(det.calibrate_fpr(val, 0.0) == Approx(sorted[100]));
}

TEST_CASE("AnomalyDetector rejects bad input", "[apps][anomaly]") {
    latent::Rng rng(3);
    auto det = make_detector(rng);
    CHECK_THROWS_AS(det.predict(Mat::Zero(20, 3)), latent::Error);  // no threshold yet
    CHECK_THROWS_AS(det.threshold(), latent::Error);
    CHECK_THROWS_AS(det.score(Mat::Zero(19, 3)), latent::ShapeError);
    CHECK_THROWS_AS(det.score(Mat::Zero(20, 0)), latent::DataError);
    Mat nan = Mat::Zero(20, 2);
    nan(3, 1) = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_AS(det.score(nan), latent::DataError);
    CHECK_THROWS_AS(det.calibrate_quantile(Mat::Zero(20, 5), 1.5), latent::ConfigError);
    CHECK_THROWS_AS(det.calibrate_fpr(Mat::Zero(20, 5), 1.0), latent::ConfigError);
    CHECK_THROWS_AS(det.set_threshold(std::nan("")), latent::ConfigError);
    // evaluate without a threshold still gives the ranking metrics
    std::vector<int> labels = {0, 1, 0, 1};
    Mat x(20, 4);
    rng.fill_normal(x);
    const auto r = det.evaluate(x, labels);
    CHECK(r.roc_auc >= 0.0);
    CHECK(std::isnan(r.threshold));
    CHECK_THROWS_AS(det.evaluate(x, {0, 1}), latent::ShapeError);
}

TEST_CASE("AnomalyDetector with smoothing scores the Gaussian-smoothed error, in batches and one sample at a time", "[apps][anomaly]") {
    latent::Rng rng(5);
    latent::DenseAutoencoderOptions o;
    o.sizes = {36, 8, 4};  // 1 x 6 x 6 images
    auto det = latent::AnomalyDetector<float>(latent::make_dense_autoencoder<float>(o, rng));
    Mat x(36, 7);
    rng.fill_uniform(x);
    const latent::Shape image{1, 6, 6};
    CHECK(det.smoothing() == 0.0);
    const latent::Vector<float> plain = det.score(x);
    CHECK(plain.isApprox(det.model().reconstruction_error(x)));
    det.calibrate_fpr(x, 0.2);
    det.set_smoothing(1.0, image);
    CHECK_FALSE(det.calibrated());  // a threshold on the other score is dropped
    const latent::Vector<float> s = det.score(x);
    const Mat smooth = latent::gaussian_blur<float>(det.model().reconstruct(x) - x, image, 1.0);
    for (Index j = 0; j < x.cols(); ++j) CHECK(s(j) == Approx(smooth.col(j).squaredNorm() / 36.0).epsilon(1e-5));
    CHECK((s.array() < plain.array()).all());  // smoothing averages the error down
    auto p = det.make_predictor();
    for (Index j = 0; j < x.cols(); ++j) CHECK(det.score_sample(x.col(j), p) == Approx(s(j)).epsilon(1e-5));
    latent::Vector<float> out(x.cols());
    det.score(x, out, p);
    CHECK(out.isApprox(s, 1e-5f));
    CHECK_THROWS_AS(det.set_smoothing(1.0, latent::Shape{1, 5, 6}), latent::ShapeError);
    CHECK_THROWS_AS(det.set_smoothing(-1.0, image), latent::ConfigError);
    CHECK_THROWS_AS(det.set_smoothing(1.0, latent::Shape{36}), latent::ShapeError);
}

TEST_CASE("KnnDetector: distance to the k-th nearest normal sample, raw and smoothed", "[apps][anomaly]") {
    Mat normal(4, 3);
    normal << 0, 1, 5,  //
        0, 0, 0,        //
        0, 0, 0,        //
        0, 0, 0;
    Mat q(4, 2);
    q << 0.5, 10, 0, 0, 0, 0, 0, 0;
    latent::KnnDetector<float> k1(1), k2(2);
    k1.fit(normal);
    k2.fit(normal);
    const latent::Vector<float> s1 = k1.score(q), s2 = k2.score(q);
    CHECK(s1(0) == Approx(0.5f));
    CHECK(s2(0) == Approx(0.5f));  // 0 and 1 are both 0.5 away
    CHECK(s1(1) == Approx(5.0f));
    CHECK(s2(1) == Approx(9.0f));
    // smoothed: the distance between the smoothed images
    latent::Rng rng(9);
    Mat imgs(16, 5), qs(16, 2);
    rng.fill_uniform(imgs);
    rng.fill_uniform(qs);
    latent::KnnDetector<float> ks(1);
    ks.set_smoothing(0.8, latent::Shape{1, 4, 4});
    ks.fit(imgs);
    const Mat bi = latent::gaussian_blur<float>(imgs, latent::Shape{1, 4, 4}, 0.8), bq = latent::gaussian_blur<float>(qs, latent::Shape{1, 4, 4}, 0.8);
    const latent::Vector<float> ss = ks.score(qs);
    for (Index j = 0; j < 2; ++j) {
        float best = std::numeric_limits<float>::infinity();
        for (Index i = 0; i < 5; ++i) best = std::min(best, (bi.col(i) - bq.col(j)).norm());
        CHECK(ss(j) == Approx(best).epsilon(1e-4));
    }
    CHECK_THROWS_AS(latent::KnnDetector<float>(0), latent::ConfigError);
    CHECK_THROWS_AS(k2.fit(normal.leftCols(1)), latent::DataError);
    CHECK_THROWS_AS(latent::KnnDetector<float>().score(q), latent::Error);
    CHECK_THROWS_AS(ks.set_smoothing(1.0, latent::Shape{1, 4, 4}), latent::Error);  // after fit
    CHECK_THROWS_AS(k1.score(Mat::Zero(3, 1)), latent::ShapeError);
}

TEST_CASE("ScoreEnsemble sums log-scores standardized on normal data; threshold_at_fpr", "[apps][anomaly]") {
    latent::Vector<double> a(4), b(4);
    a << 1, 2, 4, 8;              // log2-spaced
    b << 10, 10, 10, 1000;        // another member, another scale
    latent::ScoreEnsemble ens;
    ens.fit({a, b});
    CHECK(ens.members() == 2);
    const latent::Vector<double> on_normal = ens.combine({a, b});
    CHECK(on_normal.sum() == Approx(0.0).margin(1e-12));  // each member has mean 0 on the data it was fitted on
    const Eigen::ArrayXd la = a.array().log();
    const double mu = la.mean(), sd = std::sqrt((la - mu).square().sum() / 3.0);
    latent::Vector<double> one(1), other(1);
    one << 16.0;
    other << 10.0;
    const double lb_mu = (3 * std::log(10.0) + std::log(1000.0)) / 4;
    const Eigen::ArrayXd lb = b.array().log();
    const double lb_sd = std::sqrt((lb - lb_mu).square().sum() / 3.0);
    CHECK(ens.combine({one, other})(0) == Approx((std::log(16.0) - mu) / sd + (std::log(10.0) - lb_mu) / lb_sd));
    CHECK_THROWS_AS(ens.combine({one}), latent::ShapeError);
    latent::Vector<double> neg(4);
    neg << 1, -1, 2, 3;
    CHECK_THROWS_AS(ens.combine({neg, b}), latent::DataError);
    CHECK_THROWS_AS(ens.fit({a, latent::Vector<double>::Constant(4, 3.0)}), latent::DataError);  // no spread
    CHECK_THROWS_AS(latent::ScoreEnsemble().combine({a}), latent::Error);
    CHECK_THROWS_AS(ens.fit({}), latent::ConfigError);

    latent::Vector<double> v(10);
    v << 5, 1, 9, 3, 7, 2, 8, 4, 6, 10;
    CHECK(latent::threshold_at_fpr(v, 0.0) == 10);
    CHECK(latent::threshold_at_fpr(v, 0.2) == 8);  // 9 and 10 above: 2 of 10
    CHECK(latent::threshold_at_fpr(v, 0.25) == 8);
    CHECK_THROWS_AS(latent::threshold_at_fpr(v, 1.0), latent::ConfigError);
}
