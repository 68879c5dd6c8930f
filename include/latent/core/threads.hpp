// Thread count. Eigen parallelizes large matrix products with OpenMP when
// the build enables it (LATENT_WITH_OPENMP); layers never nest their own
// parallelism on top. Small products stay on one thread (Eigen's own cutoff).
#pragma once

#include <Eigen/Core>

#include "latent/core/error.hpp"

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

inline bool has_openmp() {
#ifdef _OPENMP
    return true;
#else
    return false;
#endif
}

}  // namespace latent
