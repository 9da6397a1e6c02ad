#!/usr/bin/env python3
"""Exports the PyTorch models of tests/RealModels (what `implicitreg convert` is tested on) and,
with --large, a 22M-parameter BERT-like encoder into .cache/large-models (not committed).

Usage: /usr/bin/python3 tools/export_real_models.py [--large]
Needs Debian's python3-torch (1.13) and python3-onnx; fixed seeds, so two runs give the same files.
"""
import os
import sys

import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "RealModels")


class SmallCnn(nn.Module):
    """Conv-BN-ReLU-MaxPool twice, then a ReLU MLP head: what a PyTorch image classifier looks like."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(16 * 4 * 4, 32), nn.ReLU(), nn.Linear(32, 10))

    def forward(self, x):
        return self.head(self.features(x))


def export_small_cnn():
    torch.manual_seed(0)
    model = SmallCnn().eval()
    for m in model.modules():  # statistics that are not 0/1, so folding BN into Conv changes the weights
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
    x = torch.randn(2, 1, 16, 16)
    path = os.path.join(OUT, "torch_cnn_opset9.onnx")
    # Opset 9 (the oldest torch 1.13 writes) with the initializers also listed as graph inputs, as
    # exporters did for IR < 4; constant folding folds BN into the Conv weights as a plain EVAL export does.
    torch.onnx.export(model, x, path, opset_version=9, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
                      keep_initializers_as_inputs=True, do_constant_folding=True)
    print("wrote", path)


class BertLike(nn.Module):
    """Token + position embeddings, a 6-layer post-norm Transformer encoder (d=384, 6 heads, GELU),
    mean pooling and a classifier: about 22M parameters, the size of a MiniLM/BERT-small."""

    def __init__(self, vocab=30522, d=384, layers=6, heads=6, ff=1536, max_len=128, classes=2):
        super().__init__()
        self.tokens = nn.Embedding(vocab, d)
        self.positions = nn.Parameter(torch.randn(max_len, d) * 0.02)
        layer = nn.TransformerEncoderLayer(d, heads, ff, dropout=0.0, activation="gelu", batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.norm = nn.LayerNorm(d)
        self.classifier = nn.Linear(d, classes)

    def forward(self, ids):
        h = self.tokens(ids) + self.positions[: ids.shape[1]]
        h = self.norm(self.encoder(h))
        return self.classifier(h.mean(dim=1))


def export_bert_like():
    torch.manual_seed(0)
    model = BertLike().eval()
    # TransformerEncoder deep-copies one layer, and the exporter merges identical initializers: give
    # every layer weights of its own so that the file has all 22M parameters.
    with torch.no_grad():
        for p in model.encoder.parameters():
            p.normal_(0.0, 0.02)
    count = sum(p.numel() for p in model.parameters())
    folder = os.path.join(ROOT, ".cache", "large-models")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "bert_like_22m.onnx")
    ids = torch.randint(0, 30522, (2, 16))
    torch.onnx.export(model, ids, path, opset_version=17, input_names=["ids"], output_names=["logits"],
                      dynamic_axes={"ids": {0: "batch"}, "logits": {0: "batch"}}, do_constant_folding=True)
    print(f"wrote {path} ({count:,} parameters)")


if __name__ == "__main__":
    export_small_cnn()
    if "--large" in sys.argv[1:]:
        export_bert_like()
