#!/usr/bin/python3
"""PyTorch reference for benchmarks/bench_serve.cpp: inference latency of the
same four models on one sample and on batches of 8, one thread, eager under
torch.no_grad() and torch.jit.trace'd (also under no_grad):

  small_ae      784-128-32-128-784 dense autoencoder, reconstruct
  deep_encoder  the deep AE's encoder 784-2000-500-500-10
  denoiser      the conv denoiser of torch_denoiser.py, reconstruct
  lstm_ae       LSTM(64) -> repeat(50) -> LSTM(64) -> Linear(4), 50 steps of 4 features

Run with Debian's python3-torch, OpenBLAS on one thread:

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 benchmarks/torch_serve.py
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 benchmarks/torch_serve.py --bench build/benchmarks/bench_serve

With --bench the Google Benchmark binary's matching cases (threads:1) run
interleaved with PyTorch's, and a ratio column (latent samples/s / PyTorch
eager samples/s) is printed. Times are medians of --runs runs.
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
    sys.exit("torch_serve.py: PyTorch not found for " + sys.executable +
             "; run it with Debian's /usr/bin/python3 (apt-get install python3-torch)")

from torch_denoiser import make_denoiser
from torch_lstm import SequenceAutoencoder


def dense(sizes, mirrored):
    layers = []
    n = len(sizes) - 1
    for i in range(1, n + 1):
        layers.append(nn.Linear(sizes[i - 1], sizes[i]))
        if i < n:
            layers.append(nn.ReLU())
    if mirrored:
        for i in range(n, 0, -1):
            layers.append(nn.Linear(sizes[i], sizes[i - 1]))
            layers.append(nn.ReLU() if i > 1 else nn.Sigmoid())
    return nn.Sequential(*layers)


# name -> (model factory, input shape for a batch of n, latent benchmark case)
MODELS = {
    "small_ae": (lambda: dense([784, 128, 32], True), lambda n: (n, 784), "BM_Serve_SmallAE"),
    "deep_encoder": (lambda: dense([784, 2000, 500, 500, 10], False), lambda n: (n, 784), "BM_Serve_DeepAEEncoder"),
    "denoiser": (make_denoiser, lambda n: (n, 1, 28, 28), "BM_Serve_Denoiser"),
    "lstm_ae": (lambda: SequenceAutoencoder("lstm"), lambda n: (50, n, 4), "BM_Serve_LSTMAE"),
}


def time_torch(model, x, calls, warmup):
    def step():
        with torch.no_grad():
            return model(x).sum()  # one element for bench_runner to wait on
    return samples_per_second(step, 1, calls, warmup)  # calls/s


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=",".join(MODELS), help="comma list of: " + ", ".join(MODELS))
    ap.add_argument("--batches", default="1,8", help="comma list of batch sizes")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per case; the median is reported")
    ap.add_argument("--seconds", type=float, default=0.5, help="approximate length of one timed run")
    ap.add_argument("--bench", metavar="BINARY", help="also run this bench_serve binary, interleaved, and compare")
    ap.add_argument("--json", metavar="PATH", help="write the results as JSON")
    args = ap.parse_args()

    torch.set_num_threads(1)
    print("PyTorch %s (%s), float32, 1 thread, median of %d runs of ~%.1f s" % (torch.__version__, sys.executable, args.runs, args.seconds))
    print("%-13s %5s  %-14s %12s %12s %10s" % ("model", "batch", "implementation", "latency us", "samples/s", "vs eager"))
    results = []
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        make, shape, case = MODELS[name]
        torch.manual_seed(0)
        model = make().eval()
        for batch in [int(b) for b in args.batches.split(",")]:
            x = torch.rand(*shape(batch))
            with torch.no_grad():
                traced = torch.jit.trace(model, x, check_trace=False)
            probe = time_torch(model, x, 5, 5)
            calls = max(10, int(args.seconds * probe))
            runs = {"pytorch eager": [], "pytorch jit": []}
            if args.bench:
                runs["latent"] = []
            for _ in range(args.runs):  # interleaved: the same machine load for each
                runs["pytorch eager"].append(time_torch(model, x, calls, max(3, calls // 10)) * batch)
                runs["pytorch jit"].append(time_torch(traced, x, calls, max(3, calls // 10)) * batch)
                if args.bench:
                    runs["latent"].append(benchmark_items_per_second(
                        args.bench, "%s/batch:%d/real_time/threads:1" % (case, batch), args.seconds))
            eager = statistics.median(runs["pytorch eager"])
            for label, values in runs.items():
                med = statistics.median(values)
                row = {"model": name, "batch": batch, "implementation": label, "samples_per_s": med,
                       "latency_us": 1e6 * batch / med, "vs_eager": med / eager, "runs": values}
                results.append(row)
                print("%-13s %5d  %-14s %12.1f %12.0f %9.2fx" % (name, batch, label, row["latency_us"], med, row["vs_eager"]),
                      flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch_version": torch.__version__, "results": results}, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
