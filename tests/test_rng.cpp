// Rng (core/rng.hpp): the first outputs against regression literals from
// tests/golden/rng_golden.py, reseeding, copies and splits, distributions
// (normal, uniform, below, bernoulli, fills), permutation and shuffle.
#include "support.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

#include <latent/latent.hpp>

using namespace latent;
using latent_test::MatD;

namespace golden {
// tests/golden/rng_golden.py: xoshiro256** seeded through splitmix64
const std::uint64_t next42[4] = {0x15780b2e0c2ec716ull, 0x6104d9866d113a7eull, 0xae17533239e499a1ull, 0xecb8ad4703b360a1ull};
const double uniform42[3] = {0.083862971059882163, 0.37898025066266861, 0.68004341102813937};
const double normal7[2] = {-0.15157274547711355, 0.82989708796925699};
}  // namespace golden

TEST_CASE("Rng: known first outputs stay fixed", "[core][rng]") {
    Rng a(42);
    for (auto v : golden::next42) CHECK(a.next() == v);
    Rng b(42);
    for (double v : golden::uniform42) CHECK(b.uniform() == v);
    Rng c(7);
    CHECK(c.normal() == Approx(golden::normal7[0]).epsilon(1e-15));
    CHECK(c.normal() == Approx(golden::normal7[1]).epsilon(1e-15));  // Box-Muller's second value
    CHECK(a.seed() == 42);
}

TEST_CASE("Rng: reseed and copies reproduce; splits and other seeds differ", "[core][rng]") {
    Rng a(5), b(5), c(6);
    std::vector<double> va, vb, vc;
    for (int i = 0; i < 10; ++i) {
        va.push_back(a.normal());
        vb.push_back(b.normal());
        vc.push_back(c.normal());
    }
    CHECK(va == vb);
    CHECK(va != vc);
    a.normal();  // leaves a spare value pending
    a.reseed(5);
    std::vector<double> again;
    for (int i = 0; i < 10; ++i) again.push_back(a.normal());
    CHECK(again == va);  // reseed drops the pending spare
    Rng p(9);
    Rng q = p.split();
    Rng r = p.split();
    CHECK(q.next() != r.next());
}

TEST_CASE("Rng: distributions", "[core][rng]") {
    Rng rng(123);
    const int n = 200000;
    double sum = 0, sum2 = 0, umin = 1, umax = 0, usum = 0;
    for (int i = 0; i < n; ++i) {
        const double z = rng.normal();
        sum += z;
        sum2 += z * z;
        const double u = rng.uniform();
        umin = std::min(umin, u);
        umax = std::max(umax, u);
        usum += u;
    }
    const double mean = sum / n, sd = std::sqrt(sum2 / n - mean * mean);
    CHECK(mean == Approx(0).margin(0.01));  // std of the mean: 0.0022
    CHECK(sd == Approx(1).epsilon(0.01));
    CHECK(umin >= 0.0);
    CHECK(umax < 1.0);
    CHECK(usum / n == Approx(0.5).epsilon(0.01));
    CHECK(rng.normal(10, 0.0) == 10);
    const double x = rng.uniform(-2, -1);
    CHECK(x >= -2);
    CHECK(x < -1);

    // below(n): in range, every value reached, roughly uniform
    std::vector<int> counts(7, 0);
    for (int i = 0; i < 70000; ++i) ++counts[static_cast<std::size_t>(rng.below(7))];
    for (int c : counts) CHECK(c == Approx(10000).epsilon(0.05));
    CHECK_THROWS_AS(rng.below(0), ConfigError);

    // bernoulli
    int hits = 0;
    for (int i = 0; i < 100000; ++i) hits += rng.bernoulli(0.3);
    CHECK(hits / 100000.0 == Approx(0.3).margin(0.01));

    // fills
    MatD m(50, 40);
    rng.fill_normal(m, 2.0, 0.5);
    CHECK(m.mean() == Approx(2.0).epsilon(0.02));
    rng.fill_uniform(m, 3, 4);
    CHECK(m.minCoeff() >= 3);
    CHECK(m.maxCoeff() < 4);
}

TEST_CASE("Rng: permutation and shuffle", "[core][rng]") {
    Rng rng(77);
    const auto p = rng.permutation(100);
    std::vector<Index> sorted = p;
    std::sort(sorted.begin(), sorted.end());
    for (Index i = 0; i < 100; ++i) CHECK(sorted[static_cast<std::size_t>(i)] == i);
    std::vector<Index> id(100);
    for (Index i = 0; i < 100; ++i) id[static_cast<std::size_t>(i)] = i;
    CHECK(p != id);
    // every position gets every value about equally often (Fisher-Yates, no modulo bias)
    std::vector<int> first(5, 0);
    for (int t = 0; t < 50000; ++t) {
        std::vector<int> v = {0, 1, 2, 3, 4};
        rng.shuffle(v);
        ++first[static_cast<std::size_t>(v[0])];
    }
    for (int c : first) CHECK(c == Approx(10000).epsilon(0.05));
    CHECK(rng.permutation(0).empty());
}
