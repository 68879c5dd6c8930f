// Helpers for the sequence-model tests (test_sequence_autoencoder, test_seq2seq).
#pragma once

#include <cstdint>

#include "catch.hpp"

#include <latent/latent.hpp>
#include <latent/models/sequence.hpp>
#include <latent/testing/gradient_check.hpp>

namespace sequence_test {

using latent::Index;
using Mat = latent::Matrix<double>;
using Vec = latent::Vector<double>;

// Analytic gradients of train_batch against finite differences of eval_batch.
inline latent::testing::GradientReport check_trainable(latent::Trainable<double>& model, const Mat& x, const Mat& y, const Mat* mask) {
    auto& params = model.params();
    params.zero_grad();
    model.train_batch(x, y, mask);
    const Vec g = params.grads();
    const Vec p0 = params.values();
    return latent::testing::check_gradient(
        [&](const Vec& v) {
            params.values() = v;
            const double l = model.eval_batch(x, y, mask);
            params.values() = p0;
            return l;
        },
        p0, g);
}

inline latent::TokenMatrix random_tokens(Index T, Index N, Index lo, Index hi, latent::Rng& rng) {
    latent::TokenMatrix t(T, N);
    for (Index n = 0; n < N; ++n)
        for (Index s = 0; s < T; ++s) t(s, n) = lo + static_cast<Index>(rng.below(static_cast<std::uint64_t>(hi - lo + 1)));
    return t;
}

}  // namespace sequence_test
