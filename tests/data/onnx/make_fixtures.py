#!/usr/bin/env python3
"""Writes the ONNX files tests/onnx_proto_test.cpp reads, as PyTorch exports them (Debian's python3-torch;
torch.onnx.export needs nothing else). Run from this folder: /usr/bin/python3 make_fixtures.py
tiny_mlp.onnx: 4-3-2 dense layers (Gemm), Sigmoid, Softmax; seed 0; a batch dimension named N."""
import torch

torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Sigmoid(), torch.nn.Linear(3, 2), torch.nn.Softmax(dim=1))
torch.onnx.export(model, torch.zeros(1, 4), "tiny_mlp.onnx", input_names=["x"], output_names=["y"],
                  dynamic_axes={"x": {0: "N"}, "y": {0: "N"}}, opset_version=13)
for name, p in model.named_parameters():
    print(name, [float(v) for v in p.detach().numpy().ravel()])
