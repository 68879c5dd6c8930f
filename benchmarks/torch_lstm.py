#!/usr/bin/python3
"""PyTorch reference for benchmarks/bench_lstm.cpp: training steps of the
same LSTM (or GRU) sequence autoencoder on CPU, in sequences/s.

Same set-up as BM_SequenceAutoencoderTrainStep: float32, 50 steps of 4
features, batch 64, a fixed batch of N(0, 1) inputs as input and target;
encoder LSTM(4 -> 64), its last hidden state repeated 50 times, decoder
LSTM(64 -> 64) over the whole sequence, Linear(64 -> 4) at every step, MSE
(mean), clip_grad_norm_(1.0), Adam(lr=1e-3). One step = zero_grad, forward,
loss, backward, clipping, optimizer step. The input needs no gradient.

Run it with Debian's python3-torch:

    /usr/bin/python3 benchmarks/torch_lstm.py
    /usr/bin/python3 benchmarks/torch_lstm.py --bench build/benchmarks/bench_lstm

With --bench, the C++ benchmark runs too, interleaved with the PyTorch runs
(same machine load for both), and the ratio latent / PyTorch is printed.
"""
import argparse
import json
import statistics
import sys

from bench_runner import benchmark_items_per_second, samples_per_second

try:
    import torch
    from torch import nn
except ImportError:  # pragma: no cover - depends on the interpreter
    sys.exit("torch_lstm.py: PyTorch not found for " + sys.executable +
             "; run it with Debian's /usr/bin/python3 (apt-get install python3-torch)")

STEPS, FEATURES, UNITS, BATCH = 50, 4, 64, 64


class SequenceAutoencoder(nn.Module):
    def __init__(self, cell):
        super().__init__()
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.encoder = rnn(FEATURES, UNITS)
        self.decoder = rnn(UNITS, UNITS)
        self.output = nn.Linear(UNITS, FEATURES)

    def forward(self, x):                      # x: T x N x F
        _, state = self.encoder(x)
        h = state[0] if isinstance(state, tuple) else state  # 1 x N x H
        y, _ = self.decoder(h.expand(x.shape[0], -1, -1).contiguous())
        return self.output(y)


def time_torch(cell, threads, steps, warmup):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = SequenceAutoencoder(cell)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(STEPS, BATCH, FEATURES)

    def step():
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), x)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss

    return samples_per_second(step, BATCH, steps, warmup)


def time_latent(binary, cell, threads, min_time):
    name = "BM_SequenceAutoencoderTrainStep/threads:%d/gru:%d/real_time" % (threads, 0 if cell == "lstm" else 1)
    return benchmark_items_per_second(binary, name, min_time)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cells", default="lstm,gru", help="comma list of: lstm, gru")
    ap.add_argument("--threads", default="1,2", help="comma list of thread counts")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per case; the median is reported")
    ap.add_argument("--seconds", type=float, default=1.0, help="approximate length of one timed run")
    ap.add_argument("--bench", metavar="BINARY", help="also run this bench_lstm binary, interleaved, and compare")
    ap.add_argument("--json", metavar="PATH", help="write the results as JSON")
    args = ap.parse_args()
    cells = [c.strip() for c in args.cells.split(",") if c.strip()]
    for c in cells:
        if c not in ("lstm", "gru"):
            ap.error("unknown cell %r (expected lstm or gru)" % c)
    threads = [int(t) for t in args.threads.split(",")]

    print("PyTorch %s (%s), float32, %d steps x %d features, %d units, batch %d, median of %d runs of ~%.1f s"
          % (torch.__version__, sys.executable, STEPS, FEATURES, UNITS, BATCH, args.runs, args.seconds))
    header = "%-5s %7s %18s" % ("cell", "threads", "torch seq/s") + (" %18s %13s" % ("latent seq/s", "latent/torch") if args.bench else "")
    print(header)
    print("-" * len(header))
    results = []
    for c in cells:
        for t in threads:
            probe = time_torch(c, t, steps=3, warmup=2)
            steps = max(3, int(args.seconds * probe / BATCH))
            tr, lr = [], []
            for _ in range(args.runs):
                tr.append(time_torch(c, t, steps, warmup=2))
                if args.bench:
                    lr.append(time_latent(args.bench, c, t, args.seconds))
            row = {"cell": c, "threads": t, "torch_seq_per_s": statistics.median(tr), "torch_runs": tr}
            line = "%-5s %7d %18.0f" % (c, t, row["torch_seq_per_s"])
            if lr:
                row["latent_seq_per_s"] = statistics.median(lr)
                row["latent_runs"] = lr
                row["ratio"] = row["latent_seq_per_s"] / row["torch_seq_per_s"]
                line += " %18.0f %12.2fx" % (row["latent_seq_per_s"], row["ratio"])
            print(line, flush=True)
            results.append(row)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch_version": torch.__version__, "results": results}, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
