// AnomalyDetector: an autoencoder trained on normal data; a sample's anomaly
// score is how badly it is reconstructed.
//
//   latent::AnomalyDetector<float> det(latent::make_dense_autoencoder<float>(opts, rng));
//   det.fit(x_normal, adam, fit_options);       // train on normal data only (d x N)
//   det.calibrate_fpr(x_normal_val, 0.01);      // flag at most 1% of normal validation data
//   std::vector<int> flags = det.predict(x);    // 1 = anomaly (score > threshold)
//   auto report = det.evaluate(x, labels);      // ROC AUC, PR AUC, precision/recall at the threshold
//
// score(x)_j          = the model's loss on column j (mean over features; MSE unless set_loss changed it),
//                       or with set_smoothing(sigma, image shape) the mean of the squared error
//                       smoothed by a Gaussian of sigma pixels (data/image_filter.hpp): the
//                       low frequencies of the error, which tell a wrong shape from a
//                       one-pixel misalignment of the right one (pixel MSE cannot)
// feature_scores(x)   = (x - reconstruct(x))^2 element-wise (which pixels are wrong)
//
// KnnDetector scores a sample by its distance to the k-th nearest normal
// training sample (after the same optional smoothing), and ScoreEnsemble
// sums several detectors' scores, each as log(score) standardized on
// held-out normal data:
//   latent::ScoreEnsemble ens;
//   ens.fit({ae.score(x_val).cast<double>(), knn.score(x_val).cast<double>()});
//   Vector<double> s = ens.combine({ae.score(x).cast<double>(), knn.score(x).cast<double>()});
//   double t = latent::threshold_at_fpr(ens.combine(...val...), 0.05);
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "latent/apps/latent_index.hpp"
#include "latent/data/image_filter.hpp"
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

// The smallest score t of sorted normal scores such that at most a fraction
// `fpr` of them lies above t.
inline double threshold_at_fpr_sorted(const std::vector<double>& sorted, double fpr, const char* what) {
    if (!(fpr >= 0 && fpr < 1)) throw ConfigError(std::string(what) + ": expected a rate in [0, 1), found " + std::to_string(fpr));
    if (sorted.empty()) throw DataError(std::string(what) + ": expected normal scores, found none");
    const auto n = sorted.size();
    const auto allowed = static_cast<std::size_t>(std::floor(fpr * static_cast<double>(n) + 1e-9));  // scores allowed above t
    return sorted[n - 1 - allowed];
}

template <class S>
std::vector<double> sorted_values(const Vector<S>& s) {
    std::vector<double> v(static_cast<std::size_t>(s.size()));
    for (Index i = 0; i < s.size(); ++i) v[static_cast<std::size_t>(i)] = static_cast<double>(s(i));
    std::sort(v.begin(), v.end());
    return v;
}

inline void check_smoothing(double sigma, Shape image, Index input_size, const char* what) {
    if (!(sigma >= 0) || !std::isfinite(sigma)) throw ConfigError(std::string(what) + ": expected sigma >= 0, found " + std::to_string(sigma));
    if (sigma > 0 && (image.size() != input_size || image.h < 2 || image.w < 2))
        throw ShapeError(std::string(what) + ": expected an image shape C x H x W (H, W >= 2) of " + std::to_string(input_size) +
                         " values, found " + image.str());
}

}  // namespace detail

// The threshold that flags at most a fraction `fpr` of the given normal
// (validation) scores: the rule of AnomalyDetector::calibrate_fpr.
template <class S>
double threshold_at_fpr(const Vector<S>& normal_scores, double fpr) {
    return detail::threshold_at_fpr_sorted(detail::sorted_values(normal_scores), fpr, "threshold_at_fpr");
}

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

    // Score the error after Gaussian smoothing of sigma pixels (0: the
    // model's loss, the default); `image` is one input's C x H x W.
    void set_smoothing(double sigma, Shape image) {
        detail::check_smoothing(sigma, image, model_.input_size(), "AnomalyDetector::set_smoothing");
        sigma_ = sigma;
        image_ = image;
        calibrated_ = false;  // a threshold on the other score means nothing now
    }
    double smoothing() const { return sigma_; }

    // One score per column: the model's per-sample reconstruction loss, or
    // the smoothed error (set_smoothing).
    Vector<S> score(const Mat& x) {
        check_input(x, "AnomalyDetector::score");
        if (sigma_ == 0) return model_.reconstruction_error(x);
        return smoothed_error(model_.reconstruct(x), x);
    }

    // Serving: score() above uses the model's own buffers (one thread at a
    // time). For many threads on one shared detector, give each thread a
    // predictor (make_predictor) and call these const ones; the detector
    // must outlive its predictors and not move.
    AutoencoderPredictor<S> make_predictor() const { return AutoencoderPredictor<S>(model_); }
    S score_sample(const Eigen::Ref<const Vector<S>>& x, AutoencoderPredictor<S>& p) const {
        check_predictor(p, "AnomalyDetector::score_sample");
        if (sigma_ == 0) return p.score_sample(x);
        Mat rec(x.size(), 1);
        p.reconstruct(x, rec);
        return smoothed_error(rec, x)(0);
    }
    // Scores of the columns of x into out (no allocation after the first
    // call of a batch size, unless smoothing is on).
    void score(const Eigen::Ref<const Mat>& x, Eigen::Ref<Vector<S>> out, AutoencoderPredictor<S>& p) const {
        check_predictor(p, "AnomalyDetector::score");
        if (sigma_ == 0) return p.score(x, out);
        Mat rec(x.rows(), x.cols());
        p.reconstruct(x, rec);
        out = smoothed_error(rec, x);
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
        threshold_ = detail::threshold_at_fpr_sorted(sorted_scores(normal_val, "AnomalyDetector::calibrate_fpr"), fpr,
                                                     "AnomalyDetector::calibrate_fpr");
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
    // Mean over features of the smoothed squared error of each column.
    template <class X>
    Vector<S> smoothed_error(const Mat& rec, const X& x) const {
        const Mat smooth = gaussian_blur<S>(rec - x, image_, sigma_);
        return smooth.colwise().squaredNorm().transpose() / static_cast<S>(smooth.rows());
    }
    std::vector<double> sorted_scores(const Mat& x, const char* what) {
        check_input(x, what);
        return detail::sorted_values<S>(score(x));
    }

    Autoencoder<S> model_;
    double sigma_ = 0;  // > 0: score the Gaussian-smoothed error of images of shape image_
    Shape image_;
    double threshold_ = 0;
    bool calibrated_ = false;
};

// A sample's distance to its k-th nearest normal training sample
// (euclidean), optionally after Gaussian smoothing of images: the kNN
// baseline of one-class anomaly detection, as a detector.
template <class S>
class KnnDetector {
public:
    using Mat = Matrix<S>;

    explicit KnnDetector(Index k = 1) : k_(k) {
        if (k < 1) throw ConfigError("KnnDetector: expected k >= 1, found " + std::to_string(k));
    }
    // Compare images smoothed by a Gaussian of sigma pixels (0: raw values);
    // `image` is one sample's C x H x W. Set before fit.
    void set_smoothing(double sigma, Shape image) {
        detail::check_smoothing(sigma, image, image.size(), "KnnDetector::set_smoothing");
        if (index_.size() > 0) throw Error("KnnDetector::set_smoothing: set it before fit");
        sigma_ = sigma;
        image_ = image;
    }
    // Keeps the normal samples (d x N, N >= k) to measure distances to.
    void fit(const Mat& normal) {
        if (normal.cols() < k_)
            throw DataError("KnnDetector::fit: expected at least k = " + std::to_string(k_) + " normal samples, found " +
                            std::to_string(normal.cols()));
        if (sigma_ > 0 && normal.rows() != image_.size())
            throw ShapeError("KnnDetector::fit: expected samples of " + std::to_string(image_.size()) + " values (" + image_.str() +
                             "), found " + std::to_string(normal.rows()));
        detail::check_finite(normal, "KnnDetector::fit");
        index_ = VectorIndex<S>(Metric::euclidean);
        if (sigma_ > 0)
            index_.add(gaussian_blur<S>(normal, image_, sigma_));
        else
            index_.add(normal);
    }
    Vector<S> score(const Mat& x) const {
        if (index_.size() == 0) throw Error("KnnDetector::score: call fit first");
        const KnnResult<S> r = sigma_ > 0 ? index_.search(gaussian_blur<S>(x, image_, sigma_), k_) : index_.search(x, k_);
        return r.distances.row(k_ - 1).transpose();
    }

private:
    Index k_;
    double sigma_ = 0;
    Shape image_;
    VectorIndex<S> index_;
};

// Several detectors' scores as one: each member's score s becomes
// (log(s + tiny) - mean) / std, with mean and std of the member's log-scores
// on held-out normal data (fit), and the members are summed (combine). The
// log makes heavy-tailed error scores comparable; the standardization gives
// every member the same weight on normal data.
class ScoreEnsemble {
public:
    void fit(const std::vector<Vector<double>>& normal_scores) {
        if (normal_scores.empty()) throw ConfigError("ScoreEnsemble::fit: expected at least one member's scores, found none");
        mean_.clear();
        std_.clear();
        for (std::size_t m = 0; m < normal_scores.size(); ++m) {
            const Vector<double>& s = normal_scores[m];
            if (s.size() < 2 || s.size() != normal_scores[0].size())
                throw ShapeError("ScoreEnsemble::fit: expected every member to score the same >= 2 samples, found " +
                                 std::to_string(s.size()) + " for member " + std::to_string(m) + " and " +
                                 std::to_string(normal_scores[0].size()) + " for member 0");
            const Eigen::ArrayXd l = logs(s, "ScoreEnsemble::fit");
            const double mu = l.mean(), sd = std::sqrt((l - mu).square().sum() / static_cast<double>(l.size() - 1));
            if (!(sd > 0)) throw DataError("ScoreEnsemble::fit: member " + std::to_string(m) + " gives every normal sample the same score");
            mean_.push_back(mu);
            std_.push_back(sd);
        }
    }
    Vector<double> combine(const std::vector<Vector<double>>& scores) const {
        if (mean_.empty()) throw Error("ScoreEnsemble::combine: call fit first");
        if (scores.size() != mean_.size())
            throw ShapeError("ScoreEnsemble::combine: expected " + std::to_string(mean_.size()) + " members' scores, found " +
                             std::to_string(scores.size()));
        Vector<double> out = Vector<double>::Zero(scores[0].size());
        for (std::size_t m = 0; m < scores.size(); ++m) {
            if (scores[m].size() != out.size())
                throw ShapeError("ScoreEnsemble::combine: expected every member to score " + std::to_string(out.size()) +
                                 " samples, found " + std::to_string(scores[m].size()) + " for member " + std::to_string(m));
            out.array() += (logs(scores[m], "ScoreEnsemble::combine") - mean_[m]) / std_[m];
        }
        return out;
    }
    std::size_t members() const { return mean_.size(); }

private:
    static Eigen::ArrayXd logs(const Vector<double>& s, const char* what) {
        if (!s.allFinite() || (s.array() < 0).any())
            throw DataError(std::string(what) + ": expected finite scores >= 0, found a negative or non-finite one");
        return (s.array() + 1e-30).log();
    }

    std::vector<double> mean_, std_;
};

LATENT_NAMESPACE_END
