#include "catch.hpp"

#include <latent/apps/classifier.hpp>
#include <latent/optim/adam.hpp>
#include <latent/optim/sgd.hpp>
#include <latent/testing/gradient_check.hpp>

using latent::Index;

namespace {

// Three well separated Gaussian blobs in 2-D (plus 3 noise features).
template <class S>
void blobs(Index n, latent::Rng& rng, latent::Matrix<S>& x, std::vector<int>& y) {
    const double cx[3] = {-4, 4, 0}, cy[3] = {0, 0, 6};
    x.resize(5, n);
    y.resize(static_cast<std::size_t>(n));
    for (Index j = 0; j < n; ++j) {
        const int c = static_cast<int>(rng.below(3));
        y[static_cast<std::size_t>(j)] = c;
        x(0, j) = static_cast<S>(cx[c] + rng.normal());
        x(1, j) = static_cast<S>(cy[c] + rng.normal());
        for (Index i = 2; i < 5; ++i) x(i, j) = static_cast<S>(rng.normal(0, 3));
    }
}

}  // namespace

TEST_CASE("SoftmaxClassifier learns a separable toy problem", "[apps][classifier][e2e]") {
    latent::Rng rng(8);
    latent::Matrix<float> xtr, xte;
    std::vector<int> ytr, yte;
    blobs(600, rng, xtr, ytr);
    blobs(300, rng, xte, yte);
    latent::SoftmaxClassifier<float> clf(3);
    latent::Adam<float> adam(0.05);
    latent::FitOptions<float> fo;
    fo.epochs = 30;
    fo.batch_size = 32;
    fo.progress = false;
    fo.print_epochs = false;
    const auto h = clf.fit(xtr, ytr, adam, fo);
    CHECK(h.epochs.back().loss < 0.1);
    CHECK(clf.accuracy(xte, yte) > 0.98);
    const auto p = clf.predict_proba(xte);
    CHECK(p.rows() == 3);
    CHECK((p.colwise().sum().array() - 1.0f).abs().maxCoeff() < 1e-5f);
    CHECK(clf.features() == 5);
}

TEST_CASE("SoftmaxClassifier gradient of cross-entropy plus L2", "[apps][classifier][gradcheck]") {
    latent::Rng rng(9);
    const Index d = 40, classes = 5, n = 7;  // 205 parameters
    latent::SoftmaxClassifier<double> clf(classes, 0.01);
    latent::Matrix<double> x(d, n);
    rng.fill_normal(x);
    std::vector<int> labels(n);
    for (auto& l : labels) l = static_cast<int>(rng.below(classes));
    latent::SGD<double> sgd(0.1);
    latent::FitOptions<double> fo;
    fo.epochs = 0;  // builds the model only
    fo.progress = false;
    clf.fit(x, labels, sgd, fo);
    REQUIRE(clf.params().size() == d * classes + classes);
    rng.fill_normal(clf.params().values(), 0.0, 0.3);

    latent::Matrix<double> y = latent::Matrix<double>::Zero(classes, n);
    for (Index j = 0; j < n; ++j) y(labels[static_cast<std::size_t>(j)], j) = 1;
    clf.params().zero_grad();
    clf.train_batch(x, y, nullptr);
    const latent::Vector<double> analytic = clf.params().grads();
    auto f = [&](const latent::Vector<double>& w) {
        clf.params().values() = w;
        return clf.eval_batch(x, y, nullptr);
    };
    const auto rep = latent::testing::check_gradient(f, clf.params().values(), analytic);
    INFO(rep.str());
    CHECK(rep.ok(1e-6));
}

TEST_CASE("SoftmaxClassifier rejects bad input", "[apps][classifier]") {
    latent::SoftmaxClassifier<float> clf(3);
    latent::Adam<float> adam;
    latent::FitOptions<float> fo;
    fo.progress = false;
    latent::Matrix<float> x = latent::Matrix<float>::Random(4, 3);
    CHECK_THROWS_AS(clf.fit(x, {0, 1}, adam, fo), latent::ShapeError);
    CHECK_THROWS_AS(clf.fit(x, {0, 1, 3}, adam, fo), latent::DataError);
    CHECK_THROWS_AS(clf.fit(latent::Matrix<float>(4, 0), {}, adam, fo), latent::DataError);
    CHECK_THROWS_AS(clf.predict(x), latent::Error);
    fo.epochs = 1;
    clf.fit(x, {0, 1, 2}, adam, fo);
    CHECK_THROWS_AS(clf.predict(latent::Matrix<float>::Zero(5, 2)), latent::ShapeError);
    CHECK_THROWS_AS(latent::SoftmaxClassifier<float>(1), latent::ConfigError);
}
