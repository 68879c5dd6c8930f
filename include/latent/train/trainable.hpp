// What the trainer trains: anything with a flat parameter buffer that can
// run one batch forward and backward. Autoencoder, VariationalAutoencoder and
// the sequence models implement it; so can a user's own model.
#pragma once

#include "latent/core/abi.hpp"

#include <string>
#include <utility>
#include <vector>

#include "latent/core/params.hpp"

LATENT_NAMESPACE_BEGIN

template <class S>
class Trainable {
public:
    using Mat = Matrix<S>;
    virtual ~Trainable() = default;

    virtual ParamBuffer<S>& params() = 0;

    // Train mode forward and backward on one batch (x: inputs, y: targets,
    // mask: optional, 1 = observed). Gradients accumulate into params().grads()
    // (the trainer zeroes them once a step). Returns the loss.
    virtual S train_batch(const Mat& x, const Mat& y, const Mat* mask) = 0;

    // Infer mode loss on one batch, no gradients.
    virtual S eval_batch(const Mat& x, const Mat& y, const Mat* mask) = 0;

    // Rows a batch of inputs and of targets must have.
    virtual Index input_size() const = 0;
    virtual Index target_size() const = 0;

    // Named parts of the last batch's loss (e.g. "recon", "kl"), reported
    // per epoch beside the loss.
    virtual std::vector<std::pair<std::string, double>> loss_parts() const { return {}; }

    // Called by fit before the first step with the number of steps an epoch
    // takes, so settings given in epochs (the VAE's KL warm-up) become steps.
    virtual void on_fit_start(Index steps_per_epoch) { (void)steps_per_epoch; }
};

LATENT_NAMESPACE_END
