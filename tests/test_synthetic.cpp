// Synthetic shapes (data/synthetic.hpp): deterministic, in [0,1], balanced,
// and learnable by a nearest-class-mean classifier.
#include "support.hpp"

#include <vector>

#include <latent/latent.hpp>

using latent::Index;

TEST_CASE("synthetic shapes are deterministic, in [0,1], balanced and learnable", "[data][synthetic]") {
    latent::Rng a(42), b(42), c(43);
    const auto s1 = latent::make_shapes<float>(400, a);
    const auto s2 = latent::make_shapes<float>(400, b);
    const auto s3 = latent::make_shapes<float>(400, c);
    CHECK(s1.shape == latent::Shape{1, 28, 28});
    REQUIRE(s1.x.rows() == 784);
    REQUIRE(s1.x.cols() == 400);
    CHECK(s1.x == s2.x);  // bit for bit
    CHECK(s1.labels == s2.labels);
    CHECK(s1.x != s3.x);
    CHECK(s1.x.minCoeff() >= 0.0f);
    CHECK(s1.x.maxCoeff() <= 1.0f);
    std::vector<int> count(10, 0);
    for (int l : s1.labels) ++count[static_cast<std::size_t>(l)];
    for (int k : count) CHECK(k == 40);
    CHECK(latent::shape_class_names().size() == 10);

    // Nearest class mean, fitted on one set, classifies a fresh set well above chance (10%).
    latent::Matrix<float> means = latent::Matrix<float>::Zero(784, 10);
    for (Index j = 0; j < s1.x.cols(); ++j) means.col(s1.labels[static_cast<std::size_t>(j)]) += s1.x.col(j) / 40.0f;
    int correct = 0;
    for (Index j = 0; j < s3.x.cols(); ++j) {
        Index best = 0;
        (means.colwise() - s3.x.col(j)).colwise().squaredNorm().minCoeff(&best);
        correct += best == s3.labels[static_cast<std::size_t>(j)];
    }
    INFO("nearest-mean accuracy: " << correct / 400.0);
    CHECK(correct >= 200);

    latent::ShapesOptions o;
    o.height = o.width = 16;
    latent::Rng d(1);
    CHECK(latent::make_shapes<double>(3, d, o).x.rows() == 256);
    CHECK_THROWS_AS(latent::make_shapes<float>(-1, d), latent::ConfigError);
}
