// History: safe access when no epoch ran (epochs = 0, a stop on NaN before
// the first epoch ends), and its JSON.
#include "support.hpp"

#include <clocale>
#include <locale>

#include <latent/train/history.hpp>

using namespace latent;

TEST_CASE("an empty History throws on last() instead of undefined behaviour", "[train]") {
    History h;
    CHECK(h.empty());
    LATENT_CHECK_THROWS_WITH_ALL(h.last(), Error, "History::last", "no epochs");
    CHECK_FALSE(h.last_epoch().has_value());
    CHECK(std::isnan(h.final_loss()));
    CHECK(h.losses().empty());
    CHECK(h.to_json() == "{\"epochs\":[],\"stop_reason\":\"\",\"best_epoch\":0}");
    h.epochs.push_back(EpochLog{});
    h.epochs.back().epoch = 1;
    h.epochs.back().loss = 0.25;
    CHECK(h.last().loss == 0.25);
    REQUIRE(h.last_epoch().has_value());
    CHECK(h.last_epoch()->loss == 0.25);
}

TEST_CASE("History::to_json escapes the stop reason", "[train]") {
    History h;
    h.stop_reason = "say \"hi\"\\\n";
    CHECK(h.to_json() == "{\"epochs\":[],\"stop_reason\":\"say \\\"hi\\\"\\\\\\n\",\"best_epoch\":0}");
}
