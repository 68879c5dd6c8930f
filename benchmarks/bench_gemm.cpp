// GEMM engines side by side on the products of the models in the README's
// speed table (float, batch 256 for the dense models, 64 for the conv
// denoiser), and matrix-vector / skinny products (n = 1 and 8: one sample,
// a handful). Each case forces one engine (set_gemm_engine): own (our
// kernels for this CPU's ISA: for n <= 8 with A not transposed that is the
// skinny one), eigen, blas (when linked in), auto (what detail::matmul
// measured fastest for the shape's class; its label names the engine), and
// skinny (where it fits). GFLOP/s = 2 m n k per product. BM_GemmBf16: the
// serving products with A in bfloat16 (Predictor::use_bf16_weights).
//
// Products are C (m x n) = op(A) op(B) with k the inner dimension;
// transposes "nt"/"tn" are the weight- and input-gradient products.
#include "bench_common.hpp"

#include <latent/core/bfloat16.hpp>

#include <string>
#include <vector>

namespace {

using latent::GemmEngine;
using latent::Index;
using Mat = latent::Matrix<float>;

struct Product {
    const char* model;
    Index m, n, k;
    bool ta, tb;
};

// Dense layer in -> out at batch B: forward (out x B) = W (out x in) X; weight
// gradient (out x in) = dY X^T; input gradient (in x B) = W^T dY.
void dense_products(std::vector<Product>& out, const char* model, Index in, Index o, Index batch, bool input_grad = true) {
    out.push_back({model, o, batch, in, false, false});
    out.push_back({model, o, in, batch, false, true});
    if (input_grad) out.push_back({model, in, batch, o, true, false});
}

const std::vector<Product>& products() {
    static const std::vector<Product> p = [] {
        std::vector<Product> v;
        dense_products(v, "smallAE", 784, 128, 256, false);
        dense_products(v, "smallAE", 128, 32, 256);
        dense_products(v, "deepAE", 784, 2000, 256, false);
        dense_products(v, "deepAE", 2000, 500, 256);
        dense_products(v, "deepAE", 500, 500, 256);
        dense_products(v, "VAE", 784, 400, 256, false);
        dense_products(v, "VAE", 400, 40, 256);
        // the conv denoiser's im2col products (rows = colT W, dW = colT^T rows,
        // colT = rows W^T), per chunk of samples within the im2col budget
        v.push_back({"denoiser", 3360, 64, 9, false, false});
        v.push_back({"denoiser", 9, 64, 3360, true, false});
        v.push_back({"denoiser", 448, 32, 576, false, false});
        v.push_back({"denoiser", 576, 32, 448, true, false});
        v.push_back({"denoiser", 448, 576, 32, false, true});
        v.push_back({"denoiser", 882, 16, 288, false, false});
        v.push_back({"denoiser", 288, 16, 882, true, false});
        // one sample / a handful (serving)
        v.push_back({"serve", 128, 1, 784, false, false});
        v.push_back({"serve", 784, 1, 128, false, false});
        v.push_back({"serve", 2000, 1, 784, false, false});
        v.push_back({"serve", 128, 8, 784, false, false});
        v.push_back({"serve", 784, 8, 128, false, false});
        // the deep AE's encoder 784-2000-500-500-10 at 8 samples (and 500 x 2000 at 1)
        v.push_back({"serve", 2000, 8, 784, false, false});
        v.push_back({"serve", 500, 8, 2000, false, false});
        v.push_back({"serve", 500, 1, 2000, false, false});
        v.push_back({"serve", 500, 8, 500, false, false});
        v.push_back({"serve", 10, 8, 500, false, false});
        // a tied decoder's W^T x at 8 samples (no skinny kernel: a reduction)
        v.push_back({"serve", 784, 8, 128, true, false});
        v.push_back({"square", 1024, 1024, 1024, false, false});
        return v;
    }();
    return p;
}

const GemmEngine kEngines[] = {GemmEngine::own, GemmEngine::eigen, GemmEngine::blas, GemmEngine::automatic, GemmEngine::skinny};

// Args: product index, engine index, threads.
void BM_Gemm(benchmark::State& state) {
    const Product& p = products()[static_cast<std::size_t>(state.range(0))];
    const GemmEngine e = kEngines[state.range(1)];
    if (!latent::gemm_engine_available(e, false)) {
        state.SkipWithError((std::string(latent::gemm_engine_name(e)) + " is not available in this build/CPU").c_str());
        return;
    }
    bench::set_threads(state, 2);
    latent::set_gemm_engine(e);
    latent::Rng rng(3);
    Mat a(p.ta ? p.k : p.m, p.ta ? p.m : p.k), b(p.tb ? p.n : p.k, p.tb ? p.k : p.n), c(p.m, p.n);
    rng.fill_uniform(a, -1, 1);
    rng.fill_uniform(b, -1, 1);
    latent::detail::matmul(c, a, p.ta, b, p.tb, false);  // measures the class (auto) before the loop
    for (auto _ : state) {
        latent::detail::matmul(c, a, p.ta, b, p.tb, false);
        benchmark::DoNotOptimize(c.data());
        benchmark::ClobberMemory();
    }
    const GemmEngine used = latent::gemm_engine_for({p.m, p.n, p.k, p.ta, p.tb, false});
    latent::set_gemm_engine(GemmEngine::automatic);
    const double flops = 2.0 * static_cast<double>(p.m) * static_cast<double>(p.n) * static_cast<double>(p.k);
    state.counters["GFLOP/s"] = benchmark::Counter(flops * static_cast<double>(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
    state.counters["threads"] = static_cast<double>(latent::num_threads());
    state.SetLabel(std::string(p.model) + " " + std::to_string(p.m) + "x" + std::to_string(p.n) + "x" + std::to_string(p.k) +
                   (p.ta ? " tA" : "") + (p.tb ? " tB" : "") + " " + latent::gemm_engine_name(e) +
                   (e == GemmEngine::automatic ? std::string("=") + latent::gemm_engine_name(used) : std::string()));
    latent::set_num_threads(1);
}

void gemm_args(benchmark::internal::Benchmark* b) {
    b->ArgNames({"product", "engine", "threads"});
    for (std::size_t i = 0; i < products().size(); ++i)
        for (int e = 0; e < 5; ++e) {
            const Product& p = products()[i];
            if (kEngines[e] == GemmEngine::skinny && !latent::gemm_engine_fits(GemmEngine::skinny, {p.m, p.n, p.k, p.ta, p.tb, false}))
                continue;
            b->Args({static_cast<long>(i), e, 1});
        }
}
BENCHMARK(BM_Gemm)->Apply(gemm_args)->UseRealTime();

// The serving products (A not transposed) with A rounded to bfloat16
// (core/bfloat16.hpp, detail::matmul_bf16, as Predictor::use_bf16_weights
// runs them), 1 thread: compare with BM_Gemm's cases of the same product.
void BM_GemmBf16(benchmark::State& state) {
    const Product& p = products()[static_cast<std::size_t>(state.range(0))];
    latent::set_num_threads(1);
    latent::Rng rng(3);
    Mat a(p.m, p.k), b(p.k, p.n), c(p.m, p.n);
    rng.fill_uniform(a, -1, 1);
    rng.fill_uniform(b, -1, 1);
    const latent::detail::Bf16Matrix a16(a);
    for (auto _ : state) {
        latent::detail::matmul_bf16(c, a16, b, false);
        benchmark::DoNotOptimize(c.data());
        benchmark::ClobberMemory();
    }
    const double flops = 2.0 * static_cast<double>(p.m) * static_cast<double>(p.n) * static_cast<double>(p.k);
    state.counters["GFLOP/s"] = benchmark::Counter(flops * static_cast<double>(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
    state.counters["GB/s"] = benchmark::Counter(2.0 * static_cast<double>(p.m * p.k) * static_cast<double>(state.iterations()) * 1e-9,
                                                benchmark::Counter::kIsRate);  // bfloat16 weights read
    state.SetLabel(std::string(p.model) + " " + std::to_string(p.m) + "x" + std::to_string(p.n) + "x" + std::to_string(p.k) + " bf16");
}

void bf16_args(benchmark::internal::Benchmark* b) {
    b->ArgNames({"product"});
    for (std::size_t i = 0; i < products().size(); ++i)
        if (std::string(products()[i].model) == "serve" && !products()[i].ta) b->Args({static_cast<long>(i)});
}
BENCHMARK(BM_GemmBf16)->Apply(bf16_args)->UseRealTime();

}  // namespace

int main(int argc, char** argv) { return bench::main(argc, argv); }
