#!/usr/bin/python3
"""Writes models/deep_relu_cnn.onnx: a plain deep ReLU CNN for the gradient check's kink case (issue 11, 6d).

Sixteen 3x3 convolutions with ReLU (8 channels, 128x128 inputs, one max-pool after the eighth), global average
pooling and a linear layer to 10 classes: 9,074 parameters but about 1.3M ReLU units per image, so along a path
θ ± h·v of float32-sized steps thousands of activations change sign. The loss then has kinks so dense that
central differences of float32 step sizes are off by more than 1e-2 along random directions, while the
gradient is right: the case where the check by central differences failed a correct gradient (as on the
CNTK ResNet-18 of docs/ci.md, at a size that can be committed and runs in seconds).

Kaiming-normal weights (fan-in, gain √2) keep the activations of order one through the depth; no batch
normalization or residuals, so the ReLU kinks are all there is. Seeded: the same file every run.

    /usr/bin/python3 tools/export_deep_relu_cnn.py [OUT.onnx [DEPTH SIZE CHANNELS]]   # default 16 128 8
"""

import sys

import torch
from torch import nn


DEPTH, SIZE, CHANNELS = 16, 128, 8


class DeepReluCnn(nn.Module):
    def __init__(self, channels: int = 16, depth: int = 10, classes: int = 10):
        super().__init__()
        layers: list[nn.Module] = []
        inputs = 3
        for i in range(depth):
            conv = nn.Conv2d(inputs, channels, 3, padding=1)
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            nn.init.uniform_(conv.bias, -0.1, 0.1)
            layers += [conv, nn.ReLU()]
            if i == depth // 2 - 1:
                layers.append(nn.MaxPool2d(2))
            inputs = channels
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(channels, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


def main() -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else "models/deep_relu_cnn.onnx"
    depth = int(sys.argv[2]) if len(sys.argv) > 2 else DEPTH
    size = int(sys.argv[3]) if len(sys.argv) > 3 else SIZE
    channels = int(sys.argv[4]) if len(sys.argv) > 4 else CHANNELS
    torch.manual_seed(20261202)
    model = DeepReluCnn(channels=channels, depth=depth).eval()
    example = torch.randn(1, 3, size, size)
    torch.onnx.export(model, (example,), out, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17,
                      do_constant_folding=True)
    print(f"wrote {out}: {sum(p.numel() for p in model.parameters())} parameters")


if __name__ == "__main__":
    main()
