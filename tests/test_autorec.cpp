// AutoRec (apps/autorec.hpp): the rating baselines on hand-made data, and AutoRec
// beating the user+item bias baseline on low-rank synthetic ratings.
#include "catch.hpp"

#include <latent/apps/autorec.hpp>

using latent::Index;

TEST_CASE("rating baselines on hand-made data", "[apps][autorec]") {
    latent::RatingTable t;
    t.user_ids = {1, 2};
    t.item_ids = {1, 2, 3};
    t.ratings = {{0, 0, 4, 0}, {1, 0, 2, 0}, {0, 1, 5, 0}};
    latent::RatingBaseline global(latent::BaselineKind::global_mean);
    global.fit(t);
    CHECK(global.predict(1, 1) == Approx(11.0 / 3));
    latent::RatingBaseline item(latent::BaselineKind::item_mean);
    item.fit(t);
    CHECK(item.predict(0, 0) == Approx(3));
    CHECK(item.predict(1, 1) == Approx(5));
    CHECK(item.predict(0, 2) == Approx(11.0 / 3));  // unseen item: the global mean
    latent::RatingBaseline bias(latent::BaselineKind::user_item_bias, 0.0, 200);
    bias.fit(t);
    // unregularized biases fit these three ratings exactly
    for (const auto& r : t.ratings) CHECK(bias.predict(r.user, r.item) == Approx(r.value).margin(1e-6));
    CHECK(bias.rmse(t) == Approx(0).margin(1e-6));
}

TEST_CASE("AutoRec beats the user+item bias baseline on low-rank synthetic ratings", "[apps][autorec][e2e]") {
    latent::Rng rng(5);
    latent::SyntheticRatingOptions so;
    so.users = 150;
    so.items = 300;
    so.rank = 3;
    so.density = 0.25;
    so.interaction_scale = 1.2;
    so.integer = false;
    const auto all = latent::make_synthetic_ratings(so, rng);
    const auto [train, test] = latent::split_ratings(all, 0.1, rng);

    latent::RatingBaseline bias;
    bias.fit(train);
    latent::AutoRecOptions o;
    o.hidden = 40;
    o.epochs = 60;
    o.l2 = 1e-3;
    o.learning_rate = 3e-3;
    o.batch_size = 16;
    o.progress = false;
    latent::AutoRec<float> rec(o);
    const auto hist = rec.fit(train, &test);
    CHECK(hist.epochs.back().has_val());
    const double r_bias = bias.rmse(test), r_auto = rec.rmse(test);
    INFO("AutoRec " << r_auto << " vs bias " << r_bias);
    CHECK(r_auto < 0.9 * r_bias);

    const auto top = rec.recommend(3, 5);
    REQUIRE(top.size() == 5u);
    for (std::size_t k = 1; k < top.size(); ++k) CHECK(top[k - 1].second >= top[k].second);
    for (const auto& r : train.ratings)
        if (r.user == 3)
            for (const auto& t : top) CHECK(t.first != r.item);  // nothing the user already rated
    CHECK_THROWS_AS(rec.predict(150, 0), latent::ShapeError);
    CHECK_THROWS_AS(rec.recommend(0, 0), latent::ConfigError);
}
