// latent::Rng: the one source of randomness (init, shuffling, dropout, noise,
// sampling). xoshiro256** seeded through splitmix64, with our own uniform and
// normal transforms, so a seed gives the same numbers on every platform and
// standard library (std::normal_distribution does not promise that).
#pragma once

#include "latent/core/abi.hpp"

#include <cmath>
#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

#include "latent/core/tensor.hpp"

LATENT_NAMESPACE_BEGIN

class Rng {
public:
    explicit Rng(std::uint64_t seed = 0x1a7e27u) { reseed(seed); }

    void reseed(std::uint64_t seed) {
        seed_ = seed;
        std::uint64_t x = seed;
        for (auto& s : state_) s = splitmix64(x);
        has_spare_ = false;
    }
    std::uint64_t seed() const { return seed_; }

    // Next raw 64 bits.
    std::uint64_t next() {
        const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const std::uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

    // Uniform in [0, 1) with 53 random bits.
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

    // Uniform integer in [0, n), without modulo bias.
    std::uint64_t below(std::uint64_t n) {
        if (n == 0) throw ConfigError("Rng::below: expected n > 0, found 0");
        const std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % n);
        std::uint64_t r;
        do r = next();
        while (r >= limit);
        return r % n;
    }

    // Standard normal (Box-Muller; the second value is kept for the next call).
    double normal() {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        double u1;
        do u1 = uniform();
        while (u1 <= 0.0);
        const double u2 = uniform();
        const double r = std::sqrt(-2.0 * std::log(u1));
        const double theta = 6.283185307179586476925 * u2;
        spare_ = r * std::sin(theta);
        has_spare_ = true;
        return r * std::cos(theta);
    }
    double normal(double mean, double stddev) { return mean + stddev * normal(); }

    bool bernoulli(double p) { return uniform() < p; }

    // Fisher-Yates shuffle.
    template <class T>
    void shuffle(std::vector<T>& v) {
        for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
    }

    std::vector<Index> permutation(Index n) {
        std::vector<Index> p(static_cast<std::size_t>(n));
        std::iota(p.begin(), p.end(), Index{0});
        shuffle(p);
        return p;
    }

    // Fill a matrix in place.
    template <class D>
    void fill_normal(Eigen::DenseBase<D>& m, double mean = 0.0, double stddev = 1.0) {
        using S = typename D::Scalar;
        for (Index j = 0; j < m.cols(); ++j)
            for (Index i = 0; i < m.rows(); ++i) m(i, j) = static_cast<S>(normal(mean, stddev));
    }
    template <class D>
    void fill_uniform(Eigen::DenseBase<D>& m, double lo = 0.0, double hi = 1.0) {
        using S = typename D::Scalar;
        for (Index j = 0; j < m.cols(); ++j)
            for (Index i = 0; i < m.rows(); ++i) m(i, j) = static_cast<S>(uniform(lo, hi));
    }

    // An independent generator derived from this one (advances this one).
    Rng split() { return Rng(next()); }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    static std::uint64_t splitmix64(std::uint64_t& x) {
        std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }

    std::uint64_t seed_ = 0;
    std::uint64_t state_[4] = {};
    double spare_ = 0.0;
    bool has_spare_ = false;
};

LATENT_NAMESPACE_END
