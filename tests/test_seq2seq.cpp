// Seq2Seq (models/seq2seq.hpp): gradients through the encoder's final state
// (teacher forcing), and learning to reverse short token sequences end to end.
#include "catch.hpp"
#include "sequence_support.hpp"

#include <latent/latent.hpp>
#include <latent/models/sequence.hpp>
#include <latent/testing/gradient_check.hpp>

using latent::Index;
using Mat = latent::Matrix<double>;
using sequence_test::check_trainable;
using sequence_test::random_tokens;

TEST_CASE("Seq2Seq gradients through the encoder's final state (teacher forcing)", "[sequence][gradcheck]") {
    const Index Ts = 4, V = 5, Tt = 3, N = 3;
    const Mat tmask = latent::expand_step_mask(latent::mask_from_lengths<double>({3, 1, 2}, Tt), V);
    for (auto cell : {latent::CellType::lstm, latent::CellType::gru})
        for (bool masked : {false, true}) {
            latent::Rng rng(5);
            latent::Seq2SeqOptions o;
            o.source_steps = Ts;
            o.source_features = V;
            o.target_steps = Tt;
            o.target_vocab = V;
            o.units = 4;
            o.cell = cell;
            latent::Seq2Seq<double> model(o, rng);
            const Mat x = latent::one_hot<double>(random_tokens(Ts, N, 1, V - 1, rng), V);
            const Mat y = latent::one_hot<double>(random_tokens(Tt, N, 1, V - 1, rng), V);
            const auto rep = check_trainable(model, x, y, masked ? &tmask : nullptr);
            INFO(latent::cell_type_name(cell) << (masked ? " masked: " : ": ") << rep.str());
            CHECK(rep.ok(1e-6));
            // the encoder gets a gradient only through the decoder's initial state
            double enc = 0;
            for (const auto& p : model.parameters())
                if (p.name.rfind("encoder.", 0) == 0) enc += p.grad.norm();
            CHECK(enc > 0);
        }
}

TEST_CASE("Seq2Seq learns to reverse short token sequences (teacher forcing, greedy decoding)", "[sequence][e2e]") {
    // source: 4 tokens in 1..6; target: the first 3 reversed; start token 0
    const Index Ts = 4, Tt = 3, V = 7, N = 512;
    latent::Rng rng(11);
    auto make = [&](Index n, latent::Matrix<float>& x, latent::Matrix<float>& y, latent::TokenMatrix& tgt) {
        const latent::TokenMatrix src = random_tokens(Ts, n, 1, V - 1, rng);
        tgt.resize(Tt, n);
        for (Index j = 0; j < n; ++j)
            for (Index t = 0; t < Tt; ++t) tgt(t, j) = src(Tt - 1 - t, j);
        x = latent::one_hot<float>(src, V);
        y = latent::one_hot<float>(tgt, V);
    };
    latent::Matrix<float> x, y, xt, yt;
    latent::TokenMatrix tgt, tgt_test;
    make(N, x, y, tgt);
    make(200, xt, yt, tgt_test);
    latent::Seq2SeqOptions o;
    o.source_steps = Ts;
    o.source_features = V;
    o.target_steps = Tt;
    o.target_vocab = V;
    o.units = 24;
    latent::Seq2Seq<float> model(o, rng);
    latent::Adam<float> adam(2e-2);
    latent::FitOptions<float> fo;
    fo.epochs = 25;
    fo.batch_size = 32;
    fo.clip_norm = 1.0;
    fo.progress = false;
    latent::fit(model, adam, x, y, fo);
    const latent::TokenMatrix pred = model.greedy_decode(xt);
    Index exact = 0;
    for (Index j = 0; j < pred.cols(); ++j) exact += pred.col(j) == tgt_test.col(j);
    const double acc = static_cast<double>(exact) / static_cast<double>(pred.cols());
    INFO("held-out exact-match accuracy " << acc);
    CHECK(acc > 0.9);
}
