"""PyTorch CPU on blurmap's DBM graph and shipped weights, for bench/run.ts.

Prints one JSON object: {"ms_first", "ms_median", "output_mean", "threads", "torch"}.
The input is bench/workload.ts's benchInput, rebuilt here the same way.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
import safetensors_io  # noqa: E402
from models import DBM  # noqa: E402


def bench_input(size):
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    chans = [np.sin(x * (c + 1) / 17) * np.cos(y / 23) + 0.3 * np.sin(x * y * 0.01) for c in range(3)]
    return torch.from_numpy(np.stack(chans)[None].astype(np.float32))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    tensors, meta = safetensors_io.read(a.weights)
    width = json.loads(meta["architecture"])["width"]
    model = DBM(width=width).eval()
    state = {k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in tensors.items()}
    model.load_state_dict(state)
    x = bench_input(a.size)
    times = []
    with torch.no_grad():
        for i in range(a.runs + 1):
            t = time.perf_counter()
            out = model(x)
            times.append((time.perf_counter() - t) * 1000)
    print(json.dumps({"ms_first": times[0], "ms_median": float(np.median(times[1:])), "output_mean": float(out.mean()),
                      "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
