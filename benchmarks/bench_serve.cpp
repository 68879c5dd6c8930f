// Serving latency: inference through per-thread predictors
// (serve/predictor.hpp) on one shared model, one sample and batches of 8,
// products on one thread per worker. Models (random weights; speed does not
// depend on them):
//   SmallAE    784-128-32-128-784 dense autoencoder, reconstruct
//   DeepAEEnc  the deep AE's encoder 784-2000-500-500-10, encode
//   Denoiser   the conv denoiser of bench_conv.cpp / examples/denoising.cpp, reconstruct
//   LSTMAE     LSTM(64) -> RepeatVector(50) -> LSTM(64) -> Dense(4) over 50 steps of 4 features, reconstruct
// ->Threads(2) runs two workers on the same shared model (items/s summed):
// compare with ->Threads(1) for the scaling on 2 cores. SmallAECopied: the
// same with each worker's predictor holding a copy of the weights
// (copy_weights()); SmallAEBf16: each worker's copy rounded to bfloat16
// (use_bf16_weights(), opt-in: only the weights' rounding differs).
//
// The PyTorch reference of the same models is benchmarks/torch_serve.py.
#include <benchmark/benchmark.h>

#include <latent/latent.hpp>

#include <memory>

namespace {

using latent::ConvOptions;
using latent::Index;
using latent::Shape;
using Mat = latent::Matrix<float>;

const latent::Autoencoder<float>& small_ae() {
    static const latent::Autoencoder<float> ae = [] {
        latent::Rng rng(1);
        latent::DenseAutoencoderOptions o;
        o.sizes = {784, 128, 32};
        return latent::make_dense_autoencoder<float>(o, rng);
    }();
    return ae;
}

const latent::Autoencoder<float>& deep_ae() {
    static const latent::Autoencoder<float> ae = [] {
        latent::Rng rng(2);
        latent::DenseAutoencoderOptions o;
        o.sizes = {784, 2000, 500, 500, 10};
        return latent::make_dense_autoencoder<float>(o, rng);
    }();
    return ae;
}

const latent::Autoencoder<float>& denoiser() {
    static const latent::Autoencoder<float> ae = [] {
        using namespace latent;  // NOLINT: a .cpp, not a header
        auto enc = std::make_unique<Sequential<float>>();
        for (Index f : {64, 32, 16})
            enc->add<Conv2D<float>>(f, 3, ConvOptions::same()).add<Activation<float>>(Act::relu).add<MaxPool2D<float>>(2, PoolOptions::same());
        auto dec = std::make_unique<Sequential<float>>();
        dec->add<Conv2D<float>>(16, 3, ConvOptions::same()).add<Activation<float>>(Act::relu).add<Upsample2D<float>>(2);
        dec->add<Conv2D<float>>(32, 3, ConvOptions::same()).add<Activation<float>>(Act::relu).add<Upsample2D<float>>(2);
        dec->add<Conv2D<float>>(64, 3, ConvOptions::valid()).add<Activation<float>>(Act::relu).add<Upsample2D<float>>(2);
        dec->add<Conv2D<float>>(1, 3, ConvOptions::same()).add<Activation<float>>(Act::sigmoid);
        Autoencoder<float> m(std::move(enc), std::move(dec));
        Rng rng(3);
        m.build(Shape{1, 28, 28}, rng);
        return m;
    }();
    return ae;
}

const latent::SequenceAutoencoder<float>& lstm_ae() {
    static const latent::SequenceAutoencoder<float> ae = [] {
        latent::Rng rng(4);
        latent::SequenceAutoencoderOptions o;
        o.steps = 50;
        o.features = 4;
        o.encoder_units = {64};
        return latent::SequenceAutoencoder<float>(o, rng);
    }();
    return ae;
}

Mat inputs(Index rows, Index cols) {
    latent::Rng rng(5);
    Mat x(rows, cols);
    rng.fill_uniform(x);
    return x;
}

// Each benchmark thread: its own predictor and buffers on the shared model.
enum class Weights { shared, copied, bf16 };

template <class Predictor, Weights weights = Weights::shared, class Model, class Call>
void run(benchmark::State& state, const Model& model, Index rows, Index out_rows, Call&& call) {
    const Index batch = state.range(0);
    Predictor p(model);
    if constexpr (weights == Weights::copied) p.copy_weights();
    if constexpr (weights == Weights::bf16)
        if (p.use_bf16_weights() == 0) state.SkipWithError("no weights rounded to bfloat16");
    const Mat x = inputs(rows, batch);
    Mat out(out_rows, batch);
    call(p, x, out);  // the first call allocates the workspace
    for (auto _ : state) {
        call(p, x, out);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * batch);
}

void BM_Serve_SmallAE(benchmark::State& state) {
    run<latent::AutoencoderPredictor<float>>(state, small_ae(), 784, 784, [](auto& p, const Mat& x, Mat& out) { p.reconstruct(x, out); });
}
void BM_Serve_SmallAECopied(benchmark::State& state) {
    run<latent::AutoencoderPredictor<float>, Weights::copied>(state, small_ae(), 784, 784,
                                                              [](auto& p, const Mat& x, Mat& out) { p.reconstruct(x, out); });
}
void BM_Serve_SmallAEBf16(benchmark::State& state) {
    run<latent::AutoencoderPredictor<float>, Weights::bf16>(state, small_ae(), 784, 784,
                                                            [](auto& p, const Mat& x, Mat& out) { p.reconstruct(x, out); });
}
void BM_Serve_DeepAEEncoder(benchmark::State& state) {
    run<latent::AutoencoderPredictor<float>>(state, deep_ae(), 784, 10, [](auto& p, const Mat& x, Mat& out) { p.encode(x, out); });
}
void BM_Serve_Denoiser(benchmark::State& state) {
    run<latent::AutoencoderPredictor<float>>(state, denoiser(), 784, 784, [](auto& p, const Mat& x, Mat& out) { p.reconstruct(x, out); });
}
void BM_Serve_LSTMAE(benchmark::State& state) {
    run<latent::SequencePredictor<float>>(state, lstm_ae(), 200, 200, [](auto& p, const Mat& x, Mat& out) { p.reconstruct(x, out); });
}

// Products on one thread per worker (set once, before any benchmark thread
// starts: the setting is process-wide), and the models built up front.
[[maybe_unused]] const bool models_ready = (latent::set_num_threads(1), small_ae(), deep_ae(), denoiser(), lstm_ae(), true);

}  // namespace

BENCHMARK(BM_Serve_SmallAE)->ArgName("batch")->Arg(1)->Arg(8)->Unit(benchmark::kMicrosecond)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_Serve_SmallAECopied)->ArgName("batch")->Arg(1)->Arg(8)->Unit(benchmark::kMicrosecond)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_Serve_SmallAEBf16)->ArgName("batch")->Arg(1)->Arg(8)->Unit(benchmark::kMicrosecond)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_Serve_DeepAEEncoder)->ArgName("batch")->Arg(1)->Arg(8)->Unit(benchmark::kMicrosecond)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_Serve_Denoiser)->ArgName("batch")->Arg(1)->Arg(8)->Unit(benchmark::kMicrosecond)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_Serve_LSTMAE)->ArgName("batch")->Arg(1)->Arg(8)->Unit(benchmark::kMicrosecond)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK_MAIN();
