// serve: one shared model, N worker threads scoring requests from a queue.
//
// Loads a saved model (--model FILE: latent's .lat, or a .safetensors that
// latent wrote, whose metadata carries the architecture; without one it trains
// the small 784-128-32-128-784 autoencoder for --epochs on --train-limit
// images, saves it to --out/serve_model.lat and loads it back, so it always
// runs). Then, for each worker count in --workers, --requests requests
// (each --per-request test images) wait on a queue, a backlog as a loaded
// service sees (queued before the clock starts, so no producer thread takes
// a core from the workers on a small machine), and the workers take them
// off and score them, every worker with its own
// NetworkPredictor on the ONE shared const model (serve/predictor.hpp),
// which by default copies the weights once for its worker
// (NetworkPredictor::copy_weights: each core then reads its own memory;
// --shared-weights reads the model's own parameters from every worker). The
// score is the mean squared reconstruction error when the model's output
// has the input's size, the mean output otherwise.
//
// Reports, per worker count: throughput (samples/s over the wall time) and
// the p50/p99 latency of one request (from the moment a worker takes it
// off the queue until its score is computed). --json PATH writes p50_us,
// p99_us, samples_per_second and threads for every run (top level: the
// first run).
#include "common/common.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <latent/io/safetensors.hpp>
#include <latent/serve/predictor.hpp>

namespace {

using Mat = latent::Matrix<float>;
using latent::Index;

// A bounded multi-producer, multi-consumer queue of request ids; pop()
// returns false once it is closed and drained.
class RequestQueue {
public:
    explicit RequestQueue(std::size_t capacity) : capacity_(capacity) {}
    void push(Index id) {
        std::unique_lock<std::mutex> lock(m_);
        not_full_.wait(lock, [&] { return q_.size() < capacity_; });
        q_.push_back(id);
        lock.unlock();
        not_empty_.notify_one();
    }
    bool pop(Index& id) {
        std::unique_lock<std::mutex> lock(m_);
        not_empty_.wait(lock, [&] { return !q_.empty() || closed_; });
        if (q_.empty()) return false;
        id = q_.front();
        q_.pop_front();
        lock.unlock();
        not_full_.notify_one();
        return true;
    }
    void close() {
        {
            std::lock_guard<std::mutex> lock(m_);
            closed_ = true;
        }
        not_empty_.notify_all();
    }

private:
    std::size_t capacity_;
    std::deque<Index> q_;
    bool closed_ = false;
    std::mutex m_;
    std::condition_variable not_empty_, not_full_;
};

struct RunResult {
    int threads = 0;
    double p50_us = 0, p99_us = 0, samples_per_second = 0;
};

double percentile(std::vector<double>& v, double q) {
    std::sort(v.begin(), v.end());
    const auto i = static_cast<std::size_t>(std::min<double>(static_cast<double>(v.size() - 1), q * static_cast<double>(v.size())));
    return v[i];
}

RunResult serve(const latent::Network<float>& model, const Mat& pool, int workers, Index requests, Index per_request, bool copy_weights) {
    RequestQueue queue(static_cast<std::size_t>(requests));
    for (Index r = 0; r < requests; ++r) queue.push(r);
    queue.close();
    std::vector<std::vector<double>> latencies(static_cast<std::size_t>(workers));
    std::atomic<double> checksum{0.0};
    std::vector<std::thread> pool_threads;
    const ex::Timer wall;
    for (int w = 0; w < workers; ++w)
        pool_threads.emplace_back([&, w] {
            latent::NetworkPredictor<float> predictor(model);  // this worker's workspace
            if (copy_weights) predictor.copy_weights();
            Mat out(model.output_size(), per_request);
            auto& lat = latencies[static_cast<std::size_t>(w)];
            lat.reserve(static_cast<std::size_t>(requests));
            double sum = 0;
            Index id;
            while (queue.pop(id)) {
                const auto t0 = std::chrono::steady_clock::now();
                const Index first = (id * per_request) % (pool.cols() - per_request + 1);
                const auto x = pool.middleCols(first, per_request);
                predictor.predict(x, out);
                const float score = out.rows() == x.rows() ? (out - x).squaredNorm() / static_cast<float>(out.size()) : out.mean();
                lat.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
                sum += static_cast<double>(score);
            }
            double cur = checksum.load();
            while (!checksum.compare_exchange_weak(cur, cur + sum)) {
            }
        });
    for (auto& t : pool_threads) t.join();
    const double seconds = wall.seconds();
    std::vector<double> all;
    for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
    RunResult res;
    res.threads = workers;
    res.p50_us = percentile(all, 0.50);
    res.p99_us = percentile(all, 0.99);
    res.samples_per_second = static_cast<double>(requests * per_request) / seconds;
    if (!std::isfinite(checksum.load())) throw latent::NumericError("serve: a score was not finite");
    return res;
}

std::vector<int> parse_workers(const std::string& text) {
    std::vector<int> out;
    for (Index v : ex::parse_sizes(text, "--workers")) out.push_back(static_cast<int>(v));
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Serving: N worker threads scoring requests from a queue against one shared model; throughput and p50/p99 latency"};
    ex::CommonFlags flags;
    flags.train_limit = 6000;  // before add_common_flags, so --help shows these defaults
    flags.test_limit = 2000;
    ex::add_common_flags(app, flags, 1, 128);
    std::string model_path, workers_arg = "1,2";
    Index requests = 20000, per_request = 1;
    bool shared_weights = false;
    app.add_option("--model", model_path,
                   "Saved model to serve: latent's .lat, or a .safetensors written by latent (save_safetensors: the architecture "
                   "rides in its metadata); without it, a small 784-128-32-128-784 autoencoder is trained");
    app.add_option("--workers", workers_arg, "Worker thread counts to measure, comma-separated")->capture_default_str();
    app.add_option("--requests", requests, "Requests per worker count")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--per-request", per_request, "Samples in one request (1: single-sample scoring)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_flag("--shared-weights", shared_weights,
                 "Every worker reads the model's own parameters (default: each worker's predictor copies them once)");
    CLI11_PARSE(app, argc, argv);

    return ex::run([&] {
        // Each worker runs its products on one thread: the workers are the parallelism.
        ex::apply_threads(flags);
        const std::vector<int> workers = parse_workers(workers_arg);
        const ex::ImageData data = ex::load_image_data(flags);
        std::string path = model_path;
        if (path.empty()) {
            ex::Timer t;
            latent::Autoencoder<float> ae = ex::train_dense_autoencoder(data.train_x, {128}, 32, flags, 1e-3);
            path = ex::out_path(flags, "serve_model.lat");
            latent::save(ae, path);
            const std::string st = ex::out_path(flags, "serve_model.safetensors");
            latent::save_safetensors(ae, st);
            std::cerr << "trained 784-128-32-128-784 for " << flags.epochs << " epoch(s) on " << data.train_x.cols() << " images in "
                      << ex::num(t.seconds(), 3) << " s; saved to " << path << " (and " << st << ", which --model also takes)\n";
        }
        const bool is_safetensors = path.size() >= 12 && path.compare(path.size() - 12, 12, ".safetensors") == 0;
        const latent::Network<float> model =
            is_safetensors ? latent::load_network_safetensors<float>(path) : latent::load_network<float>(path);
        if (model.input_size() != data.test_x.rows())
            throw latent::ShapeError("serve: the model expects " + std::to_string(model.input_size()) + " inputs, the images have " +
                                     std::to_string(data.test_x.rows()));
        if (per_request > data.test_x.cols())
            throw latent::ConfigError("serve: --per-request " + std::to_string(per_request) + " exceeds the " +
                                      std::to_string(data.test_x.cols()) + " test images");
        std::cout << "model " << path << " (" << model.params().size() << " parameters), " << requests << " requests of "
                  << per_request << " sample(s), " << data.source << "; weights "
                  << (shared_weights ? "shared by the workers" : "copied once per worker") << "\n";

        serve(model, data.test_x, 1, std::min<Index>(requests, 2000), per_request, !shared_weights);  // warm-up: first-call allocations, caches
        std::vector<RunResult> runs;
        ex::Table table({"workers", "samples/s", "p50 us", "p99 us", "speedup"});
        for (int w : workers) {
            runs.push_back(serve(model, data.test_x, w, requests, per_request, !shared_weights));
            const auto& r = runs.back();
            table.row({std::to_string(w), ex::num(r.samples_per_second, 6), ex::num(r.p50_us, 4), ex::num(r.p99_us, 4),
                       ex::num(r.samples_per_second / runs.front().samples_per_second, 3)});
        }
        table.print();

        ex::Json j;
        j.set("model", path).set("per_request", static_cast<long>(per_request)).set("requests", static_cast<long>(requests));
        j.set("weights", shared_weights ? "shared" : "copied");
        j.set("threads", runs.front().threads).set("p50_us", runs.front().p50_us).set("p99_us", runs.front().p99_us);
        j.set("samples_per_second", runs.front().samples_per_second);
        std::vector<ex::Json> rs;
        for (const auto& r : runs)
            rs.push_back(ex::Json()
                             .set("threads", r.threads)
                             .set("p50_us", r.p50_us)
                             .set("p99_us", r.p99_us)
                             .set("samples_per_second", r.samples_per_second));
        j.set("runs", rs);
        ex::write_json(flags.json, j);
        return 0;
    });
}
