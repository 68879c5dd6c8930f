// Learning-rate schedules (optim/schedule.hpp): StepLR, ExponentialLR and
// CosineLR with and without warm-up.
#include "support.hpp"

#include <cmath>

#include <latent/latent.hpp>

using namespace latent;

TEST_CASE("learning-rate schedules", "[optim]") {
    SECTION("StepLR") {
        StepLR s(2, 0.5);
        CHECK(s.factor(0) == 1);
        CHECK(s.factor(1.99) == 1);
        CHECK(s.factor(2) == 0.5);
        CHECK(s.factor(3.5) == 0.5);
        CHECK(s.factor(4) == 0.25);
        CHECK_THROWS_AS(StepLR(0, 0.5), ConfigError);
    }
    SECTION("ExponentialLR") {
        ExponentialLR s(0.9);
        CHECK(s.factor(0) == 1);
        CHECK(s.factor(0.7) == 1);
        CHECK(s.factor(1) == Approx(0.9));
        CHECK(s.factor(3.2) == Approx(0.729));
    }
    SECTION("CosineLR with warm-up") {
        CosineLR s(10, 2, 0.1);
        CHECK(s.factor(0) == Approx(0).margin(1e-9));
        CHECK(s.factor(0.5) == Approx(0.25));
        CHECK(s.factor(1) == Approx(0.5));
        CHECK(s.factor(2) == Approx(1.0));
        CHECK(s.factor(6) == Approx(0.1 + 0.9 * 0.5));  // half-way through the decay
        CHECK(s.factor(4) == Approx(0.1 + 0.9 * 0.5 * (1 + std::cos(3.141592653589793 * 0.25))));
        CHECK(s.factor(10) == Approx(0.1));
        CHECK(s.factor(15) == Approx(0.1));
        CosineLR plain(4);
        CHECK(plain.factor(0) == Approx(1));
        CHECK(plain.factor(2) == Approx(0.5));
        CHECK(plain.factor(4) == Approx(0).margin(1e-15));
        CHECK_THROWS_AS(CosineLR(4, 4), ConfigError);
    }
}
