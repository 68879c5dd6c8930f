// Threads: latent's thread count, the policy passed down to the code that
// splits work, and the one helper that starts threads (OpenMP).
//
// The thread count is latent's own setting (set_num_threads), read at each
// call and passed down as a Threads policy; nothing toggles a process-wide
// setting per call, so several models may run on several std::threads.
// Eigen's own product threading is switched off once (Eigen::setNbThreads(1)
// on first use): latent splits products between threads itself
// (core/gemm.hpp), in pieces that do not depend on the thread count, so
// results are bitwise the same for 1 or N threads. A BLAS compiled in runs
// single-threaded inside those pieces (no oversubscription).
//
// Nothing nests one parallel region inside another; work below a measured
// size stays on one thread.
#pragma once

#include "latent/core/abi.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "latent/core/error.hpp"
#include "latent/core/tensor.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

LATENT_NAMESPACE_BEGIN

inline bool has_openmp() {
#ifdef _OPENMP
    return true;
#else
    return false;
#endif
}

namespace detail {

inline std::atomic<int>& thread_count_setting() {
#ifdef _OPENMP
    static std::atomic<int> n{std::max(omp_get_max_threads(), 1)};
#else
    static std::atomic<int> n{1};
#endif
    return n;
}

// Eigen's products run on the calling thread only (latent splits work
// itself); set once, never toggled.
inline void eigen_single_threaded() {
    static const bool once = [] {
        Eigen::setNbThreads(1);
        return true;
    }();
    (void)once;
}

}  // namespace detail

// Threads for latent's work; 1 = single-threaded. Without OpenMP only 1 is possible.
inline void set_num_threads(int n) {
    if (n < 1) throw ConfigError("set_num_threads: expected n >= 1, found " + std::to_string(n));
    detail::eigen_single_threaded();
    detail::thread_count_setting().store(n, std::memory_order_relaxed);
}
inline int num_threads() { return detail::thread_count_setting().load(std::memory_order_relaxed); }

// How many threads a piece of work may use: passed down by the caller (a
// recurrent layer passes Threads::one() to its per-step products), never
// set globally for the duration of a call.
struct Threads {
    int count = 1;
    static Threads current() { return {num_threads()}; }
    static Threads one() { return {1}; }
};

namespace detail {

inline bool in_parallel_region() {
#ifdef _OPENMP
    return omp_in_parallel() != 0;
#else
    return false;
#endif
}

// The one place that starts threads: f(t, nt) on nt = `threads` threads
// (t = 0 .. nt-1), or f(0, 1) here when threads <= 1, without OpenMP, or
// inside a parallel region (no nesting).
template <class F>
void run_on_threads(int threads, F&& f) {
#ifdef _OPENMP
    if (threads > 1 && !omp_in_parallel()) {
#pragma omp parallel num_threads(threads)
        f(omp_get_thread_num(), omp_get_num_threads());
        return;
    }
#else
    (void)threads;
#endif
    f(0, 1);
}

// Work (scalars read and written) below which an element-wise pass stays
// on one thread. Measured on first use: the cost of starting and joining
// the threads (which grows when another process keeps the other cores
// busy) against the rate one core streams memory; splitting pays when the
// time saved (half the streaming time, for 2 threads) exceeds it.
inline double measure_parallel_min_work() {
#ifdef _OPENMP
    using clock = std::chrono::steady_clock;
    const int threads = std::max(num_threads(), 2);
    std::vector<double> fork(9);
    for (double& t : fork) {
        const auto t0 = clock::now();
#pragma omp parallel num_threads(threads)
        {
            volatile int sink = omp_get_thread_num();
            (void)sink;
        }
        t = std::chrono::duration<double>(clock::now() - t0).count();
    }
    std::sort(fork.begin(), fork.end());
    std::vector<float> a(1 << 16, 1.0f), b(a.size());
    double best = 1e9;
    for (int r = 0; r < 5; ++r) {
        const auto t0 = clock::now();
        for (std::size_t i = 0; i < a.size(); ++i) b[i] = a[i] * 1.5f + b[i];
        best = std::min(best, std::chrono::duration<double>(clock::now() - t0).count());
    }
    volatile float keep = b[7];
    (void)keep;
    const double rate = 3.0 * static_cast<double>(a.size()) / std::max(best, 1e-9);  // scalars/s
    const double work = 2.0 * fork[fork.size() / 2] * rate;
    return std::clamp(work, 4096.0, 16.0 * 1024 * 1024);
#else
    return 1e300;
#endif
}

inline std::atomic<double>& parallel_min_work_setting() {
    static std::atomic<double> w{measure_parallel_min_work()};
    return w;
}
inline double parallel_min_work() { return parallel_min_work_setting().load(std::memory_order_relaxed); }
// Pins the threshold (tests that must exercise the threaded path; users who
// want the same split on every run).
inline void set_parallel_min_work(double scalars) { parallel_min_work_setting().store(scalars, std::memory_order_relaxed); }

// Runs f(begin, end) over [0, count) cut into one contiguous range per
// thread when the policy allows > 1 thread, count * cost_per_item >=
// parallel_min_work() and no parallel region is active; else f(0, count)
// here. For passes where each item (a batch column) is computed on its own,
// so results are bitwise the same for any thread count.
template <class F>
void parallel_ranges(Index count, double cost_per_item, F&& f, Threads policy = Threads::current()) {
    const int threads = static_cast<int>(std::min<Index>(policy.count, count));
    if (threads > 1 && !in_parallel_region() && static_cast<double>(count) * cost_per_item >= parallel_min_work()) {
        run_on_threads(threads, [&](int t, int nt) {
            const Index begin = count * t / nt, end = count * (t + 1) / nt;
            if (end > begin) f(begin, end);
        });
        return;
    }
    if (count > 0) f(Index{0}, count);
}

// Runs f(thread, i) for i in [0, count) on up to policy.count threads,
// thread t taking i = t, t + T, ...; returns the thread count used (for
// per-thread buffers reduced in thread order afterwards).
template <class F>
int parallel_chunks(Index count, F&& f, Threads policy = Threads::current()) {
    const int threads = in_parallel_region() ? 1 : static_cast<int>(std::max<Index>(std::min<Index>(policy.count, count), 1));
    int used = 1;
    run_on_threads(threads, [&](int t, int nt) {
        if (t == 0) used = nt;
        for (Index i = t; i < count; i += nt) f(t, i);
    });
    return used;
}

}  // namespace detail
LATENT_NAMESPACE_END
