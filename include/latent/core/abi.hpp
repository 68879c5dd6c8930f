// Every latent entity lives in an inline namespace named after the version
// and the build configuration (as nlohmann/json does), so two translation
// units built with different settings cannot share an inline function that
// one of them compiled differently.
//
// The settings that change inline code:
//   LATENT_HAS_ZLIB         .gz readers (data/idx.hpp)
//   LATENT_NO_GEMM_KERNEL   our x86 product kernels (core/gemm_kernel.hpp)
//   _OPENMP                 threading (core/threads.hpp, core/gemm.hpp)
// Without the tag, a program linking a file built without zlib (or OpenMP)
// with one built with it silently got one of the two definitions everywhere.
// With it, each file gets its own: latent::Rng is latent::v0_1_z1_k1_o1::Rng
// in one and latent::v0_1_z0_k1_o1::Rng in the other (different types, so
// passing latent objects between such files fails to link, loudly).
// Users write latent::X as always; the tag only shows in symbol names.
#pragma once

#include "latent/version.hpp"

#if defined(LATENT_HAS_ZLIB)
#define LATENT_ABI_ZLIB z1
#else
#define LATENT_ABI_ZLIB z0
#endif
#if defined(LATENT_NO_GEMM_KERNEL)
#define LATENT_ABI_KERNEL k0
#else
#define LATENT_ABI_KERNEL k1
#endif
#if defined(_OPENMP)
#define LATENT_ABI_OPENMP o1
#else
#define LATENT_ABI_OPENMP o0
#endif

#define LATENT_ABI_JOIN2(a, b, c, d, e) v##a##_##b##_##c##_##d##_##e
#define LATENT_ABI_JOIN(a, b, c, d, e) LATENT_ABI_JOIN2(a, b, c, d, e)  // expands the arguments first
#define LATENT_ABI_TAG                                                                               \
    LATENT_ABI_JOIN(LATENT_VERSION_MAJOR, LATENT_VERSION_MINOR, LATENT_ABI_ZLIB, LATENT_ABI_KERNEL, \
                    LATENT_ABI_OPENMP)

#define LATENT_NAMESPACE_BEGIN \
    namespace latent {         \
    inline namespace LATENT_ABI_TAG {
#define LATENT_NAMESPACE_END \
    }                        \
    }
