#include "support.hpp"

#include <array>

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
