// search: similarity search in latent space. The training images are
// encoded once into a LatentIndex; each test image is a query. Precision@10
// (the fraction of the 10 neighbours with the query's label) and query time
// are compared with exact search over raw pixels. Writes a PNG of queries
// and their neighbours (latent rows, then raw-pixel rows).
#include "common/common.hpp"

#include <latent/apps/latent_index.hpp>
#include <latent/metrics/ranking.hpp>

namespace {
using Mat = latent::Matrix<float>;
using latent::Index;
}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Similarity search: kNN in autoencoder code space vs raw pixels (precision@10, query time)"};
    ex::CommonFlags flags;
    ex::add_common_flags(app, flags, 10, 128);
    Index code = 32, k = 10;
    double lr = 1e-3;
    int show = 6;
    app.add_option("--code", code, "Code size")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--k", k, "Neighbours per query")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--lr", lr, "Adam learning rate")->capture_default_str();
    app.add_option("--show", show, "Queries drawn in the PNG")->capture_default_str()->check(CLI::Range(1, 50));
    std::string npy;
    ex::add_npy_flag(app, npy, "the test images' codes (N x code)");
    CLI11_PARSE(app, argc, argv);
    ex::apply_threads(flags);

    return ex::run([&] {
        ex::Timer total;
        const ex::ImageData data = ex::load_image_data(flags);
        std::cout << "data: " << data.source << " (database: " << data.train_x.cols() << " training images, queries: " << data.test_x.cols()
                  << " test images)\n";

        ex::Timer t_train;
        auto ae = ex::train_dense_autoencoder(data.train_x, {512, 128}, code, flags, lr);
        const double train_seconds = t_train.seconds();

        struct Row {
            std::string name;
            double build_s, query_s, precision;
            latent::KnnResult<float> hits;
        };
        std::vector<Row> rows;
        const double q = static_cast<double>(data.test_x.cols());

        for (latent::Metric m : {latent::Metric::euclidean, latent::Metric::cosine}) {
            ex::Timer tb;
            latent::VectorIndex<float> raw(m);
            raw.add(data.train_x);
            const double build = tb.seconds();
            ex::Timer tq;
            auto hits = raw.search(data.test_x, k);
            const double query = tq.seconds();
            rows.push_back({std::string("raw pixels (784), ") + latent::metric_name(m), build, query,
                            latent::retrieval_precision_at_k(hits.indices, data.train_y, data.test_y, k), std::move(hits)});
        }
        for (latent::Metric m : {latent::Metric::euclidean, latent::Metric::cosine}) {
            ex::Timer tb;
            latent::LatentIndex<float> index(ae, m);
            index.add(data.train_x);  // encode the database once
            const double build = tb.seconds();
            ex::Timer tq;
            auto hits = index.search(data.test_x, k);  // encodes the queries, then searches
            const double query = tq.seconds();
            rows.push_back({"AE-" + std::to_string(code) + " codes, " + latent::metric_name(m), build, query,
                            latent::retrieval_precision_at_k(hits.indices, data.train_y, data.test_y, k), std::move(hits)});
        }

        ex::Table table({"index", "precision@" + std::to_string(k), "build s", "query s", "ms / query", "queries / s"});
        std::vector<ex::Json> json_rows;
        for (const auto& r : rows) {
            table.row({r.name, ex::num(r.precision), ex::num(r.build_s, 2), ex::num(r.query_s, 2), ex::num(1000 * r.query_s / q, 3),
                       ex::num(q / r.query_s, 0)});
            json_rows.push_back(ex::Json()
                                    .set("index", r.name)
                                    .set("precision_at_k", r.precision)
                                    .set("build_seconds", r.build_s)
                                    .set("query_seconds", r.query_s)
                                    .set("ms_per_query", 1000 * r.query_s / q));
        }
        std::cout << '\n';
        table.print();
        std::cout << "\nlatent build time includes encoding the database; latent query time includes encoding the queries.\n"
                  << "autoencoder 784-512-128-" << code << " (mirrored), " << flags.epochs << " epochs in " << ex::num(train_seconds, 1)
                  << " s; exact search (one GEMM per block of 256 queries, then a top-" << k << " scan); total "
                  << ex::num(total.seconds(), 1) << " s\n";

        // PNG: per query, a row [query | latent neighbours], then [query | raw neighbours] (Euclidean).
        const auto& lat = rows[2].hits;
        const auto& raw = rows[0].hits;
        std::vector<Mat> grid;
        const std::vector<Index> queries = ex::first_per_class(data.test_y, data.classes, 1);
        for (int s = 0; s < show && s < static_cast<int>(queries.size()); ++s) {
            const Index qi = queries[static_cast<std::size_t>(s)];
            for (const auto* h : {&lat, &raw}) {
                Mat r(data.test_x.rows(), k + 1);
                r.col(0) = data.test_x.col(qi);
                for (Index i = 0; i < k; ++i) r.col(i + 1) = data.train_x.col(h->indices(i, qi));
                grid.push_back(std::move(r));
            }
        }
        const std::string png = ex::out_path(flags, "search.png");
        ex::write_image_grid(png, grid, data.shape, 2);
        std::cout << "wrote " << png << " (per query: a row of latent neighbours, then a row of raw-pixel neighbours)\n";

        ex::write_npy(npy, ae.encode(data.test_x));
        ex::write_json(flags.json, ex::Json()
                                       .set("source", data.source)
                                       .set("code", static_cast<long>(code))
                                       .set("k", static_cast<long>(k))
                                       .set("epochs", flags.epochs)
                                       .set("train_seconds", train_seconds)
                                       .set("queries", static_cast<long>(data.test_x.cols()))
                                       .set("database", static_cast<long>(data.train_x.cols()))
                                       .set("rows", json_rows)
                                       .set("png", png)
                                       .set("seconds", total.seconds()));
        return 0;
    });
}
