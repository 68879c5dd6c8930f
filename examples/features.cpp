// features: an autoencoder's codes as features for a classifier. The same
// softmax-regression classifier (latent::SoftmaxClassifier, Adam) is trained
// on raw pixels (784), on PCA-32 and on AE-32 codes of the training images,
// and scored on the test images. The autoencoder and PCA never see a label.
#include "common/common.hpp"

#include <latent/apps/classifier.hpp>
#include <latent/apps/pca.hpp>

namespace {
using Mat = latent::Matrix<float>;
using latent::Index;
}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Feature extraction: softmax-regression accuracy on raw pixels, PCA codes and autoencoder codes"};
    ex::CommonFlags flags;
    ex::add_common_flags(app, flags, 10, 128);
    Index code = 32;
    long clf_epochs = 30;
    double lr = 1e-3, clf_lr = 1e-3, l2 = 0.0;
    app.add_option("--code", code, "Code size of the autoencoder and number of PCA components")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--lr", lr, "Adam learning rate for the autoencoder")->capture_default_str();
    app.add_option("--clf-epochs", clf_epochs, "Classifier epochs (same for every feature set)")->capture_default_str();
    app.add_option("--clf-lr", clf_lr, "Classifier Adam learning rate")->capture_default_str();
    app.add_option("--l2", l2, "Classifier L2 penalty on the weights")->capture_default_str();
    std::string npy;
    ex::add_npy_flag(app, npy, "the autoencoder's codes of the test images (N x code)");
    CLI11_PARSE(app, argc, argv);
    ex::apply_threads(flags);

    return ex::run([&] {
        ex::Timer total;
        const ex::ImageData data = ex::load_image_data(flags);
        const std::string cs = std::to_string(code);
        std::cout << "data: " << data.source << " (train " << data.train_x.cols() << ", test " << data.test_x.cols() << ")\n";

        // Autoencoder 784-512-128-code-128-512-784, trained without labels.
        ex::Timer t_ae;
        latent::History hist;
        auto ae = ex::train_dense_autoencoder(data.train_x, {512, 128}, code, flags, lr, &hist);
        const Mat ae_train = ae.encode(data.train_x), ae_test = ae.encode(data.test_x);
        const double ae_seconds = t_ae.seconds();
        const double ae_mse = (ae.reconstruct(data.test_x) - data.test_x).squaredNorm() / static_cast<double>(data.test_x.size());

        ex::Timer t_pca;
        latent::PCA<float> pca(code);
        pca.fit(data.train_x);
        const Mat pca_train = pca.transform(data.train_x), pca_test = pca.transform(data.test_x);
        const double pca_seconds = t_pca.seconds();
        const double pca_mse =
            (pca.inverse_transform(pca_test) - data.test_x).squaredNorm() / static_cast<double>(data.test_x.size());

        struct Set {
            std::string name;
            const Mat* train;
            const Mat* test;
            double feature_seconds;
            double recon_mse;
        };
        const std::vector<Set> sets = {{"raw pixels", &data.train_x, &data.test_x, 0.0, 0.0},
                                       {"PCA-" + cs, &pca_train, &pca_test, pca_seconds, pca_mse},
                                       {"AE-" + cs, &ae_train, &ae_test, ae_seconds, ae_mse}};
        ex::Table table({"features", "dim", "train acc", "test acc", "features s", "classifier s", "test recon MSE"});
        ex::Json results;
        for (const auto& s : sets) {
            ex::Timer t;
            latent::SoftmaxClassifier<float> clf(data.classes, l2);
            latent::Adam<float> opt(clf_lr);
            latent::FitOptions<float> cfo;
            cfo.epochs = clf_epochs;
            cfo.batch_size = flags.batch;
            cfo.seed = flags.seed + 1;
            clf.fit(*s.train, data.train_y, opt, cfo);
            const double train_acc = clf.accuracy(*s.train, data.train_y), test_acc = clf.accuracy(*s.test, data.test_y);
            const double secs = t.seconds();
            table.row({s.name, std::to_string(s.train->rows()), ex::num(train_acc), ex::num(test_acc), ex::num(s.feature_seconds, 1),
                       ex::num(secs, 1), s.name == "raw pixels" ? std::string("-") : ex::num(s.recon_mse, 5)});
            results.set(s.name, ex::Json()
                                    .set("dim", static_cast<long>(s.train->rows()))
                                    .set("train_accuracy", train_acc)
                                    .set("test_accuracy", test_acc)
                                    .set("feature_seconds", s.feature_seconds)
                                    .set("classifier_seconds", secs));
        }
        std::cout << '\n';
        table.print();
        std::cout << "\nclassifier: softmax regression on standardized features, Adam lr " << clf_lr << ", " << clf_epochs
                  << " epochs, batch " << flags.batch << "; autoencoder 784-512-128-" << code << " (mirrored), " << flags.epochs
                  << " epochs, final loss " << ex::num(hist.epochs.empty() ? 0.0 : hist.epochs.back().loss, 5) << "; total "
                  << ex::num(total.seconds(), 1) << " s\n";
        ex::write_npy(npy, ae_test);
        ex::write_json(flags.json, ex::Json()
                                       .set("source", data.source)
                                       .set("code", static_cast<long>(code))
                                       .set("ae_epochs", flags.epochs)
                                       .set("classifier_epochs", clf_epochs)
                                       .set("results", results)
                                       .set("seconds", total.seconds()));
        return 0;
    });
}
