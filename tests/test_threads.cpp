// core/threads.hpp: the thread policy passed down (no process-wide toggle
// per call), the measured element-wise threshold, models trained on
// several std::threads at once, and set_num_threads (with the version constants).
#include "catch.hpp"

#include <thread>
#include <vector>

#include <latent/latent.hpp>

using latent::ConfigError;
using latent::Index;
using latent::num_threads;
using latent::set_num_threads;
using latent::version_major;
using latent::version_minor;
using MatF = latent::Matrix<float>;

namespace {

// Three Adam steps of a model reconstructing x; returns its parameters.
template <class Model>
latent::Vector<float> three_steps(Model& ae, const MatF& x) {
    latent::Adam<float> adam(1e-3);
    for (int step = 0; step < 3; ++step) {
        ae.params().zero_grad();
        ae.train_batch(x, x, nullptr);
        adam.step(ae.params());
    }
    return ae.params().values();
}

// A few Adam steps of an LSTM sequence AE (64 units, 40 steps of 64
// features: its per-step products run on one thread, its all-steps products
// on the thread count set) and of a dense AE; returns both parameter vectors.
std::vector<latent::Vector<float>> train_models(std::uint64_t seed) {
    std::vector<latent::Vector<float>> out;
    {
        latent::Rng rng(seed);
        latent::SequenceAutoencoderOptions o;
        o.steps = 40;
        o.features = 64;
        o.encoder_units = {64};
        latent::SequenceAutoencoder<float> ae(o, rng);
        MatF x(o.steps * o.features, 64);
        rng.fill_normal(x);
        out.push_back(three_steps(ae, x));
    }
    {
        latent::Rng rng(seed + 1);
        latent::DenseAutoencoderOptions o;
        o.sizes = {300, 128, 32};
        auto ae = latent::make_dense_autoencoder<float>(o, rng);
        MatF x(300, 256);
        rng.fill_uniform(x);
        out.push_back(three_steps(ae, x));
    }
    return out;
}

}  // namespace

TEST_CASE("two models trained concurrently on two std::threads equal the same models trained one after the other",
          "[threads][concurrency]") {
    latent::set_num_threads(latent::has_openmp() ? 2 : 1);
    const auto first = train_models(5), second = train_models(6);
    std::vector<latent::Vector<float>> a, b;
    std::thread ta([&] { a = train_models(5); });
    std::thread tb([&] { b = train_models(6); });
    ta.join();
    tb.join();
    latent::set_num_threads(1);
    REQUIRE(a.size() == first.size());
    REQUIRE(b.size() == second.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        INFO("model " << i);
        CHECK(a[i] == first[i]);
        CHECK(b[i] == second[i]);
    }
    CHECK(latent::num_threads() == 1);
}

TEST_CASE("a Threads policy limits the threads of one call without touching the setting", "[threads]") {
    latent::set_num_threads(latent::has_openmp() ? 2 : 1);
    const int setting = latent::num_threads();
    int used = 0;
    latent::detail::parallel_chunks(8, [&](int t, Index) {
        if (t == 0) ++used;
    }, latent::Threads::one());
    CHECK(used == 8);  // every chunk ran on thread 0
    CHECK(latent::num_threads() == setting);
    std::vector<int> owner(8, -1);
    const int threads = latent::detail::parallel_chunks(8, [&](int t, Index i) { owner[static_cast<std::size_t>(i)] = t; });
    CHECK(threads == setting);
    for (Index i = 0; i < 8; ++i) CHECK(owner[static_cast<std::size_t>(i)] == static_cast<int>(i % threads));
    latent::set_num_threads(1);
    CHECK_THROWS_AS(latent::set_num_threads(0), latent::ConfigError);
}

TEST_CASE("the element-wise threshold is measured, bounded, and can be pinned", "[threads]") {
    const double measured = latent::detail::parallel_min_work();
    if (latent::has_openmp()) {
        CHECK(measured >= 4096.0);
        CHECK(measured <= 16.0 * 1024 * 1024);
    }
    latent::detail::set_parallel_min_work(1.0);
    CHECK(latent::detail::parallel_min_work() == 1.0);
    // pinned low: a 2-thread pass over 4 columns splits them 2 + 2
    latent::set_num_threads(latent::has_openmp() ? 2 : 1);
    std::vector<std::pair<Index, Index>> ranges(2, {-1, -1});
    latent::detail::parallel_ranges(4, 1.0, [&](Index b, Index e) { ranges[b == 0 ? 0 : 1] = {b, e}; });
    if (latent::has_openmp()) {
        CHECK(ranges[0] == std::pair<Index, Index>{0, 2});
        CHECK(ranges[1] == std::pair<Index, Index>{2, 4});
    } else {
        CHECK(ranges[0] == std::pair<Index, Index>{0, 4});
    }
    latent::detail::set_parallel_min_work(measured);
    latent::set_num_threads(1);
}

TEST_CASE("threads and version", "[core]") {
    CHECK_THROWS_AS(set_num_threads(0), ConfigError);
    const int before = num_threads();
    set_num_threads(1);
    CHECK(num_threads() == 1);
    set_num_threads(before);
    CHECK(version_major == LATENT_VERSION_MAJOR);
    CHECK(version_minor == LATENT_VERSION_MINOR);
}
