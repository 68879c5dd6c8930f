// latent: header-only autoencoders on Eigen. The umbrella header.
#pragma once

#include "latent/version.hpp"

#include "latent/core/config.hpp"
#include "latent/core/cpu.hpp"
#include "latent/core/error.hpp"
#include "latent/core/gemm.hpp"
#include "latent/core/init.hpp"
#include "latent/core/params.hpp"
#include "latent/core/rng.hpp"
#include "latent/core/tensor.hpp"
#include "latent/core/threads.hpp"
// A BLAS as a candidate GEMM engine: defined by the latent::blas CMake
// target (or by hand, linking OpenBLAS or BLIS); see core/blas.hpp.
#ifdef LATENT_HAS_CBLAS
#include "latent/core/blas.hpp"
#endif

#include "latent/layers/activation.hpp"
#include "latent/layers/batch_norm.hpp"
#include "latent/layers/conv2d.hpp"
#include "latent/layers/conv_transpose2d.hpp"
#include "latent/layers/dense.hpp"
#include "latent/layers/dropout.hpp"
#include "latent/layers/gaussian_sampler.hpp"
#include "latent/layers/im2col.hpp"
#include "latent/layers/layer.hpp"
#include "latent/layers/gru.hpp"
#include "latent/layers/lstm.hpp"
#include "latent/layers/pool2d.hpp"
#include "latent/layers/recurrent.hpp"
#include "latent/layers/reshape.hpp"
#include "latent/layers/sequence_layer.hpp"
#include "latent/layers/sequence_layers.hpp"
#include "latent/layers/tied_dense.hpp"
#include "latent/layers/upsample2d.hpp"

#include "latent/losses/kl.hpp"
#include "latent/losses/likelihood.hpp"
#include "latent/losses/loss.hpp"
#include "latent/losses/regularizers.hpp"
#include "latent/losses/sequence_losses.hpp"

#include "latent/optim/adam.hpp"
#include "latent/optim/optimizer.hpp"
#include "latent/optim/rmsprop.hpp"
#include "latent/optim/schedule.hpp"
#include "latent/optim/sgd.hpp"

#include "latent/models/autoencoder.hpp"
#include "latent/models/dense_autoencoder.hpp"
#include "latent/models/network.hpp"
#include "latent/models/sequence.hpp"
#include "latent/models/sequential.hpp"
#include "latent/models/summary.hpp"
#include "latent/models/variational.hpp"

#include "latent/train/callbacks.hpp"
#include "latent/train/history.hpp"
#include "latent/train/progress.hpp"
#include "latent/train/trainable.hpp"
#include "latent/train/trainer.hpp"

#include "latent/data/batches.hpp"
#include "latent/data/color.hpp"
#include "latent/data/corruption.hpp"
#include "latent/data/csv.hpp"
#include "latent/data/file_source.hpp"  // memory-mapped IDX/.npy and chunked CSV for fit (mmap: POSIX)
#include "latent/data/idx.hpp"  // .gz support only when LATENT_HAS_ZLIB; compiles without zlib
#include "latent/data/image_set.hpp"
#include "latent/data/scaling.hpp"
#include "latent/data/source.hpp"
#include "latent/data/synthetic.hpp"

#include "latent/io/binary.hpp"
#include "latent/io/json.hpp"
#include "latent/io/layer_factory.hpp"
#include "latent/io/model_file.hpp"
#include "latent/io/npy.hpp"
#include "latent/io/safetensors.hpp"
#include "latent/io/sequence_file.hpp"

#include "latent/metrics/image_metrics.hpp"
#include "latent/metrics/ranking.hpp"

#include "latent/apps/anomaly.hpp"
#include "latent/apps/autorec.hpp"
#include "latent/apps/classifier.hpp"
#include "latent/apps/compression.hpp"
#include "latent/apps/imputer.hpp"
#include "latent/apps/latent_index.hpp"
#include "latent/apps/pca.hpp"

#include "latent/serve/predictor.hpp"
