#!/usr/bin/env python3
# The PyTorch peer of benchmarks/train_bench.cpp: the course's training (sigmoid, quadratic cost, SGD
# with eta = 3) of 784-30-10 and 784-100-10 on full Fashion-MNIST, one thread, in two forms:
#   matmul    the algorithm written with matrix products and no autograd (the fastest PyTorch form)
#   autograd  nn.Sequential, autograd and optim.SGD, as a user writes it
# Each epoch shuffles, gathers the mini-batches' rows from the images already in float, and steps; the
# samples/s are the median of the epochs. A benchmark peer only: nn and its tests never need PyTorch
# (docs/benchmarks.md). scripts/bench.sh runs it when Debian's python3-torch is installed, as
#   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE taskset -c 0 /usr/bin/python3 benchmarks/torch_train.py
# Usage: torch_train.py [--data DIR] [--epochs N] [--batch 10,64,128] [--hidden 30,100] [--form matmul,autograd]
#                       [--flush-denormal] [--recipe]
# --recipe: instead, the Fashion-MNIST recipe of train_bench --network 784-512-256-10 as a user writes it
# in PyTorch: 784-512-256-10, relu, dropout 0.2, cross-entropy (softmax and the log-likelihood), Adam with
# lr = 0.001.
# --flush-denormal: torch.set_flush_denormal(True), subnormal numbers as 0, as nn's training steps do by
# default (trainer::flush_subnormals); PyTorch's default is IEEE arithmetic.
import argparse
import gzip
import statistics
import time

import numpy as np
import torch

p = argparse.ArgumentParser()
p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
p.add_argument("--epochs", type=int, default=3)
p.add_argument("--batch", default="10,64,128")
p.add_argument("--hidden", default="30,100")
p.add_argument("--form", default="matmul,autograd")
p.add_argument("--flush-denormal", action="store_true")
p.add_argument("--recipe", action="store_true")
a = p.parse_args()
torch.set_num_threads(1)
if a.flush_denormal and not torch.set_flush_denormal(True):
    raise SystemExit("torch_train: this CPU cannot flush denormals")
ETA = 3.0


def idx(path, offset):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


x = torch.from_numpy(idx(a.data + "/train-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32) / 255)
labels = torch.from_numpy(idx(a.data + "/train-labels-idx1-ubyte.gz", 8).astype(np.int64))
y = torch.nn.functional.one_hot(labels, 10).float()
n = len(labels)


def matmul_epoch(params, batch, order):
    w1, b1, w2, b2 = params
    with torch.no_grad():
        for i in range(0, n, batch):
            b = order[i:i + batch]
            xb, yb = x[b], y[b]
            a1 = torch.sigmoid(torch.addmm(b1, xb, w1.t()))
            a2 = torch.sigmoid(torch.addmm(b2, a1, w2.t()))
            d2 = (a2 - yb) * a2 * (1 - a2)  # the quadratic cost's error at the sigmoid outputs
            d1 = (d2 @ w2) * a1 * (1 - a1)
            r = ETA / len(b)
            w2.addmm_(d2.t(), a1, alpha=-r)
            b2.sub_(d2.sum(0), alpha=r)
            w1.addmm_(d1.t(), xb, alpha=-r)
            b1.sub_(d1.sum(0), alpha=r)


def autograd_epoch(model, batch, order):
    opt = torch.optim.SGD(model.parameters(), lr=ETA)
    for i in range(0, n, batch):
        b = order[i:i + batch]
        opt.zero_grad()
        # The course's C = 1/2 |a - y|^2 per sample, averaged over the mini-batch.
        (0.5 * ((model(x[b]) - y[b]) ** 2).sum(1).mean()).backward()
        opt.step()


def recipe_epoch(model, opt, batch, order):
    model.train()
    loss = torch.nn.CrossEntropyLoss()
    for i in range(0, n, batch):
        b = order[i:i + batch]
        opt.zero_grad()
        loss(model(x[b]), labels[b]).backward()
        opt.step()


print(f"PyTorch {torch.__version__}, 1 thread; {n} training images, {a.epochs} epochs, median samples/s"
      + (", subnormals flushed to 0" if a.flush_denormal else ""))
if a.recipe:
    for batch in map(int, a.batch.split(",")):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                                    torch.nn.Linear(512, 256), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                                    torch.nn.Linear(256, 10))
        opt = torch.optim.Adam(model.parameters(), lr=0.001)
        rates = []
        for e in range(a.epochs):
            order = torch.randperm(n)
            t0 = time.perf_counter()
            recipe_epoch(model, opt, batch, order)
            rates.append(n / (time.perf_counter() - t0))
        model.eval()
        with torch.no_grad():
            correct = int((model(x).argmax(1) == labels).sum())
        print(f"pytorch recipe   784-512-256-10 batch {batch:3d}: {statistics.median(rates):9.0f} samples/s"
              f"   (training accuracy after {a.epochs} epochs {correct / n:.3f})")
    raise SystemExit(0)
for form in a.form.split(","):
    for hidden in map(int, a.hidden.split(",")):
        for batch in map(int, a.batch.split(",")):
            torch.manual_seed(0)
            model = torch.nn.Sequential(torch.nn.Linear(784, hidden), torch.nn.Sigmoid(),
                                        torch.nn.Linear(hidden, 10), torch.nn.Sigmoid())
            params = [model[0].weight.data, model[0].bias.data, model[2].weight.data, model[2].bias.data]
            rates = []
            for e in range(a.epochs):
                order = torch.randperm(n)
                t0 = time.perf_counter()
                if form == "matmul":
                    matmul_epoch(params, batch, order)
                else:
                    autograd_epoch(model, batch, order)
                rates.append(n / (time.perf_counter() - t0))
            with torch.no_grad():
                correct = int((model(x).argmax(1) == labels).sum())
            print(f"pytorch {form:8s} 784-{hidden}-10 batch {batch:3d}: {statistics.median(rates):9.0f} samples/s"
                  f"   (training accuracy after {a.epochs} epochs {correct / n:.3f})")
