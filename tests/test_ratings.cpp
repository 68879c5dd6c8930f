// Rating data (data/ratings.hpp): the MovieLens readers (u.data, ratings.dat,
// ratings.csv) and their errors, synthetic ratings and the train/test split.
#include "catch.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <latent/data/ratings.hpp>

using latent::Index;

TEST_CASE("MovieLens readers parse u.data, ratings.dat and ratings.csv", "[apps][autorec][io]") {
    std::istringstream tab("196\t242\t3\t881250949\n186\t302\t3\t891717742\n\n196\t377\t1\t878887116\r\n");
    const auto a = latent::parse_ratings(tab);
    REQUIRE(a.size() == 3);
    CHECK(a.users() == 2);
    CHECK(a.items() == 3);
    CHECK(a.user_ids[0] == 196);
    CHECK(a.item_ids[2] == 377);
    CHECK(a.ratings[2].user == 0);
    CHECK(a.ratings[2].value == 1.0);
    CHECK(a.ratings[2].timestamp == 878887116);
    CHECK(a.min_rating == 1.0);
    CHECK(a.max_rating == 3.0);

    std::istringstream colon("1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n");
    const auto b = latent::parse_ratings(colon);
    CHECK(b.size() == 3);
    CHECK(b.users() == 2);
    CHECK(b.items() == 2);
    CHECK(b.ratings[2].item == 0);

    std::istringstream csv("userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3.0,1260759179\n");
    const auto c = latent::parse_ratings(csv);
    CHECK(c.size() == 2);
    CHECK(c.ratings[0].value == 2.5);
}

TEST_CASE("MovieLens readers name the malformed line", "[apps][autorec][io]") {
    auto error_of = [](const std::string& text, latent::RatingFormat f = latent::RatingFormat::auto_detect) -> std::string {
        std::istringstream in(text);
        try {
            latent::parse_ratings(in, f, "u.data");
        } catch (const latent::DataError& e) {
            return e.what();
        }
        return "no error";
    };
    const std::string bad_rating = error_of("1\t2\t3\t4\n1\t3\t4\t5\n2\t2\tfive\t6\n");
    CHECK(bad_rating.find("u.data:3:") != std::string::npos);
    CHECK(bad_rating.find("'five'") != std::string::npos);
    CHECK(bad_rating.find("rating") != std::string::npos);
    CHECK(error_of("1\t2\t3\t4\n1\t2\n").find("u.data:2: expected 3 or 4 fields") != std::string::npos);
    CHECK(error_of("1::x::3::4\n").find("u.data:1: expected an integer item id") != std::string::npos);
    CHECK(error_of("1::2::3.5x::4\n").find("'3.5x'") != std::string::npos);
    CHECK(error_of("1\t2\tnan\t4\n").find("numeric rating") != std::string::npos);
    CHECK(error_of("").find("expected ratings, found none") != std::string::npos);
    CHECK(error_of("1::2::3::4\n", latent::RatingFormat::tab).find("expected 3 or 4 fields") != std::string::npos);
    CHECK_THROWS_AS(latent::read_movielens("/nonexistent/u.data"), latent::FormatError);
}

TEST_CASE("synthetic ratings and the split", "[apps][autorec]") {
    latent::Rng rng(1);
    latent::SyntheticRatingOptions o;
    o.users = 60;
    o.items = 80;
    o.density = 0.1;
    const auto t = latent::make_synthetic_ratings(o, rng);
    CHECK(t.users() == 60);
    CHECK(t.items() == 80);
    std::vector<int> per_user(60, 0), per_item(80, 0);
    std::set<std::pair<Index, Index>> cells;
    for (const auto& r : t.ratings) {
        CHECK(r.value >= 1.0);
        CHECK(r.value <= 5.0);
        CHECK(r.value == std::round(r.value));
        ++per_user[static_cast<std::size_t>(r.user)];
        ++per_item[static_cast<std::size_t>(r.item)];
        cells.insert({r.user, r.item});
    }
    CHECK(cells.size() == t.ratings.size());  // no duplicates
    CHECK(*std::min_element(per_user.begin(), per_user.end()) >= 5);
    CHECK(*std::min_element(per_item.begin(), per_item.end()) >= 5);

    const auto [train, test] = latent::split_ratings(t, 0.1, rng);
    CHECK(train.size() + test.size() == t.size());
    CHECK(test.size() == static_cast<Index>(std::llround(0.1 * static_cast<double>(t.size()))));
    CHECK(train.users() == t.users());
    CHECK_THROWS_AS(latent::split_ratings(t, 1.0, rng), latent::ConfigError);
}
