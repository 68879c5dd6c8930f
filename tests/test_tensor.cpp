// core/tensor.hpp: Shape, and the input checks (check_dims, check_finite)
// that name what was expected and what was found.
#include "support.hpp"

#include <limits>

#include <latent/latent.hpp>

using namespace latent;
using latent_test::MatD;

TEST_CASE("Shape", "[core]") {
    const Shape flat{784};
    CHECK(flat.size() == 784);
    CHECK(flat.is_flat());
    CHECK(flat.str() == "(784)");
    const Shape img{3, 28, 32};
    CHECK(img.size() == 3 * 28 * 32);
    CHECK_FALSE(img.is_flat());
    CHECK(img.str() == "(3x28x32)");
    CHECK(img == Shape(3, 28, 32));
    CHECK(img != Shape(3, 32, 28));
    CHECK(Shape{}.empty());
}

TEST_CASE("input checks name what was expected and what was found", "[core]") {
    MatD m = MatD::Zero(3, 4);
    LATENT_CHECK_THROWS_WITH_ALL(detail::check_dims(m, 3, 5, "thing"), ShapeError, "thing", "3x5", "3x4");
    LATENT_CHECK_THROWS_WITH_ALL(detail::check_dims(m, 2, -1, "thing"), ShapeError, "2xbatch", "3x4");
    detail::check_dims(m, 3, -1, "ok");
    m(1, 2) = std::numeric_limits<double>::infinity();
    LATENT_CHECK_THROWS_WITH_ALL(detail::check_finite(m, "data"), DataError, "data", "inf", "row 1", "column 2");
}
