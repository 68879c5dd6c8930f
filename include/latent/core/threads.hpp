// Thread count. Eigen parallelizes large matrix products with OpenMP when
// the build enables it (LATENT_WITH_OPENMP); element-wise layers split batch
// columns between threads (detail::parallel_ranges); nothing nests one
// parallel region inside another. Small work stays on one thread.
#pragma once

#include <Eigen/Core>

#include <algorithm>

#include "latent/core/error.hpp"
#include "latent/core/tensor.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

// Built with EIGEN_USE_BLAS against OpenBLAS (our LATENT_WITH_BLAS option),
// the products run in OpenBLAS's own thread pool, which is sized here too.
#ifdef LATENT_HAS_OPENBLAS
extern "C" void openblas_set_num_threads(int num_threads);
#endif

namespace latent {

// Threads for matrix products; 1 = single-threaded. Without OpenMP only 1 is possible.
inline void set_num_threads(int n) {
    if (n < 1) throw ConfigError("set_num_threads: expected n >= 1, found " + std::to_string(n));
    Eigen::setNbThreads(n);
#ifdef LATENT_HAS_OPENBLAS
    openblas_set_num_threads(n);
#endif
}
inline int num_threads() { return Eigen::nbThreads(); }

namespace detail {

// Work (scalars read and written) below which an element-wise pass stays on
// one thread: a fork/join costs a few microseconds with the pool awake and
// tens when its threads have gone to sleep, about the time one core takes
// to stream this much.
inline constexpr double parallel_min_work = 64.0 * 1024;

// Runs f(begin, end) over [0, count) cut into one contiguous range per
// thread when num_threads() > 1, count * cost_per_item >= parallel_min_work
// and no parallel region is active (no nesting); else f(0, count) here.
// For passes where each item (a batch column) is computed on its own, so
// results are bitwise the same for any thread count.
template <class F>
void parallel_ranges(Index count, double cost_per_item, F&& f) {
#ifdef _OPENMP
    const double work = static_cast<double>(count) * cost_per_item;
    const int threads = static_cast<int>(std::min<Index>(num_threads(), count));
    if (threads > 1 && work >= parallel_min_work && !omp_in_parallel()) {
#pragma omp parallel num_threads(threads)
        {
            const Index t = omp_get_thread_num(), nt = omp_get_num_threads();
            const Index begin = count * t / nt, end = count * (t + 1) / nt;
            if (end > begin) f(begin, end);
        }
        return;
    }
#else
    (void)cost_per_item;
#endif
    if (count > 0) f(Index{0}, count);
}

}  // namespace detail

inline bool has_openmp() {
#ifdef _OPENMP
    return true;
#else
    return false;
#endif
}

}  // namespace latent
