// Convolution benchmarks: one training step of the denoising autoencoder of
// examples/denoising.cpp (batch 64, Adam) and Conv2D forward+backward at each
// of its layer shapes, on 1 and 2 threads. Reports items (samples) per second
// and GFLOP/s (2 FLOPs per multiply-add, the convolutions' forward, weight
// and input gradients; pooling, activations and the optimizer are not counted).
//
// The PyTorch reference of the same step is benchmarks/torch_denoiser.py.
#include "bench_common.hpp"

#include <memory>

namespace {

using latent::ConvOptions;
using latent::Index;
using latent::Shape;
using Mat = latent::Matrix<float>;

// Encoder Conv(64)-Pool-Conv(32)-Pool-Conv(16)-Pool, decoder
// Conv(16)-Up-Conv(32)-Up-Conv(64, valid)-Up-Conv(1), 3x3 kernels, ReLU, a
// sigmoid output; 'same' max pooling takes 7 -> 4 and the valid conv 16 -> 14.
latent::Autoencoder<float> make_denoiser() {
    using namespace latent;  // NOLINT: a .cpp, not a header
    auto enc = std::make_unique<Sequential<float>>();
    for (Index f : {64, 32, 16})
        enc->add<Conv2D<float>>(f, 3, ConvOptions::same().with_init(WeightInit::he))
            .add<Activation<float>>(Act::relu)
            .add<MaxPool2D<float>>(2, PoolOptions::same());
    auto dec = std::make_unique<Sequential<float>>();
    dec->add<Conv2D<float>>(16, 3, ConvOptions::same().with_init(WeightInit::he)).add<Activation<float>>(Act::relu).add<Upsample2D<float>>(2);
    dec->add<Conv2D<float>>(32, 3, ConvOptions::same().with_init(WeightInit::he)).add<Activation<float>>(Act::relu).add<Upsample2D<float>>(2);
    dec->add<Conv2D<float>>(64, 3, ConvOptions::valid().with_init(WeightInit::he)).add<Activation<float>>(Act::relu).add<Upsample2D<float>>(2);
    dec->add<Conv2D<float>>(1, 3, ConvOptions::same()).add<Activation<float>>(Act::sigmoid);
    return Autoencoder<float>(std::move(enc), std::move(dec));
}

// Multiply-adds of every convolution in a model, per sample.
double conv_macs(latent::Layer<float>& layer) {
    if (auto* c = dynamic_cast<latent::Conv2D<float>*>(&layer)) return c->macs_per_sample();
    if (auto* t = dynamic_cast<latent::ConvTranspose2D<float>*>(&layer)) return t->macs_per_sample();
    double total = 0;
    if (auto* s = dynamic_cast<latent::Sequential<float>*>(&layer))
        for (std::size_t i = 0; i < s->size(); ++i) total += conv_macs((*s)[i]);
    return total;
}

void BM_DenoiserTrainStep(benchmark::State& state) {
    latent::set_num_threads(static_cast<int>(state.range(0)));
    const Index batch = 64;
    auto ae = make_denoiser();
    latent::Rng rng(1);
    ae.build(Shape{1, 28, 28}, rng);
    latent::Adam<float> adam(1e-3);
    Mat x(784, batch), noisy(784, batch);
    rng.fill_uniform(x);
    noisy = x;
    latent::Corruption::gaussian(0.5)(noisy, rng);
    // The first conv needs no input gradient: forward + weight gradient for
    // it, forward + both gradients for the rest.
    auto& enc = dynamic_cast<latent::Sequential<float>&>(ae.encoder());
    const double first = conv_macs(enc[0]);
    const double flops = 2.0 * batch * (3 * conv_macs(ae.network().root()) - first);
    for (auto _ : state) {
        ae.params().zero_grad();
        const float loss = ae.train_batch(noisy, x, nullptr);
        adam.step(ae.params());
        benchmark::DoNotOptimize(loss);
        benchmark::DoNotOptimize(ae.params().values().data());
    }
    state.SetItemsProcessed(state.iterations() * batch);
    state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
    latent::set_num_threads(1);
}
// Wall-clock rates, and rates per process CPU-second (steadier on a shared
// machine; compare with torch_denoiser.py's "samples per CPU-second").
BENCHMARK(BM_DenoiserTrainStep)->Arg(1)->Arg(2)->ArgName("threads")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_DenoiserTrainStep)->Arg(1)->Arg(2)->ArgName("threads")->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

// Conv2D forward + backward (weight and input gradients) at the denoiser's
// shapes: args = threads, in channels, size, filters, valid (0/1).
void BM_Conv2DForwardBackward(benchmark::State& state) {
    latent::set_num_threads(static_cast<int>(state.range(0)));
    const Index c = state.range(1), hw = state.range(2), f = state.range(3);
    const bool valid = state.range(4) != 0;
    const Index batch = 64;
    latent::Conv2D<float> conv(f, 3, valid ? ConvOptions::valid() : ConvOptions::same());
    latent::ParamBuffer<float> params;
    latent::Rng rng(2);
    conv.attach_rng(&rng);
    conv.build(Shape{c, hw, hw});
    std::vector<latent::NamedSlot<float>> slots;
    conv.collect_params("", slots);
    params.bind(std::move(slots));
    params.initialize(rng);
    conv.set_input_grad(true);
    Mat x(c * hw * hw, batch), dy(conv.output_shape().size(), batch);
    rng.fill_uniform(x);
    rng.fill_normal(dy);
    for (auto _ : state) {
        const Mat& y = conv.forward(x, latent::Mode::train);
        benchmark::DoNotOptimize(y.data());
        const Mat& dx = conv.backward(dy);
        benchmark::DoNotOptimize(dx.data());
    }
    state.SetItemsProcessed(state.iterations() * batch);
    state.counters["GFLOP/s"] = benchmark::Counter(6.0 * conv.macs_per_sample() * batch * 1e-9 * static_cast<double>(state.iterations()),
                                                   benchmark::Counter::kIsRate);
    latent::set_num_threads(1);
}
BENCHMARK(BM_Conv2DForwardBackward)
    ->ArgNames({"threads", "in", "hw", "out", "valid"})
    ->ArgsProduct({{1, 2}, {1}, {28}, {64}, {0}})
    ->ArgsProduct({{1, 2}, {64}, {14}, {32}, {0}})
    ->ArgsProduct({{1, 2}, {32}, {7}, {16}, {0}})
    ->ArgsProduct({{1, 2}, {16}, {4}, {16}, {0}})
    ->ArgsProduct({{1, 2}, {16}, {8}, {32}, {0}})
    ->ArgsProduct({{1, 2}, {32}, {16}, {64}, {1}})
    ->ArgsProduct({{1, 2}, {64}, {28}, {1}, {0}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// Forward + backward of the denoiser's layers around the convolutions, at
// their largest shapes (batch 64): args = threads, layer (0: MaxPool2D 2x2
// 'same' on 64x28x28, 1: Upsample2D x2 on 64x14x14, 2: ReLU on 64x28x28).
void BM_ImageLayerForwardBackward(benchmark::State& state) {
    using namespace latent;  // NOLINT: a .cpp, not a header
    set_num_threads(static_cast<int>(state.range(0)));
    const Index batch = 64;
    std::unique_ptr<Layer<float>> layer;
    Shape in{64, 28, 28};
    switch (state.range(1)) {
        case 0: layer = std::make_unique<MaxPool2D<float>>(2, PoolOptions::same()); break;
        case 1: layer = std::make_unique<Upsample2D<float>>(2), in = Shape{64, 14, 14}; break;
        default: layer = std::make_unique<Activation<float>>(Act::relu); break;
    }
    layer->build(in);
    layer->set_input_grad(true);
    Rng rng(3);
    Mat x(in.size(), batch), dy(layer->output_shape().size(), batch);
    rng.fill_normal(x);
    rng.fill_normal(dy);
    for (auto _ : state) {
        const Mat& y = layer->forward(x, Mode::train);
        benchmark::DoNotOptimize(y.data());
        const Mat& dx = layer->backward(dy);
        benchmark::DoNotOptimize(dx.data());
    }
    state.SetItemsProcessed(state.iterations() * batch);
    set_num_threads(1);
}
BENCHMARK(BM_ImageLayerForwardBackward)
    ->ArgNames({"threads", "layer"})
    ->ArgsProduct({{1, 2}, {0, 1, 2}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace

int main(int argc, char** argv) { return bench::main(argc, argv); }
