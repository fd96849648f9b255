#!/usr/bin/env python3
# The PyTorch peer of benchmarks/convnet_bench.cpp: the same networks, data, cost and optimizer, written
# the way a user writes them (nn.Sequential, autograd, optim.SGD), on one thread. A benchmark peer only:
# nn and its tests never need PyTorch (docs/benchmarks.md). scripts/bench.sh runs it when Debian's
# python3-torch is installed, as
#   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE taskset -c 0 /usr/bin/python3 benchmarks/torch_convnet.py
# Usage: torch_convnet.py [--data DIR] [--samples N] [--repeats R] [--batch 10,64] [--net ch6a,ch6b]
import argparse
import gzip
import statistics
import time

import numpy as np
import torch

p = argparse.ArgumentParser()
p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
p.add_argument("--samples", type=int, default=10000)
p.add_argument("--repeats", type=int, default=3)
p.add_argument("--batch", default="10,64")
p.add_argument("--net", default="ch6a,ch6b")
a = p.parse_args()
torch.set_num_threads(1)


def idx(path, offset):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


x = torch.from_numpy(idx(a.data + "/train-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28)[: a.samples].astype(np.float32) / 255)
y = torch.from_numpy(idx(a.data + "/train-labels-idx1-ubyte.gz", 8)[: a.samples].astype(np.int64))
n = len(y)
nn = torch.nn
nets = {
    "ch6a": lambda: nn.Sequential(nn.Conv2d(1, 20, 5), nn.Sigmoid(), nn.MaxPool2d(2), nn.Flatten(),
                                  nn.Linear(2880, 100), nn.Sigmoid(), nn.Linear(100, 10)),
    "ch6b": lambda: nn.Sequential(nn.Conv2d(1, 20, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(20, 40, 5), nn.ReLU(),
                                  nn.MaxPool2d(2), nn.Flatten(), nn.Linear(640, 100), nn.ReLU(), nn.Dropout(0.5),
                                  nn.Linear(100, 10)),
}
for name in a.net.split(","):
    for batch in map(int, a.batch.split(",")):
        runs = []
        for r in range(a.repeats):
            torch.manual_seed(r)
            net = nets[name]()
            opt = torch.optim.SGD(net.parameters(), lr=0.1)
            cost = nn.CrossEntropyLoss()
            order = torch.randperm(n)
            t0 = time.perf_counter()
            for i in range(0, n, batch):
                b = order[i:i + batch]
                opt.zero_grad()
                cost(net(x[b]), y[b]).backward()
                opt.step()
            runs.append(n / (time.perf_counter() - t0))
        print(f"pytorch {name} batch {batch}: {statistics.median(runs):.0f} samples/s")
