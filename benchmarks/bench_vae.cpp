// VAE benchmarks (float): a full training step of the dense VAE 784-400-20
// (zero_grad, encoder, reparameterization, decoder, Bernoulli likelihood +
// analytic KL, backward, Adam) at batch 128, 1 and 2 threads, and the IWAE
// (k = 50) evaluation. benchmarks/torch_vae.py --time-steps N --threads T
// times the same training step in PyTorch.
//
// The batch is the first 128 Fashion-MNIST training images when the data set
// is installed, else uniform random pixels (the step's cost does not depend
// on the values).
//
// items/s = samples/s (wall clock: UseRealTime, so threads count);
// GFLOP/s counts the GEMMs only: per Dense (in -> out) and batch B,
//   forward 2*in*out*B, dW 2*in*out*B, dX 2*in*out*B (skipped for the first layer).
#include "bench_common.hpp"

#include <vector>

namespace {

using latent::Index;
using Mat = latent::Matrix<float>;

constexpr Index kBatch = 128;

Mat batch_of_images(Index n) {
    const std::string dir = "/usr/share/datasets/fashion-mnist";
#ifdef LATENT_HAS_ZLIB
    if (latent::fashion_mnist_available(dir)) return latent::load_fashion_mnist<float>(dir, latent::Split::train, n).x;
#endif
    latent::Rng rng(5);
    Mat x(784, n);
    rng.fill_uniform(x);
    return x;
}

// GEMM FLOPs of one training step: encoder 784-400-40, decoder 20-400-784.
double train_step_flops(Index batch) { return bench::dense_train_step_flops({{784, 400}, {400, 40}, {20, 400}, {400, 784}}, batch); }

void BM_VaeTrainStep(benchmark::State& state) {
    bench::set_threads(state);
    latent::Rng rng(1);
    auto vae = latent::make_dense_vae<float>({784, 400, 20}, rng);
    latent::Adam<float> adam(1e-3);
    const Mat x = batch_of_images(kBatch);
    for (auto _ : state) {
        vae.params().zero_grad();
        const float loss = vae.train_batch(x, x, nullptr);
        adam.step(vae.params());
        benchmark::DoNotOptimize(loss);
        benchmark::DoNotOptimize(vae.params().values().data());
        benchmark::ClobberMemory();
    }
    bench::report(state, train_step_flops(kBatch), kBatch);
}
BENCHMARK(BM_VaeTrainStep)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();

// IWAE estimate of -log p(x), k = 50, on 256 images: 50 decoder passes each.
void BM_VaeIwae50(benchmark::State& state) {
    bench::set_threads(state);
    latent::Rng rng(2);
    auto vae = latent::make_dense_vae<float>({784, 400, 20}, rng);
    const Mat x = batch_of_images(256);
    for (auto _ : state) {
        latent::Rng draw(3);
        const double v = vae.iwae(x, 50, draw);
        benchmark::DoNotOptimize(v);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * x.cols());
    state.counters["threads"] = static_cast<double>(latent::num_threads());
}
BENCHMARK(BM_VaeIwae50)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) { return bench::main(argc, argv); }
