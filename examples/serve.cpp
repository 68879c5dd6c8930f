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
// --shared-weights reads the model's own parameters from every worker;
// --bf16 rounds each worker's copy of the Dense weights to bfloat16,
// use_bf16_weights: half the bytes read per sample; the largest output
// difference from float on the test images is measured and printed). The
// score is the mean squared reconstruction error when the model's output
// has the input's size, the mean output otherwise.
//
// Reports, per worker count: throughput (samples/s over the wall time) and
// the p50/p99 latency of one request (from the moment a worker takes it
// off the queue until its score is computed), and a machine control: one
// worker alternating a request with a busy loop as long as the median
// request, both timed (on a virtual machine whose host takes the core for
// ~50 us about every millisecond, the loop's p99 shows the requests' tail
// too: the model is not its cause). --json PATH writes p50_us, p99_us,
// samples_per_second and threads for every run (top level: the first run),
// and control: p50_us, p99_us, loop_p50_us, loop_p99_us.
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

enum class Weights { shared, copied, bf16 };

const char* weights_name(Weights w) { return w == Weights::shared ? "shared" : w == Weights::copied ? "copied" : "bf16"; }

// A worker's predictor on the shared model, its weights as chosen.
latent::NetworkPredictor<float> make_predictor(const latent::Network<float>& model, Weights weights) {
    latent::NetworkPredictor<float> p(model);
    if (weights == Weights::copied) p.copy_weights();
    if (weights == Weights::bf16 && p.use_bf16_weights() == 0)
        throw latent::ConfigError("serve --bf16: expected a model with Dense layers to round to bfloat16, found none");
    return p;
}

RunResult serve(const latent::Network<float>& model, const Mat& pool, int workers, Index requests, Index per_request, Weights weights) {
    RequestQueue queue(static_cast<std::size_t>(requests));
    for (Index r = 0; r < requests; ++r) queue.push(r);
    queue.close();
    std::vector<std::vector<double>> latencies(static_cast<std::size_t>(workers));
    std::atomic<double> checksum{0.0};
    std::vector<std::thread> pool_threads;
    const ex::Timer wall;
    for (int w = 0; w < workers; ++w)
        pool_threads.emplace_back([&, w] {
            latent::NetworkPredictor<float> predictor = make_predictor(model, weights);  // this worker's workspace
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

// The machine's own share of the tail. One worker alternates a request
// with a busy loop as long as the median request (calibrated first), so
// both see the same moments of the machine; where the loop's p99 is as far
// above its p50 as the requests', the tail comes from the machine
// (interrupts, a hypervisor taking the core), not from the model.
struct Control {
    RunResult model, loop;
};

Control machine_control(const latent::Network<float>& model, const Mat& pool, Index requests, Index per_request, Weights weights) {
    using clock = std::chrono::steady_clock;
    auto since = [](clock::time_point t0) { return std::chrono::duration<double, std::micro>(clock::now() - t0).count(); };
    latent::NetworkPredictor<float> predictor = make_predictor(model, weights);
    Mat out(model.output_size(), per_request);
    auto request = [&](Index id) {
        const Index first = (id * per_request) % (pool.cols() - per_request + 1);
        predictor.predict(pool.middleCols(first, per_request), out);
    };
    volatile double sink = 0;
    auto spin = [&](long n) {
        double a = 1;
        for (long i = 0; i < n; ++i) a = a * 1.0000001 + 1e-9;  // a dependent chain: no vectorizing away
        sink = a;
    };
    // calibrate on medians (a stall does not skew them): the request's, then the loop's iterations
    std::vector<double> took(201);
    for (std::size_t i = 0; i < took.size(); ++i) {
        const auto t0 = clock::now();
        request(static_cast<Index>(i));
        took[i] = since(t0);
    }
    const double target = percentile(took, 0.5);
    long n = 1000;
    took.resize(9);
    for (int c = 0; c < 6; ++c) {
        for (double& t : took) {
            const auto t0 = clock::now();
            spin(n);
            t = since(t0);
        }
        n = std::max<long>(1, static_cast<long>(static_cast<double>(n) * target / std::max(percentile(took, 0.5), 1e-3)));
    }
    std::vector<double> req, loop;
    req.reserve(static_cast<std::size_t>(requests));
    loop.reserve(static_cast<std::size_t>(requests));
    for (Index r = 0; r < requests; ++r) {
        auto t0 = clock::now();
        request(r);
        req.push_back(since(t0));
        t0 = clock::now();
        spin(n);
        loop.push_back(since(t0));
    }
    Control c;
    c.model.threads = c.loop.threads = 1;
    c.model.p50_us = percentile(req, 0.50);
    c.model.p99_us = percentile(req, 0.99);
    c.loop.p50_us = percentile(loop, 0.50);
    c.loop.p99_us = percentile(loop, 0.99);
    return c;
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
    bool shared_weights = false, bf16 = false;
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
    app.add_flag("--bf16", bf16,
                 "Each worker's copy of the Dense weights rounded to bfloat16 (half the bytes per sample; the largest output "
                 "difference from float is measured and printed)")
        ->excludes("--shared-weights");
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
        const Weights weights = bf16 ? Weights::bf16 : shared_weights ? Weights::shared : Weights::copied;
        std::cout << "model " << path << " (" << model.params().size() << " parameters), " << requests << " requests of "
                  << per_request << " sample(s), " << data.source << "; weights "
                  << (weights == Weights::shared   ? "shared by the workers"
                      : weights == Weights::copied ? "copied once per worker"
                                                   : "rounded to bfloat16 once per worker")
                  << "\n";
        double bf16_max_diff = 0;
        if (weights == Weights::bf16) {
            // what the rounding costs: outputs on the test images, bfloat16 against float
            latent::NetworkPredictor<float> exact(model);
            latent::NetworkPredictor<float> rounded = make_predictor(model, Weights::bf16);
            bf16_max_diff = static_cast<double>((rounded.predict(data.test_x) - exact.predict(data.test_x)).cwiseAbs().maxCoeff());
            std::cout << "bfloat16 weights: outputs differ from float by at most " << ex::num(bf16_max_diff, 3) << " on the "
                      << data.test_x.cols() << " test images\n";
        }

        serve(model, data.test_x, 1, std::min<Index>(requests, 2000), per_request, weights);  // warm-up: first-call allocations, caches
        std::vector<RunResult> runs;
        ex::Table table({"workers", "samples/s", "p50 us", "p99 us", "speedup"});
        for (int w : workers) {
            runs.push_back(serve(model, data.test_x, w, requests, per_request, weights));
            const auto& r = runs.back();
            table.row({std::to_string(w), ex::num(r.samples_per_second, 6), ex::num(r.p50_us, 4), ex::num(r.p99_us, 4),
                       ex::num(r.samples_per_second / runs.front().samples_per_second, 3)});
        }
        table.print();
        const Control control = machine_control(model, data.test_x, std::min<Index>(requests, 50000), per_request, weights);
        std::cout << "machine control (1 worker, each request followed by a busy loop as long as the median request):\n"
                  << "  requests p50 " << ex::num(control.model.p50_us, 4) << " us, p99 " << ex::num(control.model.p99_us, 4) << " us ("
                  << ex::num(control.model.p99_us / control.model.p50_us, 3) << "x)\n"
                  << "  loop     p50 " << ex::num(control.loop.p50_us, 4) << " us, p99 " << ex::num(control.loop.p99_us, 4) << " us ("
                  << ex::num(control.loop.p99_us / control.loop.p50_us, 3) << "x)"
                  << (control.loop.p99_us > 2 * control.loop.p50_us ? ": the machine's own tail" : "") << "\n";

        ex::Json j;
        j.set("model", path).set("per_request", static_cast<long>(per_request)).set("requests", static_cast<long>(requests));
        j.set("weights", weights_name(weights));
        if (weights == Weights::bf16) j.set("bf16_max_abs_diff", bf16_max_diff);
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
        j.set("control", ex::Json()
                             .set("p50_us", control.model.p50_us)
                             .set("p99_us", control.model.p99_us)
                             .set("loop_p50_us", control.loop.p50_us)
                             .set("loop_p99_us", control.loop.p99_us));
        ex::write_json(flags.json, j);
        return 0;
    });
}
