// recommender: rating prediction with item-based AutoRec (Sedhain et al.
// 2015). By default on built-in synthetic low-rank ratings; --ratings reads a
// MovieLens file (u.data, ratings.dat or ratings.csv). 90/10 random split;
// test RMSE against the global mean, item means and a regularized user+item
// bias model; then the top-N unrated items for one user.
#include "common/common.hpp"

#include <latent/apps/autorec.hpp>

int main(int argc, char** argv) {
    CLI::App app{"Recommendation with AutoRec: RMSE vs global mean, item mean and user+item bias; top-N for a user"};
    ex::CommonFlags flags;
    ex::add_common_flags(app, flags, 40, 32);
    std::string ratings;
    latent::AutoRecOptions ro;
    latent::SyntheticRatingOptions so;
    double test_fraction = 0.1, bias_lambda = 5.0;
    latent::Index user = 0, top_n = 10;
    app.add_option("--ratings", ratings, "MovieLens ratings file (u.data, ratings.dat, ratings.csv); default: synthetic ratings");
    app.add_option("--hidden", ro.hidden, "AutoRec hidden units (sigmoid)")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--l2", ro.l2, "AutoRec L2 weight penalty")->capture_default_str();
    app.add_option("--lr", ro.learning_rate, "Adam learning rate")->capture_default_str();
    app.add_option("--dropout", ro.input_dropout, "Dropout on the input ratings while training")->capture_default_str();
    app.add_option("--test-fraction", test_fraction, "Held-out fraction of the ratings")->capture_default_str();
    app.add_option("--bias-lambda", bias_lambda, "Regularization of the user+item bias baseline")->capture_default_str();
    app.add_option("--users", so.users, "Synthetic: users")->capture_default_str();
    app.add_option("--items", so.items, "Synthetic: items")->capture_default_str();
    app.add_option("--rank", so.rank, "Synthetic: rank of the user-item interaction")->capture_default_str();
    app.add_option("--density", so.density, "Synthetic: fraction of (user, item) pairs rated")->capture_default_str();
    app.add_option("--user", user, "Show recommendations for this user index")->capture_default_str();
    app.add_option("--top", top_n, "How many recommendations")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    ex::apply_threads(flags);

    return ex::run([&] {
        ex::Timer total;
        latent::Rng rng(flags.seed);
        latent::RatingTable all;
        std::string source;
        if (ratings.empty()) {
            all = latent::make_synthetic_ratings(so, rng);
            source = "synthetic: " + std::to_string(so.users) + " users x " + std::to_string(so.items) + " items, rank " +
                     std::to_string(so.rank) + " interactions + user/item biases + noise, whole stars 1-5";
        } else {
            all = latent::read_movielens(ratings);
            source = ratings;
        }
        std::cout << "data: " << source << "\n" << all.size() << " ratings, " << all.users() << " users, " << all.items() << " items ("
                  << ex::num(100.0 * static_cast<double>(all.size()) / (static_cast<double>(all.users()) * static_cast<double>(all.items())), 2)
                  << "% dense), ratings " << all.min_rating << " to " << all.max_rating << "\n";
        auto [train, test] = latent::split_ratings(all, test_fraction, rng);
        std::cout << "split: " << train.size() << " train / " << test.size() << " test ratings\n";

        ex::Table table({"model", "test RMSE", "train RMSE", "fit s"});
        ex::Json results;
        auto add = [&](const std::string& name, double rmse, double train_rmse, double secs) {
            table.row({name, ex::num(rmse), ex::num(train_rmse), ex::num(secs, 2)});
            results.set(name, ex::Json().set("test_rmse", rmse).set("train_rmse", train_rmse).set("seconds", secs));
        };
        double bias_rmse = 0;
        for (auto kind : {latent::BaselineKind::global_mean, latent::BaselineKind::item_mean, latent::BaselineKind::user_item_bias}) {
            ex::Timer t;
            latent::RatingBaseline b(kind, bias_lambda);
            b.fit(train);
            const double secs = t.seconds();
            const char* name = kind == latent::BaselineKind::global_mean ? "global mean"
                               : kind == latent::BaselineKind::item_mean ? "item mean"
                                                                         : "user + item bias";
            const double r = b.rmse(test);
            if (kind == latent::BaselineKind::user_item_bias) bias_rmse = r;
            add(name, r, b.rmse(train), secs);
        }
        ex::Timer t;
        ro.epochs = flags.epochs;
        ro.batch_size = flags.batch;
        ro.seed = flags.seed;
        latent::AutoRec<float> rec(ro);
        rec.fit(train);
        const double secs = t.seconds();
        const double autorec_rmse = rec.rmse(test);
        add("I-AutoRec (" + std::to_string(ro.hidden) + " hidden)", autorec_rmse, rec.rmse(train), secs);
        std::cout << '\n';
        table.print();
        std::cout << "\nAutoRec: item-based, " << ro.hidden << " sigmoid units, L2 " << ro.l2 << ", Adam lr " << ro.learning_rate << ", "
                  << ro.epochs << " epochs, batch " << ro.batch_size << " items; "
                  << (autorec_rmse < bias_rmse ? "beats" : "does NOT beat") << " the user+item bias baseline by "
                  << ex::num(bias_rmse - autorec_rmse) << " RMSE\n";

        if (user < 0 || user >= train.users()) throw latent::ConfigError("--user: expected an index below " + std::to_string(train.users()));
        const auto top = rec.recommend(user, top_n);
        std::vector<double> held_out(static_cast<std::size_t>(train.items()), std::nan(""));
        latent::Index rated = 0;
        for (const auto& r : test.ratings)
            if (r.user == user) held_out[static_cast<std::size_t>(r.item)] = r.value;
        for (const auto& r : train.ratings) rated += r.user == user;
        std::cout << "\ntop " << top.size() << " for user " << train.user_ids[static_cast<std::size_t>(user)] << " (" << rated
                  << " training ratings; items the user rated are skipped):\n";
        ex::Table tt({"rank", "item", "predicted", "held-out rating"});
        std::vector<ex::Json> top_json;
        for (std::size_t i = 0; i < top.size(); ++i) {
            const double h = held_out[static_cast<std::size_t>(top[i].first)];
            tt.row({std::to_string(i + 1), std::to_string(train.item_ids[static_cast<std::size_t>(top[i].first)]), ex::num(top[i].second, 2),
                    std::isnan(h) ? std::string("-") : ex::num(h, 1)});
            top_json.push_back(ex::Json().set("item", static_cast<long long>(train.item_ids[static_cast<std::size_t>(top[i].first)])).set("predicted", top[i].second));
        }
        tt.print();
        std::cout << "\ntotal " << ex::num(total.seconds(), 1) << " s\n";

        ex::write_json(flags.json, ex::Json()
                                       .set("source", source)
                                       .set("ratings", static_cast<long>(all.size()))
                                       .set("users", static_cast<long>(all.users()))
                                       .set("items", static_cast<long>(all.items()))
                                       .set("test_fraction", test_fraction)
                                       .set("results", results)
                                       .set("autorec_beats_bias", autorec_rmse < bias_rmse)
                                       .set("top", top_json)
                                       .set("seconds", total.seconds()));
        return 0;
    });
}
