// SequenceAutoencoder (models/sequence_autoencoder.hpp): whole-model gradient
// checks (masks), padding invariance, determinism and save/load (with Seq2Seq),
// and learning sine waves end to end.
#include "catch.hpp"
#include "sequence_support.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>

#include <latent/latent.hpp>
#include <latent/models/sequence.hpp>
#include <latent/testing/gradient_check.hpp>

using latent::Index;
using Mat = latent::Matrix<double>;
using Vec = latent::Vector<double>;
using sequence_test::check_trainable;
using sequence_test::random_tokens;

namespace {

// Sines with random phase, frequency and amplitude per channel: (T*F) x N.
template <class S>
latent::Matrix<S> sine_batch(Index T, Index F, Index N, latent::Rng& rng) {
    latent::Matrix<S> x(T * F, N);
    for (Index n = 0; n < N; ++n)
        for (Index f = 0; f < F; ++f) {
            const double phase = rng.uniform(0, 6.283), freq = rng.uniform(0.2, 0.6), amp = rng.uniform(0.5, 1.0);
            for (Index t = 0; t < T; ++t) x(t * F + f, n) = static_cast<S>(amp * std::sin(freq * static_cast<double>(t) + phase));
        }
    return x;
}

}  // namespace

TEST_CASE("SequenceAutoencoder gradients: stacked layers, both cells, with and without a mask", "[sequence][gradcheck]") {
    const Index T = 4, F = 2, N = 3;
    const Mat step_mask = latent::mask_from_lengths<double>({4, 2, 3}, T);
    const Mat mask = latent::expand_step_mask(step_mask, F);
    for (auto cell : {latent::CellType::lstm, latent::CellType::gru})
        for (bool masked : {false, true}) {
            latent::Rng rng(21);
            latent::SequenceAutoencoderOptions o;
            o.steps = T;
            o.features = F;
            o.encoder_units = {4, 3};
            o.cell = cell;
            latent::SequenceAutoencoder<double> ae(o, rng);
            Mat x(T * F, N);
            rng.fill_normal(x);
            // Targets near the reconstruction keep the loss small next to its
            // gradients, so finite differences resolve even the weakest entries.
            Mat y = ae.reconstruct(x), noise(T * F, N);
            rng.fill_normal(noise, 0.0, 0.01);
            y += noise;
            const auto rep = check_trainable(ae, x, y, masked ? &mask : nullptr);
            INFO(latent::cell_type_name(cell) << (masked ? " masked: " : ": ") << rep.str());
            CHECK(rep.ok(1e-6));
            CHECK(rep.checked > 100);
        }
}

TEST_CASE("padded steps change neither the loss nor the gradients", "[sequence]") {
    const Index T = 6, F = 3, N = 4;
    const Mat step_mask = latent::mask_from_lengths<double>({6, 3, 1, 5}, T);
    const Mat mask = latent::expand_step_mask(step_mask, F);
    latent::Rng rng(3);
    latent::SequenceAutoencoderOptions o;
    o.steps = T;
    o.features = F;
    o.encoder_units = {5};
    latent::SequenceAutoencoder<double> ae(o, rng);
    Mat x(T * F, N);
    rng.fill_normal(x);
    Mat x2 = x;
    for (Index i = 0; i < x2.size(); ++i)
        if (mask.data()[i] == 0) x2.data()[i] = 100.0 + static_cast<double>(i);  // garbage in the padding

    ae.params().zero_grad();
    const double l1 = ae.train_batch(x, x, &mask);
    const Vec g1 = ae.params().grads();
    ae.params().zero_grad();
    const double l2 = ae.train_batch(x2, x2, &mask);
    const Vec g2 = ae.params().grads();
    CHECK(l1 == l2);
    CHECK(g1 == g2);

    // ... and a sequence's code and reconstruction error do not depend on its padding.
    const Mat c1 = ae.encode(x, &step_mask), c2 = ae.encode(x2, &step_mask);
    CHECK(c1 == c2);
    const Vec e1 = ae.reconstruction_error(x, &step_mask), e2 = ae.reconstruction_error(x2, &step_mask);
    CHECK(e1 == e2);
    const Mat se = ae.step_errors(x, &step_mask);
    CHECK(se(3, 2) == 0.0);
    CHECK(std::abs(se.col(1).head(3).mean() - e1(1)) < 1e-12);

    // A mask that covers part of a step is refused.
    Mat partial = mask;
    partial(0, 0) = 0;
    CHECK_THROWS_AS(ae.train_batch(x, x, &partial), latent::DataError);
    CHECK_THROWS_AS(ae.train_batch(Mat(T * F + 1, N), Mat(T * F + 1, N), nullptr), latent::ShapeError);
}

TEST_CASE("sequence models: repeated predictions are identical and a seed fixes training", "[sequence]") {
    const Index T = 8, F = 2;
    auto train = [&](std::uint64_t seed) {
        latent::Rng rng(seed);
        latent::SequenceAutoencoderOptions o;
        o.steps = T;
        o.features = F;
        o.encoder_units = {6};
        latent::SequenceAutoencoder<float> ae(o, rng);
        latent::Rng data_rng(99);
        const latent::Matrix<float> x = sine_batch<float>(T, F, 64, data_rng);
        latent::Adam<float> adam(1e-2);
        latent::FitOptions<float> fo;
        fo.epochs = 3;
        fo.batch_size = 16;
        fo.seed = seed;
        fo.clip_norm = 1.0;
        fo.progress = false;
        latent::fit(ae, adam, x, fo);
        const latent::Matrix<float> r1 = ae.reconstruct(x);
        ae.reconstruct(sine_batch<float>(T, F, 7, data_rng));  // another batch size in between
        const latent::Matrix<float> r2 = ae.reconstruct(x);
        CHECK(r1 == r2);
        return latent::Vector<float>(ae.params().values());
    };
    const auto a = train(4), b = train(4), c = train(5);
    CHECK(a == b);
    CHECK(a != c);

    latent::Rng rng(1);
    latent::Seq2SeqOptions o;
    o.source_steps = 3;
    o.source_features = 6;
    o.target_steps = 2;
    o.target_vocab = 6;
    o.units = 5;
    latent::Seq2Seq<float> s2s(o, rng);
    const latent::Matrix<float> src = latent::one_hot<float>(random_tokens(3, 10, 1, 5, rng), 6);
    const latent::TokenMatrix d1 = s2s.greedy_decode(src);
    s2s.greedy_decode(latent::one_hot<float>(random_tokens(3, 4, 1, 5, rng), 6));
    CHECK(d1 == s2s.greedy_decode(src));
    CHECK(d1 == s2s.greedy_decode(src, nullptr, 3));  // batching does not change the result
}

TEST_CASE("sequence models save and load", "[sequence][io]") {
    latent::Rng rng(2);
    latent::SequenceAutoencoderOptions o;
    o.steps = 5;
    o.features = 3;
    o.encoder_units = {6, 4};
    o.cell = latent::CellType::gru;
    latent::SequenceAutoencoder<double> ae(o, rng);
    Mat x(15, 4);
    rng.fill_normal(x);
    const std::string path = "test_sequence_models_ae.lat";
    latent::save(ae, path);
    auto back = latent::load_sequence_autoencoder<double>(path);
    CHECK(back.reconstruct(x) == ae.reconstruct(x));
    CHECK(back.options().encoder_units == o.encoder_units);
    auto net = latent::load_network<double>(path);  // the flat layer stack
    CHECK((net.predict(x) - ae.reconstruct(x)).norm() < 1e-12);
    CHECK_THROWS_AS(latent::load_seq2seq<double>(path), latent::FormatError);
    std::remove(path.c_str());

    latent::Seq2SeqOptions so;
    so.source_steps = 4;
    so.source_features = 7;
    so.target_steps = 3;
    so.target_vocab = 7;
    so.units = 5;
    latent::Seq2Seq<double> s2s(so, rng);
    const Mat src = latent::one_hot<double>(random_tokens(4, 6, 1, 6, rng), 7);
    const std::string p2 = "test_sequence_models_s2s.lat";
    latent::save(s2s, p2);
    auto s2 = latent::load_seq2seq<double>(p2);
    CHECK(s2.params().values() == s2s.params().values());
    CHECK(s2.greedy_decode(src) == s2s.greedy_decode(src));
    std::remove(p2.c_str());
}

TEST_CASE("an LSTM sequence autoencoder learns sine waves in seconds", "[sequence][e2e]") {
    const auto t0 = std::chrono::steady_clock::now();
    const Index T = 12, F = 2;
    latent::Rng rng(7);
    const latent::Matrix<float> x = sine_batch<float>(T, F, 256, rng);
    latent::SequenceAutoencoderOptions o;
    o.steps = T;
    o.features = F;
    o.encoder_units = {20};
    latent::SequenceAutoencoder<float> ae(o, rng);
    const double start = static_cast<double>(ae.eval_batch(x, x, nullptr));
    latent::Adam<float> adam(1e-2);
    latent::FitOptions<float> fo;
    fo.epochs = 30;
    fo.batch_size = 32;
    fo.clip_norm = 1.0;
    fo.progress = false;
    const auto h = latent::fit(ae, adam, x, fo);
    const double end = static_cast<double>(ae.eval_batch(x, x, nullptr));
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    INFO("loss " << start << " -> " << end << " (last epoch " << h.final_loss() << ") in " << secs << " s");
    CHECK(end < 0.1 * start);
}
