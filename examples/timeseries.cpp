// timeseries: anomaly detection in multichannel signals with an LSTM
// sequence autoencoder (LSTM -> RepeatVector -> LSTM -> TimeDistributed(Dense)).
//
// Data (synthetic, generated here): windows of T steps of C channels; channel
// c is two sines (periods from a per-channel table, random phases and a
// little amplitude jitter) plus drift (a random linear trend and a random
// walk) plus Gaussian noise. Each window is centred per channel, which removes
// the drift's level but keeps its slope. The autoencoder is trained on normal
// windows only. Held-out windows are half normal, half with one injected
// anomaly in one random channel, from a random step on:
//   spike         1-3 consecutive points offset by 3-5 amplitudes
//   level shift   a step of 0.8-1.5 amplitudes up or down that persists
//   frequency     the main sine continues at 1.8-2.5x its frequency
// A window's anomaly score is its reconstruction error (per-step MSE,
// averaged over the window). Prints the ROC AUC (all anomalies and per kind),
// average precision, and precision/recall at a threshold set on normal
// validation windows; writes a PNG with, for one window of each kind, the
// anomalous channel, its reconstruction and the per-step error (the anomaly
// score over time).
#include "common/common.hpp"

#include <latent/metrics/ranking.hpp>
#include <latent/models/sequence.hpp>

namespace {

using latent::Index;
using Mat = latent::Matrix<float>;

enum class Kind { normal = 0, spike = 1, level = 2, frequency = 3 };
const char* kind_name(Kind k) {
    switch (k) {
        case Kind::normal: return "normal";
        case Kind::spike: return "spike";
        case Kind::level: return "level shift";
        case Kind::frequency: return "frequency change";
    }
    return "?";
}

struct Signals {
    Index steps = 50, channels = 3;
    double noise = 0.1, drift_slope = 0.01, drift_walk = 0.01;
    // Periods (in steps) of each channel's two sines; amplitudes 1 and 0.5.
    double period(Index c, int k) const {
        static const double p[4][2] = {{23.0, 7.3}, {37.0, 11.1}, {16.0, 53.0}, {29.0, 9.7}};
        return p[c % 4][k];
    }
};

struct Window {
    Kind kind = Kind::normal;
    Index channel = -1, start = -1;  // where the anomaly is
};

// One window, flattened time-major (t*C + c), centred per channel.
void make_window(const Signals& s, Kind kind, latent::Rng& rng, float* out, Window& info) {
    const Index T = s.steps, C = s.channels;
    info.kind = kind;
    info.channel = kind == Kind::normal ? -1 : static_cast<Index>(rng.below(static_cast<std::uint64_t>(C)));
    info.start = kind == Kind::normal ? -1 : 8 + static_cast<Index>(rng.below(static_cast<std::uint64_t>(T - 16)));
    const double two_pi = 6.283185307179586;
    for (Index c = 0; c < C; ++c) {
        const double amp = rng.uniform(0.9, 1.1), phase1 = rng.uniform(0, two_pi), phase2 = rng.uniform(0, two_pi);
        const double slope = rng.normal(0, s.drift_slope);
        const bool here = c == info.channel;
        const double jump = here && kind == Kind::level ? (rng.bernoulli(0.5) ? 1 : -1) * rng.uniform(0.8, 1.5) : 0.0;
        const double factor = here && kind == Kind::frequency ? rng.uniform(1.8, 2.5) : 1.0;
        const Index spike_len = here && kind == Kind::spike ? 1 + static_cast<Index>(rng.below(3)) : 0;
        const double spike = here && kind == Kind::spike ? (rng.bernoulli(0.5) ? 1 : -1) * rng.uniform(3.0, 5.0) : 0.0;
        double walk = 0, angle = phase1, mean = 0;
        for (Index t = 0; t < T; ++t) {
            const bool after = here && t >= info.start;
            double v = amp * std::sin(angle) + 0.5 * amp * std::sin(two_pi * static_cast<double>(t) / s.period(c, 1) + phase2);
            angle += two_pi / s.period(c, 0) * (after ? factor : 1.0);
            walk += rng.normal(0, s.drift_walk);
            v += slope * static_cast<double>(t) + walk + rng.normal(0, s.noise);
            if (after) v += jump;
            if (after && t < info.start + spike_len) v += spike * amp;
            out[t * C + c] = static_cast<float>(v);
            mean += v;
        }
        mean /= static_cast<double>(T);
        for (Index t = 0; t < T; ++t) out[t * C + c] -= static_cast<float>(mean);
    }
}

// n windows; `anomalous` of them (spread evenly over the three kinds) get an anomaly.
Mat make_windows(const Signals& s, Index n, Index anomalous, latent::Rng& rng, std::vector<Window>& info) {
    Mat x(s.steps * s.channels, n);
    info.assign(static_cast<std::size_t>(n), Window{});
    std::vector<Index> order = rng.permutation(n);
    for (Index j = 0; j < n; ++j) {
        const Index r = order[static_cast<std::size_t>(j)];
        const Kind kind = r < anomalous ? static_cast<Kind>(1 + r % 3) : Kind::normal;
        make_window(s, kind, rng, x.col(j).data(), info[static_cast<std::size_t>(j)]);
    }
    return x;
}

std::vector<double> to_vec(const latent::Vector<float>& v) { return std::vector<double>(v.data(), v.data() + v.size()); }

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Anomaly detection in synthetic multichannel signals with an LSTM sequence autoencoder"};
    ex::CommonFlags flags;
    flags.epochs = 40;
    flags.batch = 64;
    Signals sig;
    Index train_n = 3000, val_n = 500, test_n = 1200, units = 64;
    double lr = 6e-3, clip = 1.0, quantile = 0.99;
    std::string cell = "lstm";
    app.add_option("--epochs", flags.epochs, "Training epochs")->capture_default_str()->check(CLI::NonNegativeNumber);
    app.add_option("--batch", flags.batch, "Mini-batch size")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--seed", flags.seed, "Random seed (signals, init, shuffling)")->capture_default_str();
    app.add_option("--threads", flags.threads, "Threads for matrix products (needs OpenMP for > 1)")->capture_default_str()->check(CLI::Range(1, 1024));
    app.add_option("--json", flags.json, "Write the metrics as JSON to this file");
    app.add_option("--out", flags.out, "Directory for the PNG plot")->capture_default_str();
    app.add_option("--train", train_n, "Normal training windows")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--test", test_n, "Held-out test windows (half with an anomaly)")->capture_default_str()->check(CLI::Range(6, 10000000));
    app.add_option("--steps", sig.steps, "Steps per window")->capture_default_str()->check(CLI::Range(16, 100000));
    app.add_option("--channels", sig.channels, "Channels")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--noise", sig.noise, "Noise standard deviation")->capture_default_str();
    app.add_option("--units", units, "Recurrent units (the code size)")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--cell", cell, "Recurrent cell")->capture_default_str()->check(CLI::IsMember({"lstm", "gru"}));
    app.add_option("--lr", lr, "Adam learning rate")->capture_default_str();
    app.add_option("--clip", clip, "Clip the gradient norm to this (0: off)")->capture_default_str();
    app.add_option("--quantile", quantile, "Threshold = this quantile of the scores of normal validation windows")->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    return ex::run([&] {
        ex::apply_threads(flags);
        const Index T = sig.steps, C = sig.channels;
        latent::Rng data_rng(flags.seed);
        std::vector<Window> train_info, val_info, test_info;
        const Mat train = make_windows(sig, train_n, 0, data_rng, train_info);
        const Mat val = make_windows(sig, val_n, 0, data_rng, val_info);
        const Mat test = make_windows(sig, test_n, test_n / 2, data_rng, test_info);

        latent::SequenceAutoencoderOptions o;
        o.steps = T;
        o.features = C;
        o.encoder_units = {units};
        o.cell = latent::cell_type_from_name(cell);
        latent::Rng rng(flags.seed + 1);
        latent::SequenceAutoencoder<float> ae(o, rng);
        std::cout << "Sequence autoencoder " << latent::cell_type_name(o.cell) << "(" << units << ") -> RepeatVector(" << T << ") -> "
                  << latent::cell_type_name(o.cell) << "(" << units << ") -> TimeDistributed(Dense(" << C << ")), "
                  << ae.params().size() << " parameters; " << train_n << " normal training windows of " << T << " steps x " << C
                  << " channels\n";

        latent::Adam<float> adam(lr);
        latent::FitOptions<float> fo;
        fo.epochs = flags.epochs;
        fo.batch_size = flags.batch;
        fo.seed = flags.seed;
        fo.clip_norm = clip;
        fo.val_x = &val;
        latent::ReduceLROnPlateau<float> plateau(0.5, 3);
        fo.callbacks = {&plateau};
        ex::Timer timer;
        const auto history = latent::fit(ae, adam, train, fo);
        const double train_seconds = timer.seconds();

        // Scores: the mean per-step reconstruction error of each window.
        const latent::Vector<float> val_scores = ae.reconstruction_error(val);
        const latent::Vector<float> scores = ae.reconstruction_error(test);
        const Mat step_err = ae.step_errors(test);
        std::vector<double> sorted = to_vec(val_scores);
        std::sort(sorted.begin(), sorted.end());
        const double threshold = sorted[static_cast<std::size_t>(std::min<double>(
            static_cast<double>(sorted.size() - 1), std::floor(quantile * static_cast<double>(sorted.size() - 1))))];

        std::vector<int> labels(static_cast<std::size_t>(test_n));
        for (Index j = 0; j < test_n; ++j) labels[static_cast<std::size_t>(j)] = test_info[static_cast<std::size_t>(j)].kind != Kind::normal;
        const double auc = latent::roc_auc(scores, labels);
        const double ap = latent::average_precision(scores, labels);
        const latent::BinaryCounts at = latent::confusion_at(scores, labels, threshold);

        ex::Table table({"anomalies", "windows", "ROC AUC", "recall at threshold"});
        ex::Json per_kind;
        for (Kind k : {Kind::spike, Kind::level, Kind::frequency}) {
            // this kind against all normal windows
            latent::Vector<float> s;
            std::vector<int> l;
            std::vector<float> keep;
            Index found = 0, count = 0;
            for (Index j = 0; j < test_n; ++j) {
                const Kind kj = test_info[static_cast<std::size_t>(j)].kind;
                if (kj != k && kj != Kind::normal) continue;
                keep.push_back(scores(j));
                l.push_back(kj == k);
                if (kj == k) {
                    ++count;
                    found += scores(j) > threshold;
                }
            }
            s = Eigen::Map<latent::Vector<float>>(keep.data(), static_cast<Index>(keep.size()));
            const double a = latent::roc_auc(s, l);
            table.row({kind_name(k), std::to_string(count), ex::num(a, 4), ex::num(static_cast<double>(found) / static_cast<double>(count), 3)});
            per_kind.set(kind_name(k), a);
        }
        table.row({"all", std::to_string(test_n / 2), ex::num(auc, 4), ex::num(at.recall(), 3)});
        std::cout << "\n";
        table.print();
        std::cout << "\nthreshold (" << ex::num(100 * quantile, 1) << "th percentile of normal validation scores) " << ex::num(threshold)
                  << ": precision " << ex::num(at.precision(), 3) << ", recall " << ex::num(at.recall(), 3)
                  << ", false-positive rate " << ex::num(at.false_positive_rate(), 3) << "\n";
        std::cout << "average precision " << ex::num(ap, 4) << "; final training loss " << ex::num(history.final_loss())
                  << ", validation loss " << ex::num(history.last().val_loss) << "; training " << ex::num(train_seconds, 1) << " s\n";

        // PNG: for each kind, the test window whose anomaly starts nearest the
        // middle: the anomalous channel and its reconstruction, and the
        // per-step error beside the window threshold (a window is flagged when
        // the mean of its per-step errors exceeds it).
        const Mat recon = ae.reconstruct(test);
        const int pw = 460, ph = 200;
        ex::Canvas fig(2 * pw, 3 * ph);
        int row = 0;
        for (Kind k : {Kind::spike, Kind::level, Kind::frequency}) {
            Index j = -1;
            for (Index i = 0; i < test_n; ++i) {
                const Window& wi = test_info[static_cast<std::size_t>(i)];
                if (wi.kind == k && (j < 0 || std::abs(wi.start - T / 2) < std::abs(test_info[static_cast<std::size_t>(j)].start - T / 2))) j = i;
            }
            if (j < 0) continue;
            const Window& w = test_info[static_cast<std::size_t>(j)];
            std::vector<double> t(static_cast<std::size_t>(T)), sx, rx, e;
            for (Index i = 0; i < T; ++i) {
                t[static_cast<std::size_t>(i)] = static_cast<double>(i);
                sx.push_back(test(i * C + w.channel, j));
                rx.push_back(recon(i * C + w.channel, j));
                e.push_back(step_err(i, j));
            }
            ex::Plot sp(pw, ph), ep(pw, ph);
            sp.title(std::string(kind_name(k)) + " at step " + std::to_string(w.start) + ", channel " + std::to_string(w.channel));
            sp.line(t, sx, ex::palette(0), 2);
            sp.line(t, rx, ex::palette(1), 2);
            sp.vline(static_cast<double>(w.start), ex::Rgb{200, 200, 200});
            sp.add_legend(ex::palette(0), "signal");
            sp.add_legend(ex::palette(1), "reconstruction");
            ep.title("per-step error (window score " + ex::num(scores(j), 3) + ")");
            ep.line(t, e, ex::palette(3), 2);
            ep.hline(threshold, ex::Rgb{200, 60, 60});
            ep.add_legend(ex::Rgb{200, 60, 60}, "window threshold");
            fig.blit(sp.render(), 0, row * ph);
            fig.blit(ep.render(), pw, row * ph);
            ++row;
        }
        const std::string png = ex::out_path(flags, "timeseries_anomalies.png");
        fig.save(png);
        std::cout << "wrote " << png << "\n";

        ex::Json j;
        j.set("example", "timeseries")
            .set("cell", latent::cell_type_name(o.cell))
            .set("units", static_cast<long>(units))
            .set("steps", static_cast<long>(T))
            .set("channels", static_cast<long>(C))
            .set("train_windows", static_cast<long>(train_n))
            .set("test_windows", static_cast<long>(test_n))
            .set("roc_auc", auc)
            .set("roc_auc_by_kind", per_kind)
            .set("average_precision", ap)
            .set("threshold", threshold)
            .set("precision", at.precision())
            .set("recall", at.recall())
            .set("false_positive_rate", at.false_positive_rate())
            .set("final_loss", history.final_loss())
            .set("val_loss", history.last().val_loss)
            .set("train_seconds", train_seconds)
            .set("seed", static_cast<unsigned long long>(flags.seed));
        ex::write_json(flags.json, j);
        return 0;
    });
}
