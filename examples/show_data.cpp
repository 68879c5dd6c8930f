// show_data: loads the example data (Fashion-MNIST, or the synthetic shapes
// when it is absent), prints per-class counts and pixel statistics, and
// writes a PNG grid with 10 training images of each class (one class a row).
#include "common/common.hpp"

int main(int argc, char** argv) {
    CLI::App app{"Show the example data set: class counts and a PNG grid of 10 images per class"};
    ex::CommonFlags flags;
    ex::add_common_flags(app, flags, 0, 128);
    int per_class = 10;
    app.add_option("--per-class", per_class, "Images per class in the grid")->capture_default_str()->check(CLI::Range(1, 100));
    CLI11_PARSE(app, argc, argv);
    return ex::run([&] {
        ex::apply_threads(flags);

        ex::Timer timer;
        const ex::ImageData data = ex::load_image_data(flags);
        std::cout << "data: " << data.source << "\n"
                  << "train " << data.train_x.cols() << ", test " << data.test_x.cols() << " images of shape " << data.shape
                  << ", loaded in " << ex::num(timer.seconds(), 2) << " s\n\n";

        std::vector<long> train_count(static_cast<std::size_t>(data.classes), 0), test_count(train_count);
        for (int y : data.train_y) ++train_count[static_cast<std::size_t>(y)];
        for (int y : data.test_y) ++test_count[static_cast<std::size_t>(y)];
        ex::Table table({"label", "class", "train", "test", "mean pixel"});
        ex::Json classes_json;
        for (int c = 0; c < data.classes; ++c) {
            double sum = 0;
            long n = 0;
            for (std::size_t j = 0; j < data.train_y.size(); ++j)
                if (data.train_y[j] == c) sum += data.train_x.col(static_cast<latent::Index>(j)).mean(), ++n;
            const double mean = n ? sum / static_cast<double>(n) : 0.0;
            const auto& name = data.class_names[static_cast<std::size_t>(c)];
            table.row({std::to_string(c), name, std::to_string(train_count[static_cast<std::size_t>(c)]),
                       std::to_string(test_count[static_cast<std::size_t>(c)]), ex::num(mean)});
            classes_json.set(name, ex::Json()
                                       .set("train", train_count[static_cast<std::size_t>(c)])
                                       .set("test", test_count[static_cast<std::size_t>(c)])
                                       .set("mean_pixel", mean));
        }
        table.print();

        std::vector<latent::Matrix<float>> rows;
        for (int c = 0; c < data.classes; ++c) {
            std::vector<latent::Index> idx;
            for (std::size_t j = 0; j < data.train_y.size() && static_cast<int>(idx.size()) < per_class; ++j)
                if (data.train_y[j] == c) idx.push_back(static_cast<latent::Index>(j));
            if (static_cast<int>(idx.size()) < per_class) {
                std::cerr << "class " << c << " has only " << idx.size() << " training images; use a larger --train-limit\n";
                return 1;
            }
            rows.push_back(ex::select_columns(data.train_x, idx));
        }
        const std::string png = ex::out_path(flags, "show_data.png");
        ex::write_image_grid(png, rows, data.shape, 2);
        std::cout << "\nwrote " << png << "\n";

        ex::write_json(flags.json, ex::Json()
                                       .set("source", data.source)
                                       .set("real", data.real)
                                       .set("train", static_cast<long>(data.train_x.cols()))
                                       .set("test", static_cast<long>(data.test_x.cols()))
                                       .set("classes", classes_json)
                                       .set("grid", png));
        return 0;
    });
}
