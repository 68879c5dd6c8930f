// AnomalyDetector: an autoencoder trained on normal data; a sample's anomaly
// score is how badly it is reconstructed.
//
//   latent::AnomalyDetector<float> det(latent::make_dense_autoencoder<float>(opts, rng));
//   det.fit(x_normal, adam, fit_options);       // train on normal data only (d x N)
//   det.calibrate_fpr(x_normal_val, 0.01);      // flag at most 1% of normal validation data
//   std::vector<int> flags = det.predict(x);    // 1 = anomaly (score > threshold)
//   auto report = det.evaluate(x, labels);      // ROC AUC, PR AUC, precision/recall at the threshold
//
// score(x)_j          = the model's loss on column j (mean over features; MSE unless set_loss changed it)
// feature_scores(x)   = (x - reconstruct(x))^2 element-wise (which pixels are wrong)
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "latent/metrics/ranking.hpp"
#include "latent/models/autoencoder.hpp"
#include "latent/optim/optimizer.hpp"
#include "latent/serve/predictor.hpp"
#include "latent/train/trainer.hpp"

LATENT_NAMESPACE_BEGIN

struct AnomalyReport {
    double roc_auc = 0;
    double pr_auc = 0;     // average precision, anomalies as the positive class
    double threshold = 0;
    BinaryCounts at_threshold;  // with precision(), recall(), false_positive_rate()
};

namespace detail {

// The q-quantile of v with linear interpolation between order statistics
// (numpy's default): position q (n - 1) in the sorted values.
inline double quantile_sorted(const std::vector<double>& sorted, double q) {
    const double pos = q * static_cast<double>(sorted.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(pos));
    const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
    return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

}  // namespace detail

template <class S>
class AnomalyDetector {
public:
    using Mat = Matrix<S>;

    explicit AnomalyDetector(Autoencoder<S> model) : model_(std::move(model)) {
        if (!model_.built()) throw ConfigError("AnomalyDetector: expected a built autoencoder, found one not yet built");
    }

    Autoencoder<S>& model() { return model_; }

    // Trains the autoencoder to reconstruct normal data (input_dim x N).
    History fit(const Mat& normal, Optimizer<S>& optimizer, const FitOptions<S>& options = {}) {
        check_input(normal, "AnomalyDetector::fit");
        return latent::fit(model_, optimizer, normal, normal, options);
    }

    // One score per column: the model's per-sample reconstruction loss.
    Vector<S> score(const Mat& x) {
        check_input(x, "AnomalyDetector::score");
        return model_.reconstruction_error(x);
    }

    // Serving: score() above uses the model's own buffers (one thread at a
    // time). For many threads on one shared detector, give each thread a
    // predictor (make_predictor) and call these const ones; the detector
    // must outlive its predictors and not move.
    AutoencoderPredictor<S> make_predictor() const { return AutoencoderPredictor<S>(model_); }
    S score_sample(const Eigen::Ref<const Vector<S>>& x, AutoencoderPredictor<S>& p) const {
        check_predictor(p, "AnomalyDetector::score_sample");
        return p.score_sample(x);
    }
    // Scores of the columns of x into out (no allocation after the first call of a batch size).
    void score(const Eigen::Ref<const Mat>& x, Eigen::Ref<Vector<S>> out, AutoencoderPredictor<S>& p) const {
        check_predictor(p, "AnomalyDetector::score");
        p.score(x, out);
    }
    // score_sample(x) > threshold.
    bool is_anomaly(const Eigen::Ref<const Vector<S>>& x, AutoencoderPredictor<S>& p) const {
        require_threshold("AnomalyDetector::is_anomaly");
        return static_cast<double>(score_sample(x, p)) > threshold_;
    }

    // Squared error per feature (input_dim x N).
    Mat feature_scores(const Mat& x) {
        check_input(x, "AnomalyDetector::feature_scores");
        return (model_.reconstruct(x) - x).array().square().matrix();
    }

    // threshold = the q-quantile of the scores of normal validation data.
    double calibrate_quantile(const Mat& normal_val, double q) {
        if (!(q >= 0 && q <= 1)) throw ConfigError("AnomalyDetector::calibrate_quantile: expected q in [0, 1], found " + std::to_string(q));
        threshold_ = detail::quantile_sorted(sorted_scores(normal_val, "AnomalyDetector::calibrate_quantile"), q);
        calibrated_ = true;
        return threshold_;
    }

    // threshold = the smallest validation score t such that at most a
    // fraction `fpr` of the normal validation data scores above t.
    double calibrate_fpr(const Mat& normal_val, double fpr) {
        if (!(fpr >= 0 && fpr < 1)) throw ConfigError("AnomalyDetector::calibrate_fpr: expected a rate in [0, 1), found " + std::to_string(fpr));
        const auto s = sorted_scores(normal_val, "AnomalyDetector::calibrate_fpr");
        const auto n = s.size();
        const auto allowed = static_cast<std::size_t>(std::floor(fpr * static_cast<double>(n) + 1e-9));  // columns allowed above t
        threshold_ = s[n - 1 - allowed];
        calibrated_ = true;
        return threshold_;
    }

    void set_threshold(double t) {
        if (!std::isfinite(t)) throw ConfigError("AnomalyDetector::set_threshold: expected a finite threshold, found " + std::to_string(t));
        threshold_ = t;
        calibrated_ = true;
    }
    double threshold() const {
        require_threshold("AnomalyDetector::threshold");
        return threshold_;
    }
    bool calibrated() const { return calibrated_; }

    // 1 where score > threshold.
    std::vector<int> predict(const Mat& x) {
        require_threshold("AnomalyDetector::predict");
        const Vector<S> s = score(x);
        std::vector<int> out(static_cast<std::size_t>(s.size()));
        for (Index j = 0; j < s.size(); ++j) out[static_cast<std::size_t>(j)] = static_cast<double>(s(j)) > threshold_ ? 1 : 0;
        return out;
    }

    // labels: 1 = anomaly, 0 = normal. Counts at the threshold need a calibrated detector.
    AnomalyReport evaluate(const Mat& x, const std::vector<int>& labels) {
        const Vector<S> s = score(x);
        AnomalyReport r;
        r.roc_auc = roc_auc(s, labels);
        r.pr_auc = average_precision(s, labels);
        if (calibrated_) {
            r.threshold = threshold_;
            r.at_threshold = confusion_at(s, labels, threshold_);
        } else {
            r.threshold = std::numeric_limits<double>::quiet_NaN();
        }
        return r;
    }

private:
    void check_input(const Mat& x, const char* what) const {
        if (x.rows() != model_.input_size())
            throw ShapeError(std::string(what) + ": expected " + std::to_string(model_.input_size()) + " features per column, found " +
                             std::to_string(x.rows()));
        if (x.cols() == 0) throw DataError(std::string(what) + ": expected at least one sample, found 0 columns");
        detail::check_finite(x, what);
    }
    void check_predictor(const AutoencoderPredictor<S>& p, const char* what) const {
        if (&p.model() != &model_) throw ConfigError(std::string(what) + ": expected a predictor made by this detector's make_predictor()");
    }
    void require_threshold(const char* what) const {
        if (!calibrated_)
            throw Error(std::string(what) + ": no threshold yet; call calibrate_quantile, calibrate_fpr or set_threshold first");
    }
    std::vector<double> sorted_scores(const Mat& x, const char* what) {
        check_input(x, what);
        const Vector<S> s = model_.reconstruction_error(x);
        std::vector<double> v(s.data(), s.data() + s.size());
        std::sort(v.begin(), v.end());
        return v;
    }

    Autoencoder<S> model_;
    double threshold_ = 0;
    bool calibrated_ = false;
};

LATENT_NAMESPACE_END
