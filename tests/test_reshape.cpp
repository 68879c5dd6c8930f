// Flatten and Reshape (layers/reshape.hpp): data passed through, sizes
// checked, errors naming both shapes.
#include "conv_support.hpp"

using conv_test::MatD;
using latent::Shape;

TEST_CASE("Flatten and Reshape pass the data through and check sizes", "[pool][shapes]") {
    latent::Flatten<double> f;
    CHECK(f.output_shape(Shape{16, 4, 4}) == Shape(256));
    latent::Reshape<double> r(Shape{4, -1, 4});
    CHECK(r.output_shape(Shape{64}) == Shape(4, 4, 4));
    conv_test::Standalone s(r, Shape{64});
    MatD x(64, 3);
    s.rng.fill_normal(x);
    CHECK(&r.forward(x, latent::Mode::train) == &x);
    CHECK_THROWS_AS(latent::Reshape<double>(Shape{4, 4, 4}).output_shape(Shape{63}), latent::ShapeError);
    CHECK_THROWS_AS(latent::Reshape<double>(Shape{4, -1, 5}).output_shape(Shape{64}), latent::ShapeError);
    CHECK_THROWS_AS(latent::Reshape<double>(Shape{-1, -1, 4}), latent::ConfigError);
    try {
        (void)latent::Reshape<double>(Shape{2, 3, 4}).output_shape(Shape{5, 5});
        FAIL("expected ShapeError");
    } catch (const latent::ShapeError& e) {
        const std::string m = e.what();
        CHECK(conv_test::contains(m, "Reshape"));
        CHECK(conv_test::contains(m, "(2x3x4)"));
        CHECK(conv_test::contains(m, "(5x5x1)"));
    }
}
