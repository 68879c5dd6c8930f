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

TEST_CASE("all_finite finds a NaN or an infinity anywhere, and passes every finite value", "[core]") {
    for (const Index n : {Index{0}, Index{1}, Index{15}, Index{16}, Index{41}, Index{5000}}) {
        const Vector<float> v = Vector<float>::LinSpaced(n, -1.f, 1.f) * 3e38f;  // up to the largest floats: x * 0 is still 0
        CHECK(detail::all_finite(v));
        CHECK(detail::all_finite(v.cast<double>()));
        for (const float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                                -std::numeric_limits<float>::infinity()})
            for (const Index at : {Index{0}, n / 2, n - 1}) {
                if (n == 0) continue;
                INFO("n " << n << ", bad value at " << at);
                Vector<float> w = v;
                w(at) = bad;
                CHECK_FALSE(detail::all_finite(w));
                CHECK_FALSE(detail::all_finite(w.cast<double>()));
                Matrix<float> m = Eigen::Map<Matrix<float>>(w.data(), 1, n);
                CHECK_FALSE(detail::all_finite(m.block(0, 0, 1, n)));
            }
    }
    MatD m = MatD::Constant(7, 9, 1e300);
    CHECK(detail::all_finite(m));
    m(6, 8) = std::numeric_limits<double>::quiet_NaN();
    CHECK_FALSE(detail::all_finite(m));
    CHECK(detail::all_finite(m.topLeftCorner(6, 9)));  // a block that leaves it out
}
