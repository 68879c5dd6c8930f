"""Shared by the torch_*.py reference scripts: time a step function, and run
one case of a latent Google Benchmark program and read its items/s."""
import json
import subprocess
import time


def samples_per_second(step, samples_per_step, steps, warmup):
    """Runs step() warmup times, then times `steps` calls; step returns the loss tensor."""
    for _ in range(warmup):
        step()
    t0 = time.perf_counter()
    loss = None
    for _ in range(steps):
        loss = step()
    if loss is not None:
        loss.item()  # wait for the last step's result
    return samples_per_step * steps / (time.perf_counter() - t0)


def benchmark_items_per_second(binary, name, min_time):
    """items_per_second of the Google Benchmark case `name` (an exact name) in `binary`."""
    cmd = [binary, "--benchmark_filter=^%s$" % name, "--benchmark_format=json", "--benchmark_min_time=%g" % min_time]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    runs = [b for b in json.loads(out)["benchmarks"] if b.get("run_type", "iteration") == "iteration"]
    if not runs:
        raise RuntimeError("no result for %s from %s" % (name, binary))
    if runs[0].get("error_occurred"):
        raise RuntimeError("%s: %s" % (name, runs[0].get("error_message")))
    return runs[0]["items_per_second"]
