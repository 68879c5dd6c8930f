// Dense path benchmarks (float): one Dense layer forward+backward, and full
// training steps (forward, MSE loss, backward, Adam) of the small AE
// 784-128-32-128-784 and the deep AE 784-2000-500-500-10 (mirrored), batch
// 256, at 1 and 2 threads. benchmarks/torch_dense.py times the same steps in
// PyTorch.
//
// items/s = samples/s (wall clock: UseRealTime, so threads count);
// GFLOP/s counts the GEMMs only: per Dense (in -> out) and batch B,
//   forward 2*in*out*B, dW 2*in*out*B, dX 2*in*out*B (skipped for the first layer).
#include "bench_common.hpp"

#include <string>
#include <vector>

namespace {

using latent::Index;
using Mat = latent::Matrix<float>;

constexpr Index kBatch = 256;

// FLOPs of one training step of a chain of Dense layers (sizes in order).
double train_step_flops(const std::vector<Index>& chain, Index batch) {
    std::vector<std::pair<double, double>> layers;
    for (std::size_t i = 1; i < chain.size(); ++i)
        layers.emplace_back(static_cast<double>(chain[i - 1]), static_cast<double>(chain[i]));
    return bench::dense_train_step_flops(layers, batch);
}

// ---- one Dense layer: Y = W X + b, then dW, db, dX.
void BM_DenseForwardBackward(benchmark::State& state) {
    bench::set_threads(state);
    const Index in = state.range(1), out = state.range(2);
    latent::Rng rng(1);
    latent::Dense<float> dense(out);
    dense.attach_rng(&rng);
    dense.build(latent::Shape{in});
    std::vector<latent::NamedSlot<float>> slots;
    dense.collect_params("", slots);
    latent::ParamBuffer<float> params;
    params.bind(std::move(slots));
    params.initialize(rng);
    Mat x(in, kBatch), dy(out, kBatch);
    rng.fill_uniform(x);
    rng.fill_normal(dy);
    for (auto _ : state) {
        const Mat& y = dense.forward(x, latent::Mode::train);
        benchmark::DoNotOptimize(y.data());
        const Mat& dx = dense.backward(dy);
        benchmark::DoNotOptimize(dx.data());
        benchmark::DoNotOptimize(params.grads().data());
        benchmark::ClobberMemory();
    }
    bench::report(state, 6.0 * static_cast<double>(in * out * kBatch), kBatch);
}
BENCHMARK(BM_DenseForwardBackward)
    ->ArgNames({"threads", "in", "out"})
    ->Args({1, 784, 128})
    ->Args({2, 784, 128})
    ->UseRealTime();

// ---- a training step of a dense AE: zero_grad, forward, MSE, backward, Adam.
void train_step(benchmark::State& state, const std::vector<Index>& encoder_sizes) {
    bench::set_threads(state);
    latent::DenseAutoencoderOptions o;
    o.sizes = encoder_sizes;  // ReLU hidden, linear code, sigmoid output (the examples' set-up)
    latent::Rng rng(2);
    auto ae = latent::make_dense_autoencoder<float>(o, rng);
    latent::Adam<float> adam(1e-3);
    Mat x(encoder_sizes.front(), kBatch);
    rng.fill_uniform(x);
    for (auto _ : state) {
        ae.params().zero_grad();
        const float loss = ae.train_batch(x, x, nullptr);
        adam.step(ae.params());
        benchmark::DoNotOptimize(loss);
        benchmark::DoNotOptimize(ae.params().values().data());
        benchmark::ClobberMemory();
    }
    std::vector<Index> chain = encoder_sizes;
    for (auto it = encoder_sizes.rbegin() + 1; it != encoder_sizes.rend(); ++it) chain.push_back(*it);
    bench::report(state, train_step_flops(chain, kBatch), kBatch);
}

void BM_TrainStep_SmallAE(benchmark::State& state) { train_step(state, {784, 128, 32}); }
BENCHMARK(BM_TrainStep_SmallAE)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();

void BM_TrainStep_DeepAE(benchmark::State& state) { train_step(state, {784, 2000, 500, 500, 10}); }
BENCHMARK(BM_TrainStep_DeepAE)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

// ---- raw float GEMM (C = A B, n x n x n), for comparison with the
// machine's peak and with the layer figures above: Eigen's product.
void BM_EigenGemm(benchmark::State& state) {
    bench::set_threads(state);
    const Index n = state.range(1);
    latent::Rng rng(3);
    Mat a(n, n), b(n, n), c(n, n);
    rng.fill_uniform(a, -1, 1);
    rng.fill_uniform(b, -1, 1);
    for (auto _ : state) {
        c.noalias() = a * b;
        benchmark::DoNotOptimize(c.data());
        benchmark::ClobberMemory();
    }
    state.counters["GFLOP/s"] =
        benchmark::Counter(2.0 * static_cast<double>(n * n * n) * static_cast<double>(state.iterations()) * 1e-9,
                           benchmark::Counter::kIsRate);
    state.counters["threads"] = static_cast<double>(latent::num_threads());
}
BENCHMARK(BM_EigenGemm)->ArgNames({"threads", "n"})->Args({1, 1024})->Args({2, 1024})->UseRealTime();

// The same product through latent::detail::matmul (core/gemm.hpp), which
// the Dense layers use: the engine measured fastest for this shape class
// (named in the label; bench_gemm times each engine on the model shapes).
void BM_LatentGemm(benchmark::State& state) {
    bench::set_threads(state);
    const Index n = state.range(1);
    latent::Rng rng(3);
    Mat a(n, n), b(n, n), c(n, n);
    rng.fill_uniform(a, -1, 1);
    rng.fill_uniform(b, -1, 1);
    for (auto _ : state) {
        latent::detail::matmul(c, a, false, b, false, false);
        benchmark::DoNotOptimize(c.data());
        benchmark::ClobberMemory();
    }
    state.counters["GFLOP/s"] =
        benchmark::Counter(2.0 * static_cast<double>(n * n * n) * static_cast<double>(state.iterations()) * 1e-9,
                           benchmark::Counter::kIsRate);
    state.counters["threads"] = static_cast<double>(latent::num_threads());
    state.SetLabel(latent::gemm_engine_name(latent::gemm_engine_for({n, n, n, false, false, false})));
}
BENCHMARK(BM_LatentGemm)->ArgNames({"threads", "n"})->Args({1, 1024})->Args({2, 1024})->UseRealTime();

}  // namespace

int main(int argc, char** argv) { return bench::main(argc, argv); }
