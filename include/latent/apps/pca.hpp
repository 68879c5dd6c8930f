// Principal component analysis: the linear baseline every autoencoder is
// measured against (a linear AE trained to its optimum spans the same
// subspace as PCA with as many components).
//
//   latent::PCA<float> pca(32);
//   pca.fit(x_train);                          // features x N
//   Matrix<float> z = pca.transform(x_test);   // 32 x N codes
//   Matrix<float> r = pca.inverse_transform(z);
//
// X: d x N (one sample per column), mean m = X 1 / N, Xc = X - m 1^T.
// Components: the k leading eigenvectors of the covariance C = Xc Xc^T / (N-1)
// (columns of a d x k matrix U, orthonormal, by decreasing variance), or
// equivalently the k leading left singular vectors of Xc.
//   explained_variance_i = lambda_i = s_i^2 / (N-1)   (sklearn's convention)
//   transform(x)         = U^T (x - m)                 k x N
//   inverse_transform(z) = U z + m                     d x N
// Signs are fixed so that the largest-magnitude entry of each component is
// positive: the same data gives the same components whatever the solver.
// Work is done in double whatever S is; results are stored as S.
#pragma once

#include "latent/core/abi.hpp"

#include <Eigen/Eigenvalues>
#include <Eigen/SVD>

#include <algorithm>
#include <string>

#include "latent/core/gemm.hpp"
#include "latent/core/tensor.hpp"

LATENT_NAMESPACE_BEGIN

enum class PCASolver {
    automatic,   // covariance when N >= d, SVD of the centred data otherwise
    covariance,  // SelfAdjointEigenSolver on the d x d covariance: O(N d^2 + d^3)
    svd          // BDCSVD of the d x N centred data: O(d N min(d, N)), better conditioned
};

inline const char* pca_solver_name(PCASolver s) {
    switch (s) {
        case PCASolver::automatic: return "automatic";
        case PCASolver::covariance: return "covariance";
        case PCASolver::svd: return "svd";
    }
    return "?";
}

template <class S>
class PCA {
public:
    using Mat = Matrix<S>;
    using Vec = Vector<S>;

    // n_components = 0 keeps min(d, N) components.
    explicit PCA(Index n_components = 0, PCASolver solver = PCASolver::automatic) : requested_(n_components), solver_(solver) {
        if (n_components < 0) throw ConfigError("PCA: expected n_components >= 0 (0 = all), found " + std::to_string(n_components));
    }

    // Fit on x (features x N, N >= 2, finite values).
    PCA& fit(const Mat& x) {
        const Index d = x.rows(), n = x.cols();
        if (d == 0 || n < 2)
            throw DataError("PCA::fit: expected at least 1 feature and 2 samples (features x N), found " + detail::shape_of(x));
        const Index k = requested_ == 0 ? std::min(d, n) : requested_;
        if (k > std::min(d, n))
            throw ConfigError("PCA::fit: expected n_components <= min(features, samples) = " + std::to_string(std::min(d, n)) +
                              ", found " + std::to_string(k) + " for data " + detail::shape_of(x));
        detail::check_finite(x, "PCA::fit");

        using MatW = Matrix<double>;
        using VecW = Vector<double>;
        VecW mean = VecW::Zero(d);
        for (Index j = 0; j < n; ++j) mean += x.col(j).template cast<double>();
        mean /= static_cast<double>(n);

        const PCASolver used = solver_ != PCASolver::automatic ? solver_ : (n >= d ? PCASolver::covariance : PCASolver::svd);
        VecW variances;  // all min(d, N) or d of them, descending
        MatW vectors;    // d x k leading directions
        const double denom = static_cast<double>(n - 1);
        if (used == PCASolver::covariance) {
            // C = sum over column chunks of Xc Xc^T (lower triangle, rank updates).
            MatW cov = MatW::Zero(d, d), chunk;
            const Index step = 2048;
            for (Index s = 0; s < n; s += step) {
                const Index m = std::min(step, n - s);
                chunk = x.middleCols(s, m).template cast<double>();
                chunk.colwise() -= mean;
                cov.template selfadjointView<Eigen::Lower>().rankUpdate(chunk);
            }
            cov.template triangularView<Eigen::StrictlyUpper>() = cov.transpose();
            cov /= denom;
            Eigen::SelfAdjointEigenSolver<MatW> eig(cov);
            if (eig.info() != Eigen::Success)
                throw NumericError("PCA::fit: the eigen-decomposition of the " + std::to_string(d) + "x" + std::to_string(d) +
                                   " covariance did not converge");
            variances = eig.eigenvalues().reverse().cwiseMax(0.0);  // ascending -> descending; round-off can go below 0
            vectors = eig.eigenvectors().rowwise().reverse().leftCols(k);
        } else {
            MatW xc = x.template cast<double>();
            xc.colwise() -= mean;
            Eigen::BDCSVD<MatW> svd(xc, Eigen::ComputeThinU);
            if (svd.info() != Eigen::Success)
                throw NumericError("PCA::fit: the SVD of the " + detail::shape_of(x) + " centred data did not converge");
            variances = svd.singularValues().array().square() / denom;  // already descending
            vectors = svd.matrixU().leftCols(k);
        }
        // Deterministic signs: the largest-magnitude entry of each component is positive.
        for (Index c = 0; c < k; ++c) {
            Index at = 0;
            vectors.col(c).cwiseAbs().maxCoeff(&at);
            if (vectors(at, c) < 0) vectors.col(c) = -vectors.col(c);
        }

        components_ = vectors.template cast<S>();
        mean_ = mean.template cast<S>();
        explained_ = variances.head(k).template cast<S>();
        total_variance_ = variances.sum();
        used_ = used;
        return *this;
    }

    bool fitted() const { return components_.size() > 0; }
    Index n_components() const { return components_.cols(); }
    Index n_features() const { return components_.rows(); }
    PCASolver solver_used() const { return used_; }

    // d x k, orthonormal columns, by decreasing explained variance.
    const Mat& components() const {
        require("components");
        return components_;
    }
    const Vec& mean() const {
        require("mean");
        return mean_;
    }
    // k variances along the components (denominator N - 1).
    const Vec& explained_variance() const {
        require("explained_variance");
        return explained_;
    }
    // Fraction of the total variance (all components) explained by each kept one.
    Vec explained_variance_ratio() const {
        require("explained_variance_ratio");
        return total_variance_ > 0 ? Vec(explained_ / static_cast<S>(total_variance_)) : Vec(Vec::Zero(explained_.size()));
    }
    // Sum of the variances of all features (trace of the covariance).
    double total_variance() const {
        require("total_variance");
        return total_variance_;
    }

    // codes = U^T (x - m): k x N.
    Mat transform(const Mat& x) const {
        require("transform");
        detail::check_dims(x, n_features(), -1, "PCA::transform input");
        Mat z(n_components(), x.cols());
        detail::matmul(z, components_, true, x, false, false);
        Mat um(n_components(), 1);
        detail::matmul(um, components_, true, mean_, false, false);
        z.colwise() -= um.col(0);
        return z;
    }

    // x' = U z + m: d x N.
    Mat inverse_transform(const Mat& codes) const {
        require("inverse_transform");
        detail::check_dims(codes, n_components(), -1, "PCA::inverse_transform codes");
        Mat x(n_features(), codes.cols());
        detail::matmul(x, components_, false, codes, false, false);
        x.colwise() += mean_;
        return x;
    }

    Mat fit_transform(const Mat& x) { return fit(x).transform(x); }

    // Projection onto the component subspace: inverse_transform(transform(x)).
    Mat reconstruct(const Mat& x) const { return inverse_transform(transform(x)); }

    // Per-sample mean squared reconstruction error over the features (N).
    Vec reconstruction_error(const Mat& x) const {
        const Mat r = reconstruct(x);
        return ((r - x).array().square().colwise().sum() / static_cast<S>(x.rows())).transpose();
    }

private:
    void require(const char* what) const {
        if (!fitted()) throw Error(std::string("PCA::") + what + ": expected a fitted PCA, found none (call fit(x) first)");
    }

    Index requested_;
    PCASolver solver_;
    PCASolver used_ = PCASolver::automatic;
    Mat components_;
    Vec mean_, explained_;
    double total_variance_ = 0;
};

LATENT_NAMESPACE_END
