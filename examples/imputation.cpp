// imputation: fill in missing pixels with latent::Imputer (a denoising
// autoencoder trained with random masking and a loss over observed entries
// only) and compare with mean imputation and k-nearest-neighbour imputation.
// Test images get 20%, 50% or 80% of their pixels removed at random, or a
// 14x14 block; RMSE is measured on the missing pixels only. Writes a PNG grid
// (original, with holes in red, mean, kNN, autoencoder).
//
// With --csv-in FILE (empty cells = missing), it instead fits the imputer on
// that table and writes the completed table to --csv-out.
#include "common/common.hpp"

#include <latent/apps/imputer.hpp>
#include <latent/data/csv.hpp>

namespace {

using Mat = latent::Matrix<float>;
using latent::Index;
const float kNaN = std::numeric_limits<float>::quiet_NaN();

// Removes pixels of the columns of x: MCAR at `rate`, or (rate < 0) one
// block x block square per image at a random position.
Mat remove_pixels(const Mat& x, double rate, Index block, latent::Shape shape, latent::Rng& rng) {
    Mat out = x;
    for (Index j = 0; j < x.cols(); ++j) {
        if (rate >= 0) {
            for (Index i = 0; i < x.rows(); ++i)
                if (rng.bernoulli(rate)) out(i, j) = kNaN;
            if (out.col(j).array().isNaN().all()) out(0, j) = x(0, j);  // the imputer needs one observed pixel
        } else {
            const auto y0 = static_cast<Index>(rng.below(static_cast<std::uint64_t>(shape.h - block + 1)));
            const auto x0 = static_cast<Index>(rng.below(static_cast<std::uint64_t>(shape.w - block + 1)));
            for (Index y = y0; y < y0 + block; ++y)
                for (Index xx = x0; xx < x0 + block; ++xx) out(y * shape.w + xx, j) = kNaN;
        }
    }
    return out;
}

double rmse_missing(const Mat& filled, const Mat& truth, const Mat& holes) {
    double se = 0;
    Index n = 0;
    for (Index j = 0; j < truth.cols(); ++j)
        for (Index i = 0; i < truth.rows(); ++i)
            if (std::isnan(holes(i, j))) {
                const double e = static_cast<double>(filled(i, j)) - static_cast<double>(truth(i, j));
                se += e * e;
                ++n;
            }
    return n ? std::sqrt(se / static_cast<double>(n)) : 0.0;
}

// Grey images (columns) to RGB ({3,h,w}); NaN pixels red.
Mat to_rgb(const Mat& x) {
    const Index n = x.rows();
    Mat out(3 * n, x.cols());
    for (Index j = 0; j < x.cols(); ++j)
        for (Index i = 0; i < n; ++i) {
            const float v = x(i, j);
            const bool hole = std::isnan(v);
            out(i, j) = hole ? 0.85f : v;
            out(n + i, j) = hole ? 0.1f : v;
            out(2 * n + i, j) = hole ? 0.1f : v;
        }
    return out;
}

int run_csv(const std::string& in, const std::string& out, const ex::CommonFlags& flags, const std::vector<Index>& hidden) {
    auto table = latent::read_csv<float>(in);
    Index missing = 0;
    for (Index j = 0; j < table.data.cols(); ++j)
        for (Index i = 0; i < table.data.rows(); ++i) missing += std::isnan(table.data(i, j)) ? 1 : 0;
    std::cout << "read " << in << ": " << table.rows() << " rows x " << table.features() << " columns, " << missing
              << " missing cells\n";
    latent::ImputerOptions o;
    o.hidden = hidden;
    o.epochs = flags.epochs;
    o.batch_size = flags.batch;
    o.seed = flags.seed;
    o.standardize = true;
    o.output = latent::Act::identity;
    latent::Imputer<float> imp(o);
    imp.fit(table.data);
    table.data = imp.impute(table.data);
    const std::string path = out.empty() ? in + ".imputed.csv" : out;
    latent::write_csv(path, table);
    std::cout << "wrote " << path << " (" << missing << " cells filled; observed cells unchanged)\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Imputation of missing pixels: denoising autoencoder vs mean and kNN imputation"};
    ex::CommonFlags flags;
    ex::add_common_flags(app, flags, 10, 128);
    Index eval = 2000, knn_ref = 10000, knn_k = 5, block = 14;
    std::vector<Index> hidden = {512, 128};
    std::string csv_in, csv_out;
    double lr = 1e-3;
    app.add_option("--eval", eval, "Test images per missing pattern")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--knn-ref", knn_ref, "Training images the kNN imputer searches")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--knn-k", knn_k, "Neighbours averaged by the kNN imputer")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--block", block, "Side of the missing square in the block pattern")->capture_default_str()->check(CLI::Range(1, 28));
    app.add_option("--hidden", hidden, "Hidden layer widths of the imputer's encoder")->capture_default_str();
    app.add_option("--lr", lr, "Adam learning rate")->capture_default_str();
    app.add_option("--csv-in", csv_in, "Impute this CSV (empty cells = missing) instead of the image benchmark");
    app.add_option("--csv-out", csv_out, "Where --csv-in's completed table goes (default: <csv-in>.imputed.csv)");
    CLI11_PARSE(app, argc, argv);
    ex::apply_threads(flags);

    return ex::run([&] {
        if (!csv_in.empty()) return run_csv(csv_in, csv_out, flags, hidden);

        ex::Timer total;
        const ex::ImageData data = ex::load_image_data(flags);
        const latent::Shape shape = data.shape;
        if (block > shape.h || block > shape.w) throw latent::ConfigError("--block larger than the images");
        std::cout << "data: " << data.source << " (train " << data.train_x.cols() << ", evaluated on " << std::min(eval, data.test_x.cols())
                  << " test images per pattern)\n";

        // Training: complete training images; each batch hides pixels from the
        // input, half the images at a random rate in [0, 0.9], half with a block.
        ex::Timer t_fit;
        latent::ImputerOptions o;
        o.hidden = hidden;
        o.standardize = false;
        o.output = latent::Act::sigmoid;
        o.epochs = flags.epochs;
        o.batch_size = flags.batch;
        o.learning_rate = lr;
        o.seed = flags.seed;
        latent::Imputer<float> imp(o);
        imp.set_hide_pattern([shape, block](Mat& hide, latent::Rng& rng) {
            for (Index j = 0; j < hide.cols(); ++j) {
                if (rng.bernoulli(0.5)) {
                    const double rate = rng.uniform(0.0, 0.9);
                    for (Index i = 0; i < hide.rows(); ++i) hide(i, j) = rng.bernoulli(rate) ? 1.0f : 0.0f;
                } else {
                    const Index b = 4 + static_cast<Index>(rng.below(static_cast<std::uint64_t>(block + 3)));  // 4 .. block+6
                    const Index bh = std::min(b, shape.h), bw = std::min(b, shape.w);
                    const auto y0 = static_cast<Index>(rng.below(static_cast<std::uint64_t>(shape.h - bh + 1)));
                    const auto x0 = static_cast<Index>(rng.below(static_cast<std::uint64_t>(shape.w - bw + 1)));
                    for (Index y = y0; y < y0 + bh; ++y)
                        for (Index x = x0; x < x0 + bw; ++x) hide(y * shape.w + x, j) = 1.0f;
                }
            }
        });
        imp.fit(data.train_x);
        const double fit_seconds = t_fit.seconds();

        const Mat truth = data.test_x.leftCols(std::min(eval, data.test_x.cols()));
        const Mat reference = data.train_x.leftCols(std::min(knn_ref, data.train_x.cols()));
        const latent::Vector<float> means = data.train_x.rowwise().mean();

        struct Pattern {
            std::string name;
            double rate;
        };
        const std::vector<Pattern> patterns = {{"20% at random", 0.2},
                                               {"50% at random", 0.5},
                                               {"80% at random", 0.8},
                                               {std::to_string(block) + "x" + std::to_string(block) + " block", -1.0}};
        ex::Table table({"missing", "pixels missing", "mean RMSE", "kNN RMSE", "AE RMSE", "kNN s", "AE s"});
        std::vector<ex::Json> rows_json;
        std::vector<Mat> grid;
        const Index show = 8;
        latent::Rng rng(flags.seed + 7);
        for (const auto& p : patterns) {
            const Mat holes = remove_pixels(truth, p.rate, block, shape, rng);
            const double frac = static_cast<double>(holes.array().isNaN().count()) / static_cast<double>(holes.size());
            const Mat by_mean = latent::mean_impute(holes, means);
            ex::Timer tk;
            const Mat by_knn = latent::knn_impute(holes, reference, knn_k);
            const double knn_s = tk.seconds();
            ex::Timer ta;
            const Mat by_ae = imp.impute(holes);
            const double ae_s = ta.seconds();
            const double r_mean = rmse_missing(by_mean, truth, holes), r_knn = rmse_missing(by_knn, truth, holes),
                         r_ae = rmse_missing(by_ae, truth, holes);
            table.row({p.name, ex::num(100 * frac, 1) + "%", ex::num(r_mean), ex::num(r_knn), ex::num(r_ae), ex::num(knn_s, 2),
                       ex::num(ae_s, 2)});
            rows_json.push_back(ex::Json()
                                    .set("pattern", p.name)
                                    .set("fraction_missing", frac)
                                    .set("rmse_mean", r_mean)
                                    .set("rmse_knn", r_knn)
                                    .set("rmse_ae", r_ae)
                                    .set("knn_seconds", knn_s)
                                    .set("ae_seconds", ae_s));
            for (const Mat* m : {&truth, &holes, &by_mean, &by_knn, &by_ae}) grid.push_back(to_rgb(m->leftCols(show)));
        }
        std::cout << '\n';
        table.print();
        std::cout << "\nRMSE over the missing pixels only (pixels in [0, 1]). mean: per-pixel training mean; kNN: mean of the "
                  << knn_k << " nearest of " << reference.cols() << " training images on the observed pixels;\nAE: imputer "
                  << "with encoder widths";
        for (Index h : hidden) std::cout << ' ' << h;
        std::cout << " and the mask as extra input, " << flags.epochs << " epochs on " << data.train_x.cols() << " images in "
                  << ex::num(fit_seconds, 1) << " s; total " << ex::num(total.seconds(), 1) << " s\n";

        const std::string png = ex::out_path(flags, "imputation.png");
        ex::write_image_grid(png, grid, latent::Shape{3, shape.h, shape.w}, 2);
        std::cout << "wrote " << png << " (per pattern, rows: original, missing in red, mean, kNN, autoencoder)\n";

        ex::write_json(flags.json, ex::Json()
                                       .set("source", data.source)
                                       .set("epochs", flags.epochs)
                                       .set("fit_seconds", fit_seconds)
                                       .set("eval_images", static_cast<long>(truth.cols()))
                                       .set("knn_reference", static_cast<long>(reference.cols()))
                                       .set("knn_k", static_cast<long>(knn_k))
                                       .set("patterns", rows_json)
                                       .set("png", png)
                                       .set("seconds", total.seconds()));
        return 0;
    });
}
