// LayerConfig (core/config.hpp): typed attributes, exact round trips of
// numbers, comparison, str(), and the errors a missing or mistyped attribute gives.
#include "support.hpp"

#include <latent/latent.hpp>

using namespace latent;

TEST_CASE("LayerConfig: attributes, round trips and errors", "[core]") {
    LayerConfig c("Thing");
    c.set("units", Index{128}).set("rate", 0.1).set("flag", true).set("name", "abc").set("shape", Shape{2, 3, 4}).set("n", 7);
    c.set("units", Index{64});  // replaces
    CHECK(c.attrs.size() == 6);
    CHECK(c.get_index("units") == 64);
    CHECK(c.get_double("rate") == 0.1);  // %.17g round trips exactly
    const double third = 1.0 / 3.0;
    c.set("third", third);
    CHECK(c.get_double("third") == third);
    CHECK(c.get_bool("flag"));
    CHECK(c.get_string("name", "") == "abc");
    CHECK(c.get_shape("shape") == Shape(2, 3, 4));
    CHECK(c.get_index("n") == 7);
    CHECK(c.get_double("missing", 2.5) == 2.5);
    CHECK(c.get_index("missing", 3) == 3);
    CHECK_FALSE(c.get_bool("missing"));
    LATENT_CHECK_THROWS_WITH_ALL(c.get("missing"), FormatError, "Thing", "missing");
    LATENT_CHECK_THROWS_WITH_ALL(c.get_double("name"), FormatError, "number", "abc");
    LATENT_CHECK_THROWS_WITH_ALL(c.get_index("rate"), FormatError, "integer", "0.1");
    LATENT_CHECK_THROWS_WITH_ALL(c.get_shape("name"), FormatError, "shape", "abc");

    LayerConfig child("Child");
    c.children.push_back(child);
    LayerConfig d = c;
    CHECK(d == c);
    d.children[0].set("x", 1);
    CHECK(d != c);
    CHECK(latent_test::contains(c.str(), "Thing{units=64"));
    CHECK(latent_test::contains(c.str(), "[Child]"));
}
