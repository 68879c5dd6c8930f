#include "support.hpp"

#include <Eigen/QR>
#include <Eigen/SVD>

#include <latent/apps/pca.hpp>
#include <latent/models/dense_autoencoder.hpp>
#include <latent/optim/adam.hpp>
#include <latent/train/trainer.hpp>

using latent::Index;
using latent::PCA;
using latent::PCASolver;
using latent_test::MatD;
using latent_test::VecD;

namespace {

// d x n samples x = Q diag(sqrt(var)) g + offset, with Q a random orthonormal
// basis and g standard normal: the population covariance is Q diag(var) Q^T.
MatD structured_data(Index d, Index n, const VecD& var, std::uint64_t seed) {
    latent::Rng rng(seed);
    MatD a(d, d);
    rng.fill_normal(a);
    const MatD q = Eigen::HouseholderQR<MatD>(a).householderQ();
    MatD g(d, n);
    rng.fill_normal(g);
    VecD offset(d);
    rng.fill_uniform(offset, -2.0, 2.0);
    MatD x = q * var.cwiseSqrt().asDiagonal() * g;
    x.colwise() += offset;
    return x;
}

VecD decaying_variances(Index d) {
    VecD v(d);
    for (Index i = 0; i < d; ++i) v(i) = 10.0 * std::pow(0.8, static_cast<double>(i)) + 0.01;
    return v;
}

// Reference: the descending eigenvalues of the sample covariance by a plain
// JacobiSVD of the centred data (independent of PCA's code path).
VecD reference_variances(const MatD& x) {
    MatD xc = x.colwise() - x.rowwise().mean();
    Eigen::JacobiSVD<MatD> svd(xc);
    return svd.singularValues().array().square() / static_cast<double>(x.cols() - 1);
}

}  // namespace

TEST_CASE("PCA variances match the sample covariance's eigenvalues, both solvers", "[apps][pca]") {
    const Index d = 12, n = 400;
    const MatD x = structured_data(d, n, decaying_variances(d), 1);
    const VecD ref = reference_variances(x);
    for (PCASolver s : {PCASolver::covariance, PCASolver::svd}) {
        INFO("solver " << latent::pca_solver_name(s));
        PCA<double> pca(5, s);
        pca.fit(x);
        CHECK(pca.solver_used() == s);
        REQUIRE(pca.n_components() == 5);
        REQUIRE(pca.n_features() == d);
        CHECK((pca.explained_variance() - ref.head(5)).cwiseAbs().maxCoeff() < 1e-10 * ref(0));
        CHECK(pca.total_variance() == Approx(ref.sum()).epsilon(1e-12));
        CHECK((pca.mean() - x.rowwise().mean()).cwiseAbs().maxCoeff() < 1e-12);
        // descending, and the ratio sums to what the kept components explain
        for (Index i = 1; i < 5; ++i) CHECK(pca.explained_variance()(i) <= pca.explained_variance()(i - 1));
        CHECK(pca.explained_variance_ratio().sum() == Approx(ref.head(5).sum() / ref.sum()).epsilon(1e-12));
    }
}

TEST_CASE("PCA components are orthonormal, sign-fixed and agree across solvers", "[apps][pca]") {
    const Index d = 130, n = 600;  // a size above 100
    const MatD x = structured_data(d, n, decaying_variances(d), 2);
    PCA<double> cov(10, PCASolver::covariance), svd(10, PCASolver::svd);
    cov.fit(x);
    svd.fit(x);
    const MatD& u = cov.components();
    CHECK((u.transpose() * u - MatD::Identity(10, 10)).cwiseAbs().maxCoeff() < 1e-12);
    for (Index c = 0; c < 10; ++c) {
        Index at = 0;
        u.col(c).cwiseAbs().maxCoeff(&at);
        CHECK(u(at, c) > 0);
    }
    // the leading variances are well separated, so the vectors themselves agree
    CHECK((cov.components() - svd.components()).cwiseAbs().maxCoeff() < 1e-8);
    CHECK((cov.explained_variance() - svd.explained_variance()).cwiseAbs().maxCoeff() < 1e-10);
    // each component is an eigenvector of the sample covariance with its variance
    MatD xc = x.colwise() - x.rowwise().mean();
    const MatD c = xc * xc.transpose() / static_cast<double>(n - 1);
    for (Index k = 0; k < 10; ++k)
        CHECK((c * u.col(k) - cov.explained_variance()(k) * u.col(k)).norm() < 1e-9 * cov.explained_variance()(0));
}

TEST_CASE("PCA codes are centred and decorrelated; all components reconstruct exactly", "[apps][pca]") {
    const Index d = 9, n = 300;
    const MatD x = structured_data(d, n, decaying_variances(d), 3);
    PCA<double> pca(4);
    const MatD z = pca.fit_transform(x);
    REQUIRE(z.rows() == 4);
    REQUIRE(z.cols() == n);
    CHECK(z.rowwise().mean().cwiseAbs().maxCoeff() < 1e-12);
    const MatD cz = z * z.transpose() / static_cast<double>(n - 1);
    const MatD expected = pca.explained_variance().asDiagonal();
    CHECK((cz - expected).cwiseAbs().maxCoeff() < 1e-10 * pca.explained_variance()(0));

    PCA<double> full;  // 0 = all min(d, N) components
    full.fit(x);
    CHECK(full.n_components() == d);
    CHECK((full.reconstruct(x) - x).cwiseAbs().maxCoeff() < 1e-10);
    CHECK((full.inverse_transform(full.transform(x)) - x).cwiseAbs().maxCoeff() < 1e-10);
}

TEST_CASE("PCA training reconstruction error is the discarded variance", "[apps][pca]") {
    const Index d = 16, n = 500, k = 6;
    const MatD x = structured_data(d, n, decaying_variances(d), 4);
    const VecD ref = reference_variances(x);
    PCA<double> pca(k);
    pca.fit(x);
    // mean over features and samples of (x' - x)^2 = sum_{i >= k} lambda_i (N-1)/N / d
    const double expected = ref.tail(d - k).sum() * static_cast<double>(n - 1) / static_cast<double>(n) / static_cast<double>(d);
    CHECK(pca.reconstruction_error(x).mean() == Approx(expected).epsilon(1e-10));
    // no other rank-k affine projection does better: try a random one
    latent::Rng rng(5);
    MatD a(d, k);
    rng.fill_normal(a);
    const MatD q = Eigen::HouseholderQR<MatD>(a).householderQ() * MatD::Identity(d, k);
    MatD xc = x.colwise() - x.rowwise().mean();
    const double random_mse = (q * (q.transpose() * xc) - xc).squaredNorm() / static_cast<double>(d * n);
    CHECK(random_mse > expected);
}

TEST_CASE("PCA with fewer samples than features uses the SVD and works in float", "[apps][pca]") {
    const Index d = 150, n = 40;
    const MatD x = structured_data(d, n, decaying_variances(d), 6);
    PCA<double> automatic(0);
    automatic.fit(x);
    CHECK(automatic.solver_used() == PCASolver::svd);
    CHECK(automatic.n_components() == n);
    CHECK(automatic.explained_variance()(n - 1) < 1e-20 * automatic.explained_variance()(0) + 1e-20);  // centring loses one rank
    PCA<double> cov(8, PCASolver::covariance);
    cov.fit(x);
    CHECK((cov.explained_variance() - automatic.explained_variance().head(8)).cwiseAbs().maxCoeff() <
          1e-9 * automatic.explained_variance()(0));

    const latent::Matrix<float> xf = x.cast<float>();
    PCA<float> pf(8);
    pf.fit(xf);
    CHECK((pf.explained_variance().cast<double>() - cov.explained_variance()).cwiseAbs().maxCoeff() <
          1e-4 * cov.explained_variance()(0));
    CHECK((pf.components().cast<double>() - cov.components()).cwiseAbs().maxCoeff() < 1e-3);
}

TEST_CASE("PCA reports bad arguments and data clearly", "[apps][pca][errors]") {
    using latent_test::contains;
    LATENT_CHECK_THROWS_WITH_ALL(PCA<double>(-1), latent::ConfigError, "n_components >= 0", "-1");

    const MatD x = structured_data(5, 20, decaying_variances(5), 7);
    PCA<double> too_many(6);
    LATENT_CHECK_THROWS_WITH_ALL(too_many.fit(x), latent::ConfigError, "n_components <= min(features, samples) = 5", "found 6");
    PCA<double> pca(2);
    LATENT_CHECK_THROWS_WITH_ALL(pca.fit(MatD(5, 1)), latent::DataError, "2 samples", "5x1");
    LATENT_CHECK_THROWS_WITH_ALL(pca.fit(MatD(0, 10)), latent::DataError, "0x10");
    MatD bad = x;
    bad(3, 7) = std::numeric_limits<double>::quiet_NaN();
    LATENT_CHECK_THROWS_WITH_ALL(pca.fit(bad), latent::DataError, "PCA::fit", "finite", "row 3, column 7");

    LATENT_CHECK_THROWS_WITH_ALL(pca.transform(x), latent::Error, "fitted", "fit(x)");
    LATENT_CHECK_THROWS_WITH_ALL(pca.components(), latent::Error, "fitted");
    pca.fit(x);
    LATENT_CHECK_THROWS_WITH_ALL(pca.transform(MatD(4, 3)), latent::ShapeError, "PCA::transform", "5x", "4x3");
    LATENT_CHECK_THROWS_WITH_ALL(pca.inverse_transform(MatD(3, 3)), latent::ShapeError, "PCA::inverse_transform", "2x", "3x3");
}

TEST_CASE("a linear autoencoder reaches PCA's error within 2% on small data", "[apps][pca][e2e]") {
    // 20 features with a 4-dimensional dominant subspace plus small noise.
    const Index d = 20, n = 1000, k = 4;
    VecD var = VecD::Constant(d, 0.02);
    var.head(k) << 4.0, 2.0, 1.0, 0.5;
    const latent::Matrix<float> x = structured_data(d, n, var, 8).cast<float>();

    PCA<float> pca(k);
    pca.fit(x);
    const double pca_mse = pca.reconstruction_error(x).cast<double>().mean();

    latent::DenseAutoencoderOptions o;
    o.sizes = {d, k};
    o.hidden = latent::Act::identity;
    o.code = latent::Act::identity;
    o.output = latent::Act::identity;
    latent::Rng rng(9);
    auto ae = latent::make_dense_autoencoder<float>(o, rng);
    latent::Adam<float> adam(1e-2);
    latent::FitOptions<float> fo;
    fo.epochs = 300;
    fo.batch_size = 50;
    fo.seed = 10;
    fo.progress = false;
    fo.print_epochs = false;
    fo.schedule = std::make_shared<latent::CosineLR>(static_cast<double>(fo.epochs));
    latent::fit(ae, adam, x, fo);
    const double ae_mse = ae.reconstruction_error(x).cast<double>().mean();
    INFO("linear AE MSE " << ae_mse << ", PCA MSE " << pca_mse);
    CHECK(ae_mse <= 1.02 * pca_mse);
    // PCA is the optimal rank-k affine map on the data it was fitted to.
    CHECK(ae_mse >= pca_mse * (1 - 1e-4));
}
