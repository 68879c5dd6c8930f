// Input corruption for denoising autoencoders (Vincent et al. 2008/2010).
// The targets stay clean; only a batch's inputs are corrupted, in place,
// from a caller's Rng:
//
//   gaussian         x += sigma * N(0, 1), then (optionally) clipped to [low, high]
//   masking          each entry set to `low` (0) with probability `amount`
//   salt_and_pepper  each entry, with probability `amount`, set to low or high
//                    (equally likely)
//
// A Corruption is callable as (Matrix<S>& x, Rng& rng), so it plugs into
// fit() and is drawn afresh for every batch of every epoch:
//   opt.input_transform = latent::Corruption::gaussian(0.5);
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <string>

#include "latent/core/rng.hpp"

LATENT_NAMESPACE_BEGIN

// x += sigma * N(0,1), clipped to [low, high] when clip is set.
template <class D>
void add_gaussian_noise(Eigen::DenseBase<D>& x, double sigma, Rng& rng, bool clip = true, double low = 0.0, double high = 1.0) {
    using S = typename D::Scalar;
    if (!(sigma >= 0)) throw ConfigError("add_gaussian_noise: expected sigma >= 0, found " + std::to_string(sigma));
    for (Index j = 0; j < x.cols(); ++j)
        for (Index i = 0; i < x.rows(); ++i) {
            double v = static_cast<double>(x(i, j)) + sigma * rng.normal();
            if (clip) v = std::clamp(v, low, high);
            x(i, j) = static_cast<S>(v);
        }
}

// Each entry set to `value` with probability `fraction`.
template <class D>
void apply_masking_noise(Eigen::DenseBase<D>& x, double fraction, Rng& rng, double value = 0.0) {
    using S = typename D::Scalar;
    if (!(fraction >= 0 && fraction <= 1))
        throw ConfigError("apply_masking_noise: expected fraction in [0, 1], found " + std::to_string(fraction));
    for (Index j = 0; j < x.cols(); ++j)
        for (Index i = 0; i < x.rows(); ++i)
            if (rng.uniform() < fraction) x(i, j) = static_cast<S>(value);
}

// Each entry, with probability `fraction`, set to low or high (equally likely).
template <class D>
void apply_salt_and_pepper(Eigen::DenseBase<D>& x, double fraction, Rng& rng, double low = 0.0, double high = 1.0) {
    using S = typename D::Scalar;
    if (!(fraction >= 0 && fraction <= 1))
        throw ConfigError("apply_salt_and_pepper: expected fraction in [0, 1], found " + std::to_string(fraction));
    for (Index j = 0; j < x.cols(); ++j)
        for (Index i = 0; i < x.rows(); ++i)
            if (rng.uniform() < fraction) x(i, j) = static_cast<S>(rng.uniform() < 0.5 ? low : high);
}

struct Corruption {
    enum class Kind { none, gaussian, masking, salt_and_pepper };
    Kind kind = Kind::none;
    double amount = 0.0;  // sigma (gaussian) or the fraction of entries hit
    bool clip = true;     // gaussian: clip to [low, high]
    double low = 0.0, high = 1.0;

    static Corruption none() { return {}; }
    static Corruption gaussian(double sigma, bool clip_to_range = true) {
        if (!(sigma >= 0)) throw ConfigError("Corruption::gaussian: expected sigma >= 0, found " + std::to_string(sigma));
        return {Kind::gaussian, sigma, clip_to_range};
    }
    static Corruption masking(double fraction) {
        check_fraction("masking", fraction);
        return {Kind::masking, fraction};
    }
    static Corruption salt_and_pepper(double fraction) {
        check_fraction("salt_and_pepper", fraction);
        return {Kind::salt_and_pepper, fraction};
    }
    // "gaussian", "masking", "saltpepper" (or "salt_and_pepper"), "none".
    static Corruption parse(const std::string& name, double amount) {
        if (name == "gaussian") return gaussian(amount);
        if (name == "masking") return masking(amount);
        if (name == "saltpepper" || name == "salt_and_pepper") return salt_and_pepper(amount);
        if (name == "none") return none();
        throw ConfigError("Corruption: expected gaussian, masking, saltpepper or none, found '" + name + "'");
    }
    std::string name() const {
        switch (kind) {
            case Kind::none: return "none";
            case Kind::gaussian: return "gaussian";
            case Kind::masking: return "masking";
            case Kind::salt_and_pepper: return "saltpepper";
        }
        return "?";
    }

    // Corrupt x in place.
    template <class S>
    void operator()(Matrix<S>& x, Rng& rng) const {
        switch (kind) {
            case Kind::none: break;
            case Kind::gaussian: add_gaussian_noise(x, amount, rng, clip, low, high); break;
            case Kind::masking: apply_masking_noise(x, amount, rng, low); break;
            case Kind::salt_and_pepper: apply_salt_and_pepper(x, amount, rng, low, high); break;
        }
    }
    // A corrupted copy of x.
    template <class S>
    Matrix<S> apply(const Matrix<S>& x, Rng& rng) const {
        Matrix<S> y = x;
        (*this)(y, rng);
        return y;
    }

private:
    static void check_fraction(const char* what, double f) {
        if (!(f >= 0 && f <= 1))
            throw ConfigError(std::string("Corruption::") + what + ": expected a fraction in [0, 1], found " + std::to_string(f));
    }
};

LATENT_NAMESPACE_END
