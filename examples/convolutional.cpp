// convolutional: a convolutional autoencoder with a dense code of 32 on
// Fashion-MNIST (synthetic shapes when it is absent), against a dense
// autoencoder and PCA with the same code size.
//
//   encoder  Conv(32, 3, same)-ReLU-MaxPool(2)  28 -> 14
//            Conv(64, 3, same)-ReLU-MaxPool(2)  14 -> 7
//            Flatten-Dense(32)                  code
//   decoder  Dense(64*7*7)-ReLU-Reshape(64,7,7)
//            ConvTranspose(32, 3, stride 2, same)-ReLU   7 -> 14
//            ConvTranspose(1, 3, stride 2, same)-Sigmoid 14 -> 28
//   dense AE 784-256-128-32-128-256-784 (ReLU, sigmoid output)
//   both: MSE, Adam lr 1e-3, same batch size and epochs.
//
// Prints the test MSE of the three, writes a PNG grid (originals, conv AE,
// dense AE, PCA; one test image per class), and with --json the metrics.
#include "common/common.hpp"

#include <latent/apps/pca.hpp>

namespace {

using latent::Index;
using Mat = latent::Matrix<float>;

latent::Autoencoder<float> make_conv_ae(Index code) {
    using latent::Activation;
    using latent::ConvOptions;
    const auto he = latent::WeightInit::he;
    const auto relu = latent::Act::relu;
    auto enc = std::make_unique<latent::Sequential<float>>();
    enc->add<latent::Conv2D<float>>(32, 3, ConvOptions::same().with_init(he)).add<Activation<float>>(relu).add<latent::MaxPool2D<float>>(2);
    enc->add<latent::Conv2D<float>>(64, 3, ConvOptions::same().with_init(he)).add<Activation<float>>(relu).add<latent::MaxPool2D<float>>(2);
    enc->add<latent::Flatten<float>>().add<latent::Dense<float>>(code);
    auto dec = std::make_unique<latent::Sequential<float>>();
    dec->add<latent::Dense<float>>(64 * 7 * 7, true, he).add<Activation<float>>(relu).add<latent::Reshape<float>>(latent::Shape{64, 7, 7});
    dec->add<latent::ConvTranspose2D<float>>(32, 3, ConvOptions::same(2).with_init(he)).add<Activation<float>>(relu);
    dec->add<latent::ConvTranspose2D<float>>(1, 3, ConvOptions::same(2)).add<Activation<float>>(latent::Act::sigmoid);
    return latent::Autoencoder<float>(std::move(enc), std::move(dec));
}

struct Trained {
    latent::History history;
    double seconds = 0, samples_per_second = 0;
};

Trained train(latent::Autoencoder<float>& ae, const ex::ImageData& data, const ex::CommonFlags& flags, double lr) {
    latent::Adam<float> adam(lr);
    latent::FitOptions<float> fo;
    fo.epochs = flags.epochs;
    fo.batch_size = flags.batch;
    fo.seed = flags.seed + 1;
    ex::Timer timer;
    Trained t;
    t.history = latent::fit(ae, adam, data.train_x, fo);
    t.seconds = timer.seconds();
    t.samples_per_second = t.seconds > 0 ? static_cast<double>(data.train_x.cols()) * static_cast<double>(t.history.epochs.size()) / t.seconds : 0;
    return t;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Convolutional autoencoder vs dense autoencoder vs PCA on Fashion-MNIST at the same code size: test MSE and a PNG grid"};
    ex::CommonFlags flags;
    flags.train_limit = 20000;  // a few minutes on 2 cores; --train-limit 0 for all 60000
    ex::add_common_flags(app, flags, 10, 128);
    Index code = 32;
    double lr = 1e-3;
    app.add_option("--code", code, "Code size (dense code of both AEs, PCA components)")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--lr", lr, "Adam learning rate")->capture_default_str()->check(CLI::PositiveNumber);
    CLI11_PARSE(app, argc, argv);

    return ex::run([&] {
        ex::apply_threads(flags);
        ex::Timer timer;
        const ex::ImageData data = ex::load_image_data(flags);
        ex::print_data_summary(data, timer.seconds());
        if (data.shape != latent::Shape(1, 28, 28))
            throw latent::ShapeError("convolutional: expected 1x28x28 images, found " + data.shape.str());

        // ---- PCA
        timer.reset();
        latent::PCA<float> pca(code);
        pca.fit(data.train_x);
        const Mat pca_rec = pca.reconstruct(data.test_x);
        const double pca_mse = latent::mse(pca_rec, data.test_x), pca_seconds = timer.seconds();

        // ---- convolutional AE
        latent::Rng rng(flags.seed);
        auto conv = make_conv_ae(code);
        conv.build(data.shape, rng);
        std::cout << "conv AE: Conv(32)-Pool-Conv(64)-Pool-Dense(" << code << ") | Dense-Reshape-ConvT(32,s2)-ConvT(1,s2), "
                  << conv.params().size() << " parameters\n";
        std::cout << "training the conv AE: Adam lr " << lr << ", batch " << flags.batch << ", " << flags.epochs << " epochs, "
                  << latent::num_threads() << " thread(s)\n";
        const Trained tc = train(conv, data, flags, lr);
        const Mat conv_rec = conv.reconstruct(data.test_x);
        const double conv_mse = latent::mse(conv_rec, data.test_x);

        // ---- dense AE with the same code
        latent::DenseAutoencoderOptions opt;
        opt.sizes = {data.shape.size(), 256, 128, code};
        opt.hidden = latent::Act::relu;
        opt.code = latent::Act::identity;
        opt.output = latent::Act::sigmoid;
        latent::Rng rng2(flags.seed);
        auto dense = latent::make_dense_autoencoder<float>(opt, rng2);
        std::cout << "training the dense AE 784-256-128-" << code << "-128-256-784 (" << dense.params().size() << " parameters)\n";
        const Trained td = train(dense, data, flags, lr);
        const Mat dense_rec = dense.reconstruct(data.test_x);
        const double dense_mse = latent::mse(dense_rec, data.test_x);

        // ---- results
        ex::Table table({"model", "code", "test MSE", "vs PCA", "test PSNR", "test SSIM", "train time"});
        auto row = [&](const std::string& name, const Mat& rec, double m, double seconds) {
            table.row({name, std::to_string(code), ex::num(m, 5), ex::num(m / pca_mse, 3) + "x", ex::num(latent::psnr(rec, data.test_x), 2),
                       ex::num(latent::ssim(rec, data.test_x, data.shape), 3), ex::num(seconds, 1) + " s"});
        };
        row("PCA (" + std::to_string(code) + " components)", pca_rec, pca_mse, pca_seconds);
        row("dense AE (" + std::to_string(td.history.epochs.size()) + " epochs)", dense_rec, dense_mse, td.seconds);
        row("conv AE (" + std::to_string(tc.history.epochs.size()) + " epochs)", conv_rec, conv_mse, tc.seconds);
        std::cout << "\n";
        table.print();
        std::cout << "\nconv AE test MSE is " << ex::num(100 * (1 - conv_mse / dense_mse), 1) << "% below the dense AE's and "
                  << ex::num(100 * (1 - conv_mse / pca_mse), 1) << "% below PCA's; conv training " << ex::num(tc.samples_per_second, 0)
                  << " samples/s\n";

        const std::vector<Index> idx = ex::first_per_class(data.test_y, data.classes, 1);
        const std::string png = ex::out_path(flags, "convolutional.png");
        ex::write_image_grid(png,
                             {ex::select_columns(data.test_x, idx), ex::select_columns(conv_rec, idx), ex::select_columns(dense_rec, idx),
                              ex::select_columns(pca_rec, idx)},
                             data.shape, 3);
        std::cout << "wrote " << png << " (rows: test originals, conv AE, dense AE, PCA)\n";

        ex::write_json(flags.json, ex::Json()
                                       .set("example", "convolutional")
                                       .set("data", data.source)
                                       .set("real_data", data.real)
                                       .set("train_samples", static_cast<long>(data.train_x.cols()))
                                       .set("test_samples", static_cast<long>(data.test_x.cols()))
                                       .set("code", static_cast<long>(code))
                                       .set("epochs", flags.epochs)
                                       .set("batch", static_cast<long>(flags.batch))
                                       .set("lr", lr)
                                       .set("seed", static_cast<unsigned long long>(flags.seed))
                                       .set("threads", latent::num_threads())
                                       .set("conv_test_mse", conv_mse)
                                       .set("dense_test_mse", dense_mse)
                                       .set("pca_test_mse", pca_mse)
                                       .set("conv_parameters", static_cast<long>(conv.params().size()))
                                       .set("dense_parameters", static_cast<long>(dense.params().size()))
                                       .set("conv_train_seconds", tc.seconds)
                                       .set("dense_train_seconds", td.seconds)
                                       .set("conv_train_samples_per_second", tc.samples_per_second)
                                       .set("conv_train_loss", tc.history.losses())
                                       .set("dense_train_loss", td.history.losses())
                                       .set("png", png));
        if (!flags.json.empty()) std::cout << "wrote " << flags.json << "\n";
        return 0;
    });
}
