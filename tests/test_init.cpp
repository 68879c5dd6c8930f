// Initializers (core/init.hpp): the ranges and spreads of Glorot, He,
// uniform and normal initialization, and the constants.
#include "support.hpp"

#include <cmath>

#include <latent/latent.hpp>

using namespace latent;
using latent_test::MatD;

TEST_CASE("initializers: ranges and spreads", "[core]") {
    Rng rng(3);
    MatD w(200, 300);
    SECTION("Glorot uniform") {
        Init::glorot_uniform(300, 200).apply(w, rng);
        const double r = std::sqrt(6.0 / 500);
        CHECK(w.maxCoeff() <= r);
        CHECK(w.minCoeff() >= -r);
        CHECK(w.maxCoeff() > 0.99 * r);
        CHECK(std::sqrt(w.squaredNorm() / w.size()) == Approx(r / std::sqrt(3.0)).epsilon(0.01));
    }
    SECTION("Glorot normal, He normal, He uniform") {
        Init::glorot_normal(300, 200).apply(w, rng);
        CHECK(std::sqrt(w.squaredNorm() / w.size()) == Approx(std::sqrt(2.0 / 500)).epsilon(0.01));
        Init::he_normal(300).apply(w, rng);
        CHECK(std::sqrt(w.squaredNorm() / w.size()) == Approx(std::sqrt(2.0 / 300)).epsilon(0.01));
        Init::he_uniform(300).apply(w, rng);
        CHECK(w.cwiseAbs().maxCoeff() <= std::sqrt(6.0 / 300));
        CHECK(std::abs(w.mean()) < 0.002);
    }
    SECTION("constants") {
        Init::zeros().apply(w, rng);
        CHECK(w.isZero(0));
        Init::ones().apply(w, rng);
        CHECK(w.isOnes(0));
        Init::constant(0.25).apply(w, rng);
        CHECK((w.array() == 0.25).all());
        Init::uniform(0.1).apply(w, rng);
        CHECK(w.cwiseAbs().maxCoeff() <= 0.1);
        Init::normal(0.5).apply(w, rng);
        CHECK(std::sqrt(w.squaredNorm() / w.size()) == Approx(0.5).epsilon(0.01));
    }
}
