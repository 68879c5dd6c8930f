// sequence: the classic encoder-decoder toy problem. The source is 6 random
// integers in 1..50, one-hot (51 classes; 0 is the decoder's start token);
// the target is the first 3 in reverse order, e.g.
//   [13, 28, 18, 7, 9, 5] -> [18, 28, 13].
// An LSTM encoder reads the source; its final state (h, c) starts an LSTM
// decoder that is trained with teacher forcing (its input at step t is the
// true token t-1) and decodes greedily at inference (its input is its own
// previous argmax). Prints the held-out exact-match accuracy on fresh
// sequences, the per-token accuracy, and a few decoded examples; writes the
// training curve (loss, validation exact match per epoch) as a PNG.
#include "common/common.hpp"

#include <latent/models/sequence.hpp>

namespace {

using latent::Index;
using Mat = latent::Matrix<float>;

struct Task {
    Index source_len = 6, target_len = 3, max_value = 50;
    Index vocab() const { return max_value + 1; }  // 0 = start token
};

// Random problems: sources (source_len x n) in 1..max_value, targets the first target_len reversed.
void make_problems(const Task& task, Index n, latent::Rng& rng, latent::TokenMatrix& src, latent::TokenMatrix& tgt) {
    src.resize(task.source_len, n);
    tgt.resize(task.target_len, n);
    for (Index j = 0; j < n; ++j) {
        for (Index t = 0; t < task.source_len; ++t) src(t, j) = 1 + static_cast<Index>(rng.below(static_cast<std::uint64_t>(task.max_value)));
        for (Index t = 0; t < task.target_len; ++t) tgt(t, j) = src(task.target_len - 1 - t, j);
    }
}

struct Accuracy {
    double exact = 0, token = 0;
};
Accuracy accuracy(const latent::TokenMatrix& pred, const latent::TokenMatrix& truth) {
    Index exact = 0, tokens = 0;
    for (Index j = 0; j < pred.cols(); ++j) {
        const Index right = (pred.col(j).array() == truth.col(j).array()).count();
        tokens += right;
        exact += right == pred.rows();
    }
    return {static_cast<double>(exact) / static_cast<double>(pred.cols()),
            static_cast<double>(tokens) / static_cast<double>(pred.size())};
}

std::string show(const latent::TokenMatrix& m, Index j) {
    std::string s = "[";
    for (Index t = 0; t < m.rows(); ++t) s += (t ? ", " : "") + std::to_string(m(t, j));
    return s + "]";
}

// Greedy exact match on a validation set after every epoch.
class ValidationAccuracy : public latent::Callback<float> {
public:
    ValidationAccuracy(latent::Seq2Seq<float>& model, const Mat& x, const latent::TokenMatrix& truth)
        : model_(model), x_(x), truth_(truth) {}
    void on_epoch_end(const latent::EpochLog& log, latent::TrainControl<float>&) override {
        const Accuracy a = accuracy(model_.greedy_decode(x_), truth_);
        exact.push_back(a.exact);
        loss.push_back(log.loss);
        std::cerr << "epoch " << log.epoch << ": loss " << ex::num(log.loss) << ", validation exact match " << ex::num(100 * a.exact, 1)
                  << "%\n";
    }
    std::vector<double> exact, loss;

private:
    latent::Seq2Seq<float>& model_;
    const Mat& x_;
    const latent::TokenMatrix& truth_;
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Seq2Seq on the reversal task: 6 integers in 1..50 -> the first 3 reversed (LSTM encoder-decoder, "
                 "teacher forcing, greedy decoding)"};
    ex::CommonFlags flags;
    flags.epochs = 8;
    flags.batch = 64;
    Index train_n = 40000, test_n = 1000, units = 128, show_n = 8;
    double lr = 2e-3, clip = 1.0;
    std::string cell = "lstm";
    app.add_option("--epochs", flags.epochs, "Training epochs")->capture_default_str()->check(CLI::NonNegativeNumber);
    app.add_option("--batch", flags.batch, "Mini-batch size")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--seed", flags.seed, "Random seed (problems, init, shuffling)")->capture_default_str();
    app.add_option("--threads", flags.threads, "Threads for matrix products (needs OpenMP for > 1)")->capture_default_str()->check(CLI::Range(1, 1024));
    app.add_option("--json", flags.json, "Write the metrics as JSON to this file");
    app.add_option("--out", flags.out, "Directory for the PNG of the training curve")->capture_default_str();
    app.add_option("--train", train_n, "Training sequences")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--test", test_n, "Held-out test sequences")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--units", units, "LSTM/GRU hidden units (encoder and decoder)")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--cell", cell, "Recurrent cell")->capture_default_str()->check(CLI::IsMember({"lstm", "gru"}));
    app.add_option("--lr", lr, "Adam learning rate")->capture_default_str();
    app.add_option("--clip", clip, "Clip the gradient norm to this (0: off)")->capture_default_str();
    app.add_option("--show", show_n, "Decoded test examples to print")->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    return ex::run([&] {
        ex::apply_threads(flags);
        const Task task;
        const Index V = task.vocab();
        latent::Rng data_rng(flags.seed);
        latent::TokenMatrix src, tgt, val_src, val_tgt, test_src, test_tgt;
        make_problems(task, train_n, data_rng, src, tgt);
        make_problems(task, 500, data_rng, val_src, val_tgt);
        make_problems(task, test_n, data_rng, test_src, test_tgt);
        const Mat x = latent::one_hot<float>(src, V), y = latent::one_hot<float>(tgt, V);
        const Mat val_x = latent::one_hot<float>(val_src, V), test_x = latent::one_hot<float>(test_src, V);

        latent::Seq2SeqOptions o;
        o.source_steps = task.source_len;
        o.source_features = V;
        o.target_steps = task.target_len;
        o.target_vocab = V;
        o.units = units;
        o.cell = latent::cell_type_from_name(cell);
        o.start_token = 0;
        latent::Rng rng(flags.seed + 1);
        latent::Seq2Seq<float> model(o, rng);
        std::cout << "Seq2Seq " << latent::cell_type_name(o.cell) << "(" << units << ") encoder-decoder, " << model.params().size()
                  << " parameters; " << train_n << " training problems of " << task.source_len << " integers in 1.."
                  << task.max_value << " -> the first " << task.target_len << " reversed\n";

        latent::Adam<float> adam(lr);
        ValidationAccuracy val(model, val_x, val_tgt);
        latent::FitOptions<float> fo;
        fo.epochs = flags.epochs;
        fo.batch_size = flags.batch;
        fo.seed = flags.seed;
        fo.clip_norm = clip;
        fo.callbacks = {&val};
        ex::Timer timer;
        const auto history = latent::fit(model, adam, x, y, fo);
        const double train_seconds = timer.seconds();

        timer.reset();
        const latent::TokenMatrix pred = model.greedy_decode(test_x);
        const double decode_seconds = timer.seconds();
        const Accuracy acc = accuracy(pred, test_tgt);

        std::cout << "\nDecoded held-out examples (greedy):\n";
        ex::Table examples({"source", "target", "decoded", ""});
        for (Index j = 0; j < std::min(show_n, test_n); ++j)
            examples.row({show(test_src, j), show(test_tgt, j), show(pred, j), pred.col(j) == test_tgt.col(j) ? "ok" : "WRONG"});
        examples.print();

        std::cout << "\n";
        ex::Table table({"metric", "value"});
        table.row({"held-out sequences", std::to_string(test_n)});
        table.row({"exact-match accuracy (%)", ex::num(100 * acc.exact, 2)});
        table.row({"token accuracy (%)", ex::num(100 * acc.token, 2)});
        table.row({"final training loss (cross-entropy)", ex::num(history.final_loss())});
        table.row({"epochs", std::to_string(history.epochs.size())});
        table.row({"training time (s)", ex::num(train_seconds, 1)});
        table.row({"decoding (sequences/s)", ex::num(static_cast<double>(test_n) / std::max(decode_seconds, 1e-9), 0)});
        table.print();

        if (!val.exact.empty()) {
            std::vector<double> ep, pct;
            for (std::size_t i = 0; i < val.exact.size(); ++i) {
                ep.push_back(static_cast<double>(i + 1));
                pct.push_back(100 * val.exact[i]);
            }
            ex::Plot loss_plot(420, 220), acc_plot(420, 220);
            loss_plot.title("training loss (cross-entropy)");
            loss_plot.set_log_y();
            loss_plot.line(ep, val.loss, ex::palette(0), 2);
            acc_plot.title("validation exact match (%)");
            acc_plot.set_range(1, std::max(2.0, static_cast<double>(ep.size())), 0, 100);
            acc_plot.line(ep, pct, ex::palette(1), 2);
            ex::Canvas both(840, 220);
            both.blit(loss_plot.render(), 0, 0);
            both.blit(acc_plot.render(), 420, 0);
            const std::string png = ex::out_path(flags, "sequence_training.png");
            both.save(png);
            std::cout << "\nwrote " << png << "\n";
        }

        ex::Json j;
        j.set("example", "sequence")
            .set("cell", latent::cell_type_name(o.cell))
            .set("units", static_cast<long>(units))
            .set("train_sequences", static_cast<long>(train_n))
            .set("test_sequences", static_cast<long>(test_n))
            .set("epochs", static_cast<long>(history.epochs.size()))
            .set("exact_match", acc.exact)
            .set("token_accuracy", acc.token)
            .set("final_loss", history.final_loss())
            .set("validation_exact_match", val.exact)
            .set("train_seconds", train_seconds)
            .set("seed", static_cast<unsigned long long>(flags.seed));
        ex::write_json(flags.json, j);
        return 0;
    });
}
