// A BLAS (OpenBLAS or BLIS, through their CBLAS interface) as a candidate
// engine for float and double products (core/gemm.hpp measures it against
// our kernel and Eigen per shape class). Optional: include this header (or
// link the CMake target latent::blas, which defines LATENT_HAS_CBLAS so
// latent.hpp includes it) and link the BLAS; the core never needs it.
//
// Threads: latent splits products between threads itself and calls the
// BLAS from inside those pieces, so the BLAS is set to one thread of its
// own when it registers (OpenBLAS: openblas_set_num_threads, BLIS:
// bli_thread_set_num_threads; define LATENT_CBLAS_OPENBLAS or
// LATENT_CBLAS_BLIS to name the vendor, which latent::blas does). No
// oversubscription, whatever set_num_threads says.
//
// Registration happens at static initialization through an inline
// variable, so no inline function changes with this header's presence.
#pragma once

#include "latent/core/abi.hpp"

#include <cblas.h>

#include "latent/core/gemm.hpp"

#if defined(LATENT_CBLAS_OPENBLAS) && !defined(OPENBLAS_CONST)
extern "C" void openblas_set_num_threads(int num_threads);
#endif
#ifdef LATENT_CBLAS_BLIS
extern "C" void bli_thread_set_num_threads(long n_threads);
#endif

LATENT_NAMESPACE_BEGIN
namespace detail {

inline CBLAS_TRANSPOSE cblas_op(bool t) { return t ? CblasTrans : CblasNoTrans; }

inline const BlasFunctions* cblas_functions() {
    static const BlasFunctions f = [] {
        BlasFunctions b;
        b.sgemm = [](bool ta, bool tb, Index m, Index n, Index k, const float* a, Index lda, const float* bb, Index ldb, float beta,
                     float* c, Index ldc) {
            cblas_sgemm(CblasColMajor, cblas_op(ta), cblas_op(tb), static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.0f, a,
                        static_cast<int>(lda), bb, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
        };
        b.dgemm = [](bool ta, bool tb, Index m, Index n, Index k, const double* a, Index lda, const double* bb, Index ldb, double beta,
                     double* c, Index ldc) {
            cblas_dgemm(CblasColMajor, cblas_op(ta), cblas_op(tb), static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.0, a,
                        static_cast<int>(lda), bb, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
        };
#if defined(LATENT_CBLAS_OPENBLAS)
        openblas_set_num_threads(1);
        b.name = "OpenBLAS";
#elif defined(LATENT_CBLAS_BLIS)
        bli_thread_set_num_threads(1);
        b.name = "BLIS";
#else
        b.name = "CBLAS";
#endif
        return b;
    }();
    return &f;
}

inline const bool cblas_registered = register_blas(cblas_functions());

}  // namespace detail
LATENT_NAMESPACE_END
