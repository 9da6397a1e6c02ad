#!/usr/bin/env python3
"""The BERT-like reference of issue 12: a small BERT-like classifier with two int64 inputs, a
synthetic masked classification task, and PyTorch's test accuracy per epoch of momentum SGD.

Writes tests/BertLike/:
  bert_like.onnx        the untrained inference model (opset 14): input_ids and attention_mask,
                        int64 [batch, SEQ], logits float [batch, 2]
  train.npz, test.npz   arrays input_ids, attention_mask (int64 [N, SEQ]) and target (int64 [N])
  reference.json        the training setup, PyTorch's test loss and accuracy of the untrained model,
                        its per-epoch train loss and test accuracy, and those of the penalized run

The model: token and position embeddings, LAYERS post-norm encoder layers (multi-head
self-attention whose scores get -10000 at padded keys, a ReLU feed-forward block, LayerNorm after
each residual), mean pooling over the unpadded positions, a linear head.

The task: a sequence has LENGTH in [MIN_LEN, SEQ] real tokens followed by padding; the label is 1
when the real tokens contain the trigger token more often than the blocker token, else 0 (ties and
absences are 0). The padded positions hold trigger and blocker tokens at random, with
attention_mask 0: a model that does not ignore them sees wrong counts (the label computed over all
positions agrees with the true one on only about 65% of the examples), so the answer depends on
the tokens and on the mask. Examples are balanced between the two classes.

PyTorch trains from the exported model's initial weights with the toolkit's own batch order: every
epoch a permutation of the training set from SplitMix64 and Fisher-Yates (the definition of
ImplicitRegOnnx.Runtime.Data.EpochSampler.Permutation, re-implemented below), consecutive batches of
BATCH, the last incomplete batch dropped; mean softmax cross-entropy; torch.optim.SGD with momentum
(no dampening, no weight decay); no penalty for the 15 epochs of the reference, and a second run of
5 epochs from the same weights with the exact penalty: objective C + c·R, c = lr/4, R the mean of
||∇C_j||² over 2 consecutive halves of the batch, its gradient by double backward. Same seed, same files.

Usage: /usr/bin/python3 tools/make_bert_like.py   (Debian's python3-torch 1.13, python3-onnx, numpy)
"""
import copy
import json
import math
import os

import numpy as np
import onnx
import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "BertLike")

VOCAB = 12
SEQ = 10
MIN_LEN = 3
TRIGGER, BLOCKER = 1, 2
D, HEADS, FF, LAYERS, CLASSES = 16, 2, 32, 1, 2
TRAIN, TEST = 800, 200
EPOCHS, BATCH, LR, MOMENTUM, SEED = 15, 16, 0.05, 0.9, 0
# A second run with the exact penalty, c = λ/4 with λ = the learning rate (the paper's scale), for fewer epochs.
PENALTY_COEFFICIENT, PENALTY_MICROBATCHES, PENALTY_EPOCHS = LR / 4, 2, 5

MASK64 = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15


def mix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def permutation(count, seed, epoch):
    """EpochSampler.Permutation: Fisher-Yates driven by SplitMix64 from Mix(seed ^ Mix((epoch+1)·γ))."""
    state = mix(seed ^ mix(((epoch + 1) * GAMMA) & MASK64))
    items = list(range(count))
    for i in range(count - 1, 0, -1):
        bound = i + 1
        threshold = ((1 << 64) - bound) % bound
        while True:
            state = (state + GAMMA) & MASK64
            r = mix(state)
            if r >= threshold:
                break
        j = r % bound
        items[i], items[j] = items[j], items[i]
    return items


def make_data(count, rng):
    """Balanced examples of the counting task (see the module's doc)."""
    ids = np.zeros((count, SEQ), dtype=np.int64)
    mask = np.zeros((count, SEQ), dtype=np.int64)
    target = np.zeros(count, dtype=np.int64)
    made = [0, 0]
    i = 0
    while i < count:
        length = rng.integers(MIN_LEN, SEQ + 1)
        row = rng.integers(0, VOCAB, SEQ)
        row[length:] = rng.choice([TRIGGER, BLOCKER], SEQ - length)
        real = row[:length]
        label = int((real == TRIGGER).sum() > (real == BLOCKER).sum())
        if made[label] >= count // 2 + (label == 0) * (count % 2):
            continue
        made[label] += 1
        ids[i] = row
        mask[i, :length] = 1
        target[i] = label
        i += 1
    return ids, mask, target


class EncoderLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(D, D) for _ in range(4))
        self.norm1, self.norm2 = nn.LayerNorm(D), nn.LayerNorm(D)
        self.ff1, self.ff2 = nn.Linear(D, FF), nn.Linear(FF, D)

    def forward(self, h, key_bias):
        dh = D // HEADS

        def heads(x):  # [B, T, D] -> [B, H, T, dh]; -1 keeps the batch symbolic without Shape ops
            return x.reshape(-1, SEQ, HEADS, dh).transpose(1, 2)

        q, k, v = heads(self.q(h)), heads(self.k(h)), heads(self.v(h))
        scores = q @ k.transpose(-1, -2) / math.sqrt(dh) + key_bias
        context = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(-1, SEQ, D)
        h = self.norm1(h + self.o(context))
        return self.norm2(h + self.ff2(torch.relu(self.ff1(h))))


class BertLike(nn.Module):
    def __init__(self):
        super().__init__()
        self.tokens = nn.Embedding(VOCAB, D)
        self.positions = nn.Parameter(torch.randn(SEQ, D) * 0.1)
        self.layers = nn.ModuleList(EncoderLayer() for _ in range(LAYERS))
        self.head = nn.Linear(D, CLASSES)

    def forward(self, input_ids, attention_mask):
        m = attention_mask.to(torch.float32)
        key_bias = ((1.0 - m) * -10000.0).reshape(-1, 1, 1, SEQ)  # padded keys get no attention
        h = self.tokens(input_ids) + self.positions
        for layer in self.layers:
            h = layer(h, key_bias)
        pooled = (h * m.unsqueeze(-1)).sum(dim=1) / m.sum(dim=1, keepdim=True)
        return self.head(pooled)


def accuracy(model, ids, mask, target):
    with torch.no_grad():
        return float((model(ids, mask).argmax(dim=1) == target).double().mean())


def train_model(model, data, test, epochs, coefficient=0.0, microbatches=1):
    """SGD with momentum on the toolkit's batches. With a coefficient c, the objective is C + c·R,
    R = (1/n) Σ_j ||∇C_j||² over n consecutive equal slices of the batch (C_j their mean losses), its
    gradient by double backward: the toolkit's exact penalty."""
    ids, mask, target = data
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = nn.CrossEntropyLoss()
    params = list(model.parameters())
    results = []
    for epoch in range(epochs):
        order = permutation(TRAIN, SEED, epoch)
        losses, penalties = [], []
        for start in range(0, TRAIN - BATCH + 1, BATCH):
            batch = torch.tensor(order[start:start + BATCH])
            optimizer.zero_grad()
            loss = loss_fn(model(ids[batch], mask[batch]), target[batch])
            penalty = torch.zeros(())
            if coefficient:
                size = BATCH // microbatches
                for j in range(microbatches):
                    part = batch[j * size:(j + 1) * size]
                    grads = torch.autograd.grad(loss_fn(model(ids[part], mask[part]), target[part]), params, create_graph=True)
                    penalty = penalty + sum((g * g).sum() for g in grads)
                penalty = penalty / microbatches
            (loss + coefficient * penalty).backward()
            optimizer.step()
            losses.append(float(loss))
            penalties.append(float(penalty))
        result = {"epoch": epoch + 1, "train_loss": sum(losses) / len(losses), "test_accuracy": accuracy(model, *test)}
        if coefficient:
            result["penalty"] = sum(penalties) / len(penalties)
        results.append(result)
        print(f"epoch {epoch + 1}: loss {result['train_loss']:.4f}  penalty {result.get('penalty', 0):.4f}  test accuracy {result['test_accuracy']:.4f}")
    return results


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(SEED)
    train = make_data(TRAIN, rng)
    test = make_data(TEST, rng)
    for name, (ids, mask, target) in (("train", train), ("test", test)):
        np.savez_compressed(os.path.join(OUT, name + ".npz"), input_ids=ids, attention_mask=mask, target=target)

    torch.manual_seed(SEED)
    model = BertLike()
    with torch.no_grad():
        # The exporter merges initializers of equal values: LayerNorm's ones and zeros would become
        # one tensor shared by both norms, a different model from PyTorch's. Distinct values keep them apart.
        for module in model.modules():
            if isinstance(module, nn.LayerNorm):
                module.weight.add_(torch.randn(D) * 0.01)
                module.bias.add_(torch.randn(D) * 0.01)
    ids0, mask0 = torch.from_numpy(train[0][:2]), torch.from_numpy(train[1][:2])
    path = os.path.join(OUT, "bert_like.onnx")
    torch.onnx.export(model, (ids0, mask0), path, opset_version=14,
                      input_names=["input_ids", "attention_mask"], output_names=["logits"],
                      dynamic_axes={"input_ids": {0: "batch"}, "attention_mask": {0: "batch"}, "logits": {0: "batch"}},
                      do_constant_folding=True)

    exported = onnx.load(path)
    params = dict(model.named_parameters())
    if len(exported.graph.initializer) < len(params):
        raise SystemExit(f"the export shares parameters: {len(exported.graph.initializer)} initializers for {len(params)} parameters")

    ids, mask, target = (torch.from_numpy(a) for a in train)
    test_t = tuple(torch.from_numpy(a) for a in test)
    with torch.no_grad():
        initial = {"test_loss": float(nn.functional.cross_entropy(model(*test_t[:2]), test_t[2])),
                   "test_accuracy": accuracy(model, *test_t)}
    initial_state = copy.deepcopy(model.state_dict())
    epochs = train_model(model, (ids, mask, target), test_t, EPOCHS)
    model.load_state_dict(initial_state)
    penalized = train_model(model, (ids, mask, target), test_t, PENALTY_EPOCHS, PENALTY_COEFFICIENT, PENALTY_MICROBATCHES)

    reference = {
        "producer": "tools/make_bert_like.py, torch " + torch.__version__,
        "model": "bert_like.onnx", "train": "train.npz", "test": "test.npz",
        "loss": "cross-entropy", "penalty": "none", "optimizer": "sgd", "momentum": MOMENTUM,
        "learning_rate": LR, "batch_size": BATCH, "epochs": EPOCHS, "seed": SEED, "drop_last": True,
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_examples": TRAIN, "test_examples": TEST,
        "initial": initial,
        "epoch_results": epochs,
        "final_test_accuracy": epochs[-1]["test_accuracy"],
        "exact_penalty": {
            "penalty": "exact", "coefficient": PENALTY_COEFFICIENT, "microbatches": PENALTY_MICROBATCHES,
            "epochs": PENALTY_EPOCHS, "epoch_results": penalized,
        },
    }
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(reference, f, indent=2)
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
