// denoising: the classic convolutional denoising autoencoder on Fashion-MNIST
// (synthetic shapes when it is absent), trained on corrupted inputs with
// clean targets, each batch corrupted afresh every epoch.
//
//   encoder  Conv(64)-Pool-Conv(32)-Pool-Conv(16)-Pool          28 -> 14 -> 7 -> 4
//   decoder  Conv(16)-Up-Conv(32)-Up-Conv(64, valid)-Up-Conv(1)  4 -> 8 -> 16 -> 14 -> 28
//   3x3 kernels, ReLU (He init), 'same' padding and 2x2 'same' max pooling
//   (Keras' padding='same': 7 -> 4), nearest upsampling, sigmoid output,
//   MSE, Adam lr 1e-3.
//
// Default corruption: x + 0.5 N(0,1) clipped to [0,1]; --corruption masking
// (drop a fraction of the pixels) or saltpepper. Prints PSNR and SSIM of the
// noisy input and of the output on the test set at three noise levels, writes
// a PNG grid (clean, then noisy / denoised for each level), and with --json
// the metrics and the training history.
#include "common/common.hpp"

namespace {

using latent::Index;
using Mat = latent::Matrix<float>;

latent::Autoencoder<float> make_denoiser() {
    using latent::Activation;
    using latent::Conv2D;
    using latent::ConvOptions;
    const auto he = latent::WeightInit::he;
    auto enc = std::make_unique<latent::Sequential<float>>();
    for (Index f : {64, 32, 16})
        enc->add<Conv2D<float>>(f, 3, ConvOptions::same().with_init(he))
            .add<Activation<float>>(latent::Act::relu)
            .add<latent::MaxPool2D<float>>(2, latent::PoolOptions::same());
    auto dec = std::make_unique<latent::Sequential<float>>();
    dec->add<Conv2D<float>>(16, 3, ConvOptions::same().with_init(he)).add<Activation<float>>(latent::Act::relu);
    dec->add<latent::Upsample2D<float>>(2);
    dec->add<Conv2D<float>>(32, 3, ConvOptions::same().with_init(he)).add<Activation<float>>(latent::Act::relu);
    dec->add<latent::Upsample2D<float>>(2);
    dec->add<Conv2D<float>>(64, 3, ConvOptions::valid().with_init(he)).add<Activation<float>>(latent::Act::relu);
    dec->add<latent::Upsample2D<float>>(2);
    dec->add<Conv2D<float>>(1, 3, ConvOptions::same()).add<Activation<float>>(latent::Act::sigmoid);
    return latent::Autoencoder<float>(std::move(enc), std::move(dec));
}

std::vector<double> parse_levels(const std::string& text) {
    std::vector<double> out;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ','))
        if (!item.empty()) {
            char* end = nullptr;
            const double v = std::strtod(item.c_str(), &end);
            if (end == item.c_str() || *end != '\0' || !(v >= 0))
                throw latent::ConfigError("--levels: expected a comma list of amounts >= 0, found '" + text + "'");
            out.push_back(v);
        }
    if (out.empty()) throw latent::ConfigError("--levels: expected at least one amount, found none");
    return out;
}

std::string level_name(const latent::Corruption& c) {
    return (c.kind == latent::Corruption::Kind::gaussian ? "sigma " : "fraction ") + ex::num(c.amount, 2);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Convolutional denoising autoencoder on Fashion-MNIST: PSNR/SSIM of noisy vs denoised test images, PNG grid"};
    ex::CommonFlags flags;
    flags.train_limit = 20000;  // a few minutes on 2 cores; --train-limit 0 for all 60000
    ex::add_common_flags(app, flags, 10, 64);
    std::string corruption = "gaussian", levels_text;
    double amount = -1, lr = 1e-3;
    std::string save_path;
    app.add_option("--corruption", corruption, "Training corruption: gaussian, masking or saltpepper")
        ->capture_default_str()
        ->check(CLI::IsMember({"gaussian", "masking", "saltpepper"}));
    app.add_option("--amount", amount, "Training noise: sigma (gaussian, default 0.5) or fraction (masking 0.5, saltpepper 0.2)");
    app.add_option("--levels", levels_text, "Test noise levels, comma list (default 0.1,0.3,0.5; saltpepper 0.05,0.1,0.2)");
    app.add_option("--lr", lr, "Adam learning rate")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--save", save_path, "Save the trained model to this file (.lat)");
    CLI11_PARSE(app, argc, argv);

    return ex::run([&] {
        ex::apply_threads(flags);
        const bool sp = corruption == "saltpepper";
        if (amount < 0) amount = corruption == "gaussian" ? 0.5 : sp ? 0.2 : 0.5;
        if (levels_text.empty()) levels_text = sp ? "0.05,0.1,0.2" : "0.1,0.3,0.5";
        const std::vector<double> levels = parse_levels(levels_text);
        const latent::Corruption train_noise = latent::Corruption::parse(corruption, amount);

        ex::Timer timer;
        const ex::ImageData data = ex::load_image_data(flags);
        ex::print_data_summary(data, timer.seconds());

        latent::Rng rng(flags.seed);
        auto ae = make_denoiser();
        ae.build(data.shape, rng);
        std::cout << "model: Conv(64)-Pool-Conv(32)-Pool-Conv(16)-Pool | Conv(16)-Up-Conv(32)-Up-Conv(64,valid)-Up-Conv(1), code "
                  << ae.code_shape() << ", " << ae.params().size() << " parameters\n"
                  << "train: " << train_noise.name() << " " << level_name(train_noise) << (sp || corruption == "masking" ? "" : ", clipped to [0,1]")
                  << ", clean targets, Adam lr " << lr << ", batch " << flags.batch << ", " << flags.epochs << " epochs, "
                  << latent::num_threads() << " thread(s)\n\n";

        // Validation: up to 1000 test images, corrupted once (fixed), clean targets.
        const Index n_val = std::min<Index>(1000, data.test_x.cols());
        const Mat val_clean = data.test_x.leftCols(n_val);
        latent::Rng val_rng(flags.seed + 7);
        const Mat val_noisy = train_noise.apply(val_clean, val_rng);

        latent::Adam<float> adam(lr);
        latent::FitOptions<float> fo;
        fo.epochs = flags.epochs;
        fo.batch_size = flags.batch;
        fo.seed = flags.seed + 1;
        fo.input_transform = train_noise;  // a fresh draw for every batch of every epoch
        fo.val_x = &val_noisy;
        fo.val_y = &val_clean;
        timer.reset();
        const latent::History hist = latent::fit(ae, adam, data.train_x, data.train_x, fo);
        const double train_seconds = timer.seconds();
        const double samples_per_s =
            train_seconds > 0 ? static_cast<double>(data.train_x.cols()) * static_cast<double>(hist.epochs.size()) / train_seconds : 0.0;
        std::cout << "trained " << hist.epochs.size() << " epochs in " << ex::num(train_seconds, 1) << " s (" << ex::num(samples_per_s, 0)
                  << " samples/s)\n\n";

        // Test metrics at each level, each with its own fixed noise draw.
        ex::Table table({"noise", "PSNR noisy", "PSNR denoised", "gain dB", "SSIM noisy", "SSIM denoised"});
        std::vector<ex::Json> rows_json;
        const std::vector<Index> idx = ex::first_per_class(data.test_y, data.classes, 1);
        std::vector<Mat> grid{ex::select_columns(data.test_x, idx)};
        double gain_at_train_level = std::numeric_limits<double>::quiet_NaN();
        for (double level : levels) {
            const latent::Corruption c = latent::Corruption::parse(corruption, level);
            latent::Rng test_rng(flags.seed + 1000 + static_cast<std::uint64_t>(level * 1000));
            const Mat noisy = c.apply(data.test_x, test_rng);
            const Mat out = ae.reconstruct(noisy);
            const double p_in = latent::psnr(noisy, data.test_x), p_out = latent::psnr(out, data.test_x);
            const double s_in = latent::ssim(noisy, data.test_x, data.shape), s_out = latent::ssim(out, data.test_x, data.shape);
            table.row({level_name(c), ex::num(p_in, 2), ex::num(p_out, 2), ex::num(p_out - p_in, 2), ex::num(s_in, 3), ex::num(s_out, 3)});
            rows_json.push_back(ex::Json()
                                    .set("level", level)
                                    .set("psnr_noisy", p_in)
                                    .set("psnr_denoised", p_out)
                                    .set("psnr_gain_db", p_out - p_in)
                                    .set("ssim_noisy", s_in)
                                    .set("ssim_denoised", s_out)
                                    .set("mse_noisy", latent::mse(noisy, data.test_x))
                                    .set("mse_denoised", latent::mse(out, data.test_x)));
            if (std::abs(level - amount) < 1e-12) gain_at_train_level = p_out - p_in;
            grid.push_back(ex::select_columns(noisy, idx));
            grid.push_back(ex::select_columns(out, idx));
        }
        std::cout << "test set (" << data.test_x.cols() << " images), " << corruption << " noise, metrics per image averaged:\n";
        table.print();
        if (!std::isnan(gain_at_train_level))
            std::cout << "\nat the training level (" << level_name(train_noise) << ") the denoiser gains " << ex::num(gain_at_train_level, 2)
                      << " dB PSNR over its noisy input\n";

        const std::string png = ex::out_path(flags, "denoising_" + corruption + ".png");
        ex::write_image_grid(png, grid, data.shape, 3);
        std::cout << "wrote " << png << " (rows: clean; then noisy and denoised at " << levels_text << ")\n";
        if (!save_path.empty()) {
            latent::save(ae, save_path);
            std::cout << "saved the model to " << save_path << "\n";
        }

        ex::write_json(flags.json, ex::Json()
                                       .set("example", "denoising")
                                       .set("data", data.source)
                                       .set("real_data", data.real)
                                       .set("train_samples", static_cast<long>(data.train_x.cols()))
                                       .set("test_samples", static_cast<long>(data.test_x.cols()))
                                       .set("corruption", corruption)
                                       .set("train_amount", amount)
                                       .set("epochs", static_cast<long>(hist.epochs.size()))
                                       .set("batch", static_cast<long>(flags.batch))
                                       .set("lr", lr)
                                       .set("seed", static_cast<unsigned long long>(flags.seed))
                                       .set("threads", latent::num_threads())
                                       .set("parameters", static_cast<long>(ae.params().size()))
                                       .set("train_seconds", train_seconds)
                                       .set("train_samples_per_second", samples_per_s)
                                       .set("psnr_gain_at_train_level_db", gain_at_train_level)
                                       .set("levels", rows_json)
                                       .set("train_loss", hist.losses())
                                       .set("val_loss", hist.val_losses())
                                       .set("png", png));
        if (!flags.json.empty()) std::cout << "wrote " << flags.json << "\n";
        return 0;
    });
}
