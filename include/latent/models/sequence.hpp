// Sequence models, both Trainable (so fit(), optimizers, clip_norm,
// callbacks and the progress bar apply unchanged):
//
//   SequenceAutoencoder  encoder RNN(s) -> code (last state) -> RepeatVector(T)
//                        -> decoder RNN(s) -> TimeDistributed(Dense(F)), per-step MSE
//   Seq2Seq              encoder RNN -> final state (h, c) -> decoder RNN started
//                        from it -> TimeDistributed(Dense(V)) -> per-step softmax
//                        cross-entropy; teacher forcing in training, greedy
//                        decoding at inference
//
// Data for fit(): sequences flattened time-major, one sample per column,
// (T*F) x N with rows t*F .. t*F+F-1 = step t (flatten_sequence /
// unflatten_sequence). A fit() mask is shaped like the targets; a step whose
// mask entries are all 0 is padding (mask_from_lengths + expand_step_mask
// build one), and a step must be all-0 or all-1. Inside, the models work on
// the packed layout (sequence_layer.hpp) and pass the step mask to every
// recurrent layer, so padded steps carry the state and give no gradient.
//
// Parameters live in one flat ParamBuffer per model (the layers' ParamSlots),
// named PyTorch-style: "encoder.0.weight_ih", "decoder.0.bias_hh", "output.layer.weight".
#pragma once

#include "latent/core/abi.hpp"

#include "latent/models/seq2seq.hpp"
#include "latent/models/sequence_autoencoder.hpp"
