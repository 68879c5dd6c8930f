// Weight penalties: they act on the flat parameter buffer (weights only,
// never biases), per example, so they weigh the same against a
// mean-reduced loss whatever the batch size. The penalties that live in a
// layer (ActivityL1, KLSparsity, ContractiveDense) are in layers/.
#pragma once

#include "latent/core/abi.hpp"

#include <cmath>

#include "latent/core/params.hpp"

LATENT_NAMESPACE_BEGIN

// l1 * sum|w| + l2 * sum w^2 over decayed parameters (Keras' l1_l2).
template <class S>
struct WeightPenalty {
    double l1 = 0.0;
    double l2 = 0.0;

    bool active() const { return l1 != 0.0 || l2 != 0.0; }

    // Returns the penalty; with add_grad, adds its gradient to the buffer's grads.
    S apply(ParamBuffer<S>& params, bool add_grad) const {
        if (!active()) return S(0);
        const auto w = params.values().array();
        const auto m = params.decay_mask().array();
        const S a = static_cast<S>(l1), b = static_cast<S>(l2);
        const S value = a * (w.abs() * m).sum() + b * (w.square() * m).sum();
        if (add_grad) params.grads().array() += (a * w.sign() + S(2) * b * w) * m;
        return value;
    }
};

LATENT_NAMESPACE_END
