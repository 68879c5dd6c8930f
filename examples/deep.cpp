// deep: the deep autoencoder 784-2000-500-500-10 (mirrored) of the classic
// dimensionality-reduction set-up (Hinton & Salakhutdinov, 2006), trained
// end to end with Adam instead of RBM pretraining: ReLU hidden layers, a
// linear code, a sigmoid output, MSE. Compared with PCA with as many
// components. With --code 2 it also plots the 2-D codes of the test set
// (AE beside PCA), coloured by class.
#include "common/common.hpp"

#include <latent/apps/pca.hpp>

namespace {

void scatter(ex::Plot& plot, const latent::Matrix<float>& z, const std::vector<int>& labels, latent::Index n) {
    std::vector<double> x, y;
    std::vector<int> c;
    for (latent::Index j = 0; j < std::min(n, z.cols()); ++j) {
        x.push_back(z(0, j));
        y.push_back(z(1, j));
        c.push_back(labels[static_cast<std::size_t>(j)]);
    }
    plot.scatter(x, y, c, 1);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Deep autoencoder 784-2000-500-500-10 (mirrored) vs PCA on Fashion-MNIST"};
    ex::CommonFlags flags;
    ex::add_common_flags(app, flags, 10, 128);
    latent::Index code = 10;
    std::string hidden = "2000,500,500";
    double lr = 1e-3;
    latent::Index scatter_points = 5000;
    app.add_option("--code", code, "Code size (2 also writes a scatter plot of the codes)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--hidden", hidden, "Encoder hidden sizes, comma list (decoder mirrors them)")->capture_default_str();
    app.add_option("--lr", lr, "Adam learning rate")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--scatter-points", scatter_points, "Test points in the --code 2 scatter plot")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    CLI11_PARSE(app, argc, argv);

    return ex::run([&] {
        ex::apply_threads(flags);
        ex::Timer timer;
        const ex::ImageData data = ex::load_image_data(flags);
        ex::print_data_summary(data, timer.seconds());

        std::vector<latent::Index> sizes{data.shape.size()};
        for (latent::Index h : ex::parse_sizes(hidden, "--hidden")) sizes.push_back(h);
        sizes.push_back(code);
        const std::vector<latent::Index> arch = ex::mirrored(sizes);

        timer.reset();
        latent::PCA<float> pca(code);
        pca.fit(data.train_x);
        const latent::Matrix<float> pca_rec = pca.reconstruct(data.test_x);
        const double pca_mse = latent::mse(pca_rec, data.test_x);
        const double pca_seconds = timer.seconds();

        latent::DenseAutoencoderOptions o;
        o.sizes = sizes;  // ReLU hidden, linear code, sigmoid output (the builder's defaults)
        latent::Rng rng(flags.seed);
        auto ae = latent::make_dense_autoencoder<float>(o, rng);
        latent::Adam<float> adam(lr);
        latent::FitOptions<float> fo;
        fo.epochs = flags.epochs;
        fo.batch_size = flags.batch;
        fo.seed = flags.seed + 1;
        fo.val_x = &data.test_x;  // shown as "val" each epoch; nothing is selected on it
        std::cout << "model: " << ex::join_sizes(arch) << " (" << ae.params().size() << " parameters), ReLU hidden, linear code, "
                  << "sigmoid output, MSE, Adam lr " << lr << ", batch " << flags.batch << ", " << flags.epochs << " epochs, "
                  << latent::num_threads() << " thread(s)\n\n";
        timer.reset();
        const latent::History hist = latent::fit(ae, adam, data.train_x, fo);
        const double train_seconds = timer.seconds();
        const latent::Matrix<float> ae_rec = ae.reconstruct(data.test_x);
        const double ae_mse = latent::mse(ae_rec, data.test_x);

        ex::Table table({"model", "code", "test MSE", "vs PCA", "time"});
        table.row({"PCA (" + std::to_string(code) + " components)", std::to_string(code), ex::num(pca_mse, 5), "1.000x",
                   ex::num(pca_seconds, 1) + " s"});
        table.row({"deep AE " + ex::join_sizes(arch) + " (" + std::to_string(hist.epochs.size()) + " epochs)", std::to_string(code),
                   ex::num(ae_mse, 5), ex::num(ae_mse / pca_mse, 3) + "x", ex::num(train_seconds, 1) + " s"});
        std::cout << "\n";
        table.print();
        std::cout << "\ndeep AE: " << ex::num(100 * (1 - ae_mse / pca_mse), 1) << "% lower test MSE than PCA-" << code << "\n";

        std::vector<latent::Index> idx = ex::first_per_class(data.test_y, data.classes, 1);
        const std::string png = ex::out_path(flags, "deep.png");
        ex::write_image_grid(png,
                             {ex::select_columns(data.test_x, idx), ex::select_columns(ae_rec, idx), ex::select_columns(pca_rec, idx)},
                             data.shape, 3);
        std::cout << "wrote " << png << " (rows: test originals, deep AE reconstructions, PCA reconstructions)\n";

        std::string scatter_png;
        if (code == 2) {
            ex::Figure fig(1, 2, 420, 420);
            scatter(fig.panel(0, 0), ae.encode(data.test_x), data.test_y, scatter_points);
            scatter(fig.panel(0, 1), pca.transform(data.test_x), data.test_y, scatter_points);
            scatter_png = ex::out_path(flags, "deep_codes.png");
            fig.save(scatter_png);
            std::cout << "wrote " << scatter_png << " (2-D test codes coloured by class: deep AE left, PCA right)\n";
        }

        ex::write_json(flags.json, ex::Json()
                                       .set("example", "deep")
                                       .set("data", data.source)
                                       .set("real_data", data.real)
                                       .set("architecture", ex::join_sizes(arch))
                                       .set("parameters", static_cast<long>(ae.params().size()))
                                       .set("code", static_cast<long>(code))
                                       .set("epochs", static_cast<long>(hist.epochs.size()))
                                       .set("batch", static_cast<long>(flags.batch))
                                       .set("lr", lr)
                                       .set("threads", latent::num_threads())
                                       .set("ae_test_mse", ae_mse)
                                       .set("pca_test_mse", pca_mse)
                                       .set("ae_over_pca", ae_mse / pca_mse)
                                       .set("train_seconds", train_seconds)
                                       .set("train_loss", hist.losses())
                                       .set("test_loss", hist.val_losses())
                                       .set("png", png)
                                       .set("scatter_png", scatter_png));
        if (!flags.json.empty()) std::cout << "wrote " << flags.json << "\n";
        return 0;
    });
}
