// superres: a small convolutional network that maps 14x14 average-pooled
// Fashion-MNIST images (synthetic shapes when it is absent) back to 28x28,
// against nearest, bilinear and bicubic upsampling of the same input.
//
//   Conv(32, 3, same)-ReLU-Conv(32, 3, same)-ReLU               14x14
//   ConvTranspose(16, 4, stride 2, padding 1)-ReLU              14 -> 28
//   Conv(1, 3, same)-Sigmoid                                    28x28
//   MSE against the full-resolution image, Adam lr 1e-3.
//
// Prints PSNR/SSIM on the test set for the baselines and the network, writes
// a PNG grid (original, low-res input shown with nearest upsampling,
// bicubic, network), and with --json the metrics.
#include "common/common.hpp"

namespace {

using latent::Index;
using latent::Shape;
using Mat = latent::Matrix<float>;

// Runs a parameter-free layer (pooling, upsampling) over x in inference.
Mat apply_layer(latent::LayerPtr<float> layer, Shape in, const Mat& x) {
    latent::Network<float> net(std::move(layer));
    latent::Rng rng(0);
    net.build(in, rng);
    return net.predict(x, 1024);
}

// Bicubic upsampling by `factor` as PyTorch's interpolate(mode='bicubic',
// align_corners=False): Keys' cubic convolution with a = -0.75, half-pixel
// centres, edge pixels repeated; the result clamped to [0, 1].
Mat bicubic(const Mat& x, Shape in, Index factor) {
    const double A = -0.75;
    auto near1 = [&](double t) { return ((A + 2) * t - (A + 3)) * t * t + 1; };        // |t| <= 1
    auto far2 = [&](double t) { return ((A * t - 5 * A) * t + 8 * A) * t - 4 * A; };  // 1 < |t| < 2
    struct Taps {
        Index i[4];
        double w[4];
    };
    auto taps = [&](Index n, Index out) {
        std::vector<Taps> t(static_cast<std::size_t>(out));
        for (Index o = 0; o < out; ++o) {
            const double src = (static_cast<double>(o) + 0.5) / static_cast<double>(factor) - 0.5;
            const double f = std::floor(src), d = src - f;
            Taps& tp = t[static_cast<std::size_t>(o)];
            const double w[4] = {far2(d + 1), near1(d), near1(1 - d), far2(2 - d)};
            for (int k = 0; k < 4; ++k) {
                tp.i[k] = std::clamp<Index>(static_cast<Index>(f) - 1 + k, 0, n - 1);
                tp.w[k] = w[k];
            }
        }
        return t;
    };
    const Index H = in.h * factor, W = in.w * factor;
    const auto ty = taps(in.h, H), tx = taps(in.w, W);
    Mat out(in.c * H * W, x.cols());
    for (Index n = 0; n < x.cols(); ++n)
        for (Index c = 0; c < in.c; ++c)
            for (Index y = 0; y < H; ++y)
                for (Index xx = 0; xx < W; ++xx) {
                    double v = 0;
                    const Taps& a = ty[static_cast<std::size_t>(y)];
                    const Taps& b = tx[static_cast<std::size_t>(xx)];
                    for (int i = 0; i < 4; ++i)
                        for (int j = 0; j < 4; ++j) v += a.w[i] * b.w[j] * x((c * in.h + a.i[i]) * in.w + b.i[j], n);
                    out((c * H + y) * W + xx, n) = static_cast<float>(std::clamp(v, 0.0, 1.0));
                }
    return out;
}

latent::Autoencoder<float> make_upsampler() {
    using latent::Activation;
    using latent::ConvOptions;
    const auto he = latent::WeightInit::he;
    const auto relu = latent::Act::relu;
    auto enc = std::make_unique<latent::Sequential<float>>();
    enc->add<latent::Conv2D<float>>(32, 3, ConvOptions::same().with_init(he)).add<Activation<float>>(relu);
    enc->add<latent::Conv2D<float>>(32, 3, ConvOptions::same().with_init(he)).add<Activation<float>>(relu);
    auto dec = std::make_unique<latent::Sequential<float>>();
    dec->add<latent::ConvTranspose2D<float>>(16, 4, ConvOptions::padded(1, 2).with_init(he)).add<Activation<float>>(relu);
    dec->add<latent::Conv2D<float>>(1, 3, ConvOptions::same()).add<Activation<float>>(latent::Act::sigmoid);
    return latent::Autoencoder<float>(std::move(enc), std::move(dec));
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Super-resolution 14x14 -> 28x28 on Fashion-MNIST: a small conv network vs nearest/bilinear/bicubic upsampling"};
    ex::CommonFlags flags;
    flags.train_limit = 20000;  // about a minute on 2 cores; --train-limit 0 for all 60000
    ex::add_common_flags(app, flags, 5, 64);
    double lr = 1e-3;
    app.add_option("--lr", lr, "Adam learning rate")->capture_default_str()->check(CLI::PositiveNumber);
    CLI11_PARSE(app, argc, argv);

    return ex::run([&] {
        ex::apply_threads(flags);
        ex::Timer timer;
        const ex::ImageData data = ex::load_image_data(flags);
        ex::print_data_summary(data, timer.seconds());
        const Shape hi = data.shape;
        if (hi.h % 2 != 0 || hi.w % 2 != 0) throw latent::ShapeError("superres: expected even image sizes, found " + hi.str());
        const Shape lo{hi.c, hi.h / 2, hi.w / 2};

        // Low-resolution inputs: 2x2 average pooling.
        const Mat train_lo = apply_layer(std::make_unique<latent::AvgPool2D<float>>(2), hi, data.train_x);
        const Mat test_lo = apply_layer(std::make_unique<latent::AvgPool2D<float>>(2), hi, data.test_x);

        // Baselines.
        timer.reset();
        const Mat nearest = apply_layer(std::make_unique<latent::Upsample2D<float>>(2), lo, test_lo);
        const Mat bilinear = apply_layer(std::make_unique<latent::Upsample2D<float>>(2, latent::Interpolation::bilinear), lo, test_lo);
        const Mat cubic = bicubic(test_lo, lo, 2);

        // The network.
        latent::Rng rng(flags.seed);
        auto net = make_upsampler();
        net.build(lo, rng);
        std::cout << "model: Conv(32)-Conv(32) | ConvT(16, 4, s2, p1)-Conv(1), " << lo << " -> " << net.output_shape() << ", "
                  << net.params().size() << " parameters; Adam lr " << lr << ", batch " << flags.batch << ", " << flags.epochs
                  << " epochs, " << latent::num_threads() << " thread(s)\n\n";
        latent::Adam<float> adam(lr);
        latent::FitOptions<float> fo;
        fo.epochs = flags.epochs;
        fo.batch_size = flags.batch;
        fo.seed = flags.seed + 1;
        timer.reset();
        const latent::History hist = latent::fit(net, adam, train_lo, data.train_x, fo);
        const double train_seconds = timer.seconds();
        const Mat sr = net.reconstruct(test_lo);

        ex::Table table({"method", "test PSNR", "test SSIM", "test MSE"});
        std::vector<ex::Json> rows;
        auto row = [&](const std::string& name, const Mat& up) {
            const double p = latent::psnr(up, data.test_x), s = latent::ssim(up, data.test_x, hi), m = latent::mse(up, data.test_x);
            table.row({name, ex::num(p, 2), ex::num(s, 3), ex::num(m, 5)});
            rows.push_back(ex::Json().set("method", name).set("psnr", p).set("ssim", s).set("mse", m));
            return p;
        };
        row("nearest", nearest);
        row("bilinear", bilinear);
        const double p_cubic = row("bicubic", cubic);
        const double p_net = row("conv network (" + std::to_string(hist.epochs.size()) + " epochs)", sr);
        std::cout << "\ntest set (" << data.test_x.cols() << " images), 14x14 -> 28x28, metrics per image averaged:\n";
        table.print();
        std::cout << "\nthe network is " << ex::num(std::fabs(p_net - p_cubic), 2) << " dB " << (p_net >= p_cubic ? "above" : "below")
                  << " bicubic; trained in " << ex::num(train_seconds, 1)
                  << " s\n";

        const std::vector<Index> idx = ex::first_per_class(data.test_y, data.classes, 1);
        const std::string png = ex::out_path(flags, "superres.png");
        ex::write_image_grid(png,
                             {ex::select_columns(data.test_x, idx), ex::select_columns(nearest, idx), ex::select_columns(cubic, idx),
                              ex::select_columns(sr, idx)},
                             hi, 3);
        std::cout << "wrote " << png << " (rows: original, 14x14 input (nearest), bicubic, network)\n";

        ex::write_json(flags.json, ex::Json()
                                       .set("example", "superres")
                                       .set("data", data.source)
                                       .set("real_data", data.real)
                                       .set("train_samples", static_cast<long>(data.train_x.cols()))
                                       .set("test_samples", static_cast<long>(data.test_x.cols()))
                                       .set("epochs", static_cast<long>(hist.epochs.size()))
                                       .set("batch", static_cast<long>(flags.batch))
                                       .set("lr", lr)
                                       .set("seed", static_cast<unsigned long long>(flags.seed))
                                       .set("threads", latent::num_threads())
                                       .set("train_seconds", train_seconds)
                                       .set("methods", rows)
                                       .set("train_loss", hist.losses())
                                       .set("png", png));
        if (!flags.json.empty()) std::cout << "wrote " << flags.json << "\n";
        return 0;
    });
}
