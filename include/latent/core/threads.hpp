// Thread count. Eigen parallelizes large matrix products with OpenMP when
// the build enables it (LATENT_WITH_OPENMP); layers never nest their own
// parallelism on top. Small products stay on one thread (Eigen's own cutoff).
#pragma once

#include <Eigen/Core>

#include "latent/core/error.hpp"

namespace latent {

// Threads for matrix products; 1 = single-threaded. Without OpenMP only 1 is possible.
inline void set_num_threads(int n) {
    if (n < 1) throw ConfigError("set_num_threads: expected n >= 1, found " + std::to_string(n));
    Eigen::setNbThreads(n);
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
