#!/usr/bin/python3
"""Writes models/audio_conv512.onnx: a tiny audio model that cannot run at the gradient check's default sizes.

Input `audio` [batch, 1, samples] with `samples` symbolic; the first Conv has a 512-sample kernel (stride
256), as the front ends of audio models do (a learned filter bank over 32 ms windows at 16 kHz). With the
check's default size 2 for symbolic dims the Conv has no output position and ONNX Runtime refuses the run;
`samples` ≥ 512 (e.g. GradientCheckOptions.Dims / `--dim samples=1024`) works. Issue 11, 6b.

    /usr/bin/python3 tools/export_audio_conv.py [OUT.onnx]
"""

import sys

import torch
from torch import nn


class AudioConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.frontend = nn.Conv1d(1, 4, kernel_size=512, stride=256)
        self.head = nn.Linear(4, 3)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.head(torch.tanh(self.frontend(audio)).mean(dim=2))


def main() -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else "models/audio_conv512.onnx"
    torch.manual_seed(512)
    model = AudioConv().eval()
    torch.onnx.export(model, (torch.randn(1, 1, 1024),), out, input_names=["audio"], output_names=["logits"],
                      dynamic_axes={"audio": {0: "batch", 2: "samples"}, "logits": {0: "batch"}}, opset_version=17,
                      do_constant_folding=True)
    print(f"wrote {out}: {sum(p.numel() for p in model.parameters())} parameters")


if __name__ == "__main__":
    main()
