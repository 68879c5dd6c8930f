// VariationalAutoencoder (Kingma & Welling 2014): an encoder q(z|x), the
// reparameterization z = mu + exp(logvar/2) * eps, and a decoder p(x|z).
//
// Encoder: any layer (usually a Sequential, dense or convolutional) whose
// output has 2C channels (a flat 2L vector for a dense encoder): the first
// half is mu, the second half the log-VARIANCE logvar. A single Dense(2L)
// head is the concatenation of PyTorch's two heads fc21 (mu) / fc22 (logvar).
// Decoder: any layer mapping z (C x H x W, or L) to the decoder output the
// likelihood expects: logits (bernoulli), means (gaussian) or [means;
// log-variances] (gaussian_learned); see losses/likelihood.hpp.
//
// Loss (stated, tested): nats PER EXAMPLE — sums over pixels and latent
// dimensions, mean over the batch:
//   train_batch:  recon + beta_t * KL_obj (+ activity penalties of the layers)
//                 recon  = (1/B) sum_n -log p(y_n | z_n),  z_n one draw from q(z|x_n)
//                 KL     = (1/B) sum_n KL(q(z|x_n) || N(0,I))  (analytic, losses/kl.hpp)
//                 KL_obj = KL, or with free bits lambda > 0: sum_j max(lambda, KL_j)
//                 beta_t = beta * min(1, t / warmup)   (t = training steps taken
//                          before this one; warmup = 0: beta_t = beta)
//   eval_batch:   the negative ELBO, recon + KL (beta = 1, no free bits),
//                 one draw per example from a generator kept for evaluation,
//                 so validation never changes the training noise.
//   loss_parts(): "recon" and "kl" (the true analytic KL) of the last train batch.
//
// All randomness comes from the Network's Rng (training draws) and an
// evaluation Rng split from the build generator; same seed, same results.
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "latent/core/math.hpp"
#include "latent/layers/activation.hpp"
#include "latent/layers/dense.hpp"
#include "latent/layers/gaussian_sampler.hpp"
#include "latent/losses/kl.hpp"
#include "latent/losses/likelihood.hpp"
#include "latent/models/network.hpp"
#include "latent/models/sequential.hpp"
#include "latent/train/trainable.hpp"

LATENT_NAMESPACE_BEGIN

// Posterior parameters for a set of inputs (latent x N each).
template <class S>
struct Posterior {
    Matrix<S> mu;
    Matrix<S> logvar;
};

// Means over the examples, in nats per example.
struct ElboEstimate {
    double recon = 0;  // -E_q[log p(x|z)], one draw per example
    double kl = 0;     // KL(q(z|x) || p(z)), analytic
    double neg_elbo() const { return recon + kl; }
};

namespace detail {

// Inverse of the standard normal CDF, Phi^-1(p) for p in (0, 1), by
// bisection on Phi(x) = erfc(-x / sqrt 2) / 2 (to double precision).
inline double normal_quantile(double p) {
    if (!(p > 0 && p < 1)) throw ConfigError("normal_quantile: expected p in (0, 1), found " + std::to_string(p));
    double lo = -40, hi = 40;
    for (int i = 0; i < 200 && hi - lo > 1e-15 * std::max(1.0, std::abs(lo)); ++i) {
        const double mid = 0.5 * (lo + hi);
        if (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

}  // namespace detail

template <class S>
class VariationalAutoencoder : public Trainable<S> {
public:
    using Mat = Matrix<S>;

    VariationalAutoencoder(LayerPtr<S> encoder, LayerPtr<S> decoder, Likelihood likelihood = Likelihood::bernoulli())
        : likelihood_(likelihood) {
        if (!encoder || !decoder) throw ConfigError("VariationalAutoencoder: expected an encoder and a decoder, found nullptr");
        encoder_ = encoder.get();
        decoder_ = decoder.get();
        auto sampler = std::make_unique<GaussianSampler<S>>();
        sampler_ = sampler.get();
        auto root = std::make_unique<Sequential<S>>();
        root->add(std::move(encoder), "encoder").add(std::move(sampler), "sampler").add(std::move(decoder), "decoder");
        net_ = Network<S>(std::move(root));
    }

    // Build for `input`, initialize the parameters from `rng`, and split the
    // training and evaluation generators from it.
    void build(Shape input, Rng& rng) {
        try {
            net_.build(input, rng);
        } catch (const ShapeError& e) {
            throw ShapeError(std::string("VariationalAutoencoder: ") + e.what() +
                             " (the encoder must output [mu; logvar], an even number of channels)");
        }
        const Index k = likelihood_.outputs_per_feature();
        if (decoder_->output_shape().size() % k != 0)
            throw ShapeError("VariationalAutoencoder: the " + likelihood_.name() + " likelihood expects " + std::to_string(k) +
                             " decoder outputs per feature, found " + std::to_string(decoder_->output_shape().size()) +
                             " outputs");
        eval_rng_ = rng.split();
    }
    bool built() const { return net_.built(); }

    Shape input_shape() const { return net_.input_shape(); }
    Shape latent_shape() const { return sampler_->output_shape(); }
    Index latent_size() const { return latent_shape().size(); }
    Shape output_shape() const { return decoder_->output_shape(); }
    const Likelihood& likelihood() const { return likelihood_; }

    // beta-VAE weight on the KL term (1: the ELBO).
    void set_beta(double beta) {
        if (!(beta >= 0) || !std::isfinite(beta)) throw ConfigError("VariationalAutoencoder: expected beta >= 0, found " + std::to_string(beta));
        beta_ = beta;
    }
    double beta() const { return beta_; }
    // KL warm-up: beta ramps linearly from 0 to beta over `steps` training
    // steps; 0 turns it off.
    void set_kl_warmup(long steps) {
        if (steps < 0) throw ConfigError("VariationalAutoencoder: expected warm-up steps >= 0, found " + std::to_string(steps));
        warmup_ = steps;
        warmup_epochs_ = 0.0;
    }
    // The same in epochs: each fit sets the steps from it when it starts
    // (epochs * steps per epoch, rounded); kl_warmup() then tells them.
    // set_kl_warmup(steps) replaces it.
    void set_kl_warmup_epochs(double epochs) {
        if (!(epochs >= 0) || !std::isfinite(epochs))
            throw ConfigError("VariationalAutoencoder: expected warm-up epochs >= 0, found " + std::to_string(epochs));
        warmup_epochs_ = epochs;
    }
    long kl_warmup() const { return warmup_; }
    double kl_warmup_epochs() const { return warmup_epochs_; }
    void on_fit_start(Index steps_per_epoch) override {
        if (warmup_epochs_ > 0.0) warmup_ = std::lround(warmup_epochs_ * static_cast<double>(steps_per_epoch));
    }
    // Free bits: per-dimension floor lambda (nats) on the batch-mean KL; 0 turns it off.
    void set_free_bits(double lambda) {
        if (!(lambda >= 0) || !std::isfinite(lambda))
            throw ConfigError("VariationalAutoencoder: expected free bits lambda >= 0, found " + std::to_string(lambda));
        free_bits_ = lambda;
    }
    double free_bits() const { return free_bits_; }
    // Training steps taken (drives the warm-up); settable to resume.
    long train_steps() const { return steps_; }
    void set_train_steps(long t) { steps_ = std::max(0L, t); }
    // The KL weight the next training step uses.
    double current_beta() const {
        if (warmup_ <= 0) return beta_;
        return beta_ * std::min(1.0, static_cast<double>(steps_) / static_cast<double>(warmup_));
    }

    // ---------------------------------------------------------------- Trainable
    ParamBuffer<S>& params() override { return net_.params(); }
    Index input_size() const override { return input_shape().size(); }
    Index target_size() const override { return output_shape().size() / likelihood_.outputs_per_feature(); }

    S train_batch(const Mat& x, const Mat& y, const Mat* mask) override {
        check_batch(x, y, "train_batch");
        const Index l = latent_size();
        const S inv_b = S(1) / static_cast<S>(x.cols());
        const Mat& h = encoder_->forward(x, Mode::train);
        const Mat& z = sampler_->forward(h, Mode::train);
        const Mat& out = decoder_->forward(z, Mode::train);
        const S recon = likelihood_.evaluate(out, y, &dout_, inv_b, mask, nullptr, scratch_) * inv_b;

        const S beta_t = static_cast<S>(current_beta());
        const auto mu = h.topRows(l);
        const auto logvar = h.bottomRows(l);
        S kl, kl_obj;
        if (free_bits_ > 0) {
            kl = gaussian_kl(mu, logvar);
            kl_obj = free_bits_kl(mu, logvar, free_bits_, &dmu_, &dlogvar_, beta_t);
        } else {
            kl = kl_obj = gaussian_kl(mu, logvar, &dmu_, &dlogvar_, beta_t);
        }
        const S penalty = net_.penalty();

        // dh = [dz + beta dKL/dmu ; dz eps sigma / 2 + beta dKL/dlogvar]
        const Mat& dz = decoder_->backward(dout_);
        dh_ = sampler_->backward(dz);
        dh_.topRows(l) += dmu_;
        dh_.bottomRows(l) += dlogvar_;
        encoder_->backward(dh_);

        ++steps_;
        last_recon_ = static_cast<double>(recon);
        last_kl_ = static_cast<double>(kl);
        return recon + beta_t * kl_obj + penalty;
    }

    // One-draw estimate of the negative ELBO (beta = 1, no free bits).
    S eval_batch(const Mat& x, const Mat& y, const Mat* mask) override {
        check_batch(x, y, "eval_batch");
        const Index l = latent_size();
        const Mat& h = encoder_->forward(x, Mode::infer);
        eps_.resize(l, x.cols());
        eval_rng_.fill_normal(eps_);
        const Mat& out = decoder_->forward(sampler_->sample(h, eps_), Mode::infer);
        const S inv_b = S(1) / static_cast<S>(x.cols());
        return likelihood_.evaluate(out, y, nullptr, S(1), mask, nullptr, scratch_) * inv_b +
               gaussian_kl(h.topRows(l), h.bottomRows(l));
    }

    std::vector<std::pair<std::string, double>> loss_parts() const override {
        return {{"recon", last_recon_}, {"kl", last_kl_}};
    }

    // ---------------------------------------------------------------- inference
    // Posterior parameters (infer mode), `batch_size` columns at a time.
    // Network::for_chunks: batch_size <= 0 throws ConfigError; no columns give empty results.
    Posterior<S> encode(const Mat& x, Index batch_size = 256) {
        const Index l = latent_size();
        Posterior<S> p{Mat(l, x.cols()), Mat(l, x.cols())};
        net_.for_chunks(x, input_size(), batch_size, "VariationalAutoencoder::encode", [&](const Mat& chunk, Index start) {
            const Mat& h = encoder_->forward(chunk, Mode::infer);
            p.mu.middleCols(start, chunk.cols()) = h.topRows(l);
            p.logvar.middleCols(start, chunk.cols()) = h.bottomRows(l);
        });
        return p;
    }
    // Posterior means, latent x N (the codes to plot or to use as features).
    Mat encode_mean(const Mat& x, Index batch_size = 256) { return encode(x, batch_size).mu; }

    // Raw decoder outputs (logits / means / [means; log-variances]) for codes z.
    Mat decode_output(const Mat& z, Index batch_size = 256) {
        Mat out(output_shape().size(), z.cols());
        net_.run_into(*decoder_, z, latent_size(), out, batch_size, "VariationalAutoencoder::decode");
        return out;
    }
    // E[x | z]: pixel probabilities (bernoulli) or means (gaussian), features x N.
    Mat decode(const Mat& z, Index batch_size = 256) { return likelihood_.mean(decode_output(z, batch_size)); }

    // decode(posterior mean of x).
    Mat reconstruct(const Mat& x, Index batch_size = 256) {
        Mat out(target_size(), x.cols());
        reconstruct_into(x, out, batch_size);
        return out;
    }

    // Into a caller's buffer, allocating nothing once the layers have seen
    // this batch size: posterior means (latent x N), E[x | z] (features x N)
    // for codes z, and reconstructions (features x N).
    void encode_mean_into(const Mat& x, Eigen::Ref<Mat> out, Index batch_size = 256) {
        check_out(out, latent_size(), x.cols(), "encode");
        net_.for_chunks(x, input_size(), batch_size, "VariationalAutoencoder::encode", [&](const Mat& chunk, Index start) {
            out.middleCols(start, chunk.cols()) = encoder_->forward(chunk, Mode::infer).topRows(latent_size());
        });
    }
    void decode_into(const Mat& z, Eigen::Ref<Mat> out, Index batch_size = 256) {
        check_out(out, target_size(), z.cols(), "decode");
        net_.for_chunks(z, latent_size(), batch_size, "VariationalAutoencoder::decode", [&](const Mat& chunk, Index start) {
            likelihood_.mean_into(decoder_->forward(chunk, Mode::infer), out.middleCols(start, chunk.cols()));
        });
    }
    void reconstruct_into(const Mat& x, Eigen::Ref<Mat> out, Index batch_size = 256) {
        check_out(out, target_size(), x.cols(), "reconstruct");
        net_.for_chunks(x, input_size(), batch_size, "VariationalAutoencoder::reconstruct", [&](const Mat& chunk, Index start) {
            mu_ = encoder_->forward(chunk, Mode::infer).topRows(latent_size());
            likelihood_.mean_into(decoder_->forward(mu_, Mode::infer), out.middleCols(start, chunk.cols()));
        });
    }

    // n samples from the model: z ~ N(0, I), returns E[x | z], features x n.
    Mat sample(Index n, Rng& rng) {
        if (n <= 0) throw ConfigError("VariationalAutoencoder::sample: expected n > 0, found " + std::to_string(n));
        Mat z(latent_size(), n);
        rng.fill_normal(z);
        return decode(z);
    }

    // Decodes `steps` points on the straight line between the posterior
    // means of xa and xb (one column each): t = 0, 1/(steps-1), ..., 1.
    Mat interpolate(const Mat& xa, const Mat& xb, Index steps) {
        if (xa.cols() != 1 || xb.cols() != 1)
            throw ShapeError("VariationalAutoencoder::interpolate: expected one input column each, found " + detail::shape_of(xa) +
                             " and " + detail::shape_of(xb));
        if (steps < 2) throw ConfigError("VariationalAutoencoder::interpolate: expected steps >= 2, found " + std::to_string(steps));
        Mat pair(xa.rows(), 2);
        pair.col(0) = xa;
        pair.col(1) = xb;
        const Mat mu = encode_mean(pair);
        Mat z(latent_size(), steps);
        for (Index s = 0; s < steps; ++s) {
            const S t = static_cast<S>(static_cast<double>(s) / static_cast<double>(steps - 1));
            z.col(s) = (S(1) - t) * mu.col(0) + t * mu.col(1);
        }
        return decode(z);
    }

    // The learned manifold: decodes an n x n grid of codes at Gaussian
    // quantiles. With q_i = (i + 0.5) / n, column r*n + c decodes the code
    // with z[dim_x] = Phi^-1(q_c), z[dim_y] = Phi^-1(q_{n-1-r}) and every other
    // dimension 0 (the prior mean): drawn row by row, dim_x grows to the
    // right and dim_y upwards. Returns features x n^2.
    Mat latent_grid(Index n, Index dim_x = 0, Index dim_y = 1) {
        const Index l = latent_size();
        if (n < 1) throw ConfigError("VariationalAutoencoder::latent_grid: expected n >= 1, found " + std::to_string(n));
        if (dim_x < 0 || dim_y < 0 || dim_x >= l || dim_y >= l || dim_x == dim_y)
            throw ConfigError("VariationalAutoencoder::latent_grid: expected two different dimensions below " + std::to_string(l) +
                              ", found " + std::to_string(dim_x) + " and " + std::to_string(dim_y));
        Mat z = Mat::Zero(l, n * n);
        for (Index r = 0; r < n; ++r)
            for (Index c = 0; c < n; ++c) {
                z(dim_x, r * n + c) = static_cast<S>(detail::normal_quantile((static_cast<double>(c) + 0.5) / static_cast<double>(n)));
                z(dim_y, r * n + c) =
                    static_cast<S>(detail::normal_quantile((static_cast<double>(n - 1 - r) + 0.5) / static_cast<double>(n)));
            }
        return decode(z);
    }

    // ---------------------------------------------------------------- evaluation
    // Negative ELBO of x (targets = x) with one draw per example from rng:
    // means over the examples of the reconstruction term and the analytic KL.
    ElboEstimate evaluate(const Mat& x, Rng& rng, Index batch_size = 256) {
        check_rows(x, input_size(), "evaluate");
        const Index l = latent_size();
        ElboEstimate e;
        net_.for_chunks(x, input_size(), batch_size, "VariationalAutoencoder::evaluate", [&](const Mat& chunk, Index) {
            const Mat& h = encoder_->forward(chunk, Mode::infer);
            eps_.resize(l, chunk.cols());
            rng.fill_normal(eps_);
            const Mat& out = decoder_->forward(sampler_->sample(h, eps_), Mode::infer);
            e.recon += static_cast<double>(likelihood_.evaluate(out, chunk, nullptr, S(1), nullptr, nullptr, scratch_));
            e.kl += static_cast<double>(gaussian_kl(h.topRows(l), h.bottomRows(l))) * static_cast<double>(chunk.cols());
        });
        e.recon /= static_cast<double>(x.cols());
        e.kl /= static_cast<double>(x.cols());
        return e;
    }

    // Importance-weighted estimate (Burda et al. 2016) of -log p(x) for each
    // example, with k draws z_i ~ q(z|x):
    //   log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x)
    //           = log p(x|z_i) - 0.5 |z_i|^2 + 0.5 |eps_i|^2 + 0.5 sum logvar   (log 2 pi cancels)
    //   -log p(x) ~ -(logsumexp_i log w_i - log k)
    // computed in double with the max subtracted before exp. It is an upper
    // bound on -log p(x) in expectation, decreasing in k; k = 1 is the
    // one-draw negative ELBO with a Monte-Carlo KL. The draws for k = 1 are
    // exactly those evaluate() makes with the same rng and batch size.
    Vector<double> iwae_per_sample(const Mat& x, int k, Rng& rng, Index batch_size = 256) {
        check_rows(x, input_size(), "iwae");
        if (k < 1) throw ConfigError("VariationalAutoencoder::iwae: expected k >= 1, found " + std::to_string(k));
        const Index l = latent_size();
        Vector<double> result(x.cols());
        Matrix<double> lw;
        Vector<S> nll;
        net_.for_chunks(x, input_size(), batch_size, "VariationalAutoencoder::iwae", [&](const Mat& chunk, Index start) {
            const Index n = chunk.cols();
            const Mat& h = encoder_->forward(chunk, Mode::infer);
            const Vector<double> half_logvar_sum = (S(0.5) * h.bottomRows(l).colwise().sum()).transpose().template cast<double>();
            lw.resize(k, n);
            for (int i = 0; i < k; ++i) {
                eps_.resize(l, n);
                rng.fill_normal(eps_);
                const Mat& z = sampler_->sample(h, eps_);
                const Mat& out = decoder_->forward(z, Mode::infer);
                likelihood_.evaluate(out, chunk, nullptr, S(1), nullptr, &nll, scratch_);
                for (Index j = 0; j < n; ++j)
                    lw(i, j) = -static_cast<double>(nll(j)) - 0.5 * static_cast<double>(z.col(j).squaredNorm()) +
                               0.5 * static_cast<double>(eps_.col(j).squaredNorm()) + half_logvar_sum(j);
            }
            for (Index j = 0; j < n; ++j) {
                result(start + j) = -(detail::log_sum_exp(lw.col(j)) - std::log(static_cast<double>(k)));
            }
        });
        return result;
    }
    // Mean over the examples of iwae_per_sample (nats per example).
    double iwae(const Mat& x, int k, Rng& rng, Index batch_size = 256) { return iwae_per_sample(x, k, rng, batch_size).mean(); }

    // Batch-mean KL of each latent dimension over x (length latent): which
    // dimensions carry information, and how much.
    Vector<double> kl_per_dim(const Mat& x, Index batch_size = 256) {
        const Posterior<S> p = encode(x, batch_size);
        return gaussian_kl_per_dim(p.mu, p.logvar).template cast<double>();
    }

    // Activity of each latent unit (Burda et al. 2016): A_u = Cov_x(E_q[z_u | x]),
    // the variance over x of the posterior mean (1/N normalization).
    Vector<double> activity(const Mat& x, Index batch_size = 256) {
        if (x.cols() < 2) throw DataError("VariationalAutoencoder::activity: expected at least 2 examples, found " + std::to_string(x.cols()));
        const Matrix<double> mu = encode_mean(x, batch_size).template cast<double>();
        const Vector<double> mean = mu.rowwise().mean();
        return (mu.colwise() - mean).array().square().rowwise().mean();
    }
    // Units with activity above threshold (0.01, as Burda et al.).
    Index active_units(const Mat& x, double threshold = 0.01, Index batch_size = 256) {
        const Vector<double> a = activity(x, batch_size);
        return static_cast<Index>((a.array() > threshold).count());
    }

    // ---------------------------------------------------------------- access
    // Architecture and settings as written in model files: type
    // "VariationalAutoencoder", attributes likelihood, sigma, beta,
    // kl_warmup, free_bits; children encoder, decoder.
    LayerConfig config() const {
        LayerConfig c("VariationalAutoencoder");
        c.set("likelihood", likelihood_.name()).set("sigma", likelihood_.sigma()).set("beta", beta_);
        c.set("kl_warmup", static_cast<Index>(warmup_)).set("free_bits", free_bits_);
        if (warmup_epochs_ > 0.0) c.set("kl_warmup_epochs", warmup_epochs_);
        c.children.push_back(encoder_->config());
        c.children.push_back(decoder_->config());
        return c;
    }

    Layer<S>& encoder() { return *encoder_; }
    Layer<S>& decoder() { return *decoder_; }
    GaussianSampler<S>& sampler() { return *sampler_; }
    Network<S>& network() { return net_; }
    const Network<S>& network() const { return net_; }
    const ParamBuffer<S>& params() const { return net_.params(); }
    std::vector<ParamView<S>> parameters() const { return net_.parameters(); }
    Rng& eval_rng() { return eval_rng_; }

    // Make this (unbuilt) VAE, of the same architecture as `source`, an
    // inference copy of it (see Autoencoder::build_shared).
    void build_shared(const VariationalAutoencoder& source) { net_.build_shared(source.input_shape(), source.params()); }

private:
    void require_built(const char* what) const {
        if (!built())
            throw Error(std::string("VariationalAutoencoder::") + what +
                        ": expected a built model, found one not yet built (call build(input_shape, rng))");
    }
    void check_rows(const Mat& m, Index rows, const char* what) const {
        require_built(what);
        if (m.rows() != rows)
            throw ShapeError(std::string("VariationalAutoencoder::") + what + ": expected " + std::to_string(rows) +
                             " rows per column, found " + std::to_string(m.rows()));
        if (m.cols() == 0) throw DataError(std::string("VariationalAutoencoder::") + what + ": expected at least one column, found 0");
    }
    void check_out(const Eigen::Ref<Mat>& out, Index rows, Index cols, const char* what) const {
        if (out.rows() != rows || out.cols() != cols)
            throw ShapeError(std::string("VariationalAutoencoder::") + what + ": expected an output buffer " + std::to_string(rows) + "x" +
                             std::to_string(cols) + ", found " + std::to_string(out.rows()) + "x" + std::to_string(out.cols()));
    }
    void check_batch(const Mat& x, const Mat& y, const char* what) const {
        check_rows(x, input_size(), what);
        if (y.rows() != target_size() || y.cols() != x.cols())
            throw ShapeError(std::string("VariationalAutoencoder::") + what + ": expected targets " + std::to_string(target_size()) +
                             "x" + std::to_string(x.cols()) + ", found " + detail::shape_of(y));
    }
    Network<S> net_;
    Layer<S>* encoder_ = nullptr;
    Layer<S>* decoder_ = nullptr;
    GaussianSampler<S>* sampler_ = nullptr;
    Likelihood likelihood_;
    Rng eval_rng_;
    double beta_ = 1.0;
    double warmup_epochs_ = 0.0;  // > 0: warmup_ is set from it when fit starts
    long warmup_ = 0;
    double free_bits_ = 0.0;
    long steps_ = 0;
    double last_recon_ = 0, last_kl_ = 0;
    Mat dout_, scratch_, dmu_, dlogvar_, dh_, eps_, mu_;
};

// A dense VAE, built and initialized from rng, as every make_* returns its
// model (make_dense_autoencoder, ...):
//   encoder: [Dense(h) act]... Dense(2 latent)         -> [mu; logvar]
//   decoder: [Dense(h) act]... (hidden sizes reversed) Dense(k input) -> likelihood parameters
// Every Dense starts from `init`; the default is PyTorch's nn.Linear
// initialization, U(+-1/sqrt(fan_in)) for weights and biases (on the
// 784-400-20 Fashion-MNIST VAE it ends about 1 nat better after 10 epochs
// than He initialization of the ReLU layers).
struct DenseVaeOptions {
    std::vector<Index> sizes;  // {input, hidden..., latent}, e.g. {784, 400, 20}
    Likelihood likelihood = Likelihood::bernoulli();
    Act hidden = Act::relu;
    WeightInit init = WeightInit::pytorch;
    Shape input;  // what the VAE is built for: empty = {sizes[0]}; an image shape of that size keeps the image shape
};

template <class S>
VariationalAutoencoder<S> make_dense_vae(const DenseVaeOptions& o, Rng& rng) {
    const auto& sizes = o.sizes;
    if (sizes.size() < 2)
        throw ConfigError("make_dense_vae: expected at least {input, latent} sizes, found " + std::to_string(sizes.size()));
    for (Index s : sizes)
        if (s <= 0) throw ConfigError("make_dense_vae: expected positive sizes, found " + std::to_string(s));
    const Shape input = o.input.size() == 0 ? Shape{sizes.front()} : o.input;
    if (input.size() != sizes.front())
        throw ShapeError("make_dense_vae: expected an input shape of " + std::to_string(sizes.front()) + " values, found " + input.str());
    auto enc = std::make_unique<Sequential<S>>();
    for (std::size_t i = 1; i + 1 < sizes.size(); ++i) enc->template add<Dense<S>>(sizes[i], true, o.init).template add<Activation<S>>(o.hidden);
    enc->template add<Dense<S>>(2 * sizes.back(), true, o.init);
    auto dec = std::make_unique<Sequential<S>>();
    for (std::size_t i = sizes.size() - 2; i >= 1; --i) dec->template add<Dense<S>>(sizes[i], true, o.init).template add<Activation<S>>(o.hidden);
    dec->template add<Dense<S>>(o.likelihood.outputs_per_feature() * sizes.front(), true, o.init);
    VariationalAutoencoder<S> vae(std::move(enc), std::move(dec), o.likelihood);
    vae.build(input, rng);
    return vae;
}

// The same from the sizes and the common settings.
template <class S>
VariationalAutoencoder<S> make_dense_vae(const std::vector<Index>& sizes, Rng& rng, Likelihood likelihood = Likelihood::bernoulli(),
                                         Act hidden = Act::relu, WeightInit init = WeightInit::pytorch) {
    DenseVaeOptions o;
    o.sizes = sizes;
    o.likelihood = likelihood;
    o.hidden = hidden;
    o.init = init;
    return make_dense_vae<S>(o, rng);
}

LATENT_NAMESPACE_END
