// variational: a VAE on Fashion-MNIST. Default: the dense 784-400-20 VAE of
// the PyTorch example (Bernoulli decoder on logits, Adam lr 1e-3, batch 128,
// 10 epochs); --conv trains a small convolutional VAE instead.
//
// Prints per epoch the training reconstruction term and KL (nats per image)
// and the test negative ELBO; at the end the test -ELBO, the importance-
// weighted (IWAE, k = 50) estimate of the test -log p(x), the per-dimension
// KL and the number of active units. Writes PNGs to --out: samples from the
// prior, reconstructions, interpolation strips, and with --latent 2 the
// decoded manifold grid and a scatter of test codes coloured by class.
//
// The same model in PyTorch: benchmarks/torch_vae.py.
#include "common/common.hpp"

#include <latent/io/model_file.hpp>
#include <latent/layers/conv2d.hpp>
#include <latent/layers/conv_transpose2d.hpp>
#include <latent/layers/reshape.hpp>
#include <latent/models/variational.hpp>

namespace {

using Mat = latent::Matrix<float>;
using latent::Index;

// conv: 1x28x28 -conv s2-> 32x14x14 -conv s2-> 64x7x7 -> dense 2*latent, and back
// with transposed convolutions; the last layer outputs logits.
latent::VariationalAutoencoder<float> make_conv_vae(Index latent) {
    using namespace latent;
    ConvOptions s2 = ConvOptions::same(2);
    s2.init = WeightInit::he;
    auto enc = std::make_unique<Sequential<float>>();
    enc->add<Conv2D<float>>(32, Size2{3, 3}, s2).add<Activation<float>>(Act::relu);
    enc->add<Conv2D<float>>(64, Size2{3, 3}, s2).add<Activation<float>>(Act::relu);
    enc->add<Flatten<float>>().add<Dense<float>>(2 * latent);
    auto dec = std::make_unique<Sequential<float>>();
    dec->add<Dense<float>>(64 * 7 * 7, true, WeightInit::he).add<Activation<float>>(Act::relu);
    dec->add<Reshape<float>>(Shape{64, 7, 7});
    dec->add<ConvTranspose2D<float>>(32, Size2{3, 3}, s2).add<Activation<float>>(Act::relu);
    ConvOptions out = ConvOptions::same(2);
    dec->add<ConvTranspose2D<float>>(1, Size2{3, 3}, out);
    return VariationalAutoencoder<float>(std::move(enc), std::move(dec), Likelihood::bernoulli());
}

// Prints one aligned row per epoch as training goes.
class EpochPrinter : public latent::Callback<float> {
public:
    void on_epoch_end(const latent::EpochLog& e, latent::TrainControl<float>&) override {
        std::printf("%5ld %10.3f %8.3f %12.3f %11.3f %10.0f %7.1f\n", e.epoch, e.part("recon"), e.part("kl"), e.loss, e.val_loss,
                    e.samples_per_second, e.seconds);
        std::fflush(stdout);
    }
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Variational autoencoder on Fashion-MNIST: ELBO, IWAE, samples, interpolations, latent manifold"};
    ex::CommonFlags flags;
    ex::add_common_flags(app, flags, 10, 128);
    Index latent = 20, hidden = 400;
    double lr = 1e-3, beta = 1.0, warmup_epochs = 0.0, free_bits = 0.0;
    int iwae_k = 50;
    Index iwae_limit = 0;
    bool conv = false;
    std::string save_path;
    app.add_option("--latent", latent, "Latent dimensions (2 adds the manifold grid and code scatter)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--hidden", hidden, "Hidden units of the dense VAE")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_flag("--conv", conv, "Train a small convolutional VAE instead of the dense one");
    app.add_option("--lr", lr, "Adam learning rate")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--beta", beta, "Weight of the KL term (beta-VAE)")->capture_default_str()->check(CLI::NonNegativeNumber);
    app.add_option("--warmup", warmup_epochs, "KL warm-up: beta ramps from 0 over this many epochs")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_option("--free-bits", free_bits, "Free bits: per-dimension KL floor in nats (0: off)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_option("--iwae-k", iwae_k, "Importance samples for the IWAE estimate")->capture_default_str()->check(CLI::Range(1, 100000));
    app.add_option("--iwae-limit", iwae_limit, "Test images for the IWAE estimate (0: all)")->capture_default_str()->check(CLI::NonNegativeNumber);
    app.add_option("--save", save_path, "Save the trained VAE to this model file");
    CLI11_PARSE(app, argc, argv);
    ex::apply_threads(flags);

    try {
        const ex::ImageData data = ex::load_image_data(flags);
        std::cout << "data: " << data.source << ", train " << data.train_x.cols() << ", test " << data.test_x.cols() << "\n";

        latent::Rng rng(flags.seed);
        latent::DenseVaeOptions dense;
        dense.sizes = {data.shape.size(), hidden, latent};
        dense.input = data.shape;  // built for the images' shape, so samples keep it
        auto vae = conv ? make_conv_vae(latent) : latent::make_dense_vae<float>(dense, rng);
        if (conv) vae.build(data.shape, rng);
        vae.set_beta(beta);
        vae.set_kl_warmup_epochs(warmup_epochs);  // fit turns it into steps
        vae.set_free_bits(free_bits);
        std::cout << "model: " << (conv ? "conv VAE" : "dense VAE " + std::to_string(data.shape.size()) + "-" + std::to_string(hidden) + "-" + std::to_string(latent))
                  << ", latent " << latent << ", Bernoulli decoder, " << vae.params().size() << " parameters, Adam lr " << lr
                  << ", batch " << flags.batch << ", threads " << latent::num_threads() << "\n";
        if (beta != 1.0 || warmup_epochs > 0 || free_bits > 0)
            std::cout << "objective: recon + beta KL with beta " << beta << ", warm-up " << warmup_epochs << " epochs, free bits "
                      << free_bits << " nats/dim (test -ELBO is always beta 1, no free bits)\n";
        std::cout << "\nnats per image; recon and KL are training means, test -ELBO one draw per test image\n";
        std::printf("%5s %10s %8s %12s %11s %10s %7s\n", "epoch", "recon", "KL", "train loss", "test -ELBO", "samples/s", "s");

        latent::Adam<float> adam(lr);
        EpochPrinter printer;
        latent::FitOptions<float> o;
        o.epochs = flags.epochs;
        o.batch_size = flags.batch;
        o.seed = flags.seed;
        o.val_x = &data.test_x;
        o.callbacks.push_back(&printer);
        ex::Timer train_timer;
        const latent::History hist = latent::fit(vae, adam, data.train_x, o);
        const double train_seconds = train_timer.seconds();

        // Final evaluation.
        latent::Rng eval_rng(flags.seed + 1);
        const latent::ElboEstimate elbo = vae.evaluate(data.test_x, eval_rng);
        const Mat iwae_x = iwae_limit > 0 && iwae_limit < data.test_x.cols() ? Mat(data.test_x.leftCols(iwae_limit)) : data.test_x;
        latent::Rng elbo_rng_same(flags.seed + 2), iwae_rng(flags.seed + 3);
        const double elbo_same = vae.evaluate(iwae_x, elbo_rng_same).neg_elbo();
        ex::Timer iwae_timer;
        const double iwae = vae.iwae(iwae_x, iwae_k, iwae_rng);
        const double iwae_seconds = iwae_timer.seconds();
        const latent::Vector<double> kl_dim = vae.kl_per_dim(data.test_x);
        const latent::Vector<double> activity = vae.activity(data.test_x);
        const Index active = static_cast<Index>((activity.array() > 0.01).count());

        std::cout << "\n";
        ex::Table table({"metric", "value"});
        table.row({"test -ELBO (nats)", ex::num(elbo.neg_elbo(), 5)});
        table.row({"  reconstruction", ex::num(elbo.recon, 5)});
        table.row({"  KL", ex::num(elbo.kl, 5)});
        table.row({"test -log p(x), IWAE k=" + std::to_string(iwae_k) + " (" + std::to_string(iwae_x.cols()) + " images)",
                   ex::num(iwae, 5)});
        table.row({"  -ELBO on the same images", ex::num(elbo_same, 5)});
        table.row({"  IWAE below -ELBO by", ex::num(elbo_same - iwae, 4)});
        table.row({"active units (Cov > 0.01)", std::to_string(active) + " / " + std::to_string(latent)});
        table.row({"training time (s)", ex::num(train_seconds, 4)});
        table.row({"IWAE time (s)", ex::num(iwae_seconds, 4)});
        table.print();

        std::vector<Index> order(static_cast<std::size_t>(kl_dim.size()));
        for (Index j = 0; j < kl_dim.size(); ++j) order[static_cast<std::size_t>(j)] = j;
        std::sort(order.begin(), order.end(), [&](Index a, Index b) { return kl_dim(a) > kl_dim(b); });
        std::cout << "\nper-dimension KL (nats), largest first:";
        for (Index j : order) std::printf(" %.2f", kl_dim(j));
        std::cout << "\n\n";

        // Pictures.
        const latent::Shape img = data.shape;
        std::vector<std::string> pngs;
        {
            latent::Rng srng(flags.seed + 4);
            const Mat s = vae.sample(8 * 16, srng);
            std::vector<Mat> rows;
            for (Index r = 0; r < 8; ++r) rows.push_back(s.middleCols(r * 16, 16));
            pngs.push_back(ex::out_path(flags, "vae_samples.png"));
            ex::write_image_grid(pngs.back(), rows, img, 2);
        }
        {
            const auto idx = ex::first_per_class(data.test_y, data.classes, 2);  // 2 per class, grouped
            const Mat x = ex::select_columns(data.test_x, idx);
            pngs.push_back(ex::out_path(flags, "vae_reconstructions.png"));
            ex::write_image_grid(pngs.back(), {Mat(x.leftCols(x.cols() / 2)), vae.reconstruct(x.leftCols(x.cols() / 2)),
                                               Mat(x.rightCols(x.cols() / 2)), vae.reconstruct(x.rightCols(x.cols() / 2))},
                                 img, 2);
        }
        {
            // Each row: image a, 10 decoded points on the line between the posterior means, image b.
            const auto idx = ex::first_per_class(data.test_y, data.classes, 1);
            std::vector<Mat> rows;
            const int pairs[][2] = {{0, 1}, {1, 2}, {2, 3}, {5, 7}, {7, 9}, {9, 8}, {4, 6}, {3, 0}};
            for (const auto& p : pairs) {
                if (static_cast<std::size_t>(std::max(p[0], p[1])) >= idx.size()) continue;
                const Mat a = data.test_x.col(idx[static_cast<std::size_t>(p[0])]);
                const Mat b = data.test_x.col(idx[static_cast<std::size_t>(p[1])]);
                Mat row(img.size(), 12);
                row.col(0) = a;
                row.middleCols(1, 10) = vae.interpolate(a, b, 10);
                row.col(11) = b;
                rows.push_back(row);
            }
            pngs.push_back(ex::out_path(flags, "vae_interpolation.png"));
            ex::write_image_grid(pngs.back(), rows, img, 2);
        }
        if (latent == 2) {
            const Index n = 20;
            const Mat grid = vae.latent_grid(n);
            std::vector<Mat> rows;
            for (Index r = 0; r < n; ++r) rows.push_back(grid.middleCols(r * n, n));
            pngs.push_back(ex::out_path(flags, "vae_manifold.png"));
            ex::write_image_grid(pngs.back(), rows, img, 1);

            const Index m = std::min<Index>(5000, data.test_x.cols());
            const Mat mu = vae.encode_mean(data.test_x.leftCols(m));
            std::vector<double> xs, ys;
            std::vector<int> cs;
            for (Index j = 0; j < m; ++j) {
                xs.push_back(mu(0, j));
                ys.push_back(mu(1, j));
                cs.push_back(data.test_y[static_cast<std::size_t>(j)]);
            }
            ex::Plot plot(720, 640);
            plot.title("test codes (posterior means), coloured by class");
            plot.scatter(xs, ys, cs, 2);
            for (int c = 0; c < data.classes; ++c) plot.add_legend(ex::palette(c), data.class_names[static_cast<std::size_t>(c)]);
            pngs.push_back(ex::out_path(flags, "vae_codes.png"));
            plot.save(pngs.back());
        }
        for (const auto& p : pngs) std::cout << "wrote " << p << "\n";
        if (!save_path.empty()) {
            latent::save(vae, save_path);
            std::cout << "saved the model to " << save_path << "\n";
        }

        std::vector<double> test_curve, recon_curve, kl_curve;
        for (const auto& e : hist.epochs) {
            test_curve.push_back(e.val_loss);
            recon_curve.push_back(e.part("recon"));
            kl_curve.push_back(e.part("kl"));
        }
        std::vector<double> kl_dims(kl_dim.data(), kl_dim.data() + kl_dim.size());
        ex::write_json(flags.json, ex::Json()
                                       .set("data", data.source)
                                       .set("model", conv ? "conv" : "dense")
                                       .set("latent", static_cast<long>(latent))
                                       .set("epochs", flags.epochs)
                                       .set("batch", static_cast<long>(flags.batch))
                                       .set("seed", static_cast<unsigned long long>(flags.seed))
                                       .set("threads", latent::num_threads())
                                       .set("test_neg_elbo", elbo.neg_elbo())
                                       .set("test_recon", elbo.recon)
                                       .set("test_kl", elbo.kl)
                                       .set("iwae_k", iwae_k)
                                       .set("iwae_images", static_cast<long>(iwae_x.cols()))
                                       .set("test_iwae_nll", iwae)
                                       .set("test_neg_elbo_same_images", elbo_same)
                                       .set("active_units", static_cast<long>(active))
                                       .set("kl_per_dim", kl_dims)
                                       .set("epoch_test_neg_elbo", test_curve)
                                       .set("epoch_recon", recon_curve)
                                       .set("epoch_kl", kl_curve)
                                       .set("train_seconds", train_seconds)
                                       .set("pngs", pngs));
    } catch (const latent::Error& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
