// Rating data and AutoRec, the item-based autoencoder recommender of
// Sedhain et al. (2015), with the baselines it should be compared against.
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
#include <fstream>
#include <istream>
#include <memory>
#include <sstream>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "latent/core/number_text.hpp"
#include "latent/layers/activation.hpp"
#include "latent/layers/dense.hpp"
#include "latent/layers/dropout.hpp"
#include "latent/models/autoencoder.hpp"
#include "latent/optim/adam.hpp"
#include "latent/train/trainer.hpp"

LATENT_NAMESPACE_BEGIN

// One rating; user and item are dense indices into RatingTable's id lists.
struct Rating {
    Index user = 0;
    Index item = 0;
    double value = 0;
    std::int64_t timestamp = 0;
};

// Ratings with users and items numbered 0..users-1 and 0..items-1. Tables
// split from one another share the numbering (and the id lists).
struct RatingTable {
    std::vector<Rating> ratings;
    std::vector<std::int64_t> user_ids;  // original id of user index u
    std::vector<std::int64_t> item_ids;  // original id of item index i
    double min_rating = 1, max_rating = 5;

    Index users() const { return static_cast<Index>(user_ids.size()); }
    Index items() const { return static_cast<Index>(item_ids.size()); }
    Index size() const { return static_cast<Index>(ratings.size()); }
    bool empty() const { return ratings.empty(); }
    double mean() const {
        if (ratings.empty()) throw DataError("RatingTable::mean: expected ratings, found none");
        double s = 0;
        for (const auto& r : ratings) s += r.value;
        return s / static_cast<double>(ratings.size());
    }
};

// The MovieLens text formats: u.data (ML-100K: user TAB item TAB rating TAB
// timestamp), ratings.dat (ML-1M/10M: user::item::rating::timestamp) and
// ratings.csv (ML-latest: userId,movieId,rating,timestamp with a header line).
enum class RatingFormat { auto_detect, tab, double_colon, csv };

namespace detail {

inline std::vector<std::string> split_on(const std::string& line, const std::string& sep) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        const std::size_t p = line.find(sep, start);
        if (p == std::string::npos) {
            out.push_back(line.substr(start));
            return out;
        }
        out.push_back(line.substr(start, p - start));
        start = p + sep.size();
    }
}

inline std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return {};
    const auto e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

// Whole-field parse (surrounding blanks allowed); false when the field is not entirely a number.
inline bool parse_int64(const std::string& f, std::int64_t& out) { return parse_integer(trim(f), out); }
inline bool parse_double(const std::string& f, double& out) { return parse_number(trim(f), out) && std::isfinite(out); }

}  // namespace detail

// Parses ratings from a stream; `source` names it in error messages
// ("<source>:<line>: ..."). Blank lines are skipped. With auto_detect the
// first non-blank line decides: "::" -> double_colon, a tab -> tab, a comma -> csv.
inline RatingTable parse_ratings(std::istream& in, RatingFormat format = RatingFormat::auto_detect,
                                 const std::string& source = "ratings") {
    RatingTable t;
    std::unordered_map<std::int64_t, Index> users, items;
    std::string line, sep;
    const char* layout = "";
    long lineno = 0;
    bool first = true;
    double lo = 0, hi = 0;
    while (std::getline(in, line)) {
        ++lineno;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (detail::trim(line).empty()) continue;
        if (first) {
            if (format == RatingFormat::auto_detect)
                format = line.find("::") != std::string::npos ? RatingFormat::double_colon
                         : line.find('\t') != std::string::npos ? RatingFormat::tab
                         : line.find(',') != std::string::npos  ? RatingFormat::csv
                                                                : RatingFormat::tab;
            sep = format == RatingFormat::double_colon ? "::" : format == RatingFormat::csv ? "," : "\t";
            layout = format == RatingFormat::double_colon ? "user::item::rating::timestamp"
                     : format == RatingFormat::csv        ? "user,item,rating,timestamp"
                                                          : "user<TAB>item<TAB>rating<TAB>timestamp";
            first = false;
            std::int64_t probe;
            if (format == RatingFormat::csv && !detail::parse_int64(detail::split_on(line, sep)[0], probe)) continue;  // header
        }
        const auto f = detail::split_on(line, sep);
        const std::string where = source + ":" + std::to_string(lineno) + ": ";
        if (f.size() < 3 || f.size() > 4)
            throw DataError(where + "expected 3 or 4 fields (" + layout + "), found " + std::to_string(f.size()) + " in '" + line + "'");
        std::int64_t uid = 0, iid = 0, ts = 0;
        double v = 0;
        if (!detail::parse_int64(f[0], uid))
            throw DataError(where + "expected an integer user id in field 1, found '" + f[0] + "' in '" + line + "'");
        if (!detail::parse_int64(f[1], iid))
            throw DataError(where + "expected an integer item id in field 2, found '" + f[1] + "' in '" + line + "'");
        if (!detail::parse_double(f[2], v))
            throw DataError(where + "expected a numeric rating in field 3, found '" + f[2] + "' in '" + line + "'");
        if (f.size() == 4 && !detail::parse_int64(f[3], ts))
            throw DataError(where + "expected an integer timestamp in field 4, found '" + f[3] + "' in '" + line + "'");
        auto u = users.emplace(uid, static_cast<Index>(t.user_ids.size()));
        if (u.second) t.user_ids.push_back(uid);
        auto it = items.emplace(iid, static_cast<Index>(t.item_ids.size()));
        if (it.second) t.item_ids.push_back(iid);
        if (t.ratings.empty()) lo = hi = v;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
        t.ratings.push_back({u.first->second, it.first->second, v, ts});
    }
    if (t.ratings.empty()) throw DataError(source + ": expected ratings, found none");
    t.min_rating = lo;
    t.max_rating = hi;
    return t;
}

// Reads a MovieLens ratings file (format detected from its first line).
inline RatingTable read_movielens(const std::string& path, RatingFormat format = RatingFormat::auto_detect) {
    std::ifstream in(path);
    if (!in) throw FormatError("read_movielens: cannot open '" + path + "'");
    return parse_ratings(in, format, path);
}

// Synthetic ratings with known structure: for user u and item i
//   r = clip(round(mean + b_u + b_i + scale * p_u . q_i + noise), min, max)
// with p_u, q_i ~ N(0, I / sqrt(rank)) (so p . q has unit variance), biases and noise
// Gaussian. Each (u, i) is observed with probability `density`; every user and
// item gets at least `min_per_user` / `min_per_item` ratings.
struct SyntheticRatingOptions {
    Index users = 1000;
    Index items = 1500;
    Index rank = 8;
    double density = 0.08;
    double mean = 3.6;
    double user_bias_std = 0.4;
    double item_bias_std = 0.5;
    double interaction_scale = 0.9;
    double noise_std = 0.3;
    double min_rating = 1, max_rating = 5;
    bool integer = true;  // round to whole stars
    Index min_per_user = 5, min_per_item = 5;
};

inline RatingTable make_synthetic_ratings(const SyntheticRatingOptions& o, Rng& rng) {
    if (o.users <= 0 || o.items <= 0 || o.rank <= 0)
        throw ConfigError("make_synthetic_ratings: expected positive users, items and rank, found " + std::to_string(o.users) + ", " +
                          std::to_string(o.items) + ", " + std::to_string(o.rank));
    if (!(o.density > 0 && o.density <= 1))
        throw ConfigError("make_synthetic_ratings: expected density in (0, 1], found " + std::to_string(o.density));
    if (!(o.min_rating < o.max_rating))
        throw ConfigError("make_synthetic_ratings: expected min_rating < max_rating, found " + std::to_string(o.min_rating) + " and " +
                          std::to_string(o.max_rating));
    if (o.min_per_user > o.items || o.min_per_item > o.users)
        throw ConfigError("make_synthetic_ratings: min_per_user / min_per_item exceed the number of items / users");
    Eigen::MatrixXd p(o.rank, o.users), q(o.rank, o.items);
    const double s = std::pow(static_cast<double>(o.rank), -0.25);  // var(p.q) = rank * s^4 = 1
    rng.fill_normal(p, 0.0, s);
    rng.fill_normal(q, 0.0, s);
    Eigen::VectorXd bu(o.users), bi(o.items);
    rng.fill_normal(bu, 0.0, o.user_bias_std);
    rng.fill_normal(bi, 0.0, o.item_bias_std);

    std::vector<std::vector<bool>> seen(static_cast<std::size_t>(o.users), std::vector<bool>(static_cast<std::size_t>(o.items), false));
    std::vector<Index> per_user(static_cast<std::size_t>(o.users), 0), per_item(static_cast<std::size_t>(o.items), 0);
    for (Index u = 0; u < o.users; ++u)
        for (Index i = 0; i < o.items; ++i)
            if (rng.bernoulli(o.density)) {
                seen[static_cast<std::size_t>(u)][static_cast<std::size_t>(i)] = true;
                ++per_user[static_cast<std::size_t>(u)];
                ++per_item[static_cast<std::size_t>(i)];
            }
    auto mark = [&](Index u, Index i) {
        auto&& cell = seen[static_cast<std::size_t>(u)][static_cast<std::size_t>(i)];
        if (cell) return false;
        cell = true;
        ++per_user[static_cast<std::size_t>(u)];
        ++per_item[static_cast<std::size_t>(i)];
        return true;
    };
    for (Index u = 0; u < o.users; ++u)
        while (per_user[static_cast<std::size_t>(u)] < o.min_per_user) mark(u, static_cast<Index>(rng.below(static_cast<std::uint64_t>(o.items))));
    for (Index i = 0; i < o.items; ++i)
        while (per_item[static_cast<std::size_t>(i)] < o.min_per_item) mark(static_cast<Index>(rng.below(static_cast<std::uint64_t>(o.users))), i);

    RatingTable t;
    t.min_rating = o.min_rating;
    t.max_rating = o.max_rating;
    for (Index u = 0; u < o.users; ++u) t.user_ids.push_back(u + 1);
    for (Index i = 0; i < o.items; ++i) t.item_ids.push_back(i + 1);
    for (Index u = 0; u < o.users; ++u)
        for (Index i = 0; i < o.items; ++i) {
            if (!seen[static_cast<std::size_t>(u)][static_cast<std::size_t>(i)]) continue;
            double r = o.mean + bu(u) + bi(i) + o.interaction_scale * p.col(u).dot(q.col(i)) + rng.normal(0.0, o.noise_std);
            if (o.integer) r = std::round(r);
            r = std::min(o.max_rating, std::max(o.min_rating, r));
            t.ratings.push_back({u, i, r, 0});
        }
    return t;
}

// Random split: each rating goes to the test table with probability ~test_fraction
// (exactly round(test_fraction * size) ratings, chosen by a permutation).
inline std::pair<RatingTable, RatingTable> split_ratings(const RatingTable& all, double test_fraction, Rng& rng) {
    if (!(test_fraction > 0 && test_fraction < 1))
        throw ConfigError("split_ratings: expected test_fraction in (0, 1), found " + std::to_string(test_fraction));
    if (all.size() < 2) throw DataError("split_ratings: expected at least 2 ratings, found " + std::to_string(all.size()));
    RatingTable train, test;
    train.user_ids = test.user_ids = all.user_ids;
    train.item_ids = test.item_ids = all.item_ids;
    train.min_rating = test.min_rating = all.min_rating;
    train.max_rating = test.max_rating = all.max_rating;
    const auto perm = rng.permutation(all.size());
    const auto n_test = std::max<Index>(1, static_cast<Index>(std::llround(test_fraction * static_cast<double>(all.size()))));
    for (Index k = 0; k < all.size(); ++k)
        (k < n_test ? test : train).ratings.push_back(all.ratings[static_cast<std::size_t>(perm[static_cast<std::size_t>(k)])]);
    return {std::move(train), std::move(test)};
}

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
