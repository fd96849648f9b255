#!/usr/bin/env python3
"""nn's ONNX import and export checked against PyTorch (Debian's python3-torch and python3-onnx), for the
course's 784-30-10 sigmoid network, a 784-512-256-10 relu/softmax network and the book's chapter-6
convolutional network (tests/onnx_check.cpp holds their nn types):
  1. PyTorch exports each model; nn loads it (nn::load_onnx) and its outputs on 1,000 Fashion-MNIST test
     images equal PyTorch's to 1e-5 relative. nn-onnx writes a header of it, which compiles (with the
     compiler command given after --) into a program whose outputs are load_onnx's, bit for bit.
  2. nn writes the network it loaded (nn::save_onnx): the file passes onnx.checker.check_model, and loads
     back into nn with the very same outputs.
  3. nn writes a network of its own (nn::scaled_normal_init, seed 7): PyTorch, given that file's weights,
     computes nn's outputs to 1e-5 relative.
usage: onnx_pytorch.py ONNX_CHECK NN_ONNX IMAGES.gz WORK_DIR -- COMPILER [FLAGS...]"""
import gzip
import os
import subprocess
import sys

import numpy
import onnx
import onnx.checker
import onnx.numpy_helper
import torch

TOLERANCE = 1e-5
SAMPLES = 1000


def models():
    torch.manual_seed(0)
    nn = torch.nn
    yield "course", (784,), nn.Sequential(nn.Linear(784, 30), nn.Sigmoid(), nn.Linear(30, 10), nn.Sigmoid())
    yield "wide", (784,), nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                                        nn.Linear(256, 10), nn.Softmax(dim=1))
    yield "ch6a", (1, 28, 28), nn.Sequential(nn.Conv2d(1, 20, 5), nn.Sigmoid(), nn.MaxPool2d(2), nn.Flatten(),
                                             nn.Linear(20 * 12 * 12, 100), nn.Sigmoid(), nn.Linear(100, 10),
                                             nn.Softmax(dim=1))


def images(path):
    with gzip.open(path) as f:
        data = f.read()
    if len(data) < 16 + SAMPLES * 784 or int.from_bytes(data[:4], "big") != 0x803:
        sys.exit(f"{path}: expected an IDX file of at least {SAMPLES} 28x28 images")
    return numpy.frombuffer(data, numpy.uint8, SAMPLES * 784, 16).astype(numpy.float32) / 255


def nn_outputs(tool, net, model, x, work):
    inputs, outputs = os.path.join(work, "inputs.f32"), os.path.join(work, net + ".out.f32")
    x.astype("<f4").tofile(inputs)
    subprocess.run([tool, "run", net, model, inputs, outputs], check=True)
    return numpy.fromfile(outputs, "<f4").reshape(len(x), -1)


def header_outputs(nn_onnx, compiler, net, model, x, work):
    """The outputs through a header nn-onnx wrote: the weights compiled in."""
    header, program = os.path.join(work, net + ".hpp"), os.path.join(work, net + "_header_run")
    subprocess.run([nn_onnx, "header", model, "--namespace", "model", "--output", header], check=True)
    runner = os.path.join(os.path.dirname(os.path.abspath(__file__)), "onnx_header_run.cpp")
    subprocess.run(compiler + [f'-DNN_MODEL_HEADER="{header}"', runner, "-o", program], check=True)
    inputs, outputs = os.path.join(work, "inputs.f32"), os.path.join(work, net + ".header.out.f32")
    x.astype("<f4").tofile(inputs)
    subprocess.run([program, inputs, outputs], check=True)
    return numpy.fromfile(outputs, "<f4").reshape(len(x), -1)


def compare(what, nn_y, torch_y):
    worst = float(numpy.max(numpy.abs(nn_y - torch_y) / numpy.maximum(numpy.abs(torch_y), 1e-30)))
    ok = worst <= TOLERANCE
    print(f"{what}: {nn_y.size} outputs, largest relative difference {worst:.2e} ({'ok' if ok else 'FAILED'})")
    return ok


def set_weights(model, path):
    """The weights of an ONNX file nn wrote, into the PyTorch model's layers in order."""
    m = onnx.load(path)
    values = {t.name: torch.from_numpy(onnx.numpy_helper.to_array(t).copy()) for t in m.graph.initializer}
    layers = [l for l in model if isinstance(l, (torch.nn.Linear, torch.nn.Conv2d, torch.nn.BatchNorm2d))]
    nodes = [n for n in m.graph.node if n.op_type in ("Gemm", "Conv", "BatchNormalization")]
    if len(layers) != len(nodes):
        sys.exit(f"{path}: {len(nodes)} layers with weights, PyTorch's model has {len(layers)}")
    with torch.no_grad():
        for layer, node in zip(layers, nodes):
            names = ("weight", "bias", "running_mean", "running_var")
            for name, value in zip(names, node.input[1:]):
                target = getattr(layer, name)
                if target.shape != values[value].shape:
                    sys.exit(f"{path}: {value} has shape {list(values[value].shape)}, PyTorch's {name} {list(target.shape)}")
                target.copy_(values[value])


def main():
    if len(sys.argv) < 7 or sys.argv[5] != "--":
        sys.exit(__doc__)
    tool, nn_onnx, image_file, work = sys.argv[1:5]
    compiler = sys.argv[6:]
    os.makedirs(work, exist_ok=True)
    pixels = images(image_file)
    ok = True
    for net, shape, model in models():
        model.eval()
        x = pixels.reshape(SAMPLES, *shape)
        exported = os.path.join(work, net + ".onnx")
        torch.onnx.export(model, torch.zeros(1, *shape), exported, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "N"}, "y": {0: "N"}}, opset_version=13)
        with torch.no_grad():
            torch_y = model(torch.from_numpy(x)).numpy()
        nn_y = nn_outputs(tool, net, exported, x, work)
        ok &= compare(f"{net}: nn's load_onnx beside PyTorch", nn_y, torch_y)
        same = numpy.array_equal(header_outputs(nn_onnx, compiler, net, exported, x, work), nn_y)
        print(f"{net}: through nn-onnx's header, {'the same outputs' if same else 'OUTPUTS DIFFER'}")
        ok &= same

        written = os.path.join(work, net + ".nn.onnx")
        subprocess.run([tool, "save", net, exported, written], check=True)
        onnx.checker.check_model(onnx.load(written), full_check=True)
        again = nn_outputs(tool, net, written, x, work)
        same = numpy.array_equal(again, nn_y)
        print(f"{net}: save_onnx passes onnx.checker; loaded back, {'the same outputs' if same else 'OUTPUTS DIFFER'}")
        ok &= same

        own = os.path.join(work, net + ".seed7.onnx")
        subprocess.run([tool, "make", net, "7", own], check=True)
        onnx.checker.check_model(onnx.load(own), full_check=True)
        set_weights(model, own)
        with torch.no_grad():
            torch_y = model(torch.from_numpy(x)).numpy()
        ok &= compare(f"{net}: PyTorch on nn's save_onnx beside nn", nn_outputs(tool, net, own, x, work), torch_y)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
