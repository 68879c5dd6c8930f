// Helpers shared by the Google Benchmark programs: the thread count from the
// "threads" argument, and the items/s, GFLOP/s and thread counters every
// benchmark reports.
#pragma once

#include <benchmark/benchmark.h>

#include <latent/latent.hpp>

#include <cstdint>
#include <utility>
#include <vector>

namespace bench {

// Uses state.range(arg) threads; a build without OpenMP skips the case
// rather than timing one thread under a two-thread label.
inline void set_threads(benchmark::State& state, int arg = 0) {
    const int t = static_cast<int>(state.range(arg));
    if (t > 1 && !latent::has_openmp()) {
        state.SkipWithError("this build has no OpenMP: only 1 thread is possible");
        return;
    }
    latent::set_num_threads(t);
}

// items/s = samples/s; GFLOP/s from the FLOPs of one iteration.
inline void report(benchmark::State& state, double flops_per_iter, latent::Index samples_per_iter) {
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * samples_per_iter);
    state.counters["GFLOP/s"] =
        benchmark::Counter(flops_per_iter * static_cast<double>(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
    state.counters["threads"] = static_cast<double>(latent::num_threads());
}

// GEMM FLOPs of one training step through Dense layers given as (in, out)
// pairs in forward order: forward 2*in*out*B, weight gradient 2*in*out*B,
// input gradient 2*in*out*B except for the first layer (its input is data).
inline double dense_train_step_flops(const std::vector<std::pair<double, double>>& layers, latent::Index batch) {
    double f = 0;
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const double mac = layers[i].first * layers[i].second * static_cast<double>(batch);
        f += 4 * mac + (i == 0 ? 0.0 : 2 * mac);
    }
    return f;
}

}  // namespace bench
