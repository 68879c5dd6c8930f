// streaming: train from a .npy file several times larger than a memory cap,
// memory-mapped through latent::NpySource (data/file_source.hpp), and compare
// with training on the same images held in memory.
//
//   build-release/examples/streaming --size-mb 1024 --memory-cap-mb 256 --json out/streaming.json
//
// Without --file it writes a float32 .npy of --size-mb MB (Fashion-MNIST or
// synthetic images, each copy with its own brightness jitter) under --out and
// deletes it at the end (--keep keeps it). Peak RSS is the process's high-water
// mark while streaming (reset after the file is written; Linux).
#include "common/common.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace {

// VmHWM (peak resident memory) in bytes from /proc/self/status, or -1.
long long peak_rss_bytes() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
    return -1;
}

// Resets the peak to the current resident size (Linux >= 4.0); false when it cannot.
bool reset_peak_rss() {
    std::ofstream out("/proc/self/clear_refs");
    out << "5";
    return static_cast<bool>(out);
}

// A float32 .npy of `samples` x `features`, written in chunks to path.tmp, then renamed.
void write_npy(const std::string& path, const latent::Matrix<float>& base, latent::Index samples, std::uint64_t seed) {
    const latent::Index f = base.rows();
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(samples) + ", " + std::to_string(f) + "), }";
    while ((10 + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    const std::string tmp = path + ".tmp";
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw latent::FormatError("cannot open '" + tmp + "' for writing");
    out.write("\x93NUMPY\x01\x00", 8);
    const char len[2] = {static_cast<char>(header.size() & 0xff), static_cast<char>(header.size() >> 8)};
    out.write(len, 2);
    out << header;
    latent::Rng rng(seed);
    latent::Matrix<float> chunk(f, 4096);
    latent::ProgressBar bar(static_cast<long>((samples + 4095) / 4096), "writing " + path);
    for (latent::Index s = 0, k = 0; s < samples; s += chunk.cols(), ++k) {
        const latent::Index n = std::min<latent::Index>(chunk.cols(), samples - s);
        for (latent::Index j = 0; j < n; ++j) {
            const float gain = static_cast<float>(rng.uniform(0.8, 1.0));
            chunk.col(j) = base.col((s + j) % base.cols()) * gain;
        }
        out.write(reinterpret_cast<const char*>(chunk.data()), static_cast<std::streamsize>(sizeof(float) * static_cast<std::size_t>(f * n)));
        bar.update(k + 1);
    }
    out.close();
    if (!out) throw latent::FormatError("error while writing '" + tmp + "' (disk full?)");
    bar.finish("wrote " + path);
    std::filesystem::rename(tmp, path);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Train the small autoencoder from a memory-mapped .npy file larger than a memory cap"};
    ex::CommonFlags flags;
    ex::add_common_flags(app, flags, 1, 128);
    std::string file, hidden = "128";
    latent::Index code = 32, in_memory = 60000, block = 1024, window = 16;
    double size_mb = 1024, cap_mb = 256, lr = 1e-3;
    bool keep = false, no_prefetch = false;
    app.add_option("--file", file, "Train from this .npy (float32/float64, N x 784); default: write one under --out");
    app.add_option("--size-mb", size_mb, "Size of the .npy to write when no --file is given")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--memory-cap-mb", cap_mb, "The resident-memory budget the run is checked against")->capture_default_str();
    app.add_option("--hidden", hidden, "Encoder hidden sizes, comma list (decoder mirrors them)")->capture_default_str();
    app.add_option("--code", code, "Code size")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--lr", lr, "Adam learning rate")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--in-memory", in_memory, "Images of the in-memory comparison run (0: skip)")->capture_default_str();
    app.add_option("--block", block, "Samples read in one piece (shuffled by blocks)")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--window", window, "Blocks shuffled together (shuffle buffer: block x window samples)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_flag("--no-prefetch", no_prefetch, "Read batches on the training thread (no background reader)");
    app.add_flag("--keep", keep, "Keep the written .npy");
    CLI11_PARSE(app, argc, argv);

    return ex::run([&] {
        ex::apply_threads(flags);
        const bool written = file.empty();
        if (written) {
            file = ex::out_path(flags, "streaming.npy");
            const ex::ImageData data = ex::load_image_data(flags);
            const auto samples = static_cast<latent::Index>(size_mb * 1024 * 1024 / (4.0 * static_cast<double>(data.shape.size())));
            const auto free_bytes = std::filesystem::space(std::filesystem::path(file).parent_path()).available;
            if (static_cast<double>(free_bytes) < 1.1 * size_mb * 1024 * 1024)
                throw latent::ConfigError("--size-mb " + ex::num(size_mb, 0) + ": expected that much free disk under " + flags.out +
                                          ", found " + ex::num(static_cast<double>(free_bytes) / (1 << 20), 0) + " MB");
            std::cout << "data: " << data.source << "\n";
            write_npy(file, data.train_x, samples, flags.seed);
        }
        const bool peak_reset = reset_peak_rss();

        latent::StreamOptions so;
        so.block = block;
        so.window = window;
        so.prefetch = !no_prefetch;
        latent::NpySource<float> source(file, so);
        const double dataset_bytes = static_cast<double>(std::filesystem::file_size(file));
        std::vector<latent::Index> sizes{source.features()};
        for (latent::Index h : ex::parse_sizes(hidden, "--hidden")) sizes.push_back(h);
        sizes.push_back(code);
        const std::string arch = ex::join_sizes(ex::mirrored(sizes));
        std::cout << "file: " << file << ", " << source.samples() << " x " << source.features() << " ("
                  << ex::num(dataset_bytes / (1 << 20), 0) << " MB; memory cap " << ex::num(cap_mb, 0) << " MB)\n"
                  << "model: " << arch << ", Adam lr " << lr << ", batch " << flags.batch << ", shuffle window " << block << " x "
                  << window << " samples, prefetch " << (so.prefetch ? "on" : "off") << ", " << latent::num_threads() << " thread(s)\n\n";

        auto train = [&](latent::DataSource<float>& src, long epochs) {
            latent::DenseAutoencoderOptions o;
            o.sizes = sizes;
            latent::Rng rng(flags.seed);
            auto ae = latent::make_dense_autoencoder<float>(o, rng);
            latent::Adam<float> adam(lr);
            latent::FitOptions<float> fo;
            fo.epochs = epochs;
            fo.batch_size = flags.batch;
            fo.seed = flags.seed + 1;
            return latent::fit(ae, adam, src, fo);
        };

        // streamed
        const latent::History streamed = train(source, flags.epochs);
        const double stream_sps = streamed.epochs.back().samples_per_second;
        const long long peak = peak_reset ? peak_rss_bytes() : -1;

        // the same kind of training on images held in memory
        double memory_sps = 0;
        if (in_memory > 0) {
            const latent::Index m = std::min(in_memory, source.samples());
            std::vector<latent::Index> idx(static_cast<std::size_t>(m));
            for (latent::Index i = 0; i < m; ++i) idx[static_cast<std::size_t>(i)] = i;
            latent::Matrix<float> x;
            source.gather(idx.data(), m, x, nullptr, nullptr);
            latent::MatrixSource<float> held(x);
            memory_sps = train(held, 1).epochs.back().samples_per_second;
        }

        ex::Table table({"run", "samples", "samples/s", "peak RSS"});
        table.row({"streamed from " + std::filesystem::path(file).filename().string(),
                   std::to_string(source.samples() * static_cast<latent::Index>(streamed.epochs.size())), ex::num(stream_sps, 1),
                   peak >= 0 ? ex::num(static_cast<double>(peak) / (1 << 20), 1) + " MB" : "n/a"});
        if (in_memory > 0) table.row({"in memory", std::to_string(std::min(in_memory, source.samples())), ex::num(memory_sps, 1), ""});
        table.print();
        const bool within = peak >= 0 && static_cast<double>(peak) <= cap_mb * 1024 * 1024;
        std::cout << "\npeak RSS " << (peak >= 0 ? ex::num(static_cast<double>(peak) / (1 << 20), 1) + " MB" : "unknown") << " for a "
                  << ex::num(dataset_bytes / (1 << 20), 0) << " MB file: " << (within ? "within" : "OVER") << " the " << ex::num(cap_mb, 0)
                  << " MB cap";
        if (memory_sps > 0) std::cout << "; streaming at " << ex::num(100 * stream_sps / memory_sps, 1) << "% of the in-memory speed";
        std::cout << "\n";

        ex::write_json(flags.json, ex::Json()
                                       .set("example", "streaming")
                                       .set("file", file)
                                       .set("architecture", arch)
                                       .set("dataset_bytes", dataset_bytes)
                                       .set("samples", static_cast<long>(source.samples()))
                                       .set("memory_cap_bytes", cap_mb * 1024 * 1024)
                                       .set("peak_rss_bytes", static_cast<double>(peak))
                                       .set("within_cap", within)
                                       .set("samples_per_second", stream_sps)
                                       .set("in_memory_samples_per_second", memory_sps)
                                       .set("streaming_over_in_memory", memory_sps > 0 ? stream_sps / memory_sps : 0.0)
                                       .set("block", static_cast<long>(block))
                                       .set("window", static_cast<long>(window))
                                       .set("prefetch", so.prefetch)
                                       .set("threads", latent::num_threads())
                                       .set("train_loss", streamed.losses()));
        if (!flags.json.empty()) std::cout << "wrote " << flags.json << "\n";
        if (written && !keep) {
            std::filesystem::remove(file);
            std::cout << "removed " << file << " (--keep keeps it)\n";
        }
        return 0;
    });
}
