// Token sequences: indices (steps x batch) and their one-hot form,
// flattened time-major for fit() ((T*V) x N).
#pragma once

#include "latent/core/abi.hpp"

#include <string>

#include "latent/core/error.hpp"
#include "latent/core/tensor.hpp"

LATENT_NAMESPACE_BEGIN

// Token indices, steps x batch.
using TokenMatrix = Eigen::Matrix<Index, Eigen::Dynamic, Eigen::Dynamic>;

// Tokens (T x N) -> one-hot sequences flattened for fit(), (T*V) x N.
template <class S>
Matrix<S> one_hot(const TokenMatrix& tokens, Index vocab) {
    Matrix<S> out = Matrix<S>::Zero(tokens.rows() * vocab, tokens.cols());
    for (Index n = 0; n < tokens.cols(); ++n)
        for (Index t = 0; t < tokens.rows(); ++t) {
            const Index k = tokens(t, n);
            if (k < 0 || k >= vocab)
                throw DataError("one_hot: expected tokens in [0, " + std::to_string(vocab) + "), found " + std::to_string(k) +
                                " at step " + std::to_string(t) + ", sample " + std::to_string(n));
            out(t * vocab + k, n) = S(1);
        }
    return out;
}

LATENT_NAMESPACE_END
