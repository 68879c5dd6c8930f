// AutoRec, the item-based autoencoder recommender of Sedhain et al. (2015),
// with the baselines it should be compared against. The rating data it
// learns from (MovieLens files, synthetic tables, splits) is data/ratings.hpp.
//
//   auto data = latent::read_movielens("ml-100k/u.data");   // or make_synthetic_ratings(opts, rng)
//   auto [train, test] = latent::split_ratings(data, 0.1, rng);
//   latent::AutoRec<float> rec(opts);
//   rec.fit(train);
//   double rmse = rec.rmse(test);
//   auto top = rec.recommend(user, 10, &train);             // unrated items, best first
//
// I-AutoRec: item i is one sample whose features are the users' ratings
// r_i (users; 0 where unobserved). The model is
//   h(r) = W2 sigmoid(W1 r + b1) + b2
// trained on the MSE over observed ratings only (a mask), plus an L2 penalty
// on W1 and W2. The rating of user u for item i is h(r_i)_u, clipped to the
// rating range.
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "latent/data/ratings.hpp"
#include "latent/layers/activation.hpp"
#include "latent/layers/dense.hpp"
#include "latent/layers/dropout.hpp"
#include "latent/models/autoencoder.hpp"
#include "latent/optim/adam.hpp"
#include "latent/train/trainer.hpp"

LATENT_NAMESPACE_BEGIN

namespace detail {
inline void check_rating_indices(const RatingTable& t, Index users, Index items, const std::string& what) {
    for (const auto& r : t.ratings)
        if (r.user < 0 || r.user >= users || r.item < 0 || r.item >= items)
            throw ShapeError(what + ": expected user < " + std::to_string(users) + " and item < " + std::to_string(items) +
                             " (the training table's numbering), found user " + std::to_string(r.user) + ", item " + std::to_string(r.item));
}
}  // namespace detail

// The baselines: global mean; item mean (global mean for unseen items); and
// the regularized user + item bias model mean + b_u + b_i, fitted by
// alternating exact minimization of sum (r - mean - b_u - b_i)^2 + lambda (sum b_u^2 + sum b_i^2).
enum class BaselineKind { global_mean, item_mean, user_item_bias };

class RatingBaseline {
public:
    explicit RatingBaseline(BaselineKind kind = BaselineKind::user_item_bias, double lambda = 5.0, int iterations = 15)
        : kind_(kind), lambda_(lambda), iterations_(iterations) {
        if (!(lambda >= 0)) throw ConfigError("RatingBaseline: expected lambda >= 0, found " + std::to_string(lambda));
        if (iterations < 1) throw ConfigError("RatingBaseline: expected iterations >= 1, found " + std::to_string(iterations));
    }

    void fit(const RatingTable& train) {
        if (train.empty()) throw DataError("RatingBaseline::fit: expected ratings, found none");
        detail::check_rating_indices(train, train.users(), train.items(), "RatingBaseline::fit");
        mean_ = train.mean();
        lo_ = train.min_rating;
        hi_ = train.max_rating;
        bu_.assign(static_cast<std::size_t>(train.users()), 0.0);
        bi_.assign(static_cast<std::size_t>(train.items()), 0.0);
        if (kind_ == BaselineKind::global_mean) return;
        std::vector<double> su, si;
        std::vector<double> nu(bu_.size(), 0.0), ni(bi_.size(), 0.0);
        for (const auto& r : train.ratings) {
            nu[static_cast<std::size_t>(r.user)] += 1;
            ni[static_cast<std::size_t>(r.item)] += 1;
        }
        const double lam = kind_ == BaselineKind::item_mean ? 0.0 : lambda_;
        const int iters = kind_ == BaselineKind::item_mean ? 1 : iterations_;
        for (int it = 0; it < iters; ++it) {
            si.assign(bi_.size(), 0.0);
            for (const auto& r : train.ratings) si[static_cast<std::size_t>(r.item)] += r.value - mean_ - bu_[static_cast<std::size_t>(r.user)];
            for (std::size_t i = 0; i < bi_.size(); ++i) bi_[i] = ni[i] + lam > 0 ? si[i] / (ni[i] + lam) : 0.0;
            if (kind_ == BaselineKind::item_mean) break;
            su.assign(bu_.size(), 0.0);
            for (const auto& r : train.ratings) su[static_cast<std::size_t>(r.user)] += r.value - mean_ - bi_[static_cast<std::size_t>(r.item)];
            for (std::size_t u = 0; u < bu_.size(); ++u) bu_[u] = nu[u] + lam > 0 ? su[u] / (nu[u] + lam) : 0.0;
        }
    }

    double predict(Index user, Index item) const {
        require_fitted();
        double p = mean_;
        if (user >= 0 && user < static_cast<Index>(bu_.size())) p += bu_[static_cast<std::size_t>(user)];
        if (item >= 0 && item < static_cast<Index>(bi_.size())) p += bi_[static_cast<std::size_t>(item)];
        return std::min(hi_, std::max(lo_, p));
    }

    double rmse(const RatingTable& test) const {
        require_fitted();
        if (test.empty()) throw DataError("RatingBaseline::rmse: expected ratings, found none");
        double se = 0;
        for (const auto& r : test.ratings) {
            const double e = predict(r.user, r.item) - r.value;
            se += e * e;
        }
        return std::sqrt(se / static_cast<double>(test.size()));
    }

private:
    void require_fitted() const {
        if (bu_.empty() && bi_.empty()) throw Error("RatingBaseline: not fitted; call fit first");
    }
    BaselineKind kind_;
    double lambda_;
    int iterations_;
    double mean_ = 0, lo_ = 1, hi_ = 5;
    std::vector<double> bu_, bi_;
};

struct AutoRecOptions {
    Index hidden = 500;           // hidden units (sigmoid)
    double l2 = 5e-4;             // penalty l2 * (||W1||^2 + ||W2||^2), against the mean loss over observed ratings
    double input_dropout = 0.0;   // dropout on the input ratings while training (0: off)
    long epochs = 40;
    Index batch_size = 32;        // items per batch
    double learning_rate = 1e-3;  // Adam
    std::uint64_t seed = 0;
    bool progress = true;
};

template <class S>
class AutoRec {
public:
    using Mat = Matrix<S>;

    explicit AutoRec(AutoRecOptions options = {}) : o_(options) {
        if (o_.hidden <= 0) throw ConfigError("AutoRec: expected hidden > 0, found " + std::to_string(o_.hidden));
        if (!(o_.l2 >= 0)) throw ConfigError("AutoRec: expected l2 >= 0, found " + std::to_string(o_.l2));
        if (!(o_.input_dropout >= 0 && o_.input_dropout < 1))
            throw ConfigError("AutoRec: expected input_dropout in [0, 1), found " + std::to_string(o_.input_dropout));
    }

    // users x items, 0 where unobserved; and its 0/1 mask.
    static void rating_matrix(const RatingTable& t, Index users, Index items, Mat& values, Mat& mask) {
        values.setZero(users, items);
        mask.setZero(users, items);
        for (const auto& r : t.ratings) {
            values(r.user, r.item) = static_cast<S>(r.value);
            mask(r.user, r.item) = S(1);
        }
    }

    // Trains on `train`; `validation` (same numbering), when given, is scored
    // each epoch as the masked MSE of held-out ratings given the training ratings.
    History fit(const RatingTable& train, const RatingTable* validation = nullptr) {
        if (train.empty()) throw DataError("AutoRec::fit: expected ratings, found none");
        detail::check_rating_indices(train, train.users(), train.items(), "AutoRec::fit");
        users_ = train.users();
        items_ = train.items();
        lo_ = train.min_rating;
        hi_ = train.max_rating;
        mean_ = train.mean();
        rating_matrix(train, users_, items_, r_, m_);
        user_seen_ = m_.rowwise().sum().array() > S(0);
        item_seen_ = m_.colwise().sum().transpose().array() > S(0);

        Rng rng(o_.seed);
        auto enc = std::make_unique<Sequential<S>>();
        if (o_.input_dropout > 0) enc->template add<Dropout<S>>(o_.input_dropout);
        enc->template add<Dense<S>>(o_.hidden).template add<Activation<S>>(Act::sigmoid);
        auto dec = std::make_unique<Sequential<S>>();
        dec->template add<Dense<S>>(users_);
        model_ = std::make_unique<Autoencoder<S>>(std::move(enc), std::move(dec));
        model_->build(Shape{users_}, rng);
        model_->set_weight_penalty(WeightPenalty<S>{0.0, o_.l2});

        Adam<S> adam(o_.learning_rate);
        FitOptions<S> fo;
        fo.epochs = o_.epochs;
        fo.batch_size = o_.batch_size;
        fo.seed = o_.seed + 1;
        fo.mask = &m_;
        fo.progress = o_.progress;
        fo.print_epochs = o_.progress;
        Mat vy, vm;
        if (validation) {
            detail::check_rating_indices(*validation, users_, items_, "AutoRec::fit validation");
            rating_matrix(*validation, users_, items_, vy, vm);
            fo.val_x = &r_;
            fo.val_y = &vy;
            fo.val_mask = &vm;
        }
        History h = latent::fit(*model_, adam, r_, r_, fo);
        pred_ = model_->reconstruct(r_);
        return h;
    }

    bool fitted() const { return model_ != nullptr; }
    Autoencoder<S>& model() {
        require_fitted("AutoRec::model");
        return *model_;
    }

    // Predicted rating, clipped to the training range. A user or item with no
    // training rating gets the training mean (the model has nothing to go on).
    double predict(Index user, Index item) const {
        require_fitted("AutoRec::predict");
        if (user < 0 || user >= users_ || item < 0 || item >= items_)
            throw ShapeError("AutoRec::predict: expected user < " + std::to_string(users_) + " and item < " + std::to_string(items_) +
                             ", found user " + std::to_string(user) + ", item " + std::to_string(item));
        if (!user_seen_(user) || !item_seen_(item)) return mean_;
        return std::min(hi_, std::max(lo_, static_cast<double>(pred_(user, item))));
    }

    double rmse(const RatingTable& test) const {
        require_fitted("AutoRec::rmse");
        if (test.empty()) throw DataError("AutoRec::rmse: expected ratings, found none");
        double se = 0;
        for (const auto& r : test.ratings) {
            const double e = predict(r.user, r.item) - r.value;
            se += e * e;
        }
        return std::sqrt(se / static_cast<double>(test.size()));
    }

    // The n items with the highest predicted rating for `user`, skipping the
    // items the user rated in training. (item index, predicted rating), best first.
    std::vector<std::pair<Index, double>> recommend(Index user, Index n) const {
        require_fitted("AutoRec::recommend");
        if (user < 0 || user >= users_)
            throw ShapeError("AutoRec::recommend: expected user < " + std::to_string(users_) + ", found " + std::to_string(user));
        if (n <= 0) throw ConfigError("AutoRec::recommend: expected n > 0, found " + std::to_string(n));
        std::vector<std::pair<Index, double>> c;
        for (Index i = 0; i < items_; ++i)
            if (m_(user, i) == S(0) && item_seen_(i)) c.emplace_back(i, predict(user, i));
        const auto k = std::min<std::size_t>(static_cast<std::size_t>(n), c.size());
        std::partial_sort(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(k), c.end(),
                          [](const auto& a, const auto& b) { return a.second > b.second || (a.second == b.second && a.first < b.first); });
        c.resize(k);
        return c;
    }

private:
    void require_fitted(const char* what) const {
        if (!model_) throw Error(std::string(what) + ": the model is not fitted; call fit first");
    }

    AutoRecOptions o_;
    Index users_ = 0, items_ = 0;
    double lo_ = 1, hi_ = 5, mean_ = 0;
    Mat r_, m_, pred_;
    Eigen::Array<bool, Eigen::Dynamic, 1> user_seen_, item_seen_;
    std::unique_ptr<Autoencoder<S>> model_;
};

LATENT_NAMESPACE_END
