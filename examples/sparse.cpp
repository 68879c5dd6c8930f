// sparse: sparsity penalties on an autoencoder's code, with and without.
//
// Four models share the encoder 784-256-<code> (ReLU hidden) and its mirror:
//   relu code            no penalty
//   relu code + L1       lambda * mean over the batch of sum_k |z_k| (Keras' activity_regularizer)
//   sigmoid code         no penalty
//   sigmoid code + KL    beta * sum_k KL(rho || mean activation of unit k)   (Ng's sparse AE)
// For each: mean code activation, fraction of near-zero code values
// (|z| < --zero-eps) and of units that are nearly never active, and test MSE.
// A PNG shows test originals and each model's reconstructions.
#include "common/common.hpp"

namespace {

std::string short_num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

struct Run {
    std::string name, penalty;
    latent::Act code;
    double l1 = 0, kl_rho = 0, kl_beta = 0;
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Sparse autoencoders: L1 activity and KL sparsity penalties on the code, against no penalty"};
    ex::CommonFlags flags;
    ex::add_common_flags(app, flags, 10, 128);
    latent::Index code = 64, hidden = 256;
    double l1 = 1e-4, rho = 0.05, beta = 1e-3, lr = 1e-3, zero_eps = 0.01;
    std::string only;
    app.add_option("--code", code, "Code size")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--hidden", hidden, "Hidden layer size (encoder 784-hidden-code, mirrored)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--l1", l1, "L1 activity weight lambda")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--rho", rho, "KL target mean activation rho")->capture_default_str()->check(CLI::Range(1e-6, 1.0 - 1e-6));
    app.add_option("--beta", beta, "KL sparsity weight beta")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--lr", lr, "Adam learning rate")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--zero-eps", zero_eps, "A code value counts as near zero when |z| < this")->capture_default_str();
    app.add_option("--only", only, "Run only these models, comma list of: relu, l1, sigmoid, kl");
    CLI11_PARSE(app, argc, argv);

    return ex::run([&] {
        ex::apply_threads(flags);
        const ex::Timer load_timer;
        const ex::ImageData data = ex::load_image_data(flags);
        ex::print_data_summary(data, load_timer.seconds());
        std::cout << "model: " << data.shape.size() << "-" << hidden << "-" << code << "-" << hidden << "-" << data.shape.size()
                  << ", ReLU hidden, sigmoid output, MSE, Adam lr " << lr << ", batch " << flags.batch << ", " << flags.epochs
                  << " epochs\n";

        const std::vector<Run> all = {
            {"relu", "none", latent::Act::relu},
            {"l1", "L1 activity, lambda " + short_num(l1), latent::Act::relu, l1},
            {"sigmoid", "none", latent::Act::sigmoid},
            {"kl", "KL, rho " + short_num(rho) + ", beta " + short_num(beta), latent::Act::sigmoid, 0, rho, beta},
        };
        std::vector<Run> runs;
        for (const auto& r : all)
            if (only.empty() || ("," + only + ",").find("," + r.name + ",") != std::string::npos) runs.push_back(r);
        if (runs.empty()) throw latent::ConfigError("--only: expected some of relu, l1, sigmoid, kl; found '" + only + "'");

        std::vector<latent::Index> idx = ex::first_per_class(data.test_y, data.classes, 1);
        std::vector<latent::Matrix<float>> grid{ex::select_columns(data.test_x, idx)};
        ex::Table table({"code", "penalty", "mean |z|", "near-zero z", "dead units", "test MSE", "time"});
        std::vector<ex::Json> results;
        for (const auto& r : runs) {
            latent::DenseAutoencoderOptions o;
            o.sizes = {data.shape.size(), hidden, code};
            o.hidden = latent::Act::relu;
            o.code = r.code;
            o.output = latent::Act::sigmoid;
            o.l1_activity = r.l1;
            o.kl_rho = r.kl_rho;
            o.kl_beta = r.kl_beta;
            latent::Rng rng(flags.seed);
            auto ae = latent::make_dense_autoencoder<float>(o, rng);
            latent::Adam<float> adam(lr);
            latent::FitOptions<float> fo;
            fo.epochs = flags.epochs;
            fo.batch_size = flags.batch;
            fo.seed = flags.seed + 1;
            std::cout << "\n[" << r.name << "] " << latent::act_name(r.code) << " code, penalty: " << r.penalty << "\n";
            ex::Timer timer;
            latent::fit(ae, adam, data.train_x, fo);
            const double seconds = timer.seconds();

            const latent::Matrix<float> z = ae.encode(data.test_x);
            const latent::Matrix<float> rec = ae.reconstruct(data.test_x);
            const double mse = (rec - data.test_x).cast<double>().squaredNorm() / static_cast<double>(rec.size());
            const double mean_abs = z.cwiseAbs().cast<double>().mean();
            const double near_zero = (z.array().abs() < static_cast<float>(zero_eps)).cast<double>().mean();
            // a unit is "dead" when it is near zero on at least 99% of the test images
            const Eigen::VectorXd unit_zero = (z.array().abs() < static_cast<float>(zero_eps)).cast<double>().rowwise().mean();
            const double dead = (unit_zero.array() >= 0.99).cast<double>().mean();
            table.row({latent::act_name(r.code), r.penalty, ex::num(mean_abs, 4), ex::num(100 * near_zero, 1) + "%",
                       ex::num(100 * dead, 1) + "%", ex::num(mse, 5), ex::num(seconds, 1) + " s"});
            results.push_back(ex::Json()
                                  .set("model", r.name)
                                  .set("code_activation", latent::act_name(r.code))
                                  .set("penalty", r.penalty)
                                  .set("l1_lambda", r.l1)
                                  .set("kl_rho", r.kl_rho)
                                  .set("kl_beta", r.kl_beta)
                                  .set("mean_abs_code", mean_abs)
                                  .set("near_zero_fraction", near_zero)
                                  .set("dead_unit_fraction", dead)
                                  .set("test_mse", mse)
                                  .set("train_seconds", seconds));
            grid.push_back(ex::select_columns(rec, idx));
        }

        std::cout << "\n";
        table.print();
        std::cout << "near-zero z: share of test code values with |z| < " << zero_eps << "; dead units: code units near zero on >= 99% of test images\n";
        const std::string png = ex::out_path(flags, "sparse.png");
        ex::write_image_grid(png, grid, data.shape, 3);
        std::string rows = "test originals";
        for (const auto& r : runs) rows += ", " + r.name;
        std::cout << "wrote " << png << " (rows: " << rows << ")\n";
        ex::write_json(flags.json, ex::Json()
                                       .set("example", "sparse")
                                       .set("data", data.source)
                                       .set("real_data", data.real)
                                       .set("architecture", std::to_string(data.shape.size()) + "-" + std::to_string(hidden) + "-" +
                                                                std::to_string(code))
                                       .set("epochs", flags.epochs)
                                       .set("batch", static_cast<long>(flags.batch))
                                       .set("zero_eps", zero_eps)
                                       .set("runs", results)
                                       .set("png", png));
        if (!flags.json.empty()) std::cout << "wrote " << flags.json << "\n";
        return 0;
    });
}
