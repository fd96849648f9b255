#!/usr/bin/env python3
"""nn's ONNX import and export checked against PyTorch (Debian's python3-torch and python3-onnx), for the
course's 784-30-10 sigmoid network, a 784-512-256-10 relu/softmax network, the book's chapter-6
convolutional network, and one with padding, a strided convolution, batch norm and average pooling
(tests/onnx_check.cpp holds their nn types):
  1. PyTorch exports each model; nn loads it (nn::load_onnx) and its outputs on 1,000 Fashion-MNIST test
     images equal PyTorch's to 1e-5 relative. nn-onnx writes a header of it, which compiles (with the
     compiler command given after --) into a program whose outputs are load_onnx's, bit for bit.
  2. nn writes the network it loaded (nn::save_onnx): the file passes onnx.checker.check_model, and loads
     back into nn with the very same outputs.
  3. nn writes a network of its own (nn::scaled_normal_init, seed 7): that file's graph, run node by node
     with PyTorch's functions as ONNX defines each operator (Debian has no ONNX runtime), computes nn's
     outputs to 1e-5 relative.
  4. nn quantizes that network to int8 (nn::quantize, calibrated on the images) and writes it with
     QuantizeLinear and DequantizeLinear: the file passes onnx.checker, and its graph, run so, computes nn's
     int8 outputs to 1e-3 (an input may land a rounding step apart: ONNX divides by the scale, nn multiplies
     by its inverse).
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
    norm = nn.BatchNorm2d(8)
    with torch.no_grad():  # running statistics that are not 0 and 1
        norm.weight.uniform_(0.5, 1.5)
        norm.bias.uniform_(-0.5, 0.5)
        norm.running_mean.uniform_(-0.2, 0.2)
        norm.running_var.uniform_(0.5, 2.0)
    # 26 x 26 pooled to 13 x 13: a stride-2 convolution of an odd size pads as nn's 'same' does (1 and 1).
    yield "padded", (1, 28, 28), nn.Sequential(nn.Conv2d(1, 8, 3, bias=False), norm, nn.ReLU(), nn.AvgPool2d(2),
                                               nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.Tanh(), nn.Flatten(),
                                               nn.Linear(8 * 7 * 7, 10), nn.Softmax(dim=1))


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


def run_graph(path, x):
    """The outputs of the ONNX graph at `path` on x, each node computed with PyTorch's functions as ONNX
    defines its operator (opset 13): what another runtime would compute from the file nn wrote."""
    m = onnx.load(path)
    values = {t.name: torch.from_numpy(onnx.numpy_helper.to_array(t).copy()) for t in m.graph.initializer}
    values[m.graph.input[0].name] = torch.from_numpy(x)
    f = torch.nn.functional
    for node in m.graph.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in node.attribute}
        i = [values[name] for name in node.input if name]
        op = node.op_type
        if op == "Gemm":
            y = i[0] @ (i[1].t() if a.get("transB", 0) else i[1]) + (i[2] if len(i) > 2 else 0)
        elif op == "Conv":
            top, left, bottom, right = a.get("pads", [0, 0, 0, 0])
            y = f.conv2d(f.pad(i[0], (left, right, top, bottom)), i[1], i[2] if len(i) > 2 else None,
                         stride=a.get("strides", [1, 1]))
        elif op in ("MaxPool", "AveragePool"):
            if any(a.get("pads", [0])):
                sys.exit(f"{path}: {node.name} pads, which nn never writes")
            pool = f.max_pool2d if op == "MaxPool" else f.avg_pool2d
            y = pool(i[0], a["kernel_shape"], a.get("strides", [1, 1]))
        elif op == "BatchNormalization":
            y = f.batch_norm(i[0], i[3], i[4], i[1], i[2], training=False, eps=a.get("epsilon", 1e-5))
        elif op == "Flatten":
            axis = a.get("axis", 1)
            y = i[0].reshape(int(numpy.prod(i[0].shape[:axis])), -1)
        elif op == "Softmax":
            y = torch.softmax(i[0], dim=a.get("axis", -1))
        elif op == "QuantizeLinear":  # (u8: the zero point's type; torch.round rounds half to even, as ONNX)
            y = torch.clamp(torch.round(i[0] / i[1]) + i[2].to(torch.float32), 0, 255).to(torch.uint8)
        elif op == "DequantizeLinear":
            scale, zero = i[1], i[2].to(torch.float32)
            if scale.dim() == 1:  # one per slice along `axis`
                shape = [1] * i[0].dim()
                shape[a.get("axis", 1)] = -1
                scale, zero = scale.reshape(shape), zero.reshape(shape)
            y = (i[0].to(torch.float32) - zero) * scale
        elif op in ("Sigmoid", "Relu", "Tanh"):
            y = {"Sigmoid": torch.sigmoid, "Relu": torch.relu, "Tanh": torch.tanh}[op](i[0])
        else:
            sys.exit(f"{path}: no rule for the operator {op}")
        values[node.output[0]] = y
    return values[m.graph.output[0].name].numpy()


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
                          dynamic_axes={"x": {0: "N"}, "y": {0: "N"}}, opset_version=13,
                          training=torch.onnx.TrainingMode.PRESERVE)  # (keeps batch norm a node)
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
        with torch.no_grad():
            torch_y = run_graph(own, x)
        ok &= compare(f"{net}: nn's save_onnx run by PyTorch beside nn", nn_outputs(tool, net, own, x, work), torch_y)

        int8, inputs, outputs = (os.path.join(work, net + n) for n in (".int8.onnx", ".int8.in.f32", ".int8.out.f32"))
        x.astype("<f4").tofile(inputs)
        subprocess.run([tool, "quantize", net, "7", inputs, int8, outputs], check=True)
        onnx.checker.check_model(onnx.load(int8), full_check=True)
        with torch.no_grad():
            torch_y = run_graph(int8, x)
        nn_y = numpy.fromfile(outputs, "<f4").reshape(len(x), -1)
        worst = float(numpy.max(numpy.abs(nn_y - torch_y)))
        print(f"{net}: nn's int8 network written with QuantizeLinear / DequantizeLinear, run by PyTorch beside nn: "
              f"largest difference {worst:.2e} ({'ok' if worst <= 1e-3 else 'FAILED'})")
        ok &= worst <= 1e-3
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
