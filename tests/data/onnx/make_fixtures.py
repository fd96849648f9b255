#!/usr/bin/env python3
"""Writes the ONNX files tests/onnx_proto_test.cpp reads, as PyTorch exports them (Debian's python3-torch;
torch.onnx.export needs nothing else). Run from this folder: /usr/bin/python3 make_fixtures.py
tiny_mlp.onnx: 4-3-2 dense layers (Gemm), Sigmoid, Softmax; seed 0; a batch dimension named N.
flatten_mlp.onnx: a 1x2x3 image, Flatten, dense 6-3 with ReLU, dense 3-2 with no activation; seed 1."""
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
