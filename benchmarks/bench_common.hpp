// Helpers shared by the Google Benchmark programs: the thread count from the
// "threads" argument, the items/s, GFLOP/s and thread counters every
// benchmark reports, and main(): the machine in the context (CPU model, ISA,
// caches, GEMM engines), a tuning pass before the measured runs, and the
// engine chosen for each product class.
#pragma once

#include <benchmark/benchmark.h>

#include <latent/latent.hpp>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
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

// Reports nothing: the tuning pass.
class SilentReporter : public benchmark::BenchmarkReporter {
public:
    bool ReportContext(const Context&) override { return true; }
    void ReportRuns(const std::vector<Run>&) override {}
};

inline std::string kib(long bytes) { return bytes > 0 ? std::to_string(bytes / 1024) + " KiB" : "unknown"; }

// The product classes met so far and their engines, on one line ("; " between classes).
inline std::string engine_summary() {
    std::string text = latent::gemm_cache_text();
    for (char& c : text)
        if (c == '\n') c = ';';
    return text;
}

// main() of every benchmark program. Before the measured runs, every
// selected case runs once with a tiny minimum time and no output: the GEMM
// engine of each product class, its thread count, the conv algorithms and
// the element-wise thread threshold are measured then (on first use), never
// inside a measured region. The context then names the CPU and the engines
// chosen; stderr repeats the engine per class at the end.
inline int main(int argc, char** argv) {
    std::vector<char*> warm(argv, argv + argc), real{argv[0]};
    std::string min_time_tiny = "--benchmark_min_time=0.0001", reps_one = "--benchmark_repetitions=1",
                min_time_default = "--benchmark_min_time=0.5";
    warm.push_back(min_time_tiny.data());
    warm.push_back(reps_one.data());
    real.push_back(min_time_default.data());  // the defaults again (flags are global); the user's own follow
    real.push_back(reps_one.data());
    for (int i = 1; i < argc; ++i) real.push_back(argv[i]);
    int warm_argc = static_cast<int>(warm.size()), real_argc = static_cast<int>(real.size());

    benchmark::Initialize(&warm_argc, warm.data());
    if (benchmark::ReportUnrecognizedArguments(warm_argc, warm.data())) return 1;
    const auto t0 = std::chrono::steady_clock::now();
    SilentReporter silent, silent_file;
    bool has_out = false;  // Google Benchmark wants a file reporter exactly when --benchmark_out is given
    for (int i = 1; i < argc; ++i) has_out = has_out || std::string(argv[i]).rfind("--benchmark_out=", 0) == 0;
    if (has_out)
        benchmark::RunSpecifiedBenchmarks(&silent, &silent_file);
    else
        benchmark::RunSpecifiedBenchmarks(&silent);
    const double tuning = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    const latent::CpuInfo& cpu = latent::cpu_info();
    benchmark::AddCustomContext("cpu_model", cpu.model.empty() ? "unknown" : cpu.model);
    benchmark::AddCustomContext("cpu_isa", cpu.isa);
    benchmark::AddCustomContext("cpu_caches", "L1d " + kib(cpu.l1d_bytes) + ", L2 " + kib(cpu.l2_bytes) + ", L3 " + kib(cpu.l3_bytes));
    std::string engines = "eigen";
    if (latent::gemm_engine_available(latent::GemmEngine::own, false)) engines = "own (" + cpu.isa + "), skinny (n <= 8), " + engines;
    if (latent::has_blas()) engines += ", blas (" + latent::blas_name() + ")";
    benchmark::AddCustomContext("gemm_candidates", engines);
    benchmark::AddCustomContext("gemm_forced", latent::gemm_engine_name(latent::forced_gemm_engine()));
    benchmark::AddCustomContext("tuning", "measured before the measured region: one pass over the selected cases (" +
                                              std::to_string(static_cast<int>(tuning * 1000)) + " ms in all, set-up included)");
    benchmark::AddCustomContext("gemm_engines", engine_summary());
    benchmark::AddCustomContext("parallel_min_work", std::to_string(static_cast<long>(latent::detail::parallel_min_work())));

    benchmark::Initialize(&real_argc, real.data());
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    std::cerr << "GEMM engine per product class (scalar, transposes, m n k lower bounds, engine, threads=policy:used):\n"
              << latent::gemm_cache_text();
    return 0;
}

}  // namespace bench
