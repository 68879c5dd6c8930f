// Rating data for recommenders: a table of (user, item, rating) with dense
// indices, the MovieLens text formats, a synthetic generator with known
// structure, and a random train/test split. The model is apps/autorec.hpp.
//
//   auto data = latent::read_movielens("ml-100k/u.data");   // or make_synthetic_ratings(opts, rng)
//   auto [train, test] = latent::split_ratings(data, 0.1, rng);
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <istream>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "latent/core/number_text.hpp"
#include "latent/core/rng.hpp"
#include "latent/core/tensor.hpp"
#include "latent/data/csv.hpp"

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

// Whole-field parse (surrounding blanks allowed); false when the field is not entirely a number.
inline bool parse_int64(const std::string& f, std::int64_t& out) { return parse_integer(trim_ws(f), out); }
inline bool parse_double(const std::string& f, double& out) { return parse_number(trim_ws(f), out) && std::isfinite(out); }

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
        if (detail::trim_ws(line).empty()) continue;
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

LATENT_NAMESPACE_END
