// Scalers (data/scaling.hpp): MinMaxScaler and StandardScaler fit (ignoring
// NaN), transform and invert.
#include "support.hpp"

#include <cmath>
#include <limits>

#include <latent/latent.hpp>

using latent::Index;

TEST_CASE("MinMaxScaler maps to [lo, hi] and back; fit ignores NaN", "[data][scaling]") {
    latent::Matrix<double> x(3, 4);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    x << 1, 2, 3, 5,    //
        -4, nan, 0, 4,  //
        7, 7, 7, 7;     // constant feature
    latent::MinMaxScaler<double> s(-1, 1);
    const auto y = s.fit_transform(x);
    CHECK(s.data_min()(1) == -4);
    CHECK(s.data_max()(1) == 4);
    CHECK(y(0, 0) == Approx(-1));
    CHECK(y(0, 3) == Approx(1));
    CHECK(y(0, 1) == Approx(-0.5));
    CHECK(y(1, 2) == Approx(0));
    CHECK(std::isnan(y(1, 1)));
    CHECK(y(2, 0) == Approx(-1));  // constant: lo
    const auto back = s.inverse_transform(y);
    for (Index j = 0; j < 4; ++j)
        for (Index i = 0; i < 3; ++i) {
            if (std::isnan(x(i, j)))
                CHECK(std::isnan(back(i, j)));
            else
                CHECK(back(i, j) == Approx(x(i, j)).margin(1e-12));
        }
    LATENT_CHECK_THROWS_WITH_ALL(s.transform(latent::Matrix<double>::Zero(2, 4)), latent::ShapeError, "expected 3 features",
                                 "found 2");
    LATENT_CHECK_THROWS_WITH_ALL(latent::MinMaxScaler<double>().transform(x), latent::ConfigError, "fit");
    latent::Matrix<double> all_nan = x;
    all_nan.row(1).setConstant(nan);
    LATENT_CHECK_THROWS_WITH_ALL(latent::MinMaxScaler<double>().fit(all_nan), latent::DataError, "feature 1");
}

TEST_CASE("StandardScaler gives zero mean and unit variance and round trips", "[data][scaling]") {
    latent::Rng rng(9);
    latent::Matrix<double> x(5, 200);
    rng.fill_normal(x, 3.0, 2.5);
    x.row(4).setConstant(1.5);
    x(2, 17) = std::numeric_limits<double>::quiet_NaN();
    latent::StandardScaler<double> s;
    const auto z = s.fit_transform(x);
    for (Index i = 0; i < 4; ++i) {
        double sum = 0, ss = 0;
        int n = 0;
        for (Index j = 0; j < z.cols(); ++j)
            if (!std::isnan(z(i, j))) sum += z(i, j), ss += z(i, j) * z(i, j), ++n;
        CHECK(sum / n == Approx(0).margin(1e-12));
        CHECK(ss / n == Approx(1).epsilon(1e-12));
    }
    CHECK(std::isnan(z(2, 17)));
    CHECK(z.row(4).cwiseAbs().maxCoeff() == 0.0);  // constant feature -> 0
    CHECK(s.stddev()(4) == 0.0);
    const auto back = s.inverse_transform(z);
    CHECK(std::isnan(back(2, 17)));
    latent::Matrix<double> bx = back, xx = x;
    bx(2, 17) = xx(2, 17) = 0;
    CHECK((bx - xx).cwiseAbs().maxCoeff() < 1e-12);

    latent::Matrix<float> xf = x.cast<float>();
    latent::StandardScaler<float> sf(/*with_mean=*/false);
    const auto zf = sf.fit_transform(xf);
    CHECK(zf(0, 0) == Approx(xf(0, 0) / sf.stddev()(0)));
    LATENT_CHECK_THROWS_WITH_ALL(s.transform(latent::Matrix<double>::Zero(4, 1)), latent::ShapeError, "expected 5", "found 4");
}
