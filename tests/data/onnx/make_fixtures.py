#!/usr/bin/env python3
"""Writes the ONNX files tests/onnx_proto_test.cpp reads, as PyTorch exports them (Debian's python3-torch;
torch.onnx.export needs nothing else). Run from this folder: /usr/bin/python3 make_fixtures.py
tiny_mlp.onnx: 4-3-2 dense layers (Gemm), Sigmoid, Softmax; seed 0; a batch dimension named N.
flatten_mlp.onnx: a 1x2x3 image, Flatten, dense 6-3 with ReLU, dense 3-2 with no activation; seed 1.
small_cnn.onnx: chapter 6 in small: a 1x8x8 image, conv 3 maps 3x3 with Sigmoid, max pooling 2, Flatten,
  dense 27-4 with Softmax; seed 2.
bn_cnn.onnx: a 2x6x6 image, conv 4 maps 3x3 padding 1 without bias, batch norm with ReLU, average pooling 2,
  conv 2 maps 3x3 stride 2 padding 1 with Tanh, Flatten, dense 8-3, batch norm 1-D with Tanh; the running
  statistics drawn (not 0 and 1); seed 3; exported with training=PRESERVE, which keeps batch norm a node.
bn_cnn_fused.onnx: the same model exported as torch.onnx.export does by default, the first batch norm folded
  into the convolution before it (which gains a bias).
pool_only.onnx: a 1x4x4 image and max pooling 2, nothing else (a network without parameters).
The inputs of the printed outputs are exact in float: sample s, value i is ((7 i + 3 s) mod 17 - 8) / 8."""
import torch

torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Sigmoid(), torch.nn.Linear(3, 2), torch.nn.Softmax(dim=1))
torch.onnx.export(model, torch.zeros(1, 4), "tiny_mlp.onnx", input_names=["x"], output_names=["y"],
                  dynamic_axes={"x": {0: "N"}, "y": {0: "N"}}, opset_version=13)
for name, p in model.named_parameters():
    print(name, [float(v) for v in p.detach().numpy().ravel()])
# The outputs tests/onnx_test.cpp compares nn's with.
x = torch.tensor([[0.1, 0.2, 0.3, 0.4], [-1.0, 0.5, 2.0, -0.3]])
print("outputs", [float(v) for v in model(x).detach().numpy().ravel()])

torch.manual_seed(1)
model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
torch.onnx.export(model, torch.zeros(1, 1, 2, 3), "flatten_mlp.onnx", input_names=["image"], output_names=["y"],
                  dynamic_axes={"image": {0: "N"}, "y": {0: "N"}}, opset_version=13)
x = torch.tensor([[[[0.5, -1.0, 2.0], [0.25, 0.0, -0.75]]]])
print("flatten outputs", [float(v) for v in model(x).detach().numpy().ravel()])


def exact_inputs(samples, *shape):
    n = 1
    for d in shape:
        n *= d
    return torch.tensor([[((7 * i + 3 * s) % 17 - 8) / 8 for i in range(n)] for s in range(samples)]).reshape(samples, *shape)


def export(model, shape, name, **options):
    model.eval()
    torch.onnx.export(model, torch.zeros(1, *shape), name, input_names=["image"], output_names=["y"],
                      dynamic_axes={"image": {0: "N"}, "y": {0: "N"}}, opset_version=13, **options)
    print(name, "outputs", [float(v) for v in model(exact_inputs(2, *shape)).detach().numpy().ravel()])


torch.manual_seed(2)
export(torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3), torch.nn.Sigmoid(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                           torch.nn.Linear(27, 4), torch.nn.Softmax(dim=1)), (1, 8, 8), "small_cnn.onnx")

torch.manual_seed(3)
bn2, bn1 = torch.nn.BatchNorm2d(4), torch.nn.BatchNorm1d(3)
for bn in (bn2, bn1):
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
model = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3, padding=1, bias=False), bn2, torch.nn.ReLU(), torch.nn.AvgPool2d(2),
                            torch.nn.Conv2d(4, 2, 3, stride=2, padding=1), torch.nn.Tanh(), torch.nn.Flatten(),
                            torch.nn.Linear(8, 3), bn1, torch.nn.Tanh())
export(model, (2, 6, 6), "bn_cnn.onnx", training=torch.onnx.TrainingMode.PRESERVE)
export(model, (2, 6, 6), "bn_cnn_fused.onnx")

export(torch.nn.Sequential(torch.nn.MaxPool2d(2)), (1, 4, 4), "pool_only.onnx")
