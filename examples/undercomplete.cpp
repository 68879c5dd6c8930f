// undercomplete: a dense autoencoder with a small code, against PCA with as
// many components, on Fashion-MNIST (synthetic shapes when it is absent).
//
// Default model (meets "AE test MSE below PCA-32's within 20 epochs"):
//   784-256-128-32-128-256-784, ReLU hidden, linear code, sigmoid output,
//   MSE on [0,1] pixels, Adam lr 1e-3, batch 128, 20 epochs.
// --linear uses identity activations everywhere: a linear AE can do no better
// than PCA and, trained long enough, reaches it (within ~2%).
//
// Prints the per-pixel test MSE of both, writes a PNG grid (rows: test
// originals, AE reconstructions, PCA reconstructions; one image per class),
// and with --json the metrics and the training history.
#include "common/common.hpp"

#include <latent/apps/pca.hpp>

int main(int argc, char** argv) {
    CLI::App app{"Undercomplete dense autoencoder vs PCA on Fashion-MNIST: test reconstruction MSE and a PNG grid"};
    ex::CommonFlags flags;
    ex::add_common_flags(app, flags, 20, 128);
    latent::Index code = 32;
    std::string hidden = "256,128";
    double lr = 1e-3;
    bool linear = false;
    app.add_option("--code", code, "Code size (and number of PCA components)")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--hidden", hidden, "Encoder hidden sizes, comma list (decoder mirrors them); empty for none")
        ->capture_default_str();
    app.add_option("--lr", lr, "Adam learning rate")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_flag("--linear", linear, "Identity activations everywhere (a linear AE, which PCA bounds)");
    CLI11_PARSE(app, argc, argv);

    return ex::run([&] {
        ex::apply_threads(flags);
        ex::Timer timer;
        const ex::ImageData data = ex::load_image_data(flags);
        const latent::Index d = data.shape.size();
        ex::print_data_summary(data, timer.seconds());

        std::vector<latent::Index> sizes{d};
        for (latent::Index h : ex::parse_sizes(hidden, "--hidden")) sizes.push_back(h);
        sizes.push_back(code);
        const std::vector<latent::Index> arch = ex::mirrored(sizes);

        // ---- PCA with as many components as the code
        timer.reset();
        latent::PCA<float> pca(code);
        pca.fit(data.train_x);
        const latent::Matrix<float> pca_rec = pca.reconstruct(data.test_x);
        const double pca_mse = latent::mse(pca_rec, data.test_x);
        const double pca_seconds = timer.seconds();
        const double pca_explained = static_cast<double>(pca.explained_variance_ratio().sum());

        // ---- the autoencoder
        latent::DenseAutoencoderOptions opt;
        opt.sizes = sizes;
        opt.hidden = linear ? latent::Act::identity : latent::Act::relu;
        opt.code = latent::Act::identity;
        opt.output = linear ? latent::Act::identity : latent::Act::sigmoid;
        latent::Rng rng(flags.seed);
        auto ae = latent::make_dense_autoencoder<float>(opt, rng);
        latent::Adam<float> adam(lr);
        latent::FitOptions<float> fo;
        fo.epochs = flags.epochs;
        fo.batch_size = flags.batch;
        fo.seed = flags.seed + 1;
        fo.val_x = &data.test_x;  // shown as "val" each epoch; nothing is selected on it
        // A linear AE's last directions have small variance and learn slowly:
        // anneal the rate so it settles on the PCA subspace.
        if (linear && fo.epochs > 0) fo.schedule = std::make_shared<latent::CosineLR>(static_cast<double>(fo.epochs));

        std::cout << "model: " << ex::join_sizes(arch) << (linear ? ", identity activations (linear AE)" : ", ReLU hidden, linear code, sigmoid output")
                  << ", MSE, Adam lr " << lr << ", batch " << flags.batch << ", " << flags.epochs << " epochs, "
                  << latent::num_threads() << " thread(s)\n\n";
        timer.reset();
        const latent::History hist = latent::fit(ae, adam, data.train_x, fo);
        const double train_seconds = timer.seconds();
        const latent::Matrix<float> ae_rec = ae.reconstruct(data.test_x);
        const double ae_mse = latent::mse(ae_rec, data.test_x);
        const double samples_per_s =
            train_seconds > 0 ? static_cast<double>(data.train_x.cols()) * static_cast<double>(hist.epochs.size()) / train_seconds : 0.0;

        // ---- results
        ex::Table table({"model", "code", "test MSE", "vs PCA", "time"});
        table.row({"PCA (" + std::to_string(code) + " components, " + ex::num(100 * pca_explained, 1) + "% variance)",
                   std::to_string(code), ex::num(pca_mse, 5), "1.000x", ex::num(pca_seconds, 1) + " s"});
        table.row({std::string(linear ? "linear AE " : "AE ") + ex::join_sizes(arch) + " (" + std::to_string(hist.epochs.size()) + " epochs)",
                   std::to_string(code), ex::num(ae_mse, 5), ex::num(ae_mse / pca_mse, 3) + "x", ex::num(train_seconds, 1) + " s"});
        std::cout << "\n";
        table.print();
        const double rel = (ae_mse - pca_mse) / pca_mse;
        if (linear)
            std::cout << "\nlinear AE vs PCA: " << (rel >= 0 ? "+" : "") << ex::num(100 * rel, 2) << "% test MSE"
                      << (std::abs(rel) <= 0.02 ? " (within 2%)" : " (not within 2%: train longer, e.g. --epochs 40)") << "\n";
        else
            std::cout << "\nAE " << (ae_mse < pca_mse ? "beats" : "does not beat") << " PCA-" << code << ": "
                      << ex::num(100 * (1 - ae_mse / pca_mse), 1) << "% lower test MSE; training " << ex::num(samples_per_s, 0)
                      << " samples/s\n";

        // ---- PNG: one test image per class; rows originals / AE / PCA
        std::vector<latent::Index> idx = ex::first_per_class(data.test_y, data.classes, 1);
        const std::string png = ex::out_path(flags, linear ? "undercomplete_linear.png" : "undercomplete.png");
        ex::write_image_grid(png,
                             {ex::select_columns(data.test_x, idx), ex::select_columns(ae_rec, idx), ex::select_columns(pca_rec, idx)},
                             data.shape, 3);
        std::cout << "wrote " << png << " (rows: test originals, AE reconstructions, PCA reconstructions)\n";

        ex::write_json(flags.json, ex::Json()
                                       .set("example", "undercomplete")
                                       .set("data", data.source)
                                       .set("real_data", data.real)
                                       .set("train_samples", static_cast<long>(data.train_x.cols()))
                                       .set("test_samples", static_cast<long>(data.test_x.cols()))
                                       .set("architecture", ex::join_sizes(arch))
                                       .set("linear", linear)
                                       .set("code", static_cast<long>(code))
                                       .set("epochs", static_cast<long>(hist.epochs.size()))
                                       .set("batch", static_cast<long>(flags.batch))
                                       .set("lr", lr)
                                       .set("seed", static_cast<unsigned long long>(flags.seed))
                                       .set("threads", latent::num_threads())
                                       .set("ae_test_mse", ae_mse)
                                       .set("pca_test_mse", pca_mse)
                                       .set("ae_over_pca", ae_mse / pca_mse)
                                       .set("pca_explained_variance_ratio", pca_explained)
                                       .set("ae_beats_pca", ae_mse < pca_mse)
                                       .set("train_seconds", train_seconds)
                                       .set("train_samples_per_second", samples_per_s)
                                       .set("pca_seconds", pca_seconds)
                                       .set("train_loss", hist.losses())
                                       .set("test_loss", hist.val_losses())
                                       .set("png", png));
        if (!flags.json.empty()) std::cout << "wrote " << flags.json << "\n";
        return 0;
    });
}
