#!/usr/bin/env python3
"""PyTorch's int8 inference beside its float, on one thread: the peer of benchmarks/int8_bench.cpp
(docs/benchmarks.md, "int8 inference"). For each network of int8_bench's tables (random weights: speed
does not depend on them), the samples/s of model(x) on 10,000 inputs of 784 values in float, and after
torch.ao.quantization.quantize_dynamic (int8 weights per output channel, activations quantized on the
fly per batch: PyTorch's post-training path for Linear layers, through FBGEMM on x86), median of ROUNDS.
usage: torch_int8.py [ROUNDS]"""
import sys
import time

import torch

ROWS = 10000


def rate(f, x, rounds):
    f(x)
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        f(x)
        times.append(time.perf_counter() - t0)
    times.sort()
    return ROWS / times[len(times) // 2]


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    torch.set_num_threads(1)
    torch.manual_seed(0)
    nn = torch.nn
    nets = {
        "784-30-10 sigmoid": nn.Sequential(nn.Linear(784, 30), nn.Sigmoid(), nn.Linear(30, 10), nn.Sigmoid()),
        "784-100-10 sigmoid": nn.Sequential(nn.Linear(784, 100), nn.Sigmoid(), nn.Linear(100, 10), nn.Sigmoid()),
        "784-512-256-10 relu softmax": nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                                                     nn.Linear(256, 10), nn.Softmax(dim=1)),
    }
    x = torch.rand(ROWS, 784)
    print(f"PyTorch {torch.__version__}, 1 thread, quantized engine {torch.backends.quantized.engine}; "
          f"{ROWS} rows, median of {rounds}")
    with torch.no_grad():
        for name, model in nets.items():
            model.eval()
            f = rate(model, x, rounds)
            q = torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)
            i = rate(q, x, rounds)
            print(f"{name:30s} float {f:10.0f} samples/s   int8 (dynamic) {i:10.0f} samples/s   {i / f:.2f}x")


if __name__ == "__main__":
    main()
