#include "support.hpp"

#include <array>
#include <cstring>
#include <limits>
#include <map>
#include <string>

#include <latent/core/bfloat16.hpp>
#include <latent/core/gemm.hpp>
#include <latent/core/rng.hpp>
#include <latent/core/threads.hpp>
#include <latent/layers/dense.hpp>

using latent::Index;
using MatF = latent::Matrix<float>;
using latent_test::MatD;

namespace {

MatD op(const MatD& m, bool t) { return t ? MatD(m.transpose()) : m; }

// Largest |C - reference| over every shape / transpose / accumulate case,
// relative to the sum of |terms| (a float dot product of length k is good
// to about k * 2^-24 of that).
double worst_relative_error(latent::Rng& rng, const std::vector<Index>& ms, const std::vector<Index>& ns,
                            const std::vector<Index>& ks) {
    double worst = 0;
    for (Index m : ms)
        for (Index n : ns)
            for (Index k : ks)
                for (int ta = 0; ta < 2; ++ta)
                    for (int tb = 0; tb < 2; ++tb)
                        for (int add = 0; add < 2; ++add) {
                            MatF a(ta ? k : m, ta ? m : k), b(tb ? n : k, tb ? k : n), c(m, n);
                            rng.fill_uniform(a, -1, 1);
                            rng.fill_uniform(b, -1, 1);
                            rng.fill_uniform(c, -1, 1);
                            const MatD ad = op(a.cast<double>(), ta), bd = op(b.cast<double>(), tb);
                            MatD ref = ad * bd, mag = ad.cwiseAbs() * bd.cwiseAbs();
                            if (add) {
                                ref += c.cast<double>();
                                mag += c.cast<double>().cwiseAbs();
                            }
                            latent::detail::matmul(c, a, ta != 0, b, tb != 0, add != 0);
                            const double err = ((c.cast<double>() - ref).cwiseAbs().array() / (mag.array() + 1e-30)).maxCoeff();
                            if (err > worst) {
                                worst = err;
                                INFO("m " << m << " n " << n << " k " << k << " ta " << ta << " tb " << tb << " add " << add);
                                CHECK(err < 1e-5);
                            }
                        }
    return worst;
}

}  // namespace

TEST_CASE("matmul matches a double reference at tile edges, all transposes, set and accumulate", "[core][gemm]") {
    INFO("our float kernel is " << (latent::detail::gemm_kernel_active() ? "active" : "not active (Eigen fallback)"));
    latent::set_num_threads(1);
    latent::Rng rng(11);
    // around the tile sizes (AVX-512 32x12, AVX2 16x6) and the K block (384)
    const double worst = worst_relative_error(rng, {1, 15, 16, 17, 33, 65}, {1, 5, 6, 7, 12, 13, 25}, {1, 2, 383, 385});
    CHECK(worst < 1e-5);
}

TEST_CASE("matmul over several blocks (M > 192, N > 1020, K > 384) is right", "[core][gemm]") {
    latent::set_num_threads(1);
    latent::Rng rng(12);
    const double worst = worst_relative_error(rng, {200}, {1030}, {400});
    CHECK(worst < 1e-5);
}

TEST_CASE("matmul with an empty inner dimension sets or keeps C", "[core][gemm]") {
    MatF a(3, 0), b(0, 4), c = MatF::Constant(3, 4, 2.0f);
    latent::detail::matmul(c, a, false, b, false, true);
    CHECK((c.array() == 2.0f).all());
    latent::detail::matmul(c, a, false, b, false, false);
    CHECK((c.array() == 0.0f).all());
}

TEST_CASE("matmul gives bitwise identical results on 1 and 2 threads", "[core][gemm][threads]") {
    latent::Rng rng(13);
    // m > n splits C by rows, m < n by columns
    for (const auto& mnk : {std::array<Index, 3>{300, 260, 500}, std::array<Index, 3>{130, 700, 300}}) {
        for (int ta = 0; ta < 2; ++ta) {
            const Index m = mnk[0], n = mnk[1], k = mnk[2];
            MatF a(ta ? k : m, ta ? m : k), b(k, n);
            rng.fill_uniform(a, -1, 1);
            rng.fill_uniform(b, -1, 1);
            MatF c1(m, n), c2(m, n);
            latent::set_num_threads(1);
            latent::detail::matmul(c1, a, ta != 0, b, false, false);
            latent::set_num_threads(latent::has_openmp() ? 2 : 1);
            latent::detail::matmul(c2, a, ta != 0, b, false, false);
            latent::set_num_threads(1);
            INFO("m " << m << " n " << n << " k " << k << " trans_a " << ta);
            CHECK(c1 == c2);
            const MatD ref = op(a.cast<double>(), ta != 0) * b.cast<double>();
            CHECK((c2.cast<double>() - ref).cwiseAbs().maxCoeff() < 1e-3);
        }
    }
}

TEST_CASE("a float Dense layer agrees with the same layer in double", "[core][gemm][layers]") {
    // The float path runs our kernel (when the CPU has one); the double path runs Eigen.
    latent::Rng rng(14);
    latent::Dense<float> df(70);
    latent::Dense<double> dd(70);
    latent::ParamBuffer<float> pf;
    latent::ParamBuffer<double> pd;
    df.build(latent::Shape{130});
    dd.build(latent::Shape{130});
    std::vector<latent::NamedSlot<float>> sf;
    std::vector<latent::NamedSlot<double>> sd;
    df.collect_params("", sf);
    dd.collect_params("", sd);
    pf.bind(sf);
    pd.bind(sd);
    pd.initialize(rng);
    pd.values().tail(70).setRandom();  // non-zero bias
    pf.values() = pd.values().cast<float>();
    MatF x(130, 37), dy(70, 37);
    rng.fill_uniform(x, -1, 1);
    rng.fill_normal(dy);
    const MatD xd = x.cast<double>(), dyd = dy.cast<double>();
    const MatF& yf = df.forward(x, latent::Mode::train);
    const MatD& yd = dd.forward(xd, latent::Mode::train);
    CHECK((yf.cast<double>() - yd).cwiseAbs().maxCoeff() < 1e-4);
    pf.zero_grad();
    pd.zero_grad();
    const MatF& dxf = df.backward(dy);
    const MatD& dxd = dd.backward(dyd);
    CHECK((dxf.cast<double>() - dxd).cwiseAbs().maxCoeff() < 1e-4);
    CHECK((pf.grads().cast<double>() - pd.grads()).cwiseAbs().maxCoeff() < 1e-3);
}

namespace {

std::vector<latent::GemmEngine> available_engines() {
    std::vector<latent::GemmEngine> e;
    for (auto x : {latent::GemmEngine::own, latent::GemmEngine::eigen, latent::GemmEngine::blas})
        if (latent::gemm_engine_available(x, false)) e.push_back(x);
    return e;
}

// Restores measured choice and timing when a test ends.
struct EngineReset {
    ~EngineReset() {
        latent::set_gemm_engine(latent::GemmEngine::automatic);
        latent::set_gemm_cost_hook(nullptr);
        latent::set_num_threads(1);
    }
};

}  // namespace

TEST_CASE("every engine, forced, matches a double reference and Eigen within rounding", "[core][gemm][engine]") {
    EngineReset reset;
    latent::set_num_threads(1);
    INFO("BLAS linked in: " << (latent::has_blas() ? latent::blas_name() : std::string("none")));
    for (latent::GemmEngine e : available_engines()) {
        INFO("engine " << latent::gemm_engine_name(e));
        latent::set_gemm_engine(e);
        CHECK(latent::forced_gemm_engine() == e);
        latent::Rng rng(21);
        CHECK(worst_relative_error(rng, {1, 17, 33}, {1, 3, 8, 13}, {1, 385}) < 1e-5);
        // the same product through Eigen directly: equal within float rounding
        MatF a(130, 300), b(300, 70), c(130, 70);
        rng.fill_uniform(a, -1, 1);
        rng.fill_uniform(b, -1, 1);
        latent::detail::matmul(c, a, false, b, false, false);
        const MatF ref = a * b;
        CHECK((c - ref).cwiseAbs().maxCoeff() < 1e-4f);
        CHECK(latent::gemm_engine_for({130, 70, 300, false, false, false}) == e);
    }
}

TEST_CASE("forcing an engine that is not there throws ConfigError", "[core][gemm][engine]") {
    EngineReset reset;
    CHECK_THROWS_AS(latent::gemm_engine_from_name("fast"), latent::ConfigError);
    CHECK(latent::gemm_engine_from_name("auto") == latent::GemmEngine::automatic);
    if (!latent::has_blas()) CHECK_THROWS_AS(latent::set_gemm_engine(latent::GemmEngine::blas), latent::ConfigError);
    if (!latent::detail::gemm_kernel_active()) CHECK_THROWS_AS(latent::set_gemm_engine(latent::GemmEngine::own), latent::ConfigError);
    // double products have no own kernel: a forced own engine leaves them to the measured choice
    if (latent::detail::gemm_kernel_active()) {
        latent::set_gemm_engine(latent::GemmEngine::own);
        CHECK(latent::gemm_engine_for({64, 64, 64, false, false, true}) != latent::GemmEngine::own);
    }
}

TEST_CASE("the cache keeps the measured winner of each shape class", "[core][gemm][engine]") {
    EngineReset reset;
    const auto engines = available_engines();
    // A deterministic cost model instead of a clock: the winner is the
    // engine listed `rank` places after eigen, per shape class.
    std::map<latent::GemmEngine, int> calls;
    auto cost = [&](latent::GemmEngine e, const latent::GemmShape& s, int threads) {
        ++calls[e];
        const bool eigen_wins = s.n == 1 || s.k == 100;
        const double base = e == latent::GemmEngine::eigen ? (eigen_wins ? 1.0 : 3.0) : 2.0 + static_cast<int>(e) * 0.01;
        return base / threads;
    };
    latent::set_gemm_cost_hook(cost);
    const latent::GemmShape gemv{784, 1, 128, false, false, false}, wide{784, 256, 128, false, false, false};
    CHECK(latent::gemm_engine_for(gemv) == latent::GemmEngine::eigen);
    const latent::GemmEngine expect_wide = engines.front() == latent::GemmEngine::eigen && engines.size() == 1
                                               ? latent::GemmEngine::eigen
                                               : (engines.front() == latent::GemmEngine::eigen ? engines[1] : engines.front());
    CHECK(latent::gemm_engine_for(wide) == expect_wide);
    const auto measured = calls;
    // the same class (784..1023 x 256..511 x 128..255) is not measured again
    CHECK(latent::gemm_engine_for({1000, 300, 200, false, false, false}) == expect_wide);
    CHECK(calls == measured);
    // n is exact up to 8: n = 2 is its own class, measured once
    latent::gemm_engine_for({784, 2, 128, false, false, false});
    CHECK(calls != measured);
    // transposes are their own class too
    CHECK(latent::gemm_engine_for({784, 256, 100, true, false, false}) == latent::GemmEngine::eigen);
    // the products themselves go to the winner, and the cache says so
    const std::string text = latent::gemm_cache_text();
    INFO(text);
    CHECK(text.find("f nn 512 1 128 eigen") != std::string::npos);
    CHECK(text.find(std::string("f nn 512 256 128 ") + latent::gemm_engine_name(expect_wide)) != std::string::npos);
}

TEST_CASE("the thread count of a class is measured: a second thread is used only when faster", "[core][gemm][engine][threads]") {
    if (!latent::has_openmp()) {
        WARN("built without OpenMP: nothing to measure");
        return;
    }
    if (latent::detail::gemm_core_count() < 2) {
        WARN("one core: products are never split");
        return;
    }
    EngineReset reset;
    // two threads pay for n >= 256, not below (as on a machine whose other core is busy)
    latent::set_gemm_cost_hook([](latent::GemmEngine, const latent::GemmShape& s, int threads) {
        return threads == 1 ? 1.0 : (s.n >= 256 ? 0.6 : 1.4);
    });
    latent::set_num_threads(2);
    MatF a(600, 300), b(300, 400), c(600, 400), b2(300, 100), c2(600, 100);
    a.setOnes(), b.setOnes(), b2.setOnes();
    latent::detail::matmul(c, a, false, b, false, false);
    latent::detail::matmul(c2, a, false, b2, false, false);
    const std::string text = latent::gemm_cache_text();
    INFO(text);
    CHECK(text.find("nn 512 256 256") != std::string::npos);
    CHECK(text.find("threads=2:2") != std::string::npos);
    CHECK(text.find("threads=2:1") != std::string::npos);
    CHECK((c.array() == 300.0f).all());
}

TEST_CASE("the cache saves, loads and pins; bad text throws FormatError", "[core][gemm][engine]") {
    EngineReset reset;
    latent::set_gemm_cost_hook([](latent::GemmEngine e, const latent::GemmShape&, int) { return e == latent::GemmEngine::eigen ? 1.0 : 2.0; });
    latent::gemm_engine_for({100, 8, 40, false, true, false});
    latent::gemm_engine_for({50, 50, 50, true, false, true});
    const std::string text = latent::gemm_cache_text();
    latent::clear_gemm_cache();
    CHECK(latent::gemm_cache_text().empty());
    latent::load_gemm_cache(text);
    CHECK(latent::gemm_cache_text() == text);
    const latent::GemmEngine other = available_engines().back();
    latent::pin_gemm_engine({100, 8, 40, false, true, false}, other);
    CHECK(latent::gemm_engine_for({127, 8, 63, false, true, false}) == other);
    CHECK_THROWS_AS(latent::load_gemm_cache("f nn 1 2\n"), latent::FormatError);
    CHECK_THROWS_AS(latent::load_gemm_cache("x nn 1 2 3 eigen\n"), latent::FormatError);
    CHECK_THROWS_AS(latent::load_gemm_cache("f nn 1 2 3 magic\n"), latent::ConfigError);
    CHECK_THROWS_AS(latent::load_gemm_cache("f nn 1 2 3 eigen threads=2\n"), latent::FormatError);
}

TEST_CASE("every engine gives bitwise the same product on 1 and 2 threads", "[core][gemm][engine][threads]") {
    EngineReset reset;
    latent::Rng rng(23);
    MatF a(700, 300), b(300, 260);
    rng.fill_uniform(a, -1, 1);
    rng.fill_uniform(b, -1, 1);
    for (latent::GemmEngine e : available_engines()) {
        latent::set_gemm_engine(e);
        MatF c1(700, 260), c2(700, 260);
        latent::set_num_threads(1);
        latent::detail::matmul(c1, a, false, b, false, false);
        latent::set_num_threads(latent::has_openmp() ? 2 : 1);
        latent::detail::matmul(c2, a, false, b, false, false);
        INFO("engine " << latent::gemm_engine_name(e));
        CHECK(c1 == c2);
    }
}

// ---- the skinny kernel (n <= 8 columns, A not transposed, no packing)

namespace {

// Largest |C - reference| / sum |terms| of the skinny engine over many
// shapes (n = 1..8, m around every block height, k = 1 and more, B as
// stored and transposed, set and accumulate), with A and C blocks of taller
// matrices (leading dimension > m) whose rows below the block must stay as
// they were (the last vector is written through a mask).
template <class S>
double skinny_worst_error(latent::Rng& rng, int& untouched_failures) {
    using Mat = latent::Matrix<S>;
    double worst = 0;
    for (Index m : {1, 3, 4, 7, 8, 9, 15, 16, 17, 24, 31, 33, 47, 63, 64, 65, 129, 200})
        for (Index n = 1; n <= 8; ++n)
            for (Index k : {1, 2, 17, 300})
                for (int tb = 0; tb < 2; ++tb)
                    for (int add = 0; add < 2; ++add) {
                        Mat a_big(m + 3, k), b(tb ? n : k, tb ? k : n), c_big(m + 5, n);
                        rng.fill_uniform(a_big, -1, 1);
                        rng.fill_uniform(b, -1, 1);
                        rng.fill_uniform(c_big, -1, 1);
                        const Mat c_before = c_big;
                        const MatD ad = a_big.topRows(m).template cast<double>(), bd = op(b.template cast<double>(), tb != 0);
                        MatD ref = ad * bd, mag = ad.cwiseAbs() * bd.cwiseAbs();
                        if (add) {
                            ref += c_big.topRows(m).template cast<double>();
                            mag += c_big.topRows(m).template cast<double>().cwiseAbs();
                        }
                        latent::detail::matmul(c_big.topRows(m), a_big.topRows(m), false, b, tb != 0, add != 0);
                        if (c_big.bottomRows(5) != c_before.bottomRows(5)) ++untouched_failures;
                        const MatD got = c_big.topRows(m).template cast<double>();
                        const double err = ((got - ref).cwiseAbs().array() / (mag.array() + 1e-300)).maxCoeff();
                        if (err > worst) {
                            worst = err;
                            INFO("m " << m << " n " << n << " k " << k << " tb " << tb << " add " << add << " error " << err);
                            CHECK(err < (std::is_same<S, float>::value ? 1e-5 : 1e-13));
                        }
                    }
    return worst;
}

}  // namespace

TEST_CASE("the skinny kernel equals Eigen's product to rounding: n = 1..8, block edges, k = 1, B transposed, set and accumulate",
          "[core][gemm][skinny]") {
    if (!latent::detail::gemm_kernel_active()) {
        CHECK_THROWS_AS(latent::set_gemm_engine(latent::GemmEngine::skinny), latent::ConfigError);
        WARN("no AVX2+FMA / AVX-512 kernel in this build or CPU: the skinny engine is not available");
        return;
    }
    EngineReset reset;
    latent::set_num_threads(1);
    latent::set_gemm_engine(latent::GemmEngine::skinny);
    CHECK(latent::gemm_engine_for({65, 7, 17, false, true, false}) == latent::GemmEngine::skinny);
    CHECK(latent::gemm_engine_for({65, 7, 17, false, false, true}) == latent::GemmEngine::skinny);
    latent::Rng rng(31);
    int untouched_failures = 0;
    CHECK(skinny_worst_error<float>(rng, untouched_failures) < 1e-5);
    CHECK(skinny_worst_error<double>(rng, untouched_failures) < 1e-13);
    CHECK(untouched_failures == 0);
    // the result against Eigen's float product directly
    MatF a(2000, 784), b(784, 8), c(2000, 8);
    rng.fill_uniform(a, -1, 1);
    rng.fill_uniform(b, -1, 1);
    latent::detail::matmul(c, a, false, b, false, false);
    const MatF ref = a * b;
    CHECK((c - ref).cwiseAbs().maxCoeff() < 1e-3f);
}

TEST_CASE("the skinny kernel is bitwise the same on 1 and 2 threads and on any cut of C's rows", "[core][gemm][skinny][threads]") {
    if (!latent::detail::gemm_kernel_active()) {
        WARN("no skinny kernel in this build or CPU");
        return;
    }
    EngineReset reset;
    latent::set_gemm_engine(latent::GemmEngine::skinny);
    latent::Rng rng(32);
    // 2000 x 8 x 784 (the deep encoder's first layer) and an odd shape, both
    // above the size where a product is cut into pieces
    for (const auto& mnk : {std::array<Index, 3>{2000, 8, 784}, std::array<Index, 3>{1001, 3, 1000}}) {
        const Index m = mnk[0], n = mnk[1], k = mnk[2];
        MatF a(m, k), b(k, n);
        rng.fill_uniform(a, -1, 1);
        rng.fill_uniform(b, -1, 1);
        MatF c1(m, n), c2(m, n), c3(m, n);
        latent::set_num_threads(1);
        latent::detail::matmul(c1, a, false, b, false, false);
        latent::set_num_threads(latent::has_openmp() ? 2 : 1);
        latent::detail::matmul(c2, a, false, b, false, false);
        latent::set_num_threads(1);
        // rows cut where no block boundary is (13, then the rest)
        latent::detail::matmul(c3.topRows(13), a.topRows(13), false, b, false, false);
        latent::detail::matmul(c3.bottomRows(m - 13), a.bottomRows(m - 13), false, b, false, false);
        INFO("m " << m << " n " << n << " k " << k);
        CHECK(c1 == c2);
        CHECK(c1 == c3);
    }
}

TEST_CASE("the measured choice can pick the skinny kernel, only where it fits; own includes it", "[core][gemm][skinny][engine]") {
    if (!latent::detail::gemm_kernel_active()) {
        WARN("no skinny kernel in this build or CPU");
        return;
    }
    EngineReset reset;
    using latent::GemmEngine;
    using latent::GemmShape;
    // skinny is the cheapest wherever it is offered; record where it is
    std::vector<GemmShape> offered;
    latent::set_gemm_cost_hook([&](GemmEngine e, const GemmShape& s, int threads) {
        if (e == GemmEngine::skinny) offered.push_back(s);
        return (e == GemmEngine::skinny ? 0.5 : 1.0 + static_cast<int>(e) * 0.01) / threads;
    });
    CHECK(latent::gemm_engine_for({2000, 8, 784, false, false, false}) == GemmEngine::skinny);
    CHECK(latent::gemm_engine_for({2000, 1, 784, false, true, false}) == GemmEngine::skinny);
    CHECK(latent::gemm_engine_for({100, 4, 50, false, false, true}) == GemmEngine::skinny);  // double too
    CHECK(latent::gemm_engine_for({784, 8, 2000, true, false, false}) != GemmEngine::skinny);
    CHECK(latent::gemm_engine_for({2000, 9, 784, false, false, false}) != GemmEngine::skinny);
    REQUIRE(offered.size() == 3);
    for (const GemmShape& s : offered) CHECK((!s.trans_a && s.n >= 1 && s.n <= 8));
    const std::string text = latent::gemm_cache_text();
    INFO(text);
    CHECK(text.find("f nn 1024 8 512 skinny") != std::string::npos);
    CHECK(text.find("d nn 64 4 32 skinny") != std::string::npos);
    // the product of a class measured to skinny runs it (equal to Eigen's within rounding)
    latent::Rng rng(33);
    MatF a(50, 30), b(30, 5), c(50, 5);
    rng.fill_uniform(a, -1, 1);
    rng.fill_uniform(b, -1, 1);
    latent::detail::matmul(c, a, false, b, false, false);
    CHECK(latent::gemm_engine_for({50, 5, 30, false, false, false}) == GemmEngine::skinny);
    CHECK((c - MatF(a * b)).cwiseAbs().maxCoeff() < 1e-5f);
    // a cache line naming skinny for a class it cannot compute is refused, and so is a pin
    CHECK_THROWS_AS(latent::load_gemm_cache("f nn 64 16 64 skinny\n"), latent::FormatError);
    CHECK_THROWS_AS(latent::load_gemm_cache("f tn 64 4 64 skinny\n"), latent::FormatError);
    CHECK_THROWS_AS(latent::pin_gemm_engine({64, 16, 64, false, false, false}, GemmEngine::skinny), latent::ConfigError);
    latent::load_gemm_cache("f nt 64 4 64 skinny\n");
    CHECK(latent::gemm_engine_for({64, 4, 64, false, true, false}) == GemmEngine::skinny);
    // forcing: own is our kernels (skinny for n <= 8, packed above); skinny
    // forced leaves the products it cannot compute to the measured choice
    CHECK(latent::gemm_engine_from_name("skinny") == GemmEngine::skinny);
    latent::set_gemm_engine(GemmEngine::own);
    CHECK(latent::gemm_engine_for({128, 1, 784, false, false, false}) == GemmEngine::skinny);
    CHECK(latent::gemm_engine_for({128, 64, 784, false, false, false}) == GemmEngine::own);
    CHECK(latent::gemm_engine_for({128, 1, 784, true, false, false}) == GemmEngine::own);
    latent::set_gemm_engine(GemmEngine::skinny);
    CHECK(latent::gemm_engine_for({128, 8, 784, false, false, false}) == GemmEngine::skinny);
    CHECK(latent::gemm_engine_for({128, 64, 784, false, false, false}) != GemmEngine::skinny);
}

// ---- bfloat16 weights (core/bfloat16.hpp)

TEST_CASE("to_bfloat16 rounds to nearest, ties to even, and keeps NaN, infinities, zeros and subnormals", "[core][bf16]") {
    using latent::detail::from_bfloat16;
    using latent::detail::to_bfloat16;
    const auto bits = [](float f) {
        std::uint32_t u;
        std::memcpy(&u, &f, 4);
        return u;
    };
    const auto from_bits = [](std::uint32_t u) {
        float f;
        std::memcpy(&f, &u, 4);
        return f;
    };
    CHECK(to_bfloat16(1.0f) == 0x3f80);
    CHECK(to_bfloat16(-2.0f) == 0xc000);
    CHECK(to_bfloat16(from_bits(0x3f808000u)) == 0x3f80);  // 1 + 2^-8: halfway, to the even 1.0
    CHECK(to_bfloat16(from_bits(0x3f818000u)) == 0x3f82);  // 1 + 3 * 2^-8: halfway, to the even 1 + 2^-6
    CHECK(to_bfloat16(from_bits(0x3f808001u)) == 0x3f81);  // just above halfway: up
    CHECK(to_bfloat16(from_bits(0x3f807fffu)) == 0x3f80);  // just below: down
    CHECK(to_bfloat16(-0.0f) == 0x8000);
    CHECK(to_bfloat16(std::numeric_limits<float>::infinity()) == 0x7f80);
    CHECK(to_bfloat16(std::numeric_limits<float>::max()) == 0x7f80);  // beyond the largest bfloat16
    CHECK(std::isnan(from_bfloat16(to_bfloat16(std::numeric_limits<float>::quiet_NaN()))));
    CHECK(std::isnan(from_bfloat16(to_bfloat16(from_bits(0x7f800001u)))));  // a NaN whose payload is in the low bits
    CHECK(to_bfloat16(std::numeric_limits<float>::denorm_min()) == 0x0000);
    CHECK(to_bfloat16(from_bits(0x00010000u)) == 0x0001);  // the smallest bfloat16 subnormal is exact
    // every bfloat16 that is not a NaN widens and rounds back to itself
    int round_trip_failures = 0;
    for (std::uint32_t h = 0; h < 0x10000u; ++h) {
        const float f = from_bfloat16(static_cast<std::uint16_t>(h));
        if (!std::isnan(f) && to_bfloat16(f) != h) ++round_trip_failures;
        if (bits(f) != h << 16) ++round_trip_failures;
    }
    CHECK(round_trip_failures == 0);
    // random floats: the result is the nearer of the two bfloat16 neighbours
    latent::Rng rng(41);
    int not_nearest = 0;
    for (int i = 0; i < 100000; ++i) {
        const float f = from_bits(static_cast<std::uint32_t>(rng.uniform(0.0, 1.0) * 2139095039.0));  // finite, >= 0
        const std::uint32_t down = bits(f) & 0xffff0000u, up = down + 0x10000u;
        // (above the largest bfloat16 the upper neighbour is 2^128, infinity's place in the sequence)
        const double upper = up == 0x7f800000u ? std::ldexp(1.0, 128) : static_cast<double>(from_bits(up));
        const double dd = static_cast<double>(f) - from_bits(down), du = upper - f;
        const std::uint32_t want = dd < du || (dd == du && ((down >> 16) & 1u) == 0) ? down : up;
        if (static_cast<std::uint32_t>(to_bfloat16(f)) << 16 != want) ++not_nearest;
    }
    CHECK(not_nearest == 0);
}

namespace {

// C = / += A16 B as the chain the kernel promises: per element, fma over p
// in order from C (add) or zero.
MatF bf16_reference(const latent::detail::Bf16Matrix& a, const MatF& b, const MatF& c0, bool add) {
    MatF c = add ? c0 : MatF::Zero(a.rows(), b.cols());
    for (Index j = 0; j < b.cols(); ++j)
        for (Index i = 0; i < a.rows(); ++i)
            for (Index p = 0; p < a.cols(); ++p) c(i, j) = std::fma(a(i, p), b(p, j), c(i, j));
    return c;
}

}  // namespace

TEST_CASE("matmul_bf16 is bitwise the in-order fma chain on every ISA, column count and thread count", "[core][gemm][bf16]") {
    latent::Rng rng(42);
    const double min_work = latent::detail::parallel_min_work();
    latent::detail::set_parallel_min_work(1.0);  // let 2 threads split even the small products
    int mismatches = 0, cases = 0;
    for (Index m : {1, 7, 15, 16, 17, 32, 33, 64, 130, 160})
        for (Index n : {1, 2, 3, 4, 5, 6, 7, 8, 9, 17})
            for (Index k : {1, 64, 65, 130})
                for (int add = 0; add < 2; ++add) {
                    MatF w(m, k), b(k + 2, n), c0(m, n);
                    rng.fill_uniform(w, -1, 1);
                    rng.fill_uniform(b, -1, 1);
                    rng.fill_uniform(c0, -1, 1);
                    const latent::detail::Bf16Matrix a(w);
                    const auto bk = b.topRows(k);  // B with a leading dimension above k
                    const MatF ref = bf16_reference(a, bk, c0, add != 0);
                    for (int threads : {1, latent::has_openmp() ? 2 : 1}) {
                        latent::set_num_threads(threads);
                        MatF c = c0;
                        latent::detail::matmul_bf16(c, a, bk, add != 0);
                        mismatches += c == ref ? 0 : 1;
                        ++cases;
                    }
#ifdef LATENT_GEMM_X86
                    // each ISA's kernel directly (AVX2 as well where this CPU runs AVX-512)
                    if (latent::detail::gemm_kernel_active() && n <= 8) {
                        namespace d = latent::detail;
                        const d::SkinnyB<float> bb{bk.data(), 1, b.rows()};
                        auto check = [&](auto&& kernel) {  // C inside a taller matrix: the rows below must stay
                            MatF cb(m + 5, n);
                            rng.fill_uniform(cb, -1, 1);
                            cb.topRows(m) = c0;
                            const MatF before = cb;
                            kernel(cb.data(), m + 5);
                            mismatches += cb.topRows(m) == ref && cb.bottomRows(5) == before.bottomRows(5) ? 0 : 1;
                            ++cases;
                        };
                        check([&](float* c, Index ldc) { d::gemm_bf16_isa<d::Bf16KernelAvx2>(m, n, k, a.data(), a.ld(), bb, c, ldc, add != 0); });
                        if (d::gemm_isa() == d::GemmIsa::avx512)
                            check([&](float* c, Index ldc) {
                                d::gemm_bf16_isa<d::Bf16KernelAvx512>(m, n, k, a.data(), a.ld(), bb, c, ldc, add != 0);
                            });
                    }
#endif
                }
    latent::set_num_threads(1);
    latent::detail::set_parallel_min_work(min_work);
    INFO(mismatches << " of " << cases << " products differ from the reference");
    CHECK(mismatches == 0);
    // against the float product: only the rounding of the weights
    MatF w(128, 784), x(784, 3);
    rng.fill_uniform(w, -1, 1);
    rng.fill_uniform(x, 0, 1);
    MatF y(128, 3);
    latent::detail::matmul_bf16(y, latent::detail::Bf16Matrix(w), x, false);
    const MatF exact = w * x, bound = w.cwiseAbs() * x * std::ldexp(1.0f, -8);
    CHECK(((y - exact).cwiseAbs().array() <= bound.array()).all());
    CHECK((y - exact).cwiseAbs().maxCoeff() > 0.0f);  // the weights were rounded
}
