// SoftmaxClassifier: multinomial logistic regression on feature columns,
// trained with latent's optimizers through fit(). Use it to measure how
// useful an encoder's codes are as features.
//
//   latent::SoftmaxClassifier<float> clf(10);
//   latent::Adam<float> adam(1e-3);
//   clf.fit(codes_train, labels_train, adam, opts);   // features x N, N labels in [0, classes)
//   double acc = clf.accuracy(codes_test, labels_test);
//
// logits = W x + b (W: classes x d); p = softmax(logits);
// loss = mean_batch(-log p_y) + l2 ||W||^2;  d loss / d logits = (p - onehot(y)) / B.
// Features are standardized with the training mean and std (stored, and
// applied again at prediction), so codes and raw pixels get the same treatment.
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "latent/core/gemm.hpp"
#include "latent/core/math.hpp"
#include "latent/layers/dense.hpp"
#include "latent/losses/regularizers.hpp"
#include "latent/models/network.hpp"
#include "latent/optim/optimizer.hpp"
#include "latent/train/trainer.hpp"

LATENT_NAMESPACE_BEGIN

template <class S>
class SoftmaxClassifier : public Trainable<S> {
public:
    using Mat = Matrix<S>;

    explicit SoftmaxClassifier(Index classes, double l2 = 0.0, bool standardize = true)
        : classes_(classes), standardize_(standardize) {
        if (classes < 2) throw ConfigError("SoftmaxClassifier: expected at least 2 classes, found " + std::to_string(classes));
        if (!(l2 >= 0)) throw ConfigError("SoftmaxClassifier: expected l2 >= 0, found " + std::to_string(l2));
        penalty_.l2 = l2;
    }

    Index classes() const { return classes_; }
    Index features() const { return features_; }
    bool fitted() const { return net_.built(); }
    Network<S>& network() { return net_; }

    // Trains on x (d x N) and labels (N, in [0, classes)). Builds the model on
    // the first call (weights from Rng(options.seed)); later calls continue training.
    History fit(const Mat& x, const std::vector<int>& labels, Optimizer<S>& optimizer, const FitOptions<S>& options = {}) {
        check_labels(x, labels, "SoftmaxClassifier::fit");
        detail::check_finite(x, "SoftmaxClassifier::fit");
        if (!fitted()) {
            features_ = x.rows();
            mean_.setZero(features_);
            scale_.setOnes(features_);
            if (standardize_) {
                mean_ = x.rowwise().mean();
                const Vector<S> sd = ((x.colwise() - mean_).array().square().rowwise().mean()).sqrt().matrix();
                for (Index i = 0; i < features_; ++i) scale_(i) = sd(i) > S(1e-6) ? S(1) / sd(i) : S(1);  // constant features stay 0
            }
            auto dense = std::make_unique<Dense<S>>(classes_);
            net_ = Network<S>(std::move(dense));
            Rng rng(options.seed);
            net_.build(Shape{features_}, rng);
        } else if (x.rows() != features_) {
            throw ShapeError("SoftmaxClassifier::fit: expected " + std::to_string(features_) + " features (as first trained), found " +
                             std::to_string(x.rows()));
        }
        const Mat xs = prepare(x);
        Mat onehot = Mat::Zero(classes_, x.cols());
        for (std::size_t j = 0; j < labels.size(); ++j) onehot(labels[j], static_cast<Index>(j)) = S(1);
        return latent::fit(*this, optimizer, xs, onehot, options);
    }

    // classes x N probabilities.
    Mat predict_proba(const Mat& x) {
        require_fitted("SoftmaxClassifier::predict_proba");
        if (x.rows() != features_)
            throw ShapeError("SoftmaxClassifier::predict_proba: expected " + std::to_string(features_) + " features, found " +
                             std::to_string(x.rows()));
        Mat p = net_.predict(prepare(x));
        detail::softmax_columns(p);
        return p;
    }

    std::vector<int> predict(const Mat& x) {
        const Mat p = predict_proba(x);
        std::vector<int> out(static_cast<std::size_t>(p.cols()));
        for (Index j = 0; j < p.cols(); ++j) {
            Index best;
            p.col(j).maxCoeff(&best);
            out[static_cast<std::size_t>(j)] = static_cast<int>(best);
        }
        return out;
    }

    // One sample in: class probabilities out, and the most likely class.
    // Const and stateless (reads the weights only): safe from many threads.
    std::vector<S> predict_proba_sample(const Eigen::Ref<const Vector<S>>& x) const {
        require_fitted("SoftmaxClassifier::predict_proba_sample");
        if (x.size() != features_)
            throw ShapeError("SoftmaxClassifier::predict_proba_sample: expected " + std::to_string(features_) + " features, found " +
                             std::to_string(x.size()));
        const auto& slots = net_.params().slots();  // Dense: weight (classes x d), bias (classes)
        const Vector<S> xs = ((x - mean_).array() * scale_.array()).matrix();
        Vector<S> z = slots.at(1).slot->w().col(0);  // the bias, then W xs added to it
        detail::matmul(z, slots.at(0).slot->w(), false, xs, false, true);
        detail::softmax_columns(z);
        return std::vector<S>(z.data(), z.data() + z.size());
    }
    int predict_sample(const Eigen::Ref<const Vector<S>>& x) const {
        const std::vector<S> p = predict_proba_sample(x);
        return static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin());
    }

    double accuracy(const Mat& x, const std::vector<int>& labels) {
        check_labels(x, labels, "SoftmaxClassifier::accuracy");
        const auto pred = predict(x);
        Index hits = 0;
        for (std::size_t j = 0; j < labels.size(); ++j) hits += pred[j] == labels[j];
        return static_cast<double>(hits) / static_cast<double>(labels.size());
    }

    // Trainable (inputs already standardized, targets one-hot)
    ParamBuffer<S>& params() override { return net_.params(); }
    Index input_size() const override { return features_; }
    Index target_size() const override { return classes_; }

    S train_batch(const Mat& x, const Mat& y, const Mat* mask) override {
        (void)mask;
        const Mat& logits = net_.forward(x, Mode::train);
        const S loss = cross_entropy(logits, y, true);
        net_.backward(grad_);
        return loss + penalty_.apply(net_.params(), true);
    }
    S eval_batch(const Mat& x, const Mat& y, const Mat* mask) override {
        (void)mask;
        return cross_entropy(net_.forward(x, Mode::infer), y, false) + penalty_.apply(net_.params(), false);
    }

private:
    // mean over the batch of -log softmax(z)_y; grad_ = (p - y) / B when asked.
    S cross_entropy(const Mat& logits, const Mat& y, bool with_grad) {
        probs_ = logits;
        S total(0);
        for (Index j = 0; j < probs_.cols(); ++j) {
            const S lse = detail::log_sum_exp(probs_.col(j));
            total -= (y.col(j).array() * (probs_.col(j).array() - lse)).sum();
            probs_.col(j) = (probs_.col(j).array() - lse).exp().matrix();
        }
        const S b = static_cast<S>(logits.cols());
        if (with_grad) grad_ = (probs_ - y) / b;
        return total / b;
    }

    Mat prepare(const Mat& x) const { return ((x.colwise() - mean_).array().colwise() * scale_.array()).matrix(); }

    void check_labels(const Mat& x, const std::vector<int>& labels, const char* what) const {
        if (x.cols() == 0) throw DataError(std::string(what) + ": expected at least one sample, found 0 columns");
        if (static_cast<Index>(labels.size()) != x.cols())
            throw ShapeError(std::string(what) + ": expected one label per column (" + std::to_string(x.cols()) + "), found " +
                             std::to_string(labels.size()));
        for (std::size_t j = 0; j < labels.size(); ++j)
            if (labels[j] < 0 || labels[j] >= classes_)
                throw DataError(std::string(what) + ": expected labels in [0, " + std::to_string(classes_) + "), found " +
                                std::to_string(labels[j]) + " at sample " + std::to_string(j));
    }
    void require_fitted(const char* what) const {
        if (!fitted()) throw Error(std::string(what) + ": the classifier is not trained; call fit first");
    }

    Index classes_;
    bool standardize_;
    Index features_ = 0;
    WeightPenalty<S> penalty_;
    Vector<S> mean_, scale_;
    Network<S> net_;
    Mat probs_, grad_;
};

LATENT_NAMESPACE_END
