// anomaly: the one-class protocol on Fashion-MNIST. For each class c, train
// an autoencoder on the training images of class c only, score every test
// image, and measure how well the score separates class c (normal) from the
// other nine (anomalies): ROC AUC and PR AUC, with the threshold set for a 5%
// false-positive rate on held-out normal images.
//
// The detector (--detector ensemble, the default): the autoencoder's
// reconstruction error smoothed by a 1-pixel Gaussian, plus the distance to
// the nearest normal training image after the same smoothing, each as a
// log-score standardized on the held-out normal images (ScoreEnsemble).
// --detector ae scores by the autoencoder alone. Beside it, the baselines:
// kNN on raw and on smoothed pixels, and the PCA reconstruction error.
#include "common/common.hpp"

#include <latent/apps/anomaly.hpp>
#include <latent/apps/pca.hpp>
#include <latent/layers/conv2d.hpp>
#include <latent/layers/conv_transpose2d.hpp>
#include <latent/layers/reshape.hpp>
#include <latent/metrics/ranking.hpp>

namespace {

using Mat = latent::Matrix<float>;
using latent::Index;

latent::Autoencoder<float> make_model(const std::string& kind, Index code, latent::Rng& rng) {
    if (kind == "dense") {
        latent::DenseAutoencoderOptions o;
        o.sizes = {784, 256, 64, code};
        o.output = latent::Act::sigmoid;
        return latent::make_dense_autoencoder<float>(o, rng);
    }
    // conv: 1x28x28 -> 16x14x14 -> 32x7x7 -> code, and back
    latent::ConvOptions s2;
    s2.stride = {2, 2};
    s2.padding = latent::Padding::same();
    auto enc = std::make_unique<latent::Sequential<float>>();
    enc->add<latent::Conv2D<float>>(16, latent::Size2{3, 3}, s2).add<latent::Activation<float>>(latent::Act::relu);
    enc->add<latent::Conv2D<float>>(32, latent::Size2{3, 3}, s2).add<latent::Activation<float>>(latent::Act::relu);
    enc->add<latent::Flatten<float>>().add<latent::Dense<float>>(code);
    auto dec = std::make_unique<latent::Sequential<float>>();
    dec->add<latent::Dense<float>>(32 * 7 * 7).add<latent::Activation<float>>(latent::Act::relu);
    dec->add<latent::Reshape<float>>(latent::Shape{32, 7, 7});
    dec->add<latent::ConvTranspose2D<float>>(16, latent::Size2{3, 3}, s2).add<latent::Activation<float>>(latent::Act::relu);
    dec->add<latent::ConvTranspose2D<float>>(1, latent::Size2{3, 3}, s2).add<latent::Activation<float>>(latent::Act::sigmoid);
    latent::Autoencoder<float> ae(std::move(enc), std::move(dec));
    ae.build(latent::Shape{1, 28, 28}, rng);
    return ae;
}

std::vector<int> parse_classes(const std::string& s, int classes) {
    std::vector<int> out;
    if (s.empty()) {
        for (int c = 0; c < classes; ++c) out.push_back(c);
        return out;
    }
    std::stringstream in(s);
    std::string tok;
    while (std::getline(in, tok, ',')) {
        const int c = std::stoi(tok);
        if (c < 0 || c >= classes) throw latent::ConfigError("--classes: expected classes in [0, " + std::to_string(classes) + "), found " + tok);
        out.push_back(c);
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"One-class anomaly detection on Fashion-MNIST: autoencoder reconstruction error vs kNN and PCA baselines"};
    ex::CommonFlags flags;
    ex::add_common_flags(app, flags, 20, 64);
    std::string model = "dense", classes_arg, detector = "ensemble";
    Index code = 32, knn_k = 1, pca_components = 32;
    double lr = 1e-3, fpr = 0.05, val_fraction = 0.1, smooth = 1.0;
    app.add_option("--model", model, "Autoencoder: dense (784-256-64-code) or conv (two stride-2 convs, code, two transposed convs)")
        ->capture_default_str()
        ->check(CLI::IsMember({"dense", "conv"}));
    app.add_option("--code", code, "Code size")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--lr", lr, "Adam learning rate")->capture_default_str();
    app.add_option("--detector", detector, "ensemble (AE error + kNN distance, standardized on held-out normals) or ae (AE error alone)")
        ->capture_default_str()
        ->check(CLI::IsMember({"ensemble", "ae"}));
    app.add_option("--smooth", smooth,
                   "Gaussian smoothing (pixels) of the AE's error and of the images kNN compares (0: pixel MSE, raw pixels)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_option("--knn", knn_k, "Baseline: distance to the k-th nearest normal training image")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--pca", pca_components, "Baseline: PCA components")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--fpr", fpr, "Target false-positive rate for the threshold (on held-out normal images)")->capture_default_str();
    app.add_option("--classes", classes_arg, "Comma-separated normal classes to run (default: all)");
    std::string npy;
    ex::add_npy_flag(app, npy, "the autoencoders' test scores (N x classes run, one column per normal class)");
    CLI11_PARSE(app, argc, argv);
    ex::apply_threads(flags);

    return ex::run([&] {
        ex::Timer total;
        const ex::ImageData data = ex::load_image_data(flags);
        std::cout << "data: " << data.source << "\nmodel: " << model << " autoencoder, code " << code << ", " << flags.epochs
                  << " epochs per class; baselines: " << knn_k << "-NN distance, PCA-" << pca_components << " error\n\n";
        const std::vector<int> classes = parse_classes(classes_arg, data.classes);

        Mat all_scores(static_cast<Index>(classes.size()), data.test_x.cols());  // --npy: class x image
        ex::Table table({"normal class", "detector ROC AUC", "PR AUC", "recall@thr", "FPR@thr", "AE alone", "kNN raw", "kNN smoothed",
                         "PCA", "train s"});
        std::vector<ex::Json> per_class;
        double sum_det = 0, sum_pr = 0, sum_ae = 0, sum_knn = 0, sum_knn_s = 0, sum_pca = 0;
        for (int c : classes) {
            ex::Timer t;
            std::vector<Index> idx;
            for (std::size_t j = 0; j < data.train_y.size(); ++j)
                if (data.train_y[j] == c) idx.push_back(static_cast<Index>(j));
            const Index n_val = static_cast<Index>(val_fraction * static_cast<double>(idx.size()));
            const Mat normal = ex::select_columns(data.train_x, idx);
            const Mat train = normal.leftCols(normal.cols() - n_val), val = normal.rightCols(n_val);
            std::vector<int> labels(data.test_y.size());
            for (std::size_t j = 0; j < labels.size(); ++j) labels[j] = data.test_y[j] != c ? 1 : 0;

            latent::Rng rng(flags.seed + static_cast<std::uint64_t>(c));
            latent::AnomalyDetector<float> det(make_model(model, code, rng));
            latent::Adam<float> adam(lr);
            latent::FitOptions<float> fo;
            fo.epochs = flags.epochs;
            fo.batch_size = flags.batch;
            fo.seed = flags.seed + static_cast<std::uint64_t>(c);
            det.fit(train, adam, fo);
            const double train_seconds = t.seconds();
            det.set_smoothing(smooth, data.shape);
            const latent::Vector<double> ae_val = det.score(val).cast<double>(), ae_test = det.score(data.test_x).cast<double>();

            // kNN: distance to the nearest (k-th) normal training image, raw and smoothed
            latent::KnnDetector<float> knn(knn_k), knn_smooth(knn_k);
            knn.fit(train);
            knn_smooth.set_smoothing(smooth, data.shape);
            knn_smooth.fit(train);
            const latent::Vector<double> knn_test = knn.score(data.test_x).cast<double>();
            const latent::Vector<double> knn_s_val = knn_smooth.score(val).cast<double>(), knn_s_test = knn_smooth.score(data.test_x).cast<double>();

            // the detector's scores: the AE alone, or the ensemble calibrated on the held-out normals
            latent::Vector<double> det_val = ae_val, det_test = ae_test;
            if (detector == "ensemble") {
                latent::ScoreEnsemble ens;
                ens.fit({ae_val, knn_s_val});
                det_val = ens.combine({ae_val, knn_s_val});
                det_test = ens.combine({ae_test, knn_s_test});
            }
            const double threshold = latent::threshold_at_fpr(det_val, fpr);
            const latent::BinaryCounts at = latent::confusion_at(det_test, labels, threshold);
            const double auc_det = latent::roc_auc(det_test, labels), pr_det = latent::average_precision(det_test, labels);
            const double auc_ae = latent::roc_auc(ae_test, labels);
            const double auc_knn = latent::roc_auc(knn_test, labels), auc_knn_s = latent::roc_auc(knn_s_test, labels);
            if (!npy.empty()) all_scores.row(static_cast<Index>(per_class.size())) = det_test.transpose().cast<float>();

            // PCA reconstruction error
            latent::PCA<float> pca(pca_components);
            pca.fit(train);
            const Mat rec = pca.inverse_transform(pca.transform(data.test_x));
            const latent::Vector<float> pca_score = (rec - data.test_x).colwise().squaredNorm().transpose();
            const double auc_pca = latent::roc_auc(pca_score, labels);

            const std::string& name = data.class_names[static_cast<std::size_t>(c)];
            table.row({std::to_string(c) + " " + name, ex::num(auc_det), ex::num(pr_det), ex::num(at.recall(), 3),
                       ex::num(at.false_positive_rate(), 3), ex::num(auc_ae), ex::num(auc_knn), ex::num(auc_knn_s), ex::num(auc_pca),
                       ex::num(train_seconds, 1)});
            std::cerr << "class " << c << " (" << name << "): detector " << ex::num(auc_det) << ", AE alone " << ex::num(auc_ae)
                      << ", kNN " << ex::num(auc_knn) << ", kNN smoothed " << ex::num(auc_knn_s) << ", PCA " << ex::num(auc_pca) << "  ["
                      << ex::num(t.seconds(), 1) << " s]\n";
            per_class.push_back(ex::Json()
                                    .set("class", c)
                                    .set("name", name)
                                    .set("ae_roc_auc", auc_det)
                                    .set("ae_pr_auc", pr_det)
                                    .set("ae_alone_roc_auc", auc_ae)
                                    .set("threshold", threshold)
                                    .set("recall_at_threshold", at.recall())
                                    .set("precision_at_threshold", at.precision())
                                    .set("fpr_at_threshold", at.false_positive_rate())
                                    .set("knn_roc_auc", auc_knn)
                                    .set("knn_smoothed_roc_auc", auc_knn_s)
                                    .set("pca_roc_auc", auc_pca)
                                    .set("train_seconds", train_seconds));
            sum_det += auc_det;
            sum_pr += pr_det;
            sum_ae += auc_ae;
            sum_knn += auc_knn;
            sum_knn_s += auc_knn_s;
            sum_pca += auc_pca;
        }
        const double n = static_cast<double>(classes.size());
        table.row({"mean", ex::num(sum_det / n), ex::num(sum_pr / n), "", "", ex::num(sum_ae / n), ex::num(sum_knn / n), ex::num(sum_knn_s / n),
                   ex::num(sum_pca / n), ""});
        std::cout << '\n';
        table.print();
        std::cout << "\ndetector: " << (detector == "ensemble" ? "AE error + kNN distance (log-scores standardized on held-out normals)" : "AE error")
                  << ", smoothing " << smooth << " px; threshold: " << ex::num(fpr * 100, 1) << "% false positives on "
                  << ex::num(val_fraction * 100, 0) << "% held-out normal training images\n"
                  << "PR AUC with the other nine classes as the positive (anomaly) class, so chance level is 0.9; kNN = distance to the "
                  << knn_k << "-th nearest normal training image; PCA = squared reconstruction error; total " << ex::num(total.seconds(), 1)
                  << " s\n";

        ex::write_npy(npy, all_scores);
        ex::write_json(flags.json, ex::Json()
                                       .set("source", data.source)
                                       .set("model", model)
                                       .set("code", static_cast<long>(code))
                                       .set("epochs", flags.epochs)
                                       .set("detector", detector)
                                       .set("smoothing", smooth)
                                       .set("mean_ae_roc_auc", sum_det / n)
                                       .set("mean_ae_pr_auc", sum_pr / n)
                                       .set("mean_ae_alone_roc_auc", sum_ae / n)
                                       .set("mean_knn_roc_auc", sum_knn / n)
                                       .set("mean_knn_smoothed_roc_auc", sum_knn_s / n)
                                       .set("mean_pca_roc_auc", sum_pca / n)
                                       .set("knn_k", static_cast<long>(knn_k))
                                       .set("pca_components", static_cast<long>(pca_components))
                                       .set("seconds", total.seconds())
                                       .set("classes", per_class));
        return 0;
    });
}
