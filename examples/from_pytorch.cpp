// from_pytorch: run a PyTorch-trained anomaly detector in C++. The dense
// autoencoder 784-128-32-128-784 that tools/train_torch_anomaly.py trained
// in PyTorch on one Fashion-MNIST class is loaded from its safetensors file
// (PyTorch's own state_dict names: encoder.0.weight, ...) into the same
// latent model, scores the full test set by reconstruction error, and is
// compared with the scores torch wrote: the largest score difference, both
// ROC AUCs, and the time to score 10,000 images in each.
//
//   OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tools/train_torch_anomaly.py --class 0
//   build/examples/from_pytorch --dir out/from_pytorch
#include "common/common.hpp"

#include <fstream>

#include <latent/io/json.hpp>
#include <latent/data/npy.hpp>
#include <latent/io/safetensors.hpp>
#include <latent/metrics/ranking.hpp>

namespace {

using Mat = latent::Matrix<float>;

// The latent twin of the torch module: Sequential encoder / decoder with
// the same positions (ReLU layers count, as in nn.Sequential).
latent::Autoencoder<float> make_model() {
    auto enc = std::make_unique<latent::Sequential<float>>();
    enc->add<latent::Dense<float>>(128).add<latent::Activation<float>>(latent::Act::relu).add<latent::Dense<float>>(32);
    auto dec = std::make_unique<latent::Sequential<float>>();
    dec->add<latent::Dense<float>>(128).add<latent::Activation<float>>(latent::Act::relu);
    dec->add<latent::Dense<float>>(784).add<latent::Activation<float>>(latent::Act::sigmoid);
    latent::Autoencoder<float> ae(std::move(enc), std::move(dec));
    latent::Rng rng(0);
    ae.build(latent::Shape{784}, rng);
    return ae;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Load a PyTorch-trained anomaly detector from safetensors and score Fashion-MNIST with it"};
    ex::CommonFlags flags;
    ex::add_common_flags(app, flags, 0, 256);
    std::string dir = "out/from_pytorch", npy;
    int repeats = 5;
    app.add_option("--dir", dir, "Directory tools/train_torch_anomaly.py wrote (model.safetensors, scores.npy, torch.json)")
        ->capture_default_str();
    app.add_option("--npy", npy, "Write latent's scores (10,000 float32) as .npy to this file");
    app.add_option("--repeats", repeats, "Time the scoring this many times and keep the fastest")->capture_default_str()->check(CLI::PositiveNumber);
    CLI11_PARSE(app, argc, argv);

    return ex::run([&] {
        ex::apply_threads(flags);
        const std::string model_path = dir + "/model.safetensors";
        if (!std::ifstream(model_path))
            throw latent::ConfigError("no " + model_path + "; train the detector in PyTorch first:\n  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "
                                      "tools/train_torch_anomaly.py --out " + dir);
        const latent::SafetensorsFile file = latent::read_safetensors(model_path);
        const std::string* cls_text = file.metadata("normal_class");
        const int normal_class = cls_text ? std::stoi(*cls_text) : 0;

        ex::ImageData data = ex::load_image_data(flags);
        if (!data.real) throw latent::ConfigError("from_pytorch needs the Fashion-MNIST test set (the torch model was trained on it); found none in " + flags.data);
        std::vector<int> labels(data.test_y.size());
        for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = data.test_y[i] != normal_class ? 1 : 0;  // 1 = anomaly

        latent::Autoencoder<float> ae = make_model();
        latent::load_safetensors(ae, model_path);  // names, shapes, dtypes checked; (out, in) row-major -> our layout

        ae.reconstruction_error(data.test_x.leftCols(std::min<latent::Index>(256, data.test_x.cols())), flags.batch);  // warm-up
        latent::Vector<float> scores;
        double best = 1e300;
        for (int r = 0; r < repeats; ++r) {
            ex::Timer t;
            scores = ae.reconstruction_error(data.test_x, flags.batch);
            best = std::min(best, t.seconds());
        }
        const double auc = latent::roc_auc(scores, labels);

        // torch's side, as train_torch_anomaly.py wrote it
        const Mat torch_scores = latent::load_npy<float>(dir + "/scores.npy");  // (N,) -> 1 x N
        if (torch_scores.cols() != scores.size())
            throw latent::DataError("scores.npy: expected " + std::to_string(scores.size()) + " scores, found " + std::to_string(torch_scores.cols()) +
                                    " (trained with --test-limit?)");
        const double max_diff = static_cast<double>((torch_scores.row(0).transpose() - scores).cwiseAbs().maxCoeff());
        const double torch_auc_here = latent::roc_auc(latent::Vector<float>(torch_scores.row(0).transpose()), labels);
        const auto torch_json = latent::detail::parse_json(latent::detail::read_file_bytes(dir + "/torch.json"), dir + "/torch.json");
        const auto number = [&](const char* key) {
            const auto* v = torch_json.find(key);
            return v && v->is_number() ? v->as_double() : -1.0;
        };
        const double torch_auc = number("roc_auc"), torch_seconds = number("score_seconds");

        const std::string& name = data.class_names[static_cast<std::size_t>(normal_class)];
        std::cout << "normal class " << normal_class << " (" << name << "); " << scores.size() << " test images, " << data.source << "\n\n";
        ex::Table table({"", "ROC AUC", "score 10k images (s)", "threads"});
        table.row({"PyTorch " + std::string(torch_json.find("torch") ? torch_json.find("torch")->as_string() : ""), ex::num(torch_auc, 6),
                   ex::num(torch_seconds, 4), ex::num(number("threads"), 0)});
        table.row({"latent (from safetensors)", ex::num(auc, 6), ex::num(best * 10000.0 / static_cast<double>(scores.size()), 4),
                   std::to_string(flags.threads)});
        table.print();
        std::cout << "\nmax |score difference| " << ex::num(max_diff, 3) << " (scores are per-image MSE, mean "
                  << ex::num(static_cast<double>(scores.mean()), 4) << "); torch's own scores give ROC AUC " << ex::num(torch_auc_here, 6)
                  << " here\n";

        if (!npy.empty()) {
            ex::ensure_parent_dir(npy);
            latent::save_npy(npy, scores);
        }
        ex::write_json(flags.json, ex::Json()
                                       .set("normal_class", normal_class)
                                       .set("images", static_cast<long>(scores.size()))
                                       .set("roc_auc", auc)
                                       .set("torch_roc_auc", torch_auc)
                                       .set("max_abs_score_diff", max_diff)
                                       .set("score_seconds", best)
                                       .set("torch_score_seconds", torch_seconds)
                                       .set("threads", flags.threads));
        return max_diff <= 1e-5 ? 0 : 1;
    });
}
