// Recurrent benchmarks: one training step of an LSTM sequence autoencoder
// (LSTM(64) -> RepeatVector(50) -> LSTM(64, sequence) -> TimeDistributed(Dense(4)),
// 50 steps of 4 features, batch 64, per-step MSE, gradient clipping, Adam),
// the same with GRU cells, and one LSTM layer's forward + backward; on 1 and
// 2 threads. Reports items (sequences) per second and GFLOP/s (2 FLOPs per
// multiply-add of the gate, recurrent and output products in forward,
// weight gradients and input gradients; element-wise work not counted).
//
// The PyTorch reference of the same step is benchmarks/torch_lstm.py.
#include "bench_common.hpp"
#include <latent/models/sequence.hpp>

namespace {

using latent::Index;
using Mat = latent::Matrix<float>;

constexpr Index kSteps = 50, kFeatures = 4, kUnits = 64, kBatch = 64;

// Multiply-adds of one training step, per sequence: every GEMM three times
// (forward, weight gradient, input gradient) except the first layer's input
// gradient, which the model skips.
double seq_ae_macs(Index gates) {
    const double T = kSteps, F = kFeatures, H = kUnits, G = static_cast<double>(gates) * H;
    const double enc = G * F * T + G * H * T, dec = G * H * T + G * H * T, out = F * H * T;
    return 3 * (enc + dec + out) - G * F * T;
}

void BM_SequenceAutoencoderTrainStep(benchmark::State& state) {
    latent::set_num_threads(static_cast<int>(state.range(0)));
    const auto cell = state.range(1) == 0 ? latent::CellType::lstm : latent::CellType::gru;
    latent::Rng rng(1);
    latent::SequenceAutoencoderOptions o;
    o.steps = kSteps;
    o.features = kFeatures;
    o.encoder_units = {kUnits};
    o.cell = cell;
    latent::SequenceAutoencoder<float> ae(o, rng);
    latent::Adam<float> adam(1e-3);
    Mat x(kSteps * kFeatures, kBatch);
    rng.fill_normal(x);
    const double flops = 2.0 * kBatch * seq_ae_macs(cell == latent::CellType::lstm ? 4 : 3);
    for (auto _ : state) {
        ae.params().zero_grad();
        const float loss = ae.train_batch(x, x, nullptr);
        latent::clip_grad_norm(ae.params(), 1.0);
        adam.step(ae.params());
        benchmark::DoNotOptimize(loss);
        benchmark::DoNotOptimize(ae.params().values().data());
    }
    state.SetItemsProcessed(state.iterations() * kBatch);
    state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
    state.SetLabel(latent::cell_type_name(cell));
    latent::set_num_threads(1);
}
BENCHMARK(BM_SequenceAutoencoderTrainStep)
    ->ArgsProduct({{1, 2}, {0, 1}})
    ->ArgNames({"threads", "gru"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// One LSTM layer (64 units, 50 steps, sequence output), forward + backward
// with input gradient: args = threads, input features.
void BM_LSTMForwardBackward(benchmark::State& state) {
    latent::set_num_threads(static_cast<int>(state.range(0)));
    const Index F = state.range(1);
    latent::Rng rng(2);
    latent::Network<float> net(std::make_unique<latent::LSTM<float>>(kUnits, latent::RnnOutput::sequence));
    net.build(latent::sequence_shape(kSteps, F), rng);
    auto& lstm = static_cast<latent::LSTM<float>&>(net.root());
    lstm.set_input_grad(true);
    Mat x(F, kSteps * kBatch), dy(kUnits, kSteps * kBatch);
    rng.fill_normal(x);
    rng.fill_normal(dy);
    const double G = 4.0 * kUnits;
    const double flops = 2.0 * kBatch * kSteps * 3 * (G * static_cast<double>(F) + G * kUnits);
    for (auto _ : state) {
        benchmark::DoNotOptimize(lstm.forward_packed(x, kSteps, latent::Mode::train).data());
        benchmark::DoNotOptimize(lstm.backward_packed(dy).data());
    }
    state.SetItemsProcessed(state.iterations() * kBatch);
    state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
    latent::set_num_threads(1);
}
BENCHMARK(BM_LSTMForwardBackward)->ArgsProduct({{1, 2}, {4, 64}})->ArgNames({"threads", "features"})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) { return bench::main(argc, argv); }
