// distributed: data-parallel training over MPI (latent/distributed/mpi.hpp).
//
//   mpirun -np 2 build-release/examples/distributed --threads 1 --json out/distributed.json
//
// Every rank loads the same data and builds the same model; fit() broadcasts
// rank 0's parameters, gives each rank its share of every global batch, sums
// the gradients with a reduce-scatter (each rank gets its share of the
// parameters), steps the optimizer on that share and gathers the new values
// (together the bytes of one allreduce). With every rank on one machine the
// parameters live in an MPI shared-memory window for the run and nothing is
// copied between ranks (--no-shared-memory: messages). Three phases:
//   1. check: --check-steps steps on the first check_steps x batch images,
//      distributed and (on rank 0) in one process; their largest parameter
//      difference (float summation order is all that differs);
//   2. baseline: rank 0 alone trains --baseline-samples images (the other ranks
//      wait) after a few untimed warm-up steps: the 1-rank samples/s at the
//      same global batch (strong scaling) and, with several ranks, at the
//      per-rank batch (weak scaling: each rank's work per step as one rank's);
//   3. run: all ranks train --epochs epochs; per-rank and total samples/s,
//      the share of time spent exchanging gradients and parameters
//      ("allreduce"), scaling efficiency against 1 rank.
#include "common/common.hpp"

#include <latent/distributed/mpi.hpp>

namespace {

latent::Autoencoder<float> make_model(const std::vector<latent::Index>& sizes, std::uint64_t seed) {
    latent::DenseAutoencoderOptions o;
    o.sizes = sizes;
    latent::Rng rng(seed);
    return latent::make_dense_autoencoder<float>(o, rng);
}

}  // namespace

int main(int argc, char** argv) {
    latent::mpi::Environment env(argc, argv);
    latent::mpi::Communicator world;
    const bool root = world.rank() == 0;

    CLI::App app{"Data-parallel training of the deep autoencoder over MPI (run under mpirun)"};
    ex::CommonFlags flags;
    ex::add_common_flags(app, flags, 1, 128);
    std::string hidden = "2000,500,500";
    latent::Index code = 10, check_steps = 10, baseline_samples = 12800;
    double lr = 1e-3;
    bool no_shared_memory = false;
    app.add_option("--hidden", hidden, "Encoder hidden sizes, comma list (decoder mirrors them)")->capture_default_str();
    app.add_option("--code", code, "Code size")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--lr", lr, "Adam learning rate")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--check-steps", check_steps, "Steps of the distributed-vs-one-process check (0: skip)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_option("--baseline-samples", baseline_samples, "Images rank 0 trains alone for the 1-rank samples/s (0: skip)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_flag("--no-shared-memory", no_shared_memory,
                 "Exchange gradients and parameters by messages even when every rank is on one machine");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return root ? app.exit(e) : (e.get_exit_code() == 0 ? 0 : 1);
    }

    return ex::run([&] {
        ex::apply_threads(flags);
        world.set_shared_memory(!no_shared_memory);
        if (!root) {  // tables and files come from rank 0 (fit shows progress there only); errors still show
            flags.json.clear();
            std::cout.setstate(std::ios::failbit);
        }
        ex::Timer timer;
        const ex::ImageData data = ex::load_image_data(flags);
        ex::print_data_summary(data, timer.seconds());
        std::vector<latent::Index> sizes{data.shape.size()};
        for (latent::Index h : ex::parse_sizes(hidden, "--hidden")) sizes.push_back(h);
        sizes.push_back(code);
        const std::string arch = ex::join_sizes(ex::mirrored(sizes));
        const latent::Index n = data.train_x.cols();
        std::cout << "model: " << arch << ", Adam lr " << lr << ", global batch " << flags.batch << " (" << flags.batch / world.size()
                  << "-" << (flags.batch + world.size() - 1) / world.size() << " per rank), " << world.size() << " rank(s) x "
                  << latent::num_threads() << " thread(s), exchange by "
                  << (world.shared_memory() && world.size() > 1 ? "shared memory (one machine)" : "messages") << "\n\n";

        latent::FitOptions<float> fo;
        fo.batch_size = flags.batch;
        fo.seed = flags.seed + 1;
        fo.epochs = 1;

        // 1. distributed == one process, up to float summation order
        double max_diff = 0;
        if (check_steps > 0) {
            const latent::Index m = std::min(n, check_steps * flags.batch);
            const latent::Matrix<float> subset = data.train_x.leftCols(m);
            fo.progress = false;
            auto single = make_model(sizes, flags.seed);
            if (root) {
                latent::Adam<float> adam(lr);
                latent::fit(single, adam, subset, fo);
            }
            auto replica = make_model(sizes, flags.seed);
            latent::Adam<float> adam(lr);
            fo.replicas = &world;
            latent::fit(replica, adam, subset, fo);
            fo.replicas = nullptr;
            if (root) max_diff = static_cast<double>((single.params().values() - replica.params().values()).cwiseAbs().maxCoeff());
            world.broadcast(&max_diff, 1);
            std::cout << "check: " << (m + flags.batch - 1) / flags.batch << " steps, " << world.size()
                      << " ranks vs one process: max |parameter difference| " << ex::num(max_diff, 3) << " (float)\n";
        }

        // 2. one rank alone: the same global batch, and each rank's batch
        const latent::Index per_rank_batch = std::max<latent::Index>(1, flags.batch / world.size());
        double single_sps = 0, single_local_sps = 0;
        world.barrier();
        if (baseline_samples > 0) {
            if (root) {
                auto one_rank = [&](latent::Index batch) {
                    auto model = make_model(sizes, flags.seed);
                    latent::Adam<float> adam(lr);
                    latent::FitOptions<float> bo = fo;
                    bo.batch_size = batch;
                    bo.progress = false;  // warm-up: the product engine's first choices, caches
                    latent::fit(model, adam, latent::Matrix<float>(data.train_x.leftCols(std::min(n, 3 * batch))), bo);
                    bo.progress = true;
                    const latent::Matrix<float> subset = data.train_x.leftCols(std::min(n, baseline_samples));
                    return latent::fit(model, adam, subset, bo).epochs.back().samples_per_second;
                };
                single_sps = one_rank(flags.batch);
                single_local_sps = world.size() > 1 ? one_rank(per_rank_batch) : single_sps;
            }
            world.broadcast(&single_sps, 1);
            world.broadcast(&single_local_sps, 1);
            std::cout << "1 rank: " << ex::num(single_sps, 1) << " samples/s at batch " << flags.batch;
            if (world.size() > 1) std::cout << ", " << ex::num(single_local_sps, 1) << " at batch " << per_rank_batch;
            std::cout << "\n";
        }
        world.barrier();

        // 3. all ranks
        auto model = make_model(sizes, flags.seed);
        latent::Adam<float> adam(lr);
        fo.epochs = flags.epochs;
        fo.progress = true;
        fo.replicas = &world;
        world.reset_timers();
        timer.reset();
        const latent::History hist = latent::fit(model, adam, data.train_x, fo);
        const double seconds = timer.seconds();
        const double total_sps = static_cast<double>(n) * static_cast<double>(hist.epochs.size()) / seconds;

        // per rank: samples it trained on, its allreduce seconds
        std::vector<double> local(static_cast<std::size_t>(2 * world.size()), 0.0);
        latent::Index mine = 0;
        for (latent::Index s = 0; s < n; s += flags.batch) {
            const latent::Index b = std::min(flags.batch, n - s);
            mine += b * (world.rank() + 1) / world.size() - b * world.rank() / world.size();
        }
        local[static_cast<std::size_t>(2 * world.rank())] = static_cast<double>(mine * static_cast<latent::Index>(hist.epochs.size()));
        local[static_cast<std::size_t>(2 * world.rank() + 1)] = world.allreduce_seconds();
        world.sum(local.data(), static_cast<latent::Index>(local.size()));

        ex::Table table({"rank", "samples", "samples/s", "allreduce s", "allreduce share"});
        double allreduce_max = 0;
        std::vector<double> per_rank;
        for (int r = 0; r < world.size(); ++r) {
            const double samples = local[static_cast<std::size_t>(2 * r)], ar = local[static_cast<std::size_t>(2 * r + 1)];
            allreduce_max = std::max(allreduce_max, ar);
            per_rank.push_back(samples / seconds);
            table.row({std::to_string(r), ex::num(samples, 0), ex::num(samples / seconds, 1), ex::num(ar, 3),
                       ex::num(100 * ar / seconds, 1) + "%"});
        }
        const double efficiency = single_sps > 0 ? total_sps / (world.size() * single_sps) : 0.0;
        const double weak_efficiency = single_local_sps > 0 ? total_sps / (world.size() * single_local_sps) : 0.0;
        table.row({"total", ex::num(static_cast<double>(n) * static_cast<double>(hist.epochs.size()), 0), ex::num(total_sps, 1), "", ""});
        std::cout << "\n";
        table.print();
        std::cout << "\n" << world.size() << " ranks: " << ex::num(total_sps, 1) << " samples/s";
        std::cout << "; allreduce " << ex::num(100 * allreduce_max / seconds, 1) << "% of the time (slowest rank)\n";
        if (single_sps > 0) {
            std::cout << "  strong scaling (1 rank at batch " << flags.batch << "): " << ex::num(total_sps / single_sps, 2)
                      << "x, efficiency " << ex::num(100 * efficiency, 1) << "%\n";
            if (world.size() > 1)
                std::cout << "  weak scaling (1 rank at batch " << per_rank_batch << ", each rank's share): "
                          << ex::num(total_sps / single_local_sps, 2) << "x, efficiency " << ex::num(100 * weak_efficiency, 1) << "%\n";
        }
        std::cout << "final loss " << ex::num(hist.epochs.back().loss, 5) << "\n";

        ex::write_json(flags.json, ex::Json()
                                       .set("example", "distributed")
                                       .set("data", data.source)
                                       .set("architecture", arch)
                                       .set("ranks", world.size())
                                       .set("threads_per_rank", latent::num_threads())
                                       .set("exchange", world.shared_memory() && world.size() > 1 ? "shared memory" : "messages")
                                       .set("batch", static_cast<long>(flags.batch))
                                       .set("epochs", static_cast<long>(hist.epochs.size()))
                                       .set("samples_per_second", total_sps)
                                       .set("per_rank_samples_per_second", per_rank)
                                       .set("single_rank_samples_per_second", single_sps)
                                       .set("scaling_efficiency", efficiency)
                                       .set("speedup", single_sps > 0 ? total_sps / single_sps : 0.0)
                                       .set("single_rank_per_rank_batch_samples_per_second", single_local_sps)
                                       .set("weak_scaling_efficiency", weak_efficiency)
                                       .set("weak_speedup", single_local_sps > 0 ? total_sps / single_local_sps : 0.0)
                                       .set("allreduce_seconds", allreduce_max)
                                       .set("allreduce_share", allreduce_max / seconds)
                                       .set("train_seconds", seconds)
                                       .set("check_steps", static_cast<long>(check_steps))
                                       .set("max_abs_param_diff_vs_single_process", max_diff)
                                       .set("train_loss", hist.losses()));
        if (!flags.json.empty()) std::cout << "wrote " << flags.json << "\n";
        return 0;
    });
}
