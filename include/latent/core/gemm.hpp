// Matrix products: C = op(A) op(B) or C += op(A) op(B), column-major,
// op = identity or transpose, through one entry, detail::matmul.
//
// Which engine computes a product is decided by measurement on the machine
// that runs, once per shape class, and cached:
//   own    our packed float kernel for the CPU's ISA (core/gemm_kernel.hpp;
//          float on x86-64 with AVX2+FMA or AVX-512)
//   skinny our unpacked kernel for C = A op(B) with 1..8 columns (a layer's
//          forward on one sample or a handful): A read in place, once,
//          register-blocked; float and double, same CPUs as own
//   eigen  Eigen's product (a matrix-vector product when n = 1)
//   blas   cblas_sgemm / cblas_dgemm, when a BLAS is compiled in
//          (core/blas.hpp, CMake option LATENT_WITH_BLAS / target latent::blas)
// A shape class is (scalar, transposes, m, n, k) with each of m, n, k exact
// up to 8 (matrix-vector and skinny products get their own classes), 9..15,
// and bucketed by powers of two from 16. On the first product of a class the
// candidates that can compute it are timed on operands of that shape (a few
// milliseconds, on a separate buffer), the fastest is kept, and every later
// product of the class uses it: results are deterministic for a given cache,
// which can be saved, loaded or pinned (gemm_cache_text / load_gemm_cache /
// pin_gemm_engine, or LATENT_GEMM_CACHE=file).
// LATENT_GEMM=own|skinny|eigen|blas|auto or set_gemm_engine forces one
// engine; own means our kernels: skinny where it fits, packed elsewhere.
// A product the forced engine cannot compute gets the measured choice.
//
// Threads: latent splits a product between threads itself (Eigen's and the
// BLAS's own threading are off, so nothing is oversubscribed): our packed
// kernel by whole register tiles, the others (skinny too) in pieces whose
// bounds depend only on the shape and the machine's core count, never on
// the thread count. Results are bitwise the same for 1 or N threads. Whether
// a product of a class runs threaded at all is measured too (1 thread
// against the policy's count), so a busy second core never makes 2 threads
// slower than 1.
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <vector>

#include "latent/core/error.hpp"
#include "latent/core/gemm_kernel.hpp"
#include "latent/core/tensor.hpp"
#include "latent/core/threads.hpp"

LATENT_NAMESPACE_BEGIN

// own: our packed float kernel; skinny: our unpacked kernel for n <= 8
// columns (float and double); eigen; blas. (See the header comment.)
enum class GemmEngine { automatic, own, eigen, blas, skinny };

inline const char* gemm_engine_name(GemmEngine e) {
    switch (e) {
        case GemmEngine::own: return "own";
        case GemmEngine::eigen: return "eigen";
        case GemmEngine::blas: return "blas";
        case GemmEngine::skinny: return "skinny";
        default: return "auto";
    }
}

inline GemmEngine gemm_engine_from_name(const std::string& s) {
    if (s == "own") return GemmEngine::own;
    if (s == "eigen") return GemmEngine::eigen;
    if (s == "blas") return GemmEngine::blas;
    if (s == "skinny") return GemmEngine::skinny;
    if (s == "auto" || s.empty()) return GemmEngine::automatic;
    throw ConfigError("GEMM engine: expected own, skinny, eigen, blas or auto, found '" + s + "'");
}

// One product: C (m x n) = op(A) op(B), k the inner dimension.
struct GemmShape {
    Index m = 0, n = 0, k = 0;
    bool trans_a = false, trans_b = false;
    bool is_double = false;  // scalar: float or double
};

namespace detail {

// A BLAS's entry points, registered at run time by core/blas.hpp (so no
// inline function here changes with a build macro). Column-major.
struct BlasFunctions {
    void (*sgemm)(bool ta, bool tb, Index m, Index n, Index k, const float* a, Index lda, const float* b, Index ldb, float beta,
                  float* c, Index ldc) = nullptr;
    void (*dgemm)(bool ta, bool tb, Index m, Index n, Index k, const double* a, Index lda, const double* b, Index ldb, double beta,
                  double* c, Index ldc) = nullptr;
    const char* name = "";
};

inline std::atomic<const BlasFunctions*>& blas_slot() {
    static std::atomic<const BlasFunctions*> slot{nullptr};
    return slot;
}

// Called once by core/blas.hpp (static initialization of an inline variable).
inline bool register_blas(const BlasFunctions* f) {
    blas_slot().store(f, std::memory_order_release);
    return true;
}

inline const BlasFunctions* blas() { return blas_slot().load(std::memory_order_acquire); }

}  // namespace detail

// Whether a BLAS engine is linked in (the program includes latent/core/blas.hpp).
inline bool has_blas() { return detail::blas() != nullptr; }
inline std::string blas_name() { return has_blas() ? detail::blas()->name : ""; }

// Whether `e` can compute products of this scalar here (skinny: of some
// shapes, see gemm_engine_fits).
inline bool gemm_engine_available(GemmEngine e, bool is_double) {
    switch (e) {
        case GemmEngine::own: return !is_double && detail::gemm_kernel_active();
        case GemmEngine::skinny: return detail::gemm_kernel_active();
        case GemmEngine::eigen: return true;
        case GemmEngine::blas: return has_blas();
        default: return true;
    }
}

// Whether `e` can compute this product here: the skinny kernel takes
// C = A op(B) (A not transposed) with 1 <= n <= 8 columns.
inline bool gemm_engine_fits(GemmEngine e, const GemmShape& s) {
    if (!gemm_engine_available(e, s.is_double)) return false;
    return e != GemmEngine::skinny || (!s.trans_a && s.n >= 1 && s.n <= 8);
}

namespace detail {

template <class S>
using StridedMap = Eigen::Map<Matrix<S>, 0, Eigen::OuterStride<>>;
template <class S>
using ConstStridedMap = Eigen::Map<const Matrix<S>, 0, Eigen::OuterStride<>>;

// matmul through Eigen's product whatever the scalar.
template <class MC, class MA, class MB>
void matmul_eigen(MC&& c, const MA& a, bool trans_a, const MB& b, bool trans_b, bool add) {
    if (!trans_a && !trans_b) {
        if (add) c.noalias() += a * b; else c.noalias() = a * b;
    } else if (!trans_a && trans_b) {
        if (add) c.noalias() += a * b.transpose(); else c.noalias() = a * b.transpose();
    } else if (trans_a && !trans_b) {
        if (add) c.noalias() += a.transpose() * b; else c.noalias() = a.transpose() * b;
    } else {
        if (add) c.noalias() += a.transpose() * b.transpose(); else c.noalias() = a.transpose() * b.transpose();
    }
}

// A product's operands as raw column-major storage.
template <class S>
struct GemmArgs {
    Index m, n, k;
    const S* a;
    Index lda;
    bool ta;
    const S* b;
    Index ldb;
    bool tb;
    S* c;
    Index ldc;
    bool add;

    // Rows [r0, r1) and columns [c0, c1) of C.
    GemmArgs block(Index r0, Index r1, Index c0, Index c1) const {
        GemmArgs g = *this;
        g.m = r1 - r0;
        g.n = c1 - c0;
        g.a = ta ? a + r0 * lda : a + r0;
        g.b = tb ? b + c0 : b + c0 * ldb;
        g.c = c + r0 + c0 * ldc;
        return g;
    }
};

// One engine on one thread.
template <class S>
void gemm_engine_serial(GemmEngine e, const GemmArgs<S>& g) {
    if (g.m == 0 || g.n == 0) return;
    if (g.k == 0) {
        if (!g.add)
            for (Index j = 0; j < g.n; ++j) std::fill(g.c + j * g.ldc, g.c + j * g.ldc + g.m, S(0));
        return;
    }
#ifdef LATENT_GEMM_X86
    if constexpr (std::is_same<S, float>::value) {
        if (e == GemmEngine::own) {
            const GemmOperand ga = g.ta ? GemmOperand{g.a, g.lda, 1} : GemmOperand{g.a, 1, g.lda};
            const GemmOperand gb = g.tb ? GemmOperand{g.b, g.ldb, 1} : GemmOperand{g.b, 1, g.ldb};
            gemm_float(g.m, g.n, g.k, ga, gb, g.c, g.ldc, g.add, 1);
            return;
        }
    }
    if (e == GemmEngine::skinny && !g.ta && g.n <= 8 && gemm_kernel_active()) {
        gemm_skinny<S>(g.m, g.n, g.k, g.a, g.lda, {g.b, g.tb ? g.ldb : 1, g.tb ? 1 : g.ldb}, g.c, g.ldc, g.add);
        return;
    }
#endif
    if (e == GemmEngine::blas && blas()) {
        if constexpr (std::is_same<S, float>::value) {
            blas()->sgemm(g.ta, g.tb, g.m, g.n, g.k, g.a, g.lda, g.b, g.ldb, g.add ? 1.0f : 0.0f, g.c, g.ldc);
            return;
        } else if constexpr (std::is_same<S, double>::value) {
            blas()->dgemm(g.ta, g.tb, g.m, g.n, g.k, g.a, g.lda, g.b, g.ldb, g.add ? 1.0 : 0.0, g.c, g.ldc);
            return;
        }
    }
    eigen_single_threaded();
    StridedMap<S> c(g.c, g.m, g.n, Eigen::OuterStride<>(g.ldc));
    const ConstStridedMap<S> a(g.a, g.ta ? g.k : g.m, g.ta ? g.m : g.k, Eigen::OuterStride<>(g.lda));
    const ConstStridedMap<S> b(g.b, g.tb ? g.n : g.k, g.tb ? g.k : g.n, Eigen::OuterStride<>(g.ldb));
    matmul_eigen(c, a, g.ta, b, g.tb, g.add);
}

// Cores of this machine (fixed for the process).
inline int gemm_core_count() {
#ifdef _OPENMP
    static const int n = std::max(omp_get_num_procs(), 1);
#else
    static const int n = std::max(static_cast<int>(std::thread::hardware_concurrency()), 1);
#endif
    return n;
}

// Pieces for the engines other than ours: C cut along its longer side into
// up to one piece per core, each at least 64 wide (multiples of 16), and not
// at all below ~2M multiply-adds. The cut depends on the shape and the core
// count only, so 1 and N threads compute the very same pieces.
inline Index gemm_piece_count(Index m, Index n, Index k) {
    if (static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) < 2.0e6) return 1;
    return std::clamp<Index>(std::max(m, n) / 64, 1, gemm_core_count());
}

// `e` on up to `threads` threads.
template <class S>
void gemm_engine_run(GemmEngine e, const GemmArgs<S>& g, int threads) {
#ifdef LATENT_GEMM_X86
    if constexpr (std::is_same<S, float>::value) {
        if (e == GemmEngine::own) {
            const GemmOperand ga = g.ta ? GemmOperand{g.a, g.lda, 1} : GemmOperand{g.a, 1, g.lda};
            const GemmOperand gb = g.tb ? GemmOperand{g.b, g.ldb, 1} : GemmOperand{g.b, 1, g.ldb};
            gemm_float(g.m, g.n, g.k, ga, gb, g.c, g.ldc, g.add, threads);
            return;
        }
    }
#endif
    const Index pieces = gemm_piece_count(g.m, g.n, g.k);
    if (pieces <= 1) {
        gemm_engine_serial(e, g);
        return;
    }
    const bool by_rows = g.m > g.n;
    const Index extent = by_rows ? g.m : g.n;
    const Index width = (extent + pieces - 1) / pieces, step = (width + 15) / 16 * 16;
    const int nt = static_cast<int>(std::min<Index>(threads, pieces));
    run_on_threads(nt, [&](int t, int used) {
        for (Index p = t; p < pieces; p += used) {
            const Index lo = std::min(extent, p * step), hi = std::min(extent, (p + 1) * step);
            if (hi <= lo) continue;
            gemm_engine_serial(e, by_rows ? g.block(lo, hi, 0, g.n) : g.block(0, g.m, lo, hi));
        }
    });
}

// ---- the measured choice

// A dimension's class: exact up to 8, then 9..15 (so that n = 8, the most
// the skinny kernel takes, is a class of its own), then the power of two at
// or below it.
inline Index gemm_bucket(Index d) {
    if (d <= 8) return d;
    if (d < 16) return 9;
    Index p = 16;
    while (p * 2 <= d) p *= 2;
    return p;
}

struct GemmClass {
    bool is_double, ta, tb;
    Index m, n, k;  // buckets
    bool operator<(const GemmClass& o) const {
        return std::tie(is_double, ta, tb, m, n, k) < std::tie(o.is_double, o.ta, o.tb, o.m, o.n, o.k);
    }
    bool operator==(const GemmClass& o) const {
        return is_double == o.is_double && ta == o.ta && tb == o.tb && m == o.m && n == o.n && k == o.k;
    }
};

inline GemmClass gemm_class(const GemmShape& s) {
    return {s.is_double, s.trans_a, s.trans_b, gemm_bucket(s.m), gemm_bucket(s.n), gemm_bucket(s.k)};
}

// Seconds a candidate takes, for tests: (engine, shape, threads) -> cost.
using GemmCostHook = std::function<double(GemmEngine, const GemmShape&, int)>;

struct GemmChoice {
    GemmEngine engine = GemmEngine::eigen;
    std::map<int, int> threads;  // policy's thread count -> threads to use (measured)
};

struct GemmRegistry {
    std::shared_mutex mutex;
    std::map<GemmClass, GemmChoice> cache;
    GemmCostHook hook;
    std::atomic<int> forced{static_cast<int>(GemmEngine::automatic)};
    std::atomic<unsigned> generation{1};
};

inline void load_gemm_cache_into(GemmRegistry& r, const std::string& text);

// The process's registry; LATENT_GEMM and LATENT_GEMM_CACHE are read when
// it is created.
inline GemmRegistry& gemm_registry() {
    static GemmRegistry* r = [] {
        auto reg = std::make_unique<GemmRegistry>();
        eigen_single_threaded();
        if (const char* e = std::getenv("LATENT_GEMM")) {
            const GemmEngine f = gemm_engine_from_name(e);
            if (f == GemmEngine::blas && !has_blas())
                throw ConfigError("LATENT_GEMM=blas: expected a program built with a BLAS (latent::blas), found none");
            reg->forced.store(static_cast<int>(f));
        }
        if (const char* path = std::getenv("LATENT_GEMM_CACHE")) {
            std::ifstream in(path);
            if (in) {
                std::stringstream ss;
                ss << in.rdbuf();
                load_gemm_cache_into(*reg, ss.str());
            }
        }
        return reg.release();  // never destroyed: products may run during static destruction
    }();
    return *r;
}

// Times `run` (seconds per call): a warm-up, then repeats up to ~1 ms, the
// fastest kept (the least disturbed by other processes).
template <class F>
double gemm_time(F&& run) {
    using clock = std::chrono::steady_clock;
    auto t0 = clock::now();
    run();
    const double warm = std::chrono::duration<double>(clock::now() - t0).count();
    const int reps = warm > 1e-3 ? 1 : std::clamp(static_cast<int>(1e-3 / std::max(warm, 1e-7)), 2, 20);
    double best = 1e300;
    for (int r = 0; r < reps; ++r) {
        t0 = clock::now();
        run();
        best = std::min(best, std::chrono::duration<double>(clock::now() - t0).count());
    }
    return best;
}

inline std::vector<GemmEngine> gemm_candidates(const GemmShape& s) {
    std::vector<GemmEngine> c;
    for (GemmEngine e : {GemmEngine::own, GemmEngine::eigen, GemmEngine::blas, GemmEngine::skinny})
        if (gemm_engine_fits(e, s)) c.push_back(e);
    return c;
}

// The engine a forced setting gives this product: own means our kernels
// (the skinny one where it fits, else the packed one); automatic when the
// forced engine cannot compute it (the measured choice then decides).
inline GemmEngine gemm_forced_for(GemmEngine forced, const GemmShape& s) {
    if (forced == GemmEngine::own && gemm_engine_fits(GemmEngine::skinny, s)) return GemmEngine::skinny;
    return forced != GemmEngine::automatic && gemm_engine_fits(forced, s) ? forced : GemmEngine::automatic;
}

// Seconds of each candidate (and of `threads`-thread runs when given) on
// operands of this shape.
template <class S>
double gemm_measure(GemmEngine e, const GemmShape& s, int threads, const GemmCostHook& hook) {
    if (hook) return hook(e, s, threads);
    Matrix<S> a(s.trans_a ? s.k : s.m, s.trans_a ? s.m : s.k), b(s.trans_b ? s.n : s.k, s.trans_b ? s.k : s.n), c(s.m, s.n);
    for (Index i = 0; i < a.size(); ++i) a.data()[i] = S(static_cast<double>(i % 7) * 0.25 - 0.75);
    for (Index i = 0; i < b.size(); ++i) b.data()[i] = S(static_cast<double>(i % 5) * 0.25 - 0.5);
    const GemmArgs<S> g{s.m, s.n, s.k, a.data(), a.rows(), s.trans_a, b.data(), b.rows(), s.trans_b, c.data(), s.m, false};
    return gemm_time([&] { gemm_engine_run(e, g, threads); });
}

template <class S>
GemmChoice& gemm_choose_locked(GemmRegistry& r, const GemmShape& s, std::unique_lock<std::shared_mutex>& lock) {
    const GemmClass key = gemm_class(s);
    auto it = r.cache.find(key);
    if (it != r.cache.end()) return it->second;
    const GemmCostHook hook = r.hook;
    lock.unlock();  // measure without holding the lock; the first result stored wins
    GemmChoice choice;
    double best = 1e300;
    for (GemmEngine e : gemm_candidates(s)) {
        const double t = gemm_measure<S>(e, s, 1, hook);
        if (t < best) best = t, choice.engine = e;
    }
    lock.lock();
    return r.cache.emplace(key, std::move(choice)).first->second;
}

// Threads to use for a product of this class under a policy of `want`.
template <class S>
int gemm_threads_locked(GemmRegistry& r, GemmChoice& choice, GemmEngine e, const GemmShape& s, int want,
                        std::unique_lock<std::shared_mutex>& lock) {
    if (want <= 1) return 1;
    if (e == GemmEngine::own ? static_cast<double>(s.m) * s.n * s.k < 2.0e5 : gemm_piece_count(s.m, s.n, s.k) <= 1) return 1;
    auto it = choice.threads.find(want);
    if (it != choice.threads.end()) return it->second;
    const GemmCostHook hook = r.hook;
    const GemmClass key = gemm_class(s);
    lock.unlock();
    const double one = gemm_measure<S>(e, s, 1, hook), many = gemm_measure<S>(e, s, want, hook);
    lock.lock();
    GemmChoice& c = r.cache[key];  // re-found: the map may have changed while unlocked
    return c.threads.emplace(want, many < one ? want : 1).first->second;
}

struct GemmDecision {
    GemmEngine engine;
    int threads;
};

// Thread-local memo of recent decisions, invalidated by any change to the
// registry (generation), so the common path takes no lock.
struct GemmMemo {
    GemmClass key{};
    int want = 0;
    unsigned generation = 0;
    GemmDecision d{GemmEngine::eigen, 1};
};

inline std::size_t gemm_memo_slot(const GemmClass& k, int want) {
    std::size_t h = static_cast<std::size_t>(k.m) * 131 + static_cast<std::size_t>(k.n) * 31 + static_cast<std::size_t>(k.k) * 7;
    h += (k.ta ? 3u : 0u) + (k.tb ? 5u : 0u) + (k.is_double ? 11u : 0u) + static_cast<std::size_t>(want) * 17;
    return h % 16;
}

template <class S>
GemmDecision gemm_decide(const GemmShape& s, int want) {
    if (want > 1 && in_parallel_region()) want = 1;  // already on a thread of a split
    GemmRegistry& r = gemm_registry();
    const unsigned gen = r.generation.load(std::memory_order_acquire);
    const GemmClass key = gemm_class(s);
    static thread_local std::array<GemmMemo, 16> memo;
    GemmMemo& slot = memo[gemm_memo_slot(key, want)];
    if (slot.generation == gen && slot.want == want && slot.key == key) return slot.d;
    GemmDecision d;
    const GemmEngine forced = gemm_forced_for(static_cast<GemmEngine>(r.forced.load()), s);
    if (forced != GemmEngine::automatic) {
        // forced: nothing measured; threads whenever the product is large
        d.engine = forced;
        d.threads = static_cast<double>(s.m) * static_cast<double>(s.n) * static_cast<double>(s.k) >= 2.0e6 ? want : 1;
    } else {
        std::unique_lock<std::shared_mutex> lock(r.mutex);
        GemmChoice& choice = gemm_choose_locked<S>(r, s, lock);
        d.engine = choice.engine;
        d.threads = gemm_threads_locked<S>(r, choice, d.engine, s, want, lock);
    }
    slot = {key, want, gen, d};
    return d;
}

inline void gemm_changed() { gemm_registry().generation.fetch_add(1, std::memory_order_acq_rel); }

}  // namespace detail

// Forces one engine for every product (automatic: measure per shape class).
// own means our kernels: the skinny kernel for the products it computes
// (n <= 8, A not transposed, float or double), the packed one for the other
// float products. Products a forced engine cannot compute (own with a wide
// double product, skinny with a wide one) still go to the measured choice.
// The environment variable LATENT_GEMM sets the same at start.
inline void set_gemm_engine(GemmEngine e) {
    if (e == GemmEngine::blas && !has_blas())
        throw ConfigError("set_gemm_engine(blas): expected a program built with a BLAS (latent::blas), found none");
    if ((e == GemmEngine::own || e == GemmEngine::skinny) && !detail::gemm_kernel_active())
        throw ConfigError(std::string("set_gemm_engine(") + gemm_engine_name(e) +
                          "): expected a CPU with AVX2+FMA or AVX-512 and an x86-64 GCC/Clang build, found " +
                          cpu_info().isa);
    detail::gemm_registry().forced.store(static_cast<int>(e));
    detail::gemm_changed();
}
inline GemmEngine forced_gemm_engine() { return static_cast<GemmEngine>(detail::gemm_registry().forced.load()); }

// The engine that computes products of this shape (measuring its class now
// if no product of it has run yet). A template only so that it is compiled
// where it is called: as a plain inline function it instantiated both
// scalars' engines in every file that includes latent.hpp (2.5 s of an empty
// program's 6 s with clang 14 -O0 on an AMD EPYC (family 26 model 2, Zen 5, avx512f)).
template <class = void>
GemmEngine gemm_engine_for(const GemmShape& s) {
    return s.is_double ? detail::gemm_decide<double>(s, 1).engine : detail::gemm_decide<float>(s, 1).engine;
}

// Fixes the engine of a shape's class (as a loaded cache does).
inline void pin_gemm_engine(const GemmShape& s, GemmEngine e) {
    if (e == GemmEngine::automatic || !gemm_engine_fits(e, s))
        throw ConfigError(std::string("pin_gemm_engine: expected an engine available for this scalar and shape, found ") +
                          gemm_engine_name(e));
    detail::GemmRegistry& r = detail::gemm_registry();
    {
        std::unique_lock<std::shared_mutex> lock(r.mutex);
        detail::GemmChoice& c = r.cache[detail::gemm_class(s)];
        c.engine = e;
        c.threads.clear();
    }
    detail::gemm_changed();
}

// Forgets every measured choice.
inline void clear_gemm_cache() {
    detail::GemmRegistry& r = detail::gemm_registry();
    {
        std::unique_lock<std::shared_mutex> lock(r.mutex);
        r.cache.clear();
    }
    detail::gemm_changed();
}

// Replaces timing by a cost function (tests; null restores timing). Clears the cache.
inline void set_gemm_cost_hook(detail::GemmCostHook hook) {
    detail::GemmRegistry& r = detail::gemm_registry();
    {
        std::unique_lock<std::shared_mutex> lock(r.mutex);
        r.hook = std::move(hook);
        r.cache.clear();
    }
    detail::gemm_changed();
}

// The cache as text, one class a line:
//   <f|d> <n|t><n|t> <m> <n> <k> <engine> [threads=T:U ...]
// m, n, k are the class's lower bounds (exact up to 8, 9 for 9..15, powers
// of two from 16);
// threads=T:U: under a policy of T threads this class runs on U.
inline std::string gemm_cache_text() {
    detail::GemmRegistry& r = detail::gemm_registry();
    std::shared_lock<std::shared_mutex> lock(r.mutex);
    std::string out;
    for (const auto& [k, c] : r.cache) {
        out += k.is_double ? "d " : "f ";
        out += k.ta ? 't' : 'n';
        out += k.tb ? 't' : 'n';
        out += " " + std::to_string(k.m) + " " + std::to_string(k.n) + " " + std::to_string(k.k) + " " + gemm_engine_name(c.engine);
        for (const auto& [want, use] : c.threads) out += " threads=" + std::to_string(want) + ":" + std::to_string(use);
        out += "\n";
    }
    return out;
}

namespace detail {

inline void load_gemm_cache_into(GemmRegistry& r, const std::string& text) {
    std::istringstream in(text);
    std::string line;
    std::vector<std::pair<detail::GemmClass, detail::GemmChoice>> entries;
    int number = 0;
    auto to_index = [&](const std::string& s, const std::string& what) {
        Index v = 0;
        const auto res = std::from_chars(s.data(), s.data() + s.size(), v);
        if (res.ec != std::errc() || res.ptr != s.data() + s.size() || v < 0)
            throw FormatError("GEMM cache line " + std::to_string(number) + ": expected a count for " + what + ", found '" + s + "'");
        return v;
    };
    while (std::getline(in, line)) {
        ++number;
        if (line.empty() || line[0] == '#') continue;
        std::istringstream ls(line);
        std::string scalar, trans, m, n, k, engine, extra;
        if (!(ls >> scalar >> trans >> m >> n >> k >> engine) || (scalar != "f" && scalar != "d") || trans.size() != 2 ||
            (trans[0] != 'n' && trans[0] != 't') || (trans[1] != 'n' && trans[1] != 't'))
            throw FormatError("GEMM cache line " + std::to_string(number) + ": expected '<f|d> <n|t><n|t> m n k engine', found '" + line + "'");
        detail::GemmClass key{scalar == "d", trans[0] == 't', trans[1] == 't', detail::gemm_bucket(to_index(m, "m")),
                              detail::gemm_bucket(to_index(n, "n")), detail::gemm_bucket(to_index(k, "k"))};
        detail::GemmChoice c;
        c.engine = gemm_engine_from_name(engine);
        if (c.engine == GemmEngine::automatic || !gemm_engine_fits(c.engine, {key.m, key.n, key.k, key.ta, key.tb, key.is_double}))
            throw FormatError("GEMM cache line " + std::to_string(number) + ": expected an engine available here for this class, found '" +
                              engine + "'");
        while (ls >> extra) {
            const auto colon = extra.find(':');
            if (extra.compare(0, 8, "threads=") != 0 || colon == std::string::npos)
                throw FormatError("GEMM cache line " + std::to_string(number) + ": expected threads=T:U, found '" + extra + "'");
            c.threads[static_cast<int>(to_index(extra.substr(8, colon - 8), "threads"))] =
                static_cast<int>(std::max<Index>(to_index(extra.substr(colon + 1), "threads"), 1));
        }
        entries.emplace_back(key, std::move(c));
    }
    {
        std::unique_lock<std::shared_mutex> lock(r.mutex);
        for (auto& [key, c] : entries) r.cache[key] = std::move(c);
    }
    r.generation.fetch_add(1, std::memory_order_acq_rel);
}

}  // namespace detail

// Loads a cache written by gemm_cache_text (replacing entries of the same
// classes); throws FormatError naming the bad line.
inline void load_gemm_cache(const std::string& text) { detail::load_gemm_cache_into(detail::gemm_registry(), text); }

namespace detail {

// C = op(A) op(B) (add = false) or C += op(A) op(B) (add = true).
// C, A, B: Matrix<S>, MatrixMap<S> or blocks of them (column-major, unit
// inner stride); op(X) = X^T when trans_x. Shapes must agree (checked by the
// caller). `threads`: the most threads this product may use.
template <class MC, class MA, class MB>
void matmul(MC&& c, const MA& a, bool trans_a, const MB& b, bool trans_b, bool add, Threads threads = Threads::current()) {
    using S = typename std::decay_t<MC>::Scalar;
    const Index m = c.rows(), n = c.cols(), k = trans_a ? a.rows() : a.cols();
    if constexpr (std::is_same<S, float>::value || std::is_same<S, double>::value) {
        const GemmShape shape{m, n, k, trans_a, trans_b, std::is_same<S, double>::value};
        const GemmDecision d = gemm_decide<S>(shape, threads.count);
        const GemmArgs<S> g{m, n, k, a.data(), a.outerStride(), trans_a, b.data(), b.outerStride(), trans_b, c.data(), c.outerStride(), add};
        gemm_engine_run(d.engine, g, d.threads);
    } else {
        matmul_eigen(c, a, trans_a, b, trans_b, add);
    }
}

}  // namespace detail
LATENT_NAMESPACE_END
