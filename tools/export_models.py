#!/usr/bin/python3
"""Export the small test models in models/ (deterministic: fixed seeds, fixed attributes).

Usage (Debian's own python, which has python3-torch and python3-onnx installed):

    /usr/bin/python3 tools/export_models.py [--out models] [--only NAME[,NAME...]]

Writes, under --out (default: models/ next to this tools/ folder):

    mlp_tanh.onnx               torch export, opset 17: Gemm, Tanh; dynamic batch
    mlp_relu.onnx               torch export, opset 17: Flatten, Gemm, Relu (784-128-10)
    cnn_avgpool.onnx            torch export, opset 17: Conv(pad), Sigmoid, AveragePool, GlobalAveragePool
    cnn_batchnorm_maxpool.onnx  torch export, opset 17: Conv(no bias), BatchNormalization (inference), MaxPool
    resnet8_small.onnx          torch export, opset 17: CIFAR-style ResNet-8, 8-16-32 channels, inference BN
    attention_gelu.onnx         torch export, opset 17: Gather, LayerNormalization, Softmax, Erf; dynamic batch+seq
    lstm_tiny.onnx              torch export, opset 17: LSTM + GRU
    if_loop_subgraph.onnx       onnx.helper: If, Loop, local function, sparse initializer, metadata, value_info
    external_data/model.onnx    torch export re-saved with all tensors in external_data/weights.bin
    legacy_ir3.onnx             onnx.helper: IR 3, opset 8, float_data storage, initializers listed as inputs
    dtypes.onnx                 onnx.helper: initializers of every element type, raw and typed storage

Every file is checked with onnx.checker.check_model (full_check=False) after writing.
The torch exports use the legacy TorchScript exporter (torch 1.13 has no dynamo exporter), with
do_constant_folding=False so initializers keep their PyTorch names, like the cases in shared/oracle.
BatchNorm models are exported from eval() with TrainingMode.PRESERVE so that the exporter keeps the
BatchNormalization nodes (inference mode, training_mode=0) instead of folding them into the Conv weights.
Running the script twice produces byte-identical files.
"""
import argparse
import io
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

OPSET = 17
BATCH = {0: "batch"}


# ----------------------------------------------------------------------------- torch models

class MlpTanh(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


class MlpRelu(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(784, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(self.flatten(x))))


class CnnAvgPool(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3, padding=1)
        self.conv2 = nn.Conv2d(6, 12, 3, padding=1)
        self.fc = nn.Linear(12, 10)

    def forward(self, x):
        y = F.avg_pool2d(torch.sigmoid(self.conv1(x)), 2)           # [b,6,4,4]
        y = torch.sigmoid(self.conv2(y))                            # [b,12,4,4]
        y = F.adaptive_avg_pool2d(y, 1)                             # GlobalAveragePool
        return self.fc(torch.flatten(y, 1))


class CnnBatchNormMaxPool(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.fc = nn.Linear(16 * 2 * 2, 10)

    def forward(self, x):
        y = F.max_pool2d(F.relu(self.bn(self.conv1(x))), 2)         # [b,8,4,4]
        y = F.relu(self.conv2(y))                                   # [b,16,2,2]
        return self.fc(torch.flatten(y, 1))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        if stride == 1 and cin == cout:
            self.shortcut = nn.Sequential()
        else:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


class ResNet8Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.layers = nn.Sequential(BasicBlock(8, 8, 1), BasicBlock(8, 16, 2), BasicBlock(16, 32, 2))
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        y = F.adaptive_avg_pool2d(self.layers(self.stem(x)), 1)
        return self.fc(torch.flatten(y, 1))


class AttentionGelu(nn.Module):
    def __init__(self, vocab=50, d=16, hidden=32, classes=4, max_seq=32):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(0.02 * torch.randn(1, max_seq, d))
        self.ln1 = nn.LayerNorm(d)
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.o = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.ff1 = nn.Linear(d, hidden)
        self.ff2 = nn.Linear(hidden, d)
        self.head = nn.Linear(d, classes)
        self.scale = float(d) ** 0.5

    def forward(self, ids):
        x = self.emb(ids) + self.pos[:, : ids.shape[1]]
        h = self.ln1(x)
        att = torch.softmax(self.q(h) @ self.k(h).transpose(1, 2) / self.scale, dim=-1)
        x = x + self.o(att @ self.v(h))
        x = x + self.ff2(F.gelu(self.ff1(self.ln2(x))))
        return self.head(x.mean(dim=1))


class LstmTiny(nn.Module):
    def __init__(self, features=4, hidden=8, classes=3):
        super().__init__()
        self.lstm = nn.LSTM(features, hidden, batch_first=True)
        self.gru = nn.GRU(hidden, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, x):
        y, _ = self.lstm(x)
        y, h = self.gru(y)
        return self.fc(h[0])


def torch_export(model, example, input_names, dynamic_axes, preserve=False, fold=False):
    """Export to an in-memory ModelProto (opset 17, legacy exporter)."""
    model.eval()
    buf = io.BytesIO()
    kwargs = {}
    if preserve:
        kwargs["training"] = torch.onnx.TrainingMode.PRESERVE
    with torch.no_grad():
        torch.onnx.export(model, example, buf, input_names=input_names, output_names=["logits"],
                          dynamic_axes=dynamic_axes, opset_version=OPSET, do_constant_folding=fold, **kwargs)
    return onnx.load_from_string(buf.getvalue())


def seeded(cls, seed, *args):
    torch.manual_seed(seed)
    return cls(*args)


def randomize_bn(model, seed):
    """Give BatchNorm/LayerNorm layers non-trivial statistics and affine parameters (deterministic).

    Besides being a better test, this matters for export: the exporter deduplicates initializers with
    identical contents (e.g. two fresh LayerNorms, all ones / all zeros) into Identity nodes."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.LayerNorm):
                n = m.normalized_shape
                m.weight.copy_(1.0 + 0.1 * torch.randn(n, generator=g))
                m.bias.copy_(0.1 * torch.randn(n, generator=g))
            if isinstance(m, nn.BatchNorm2d):
                n = m.num_features
                m.running_mean.copy_(0.1 * torch.randn(n, generator=g))
                m.running_var.copy_(0.5 + torch.rand(n, generator=g))
                m.weight.copy_(1.0 + 0.1 * torch.randn(n, generator=g))
                m.bias.copy_(0.1 * torch.randn(n, generator=g))
    return model


def build_mlp_tanh():
    return torch_export(seeded(MlpTanh, 1), torch.randn(2, 64), ["input"],
                        {"input": BATCH, "logits": BATCH})


def build_mlp_relu():
    return torch_export(seeded(MlpRelu, 2), torch.randn(2, 1, 28, 28), ["input"],
                        {"input": BATCH, "logits": BATCH})


def build_cnn_avgpool():
    return torch_export(seeded(CnnAvgPool, 3), torch.randn(2, 1, 8, 8), ["input"],
                        {"input": BATCH, "logits": BATCH})


def build_cnn_batchnorm_maxpool():
    model = randomize_bn(seeded(CnnBatchNormMaxPool, 4), 40)
    return torch_export(model, torch.randn(2, 1, 8, 8), ["input"],
                        {"input": BATCH, "logits": BATCH}, preserve=True)


def build_resnet8_small():
    model = randomize_bn(seeded(ResNet8Small, 5), 50)
    return torch_export(model, torch.randn(2, 1, 28, 28), ["input"],
                        {"input": BATCH, "logits": BATCH}, preserve=True)


def build_attention_gelu():
    model = randomize_bn(seeded(AttentionGelu, 6), 61)
    ids = torch.randint(0, 50, (2, 12), generator=torch.Generator().manual_seed(60))
    return torch_export(model, ids, ["input_ids"],
                        {"input_ids": {0: "batch", 1: "seq"}, "logits": BATCH})


def build_lstm_tiny():
    # Constant folding on here: without it the exporter re-slices and concatenates the PyTorch gate
    # weights in the graph (~90 Constant and 24 Slice nodes); with it, LSTM/GRU read W, R, B initializers.
    return torch_export(seeded(LstmTiny, 7), torch.randn(2, 5, 4), ["input"],
                        {"input": {0: "batch", 1: "seq"}, "logits": BATCH}, fold=True)


def build_external_mlp():
    return torch_export(seeded(MlpTanh, 8), torch.randn(2, 64), ["input"],
                        {"input": BATCH, "logits": BATCH})


# ----------------------------------------------------------------------------- helper-built models

def build_if_loop_subgraph():
    f32, i64, b = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL

    # Local function com.example.ScaledAdd(X, B) -> Y = X + 0.5 * B, uses only ai.onnx ops in its body.
    func = helper.make_function(
        "com.example", "ScaledAdd", ["X", "B"], ["Y"],
        [helper.make_node("Constant", [], ["half"], value=helper.make_tensor("half_v", f32, [], [0.5])),
         helper.make_node("Mul", ["B", "half"], ["scaled_b"]),
         helper.make_node("Add", ["X", "scaled_b"], ["Y"])],
        [helper.make_opsetid("", OPSET)])
    func.doc_string = "Y = X + 0.5 * B (local function in a custom domain)"

    # If branches read the outer-scope value 'shifted'.
    then_graph = helper.make_graph(
        [helper.make_node("Relu", ["shifted"], ["then_out"], name="then_relu")],
        "then_branch", [], [helper.make_tensor_value_info("then_out", f32, ["batch", 4])],
        doc_string="then branch: Relu")
    else_graph = helper.make_graph(
        [helper.make_node("Neg", ["shifted"], ["else_neg"], name="else_neg"),
         helper.make_node("Sigmoid", ["else_neg"], ["else_out"], name="else_sigmoid")],
        "else_branch", [], [helper.make_tensor_value_info("else_out", f32, ["batch", 4])],
        value_info=[helper.make_tensor_value_info("else_neg", f32, ["batch", 4])],
        doc_string="else branch: Sigmoid(Neg(x))")

    # Loop body: (iter, cond, acc) -> (cond, acc + sparse_w, float(iter)); reads outer-scope 'sparse_w'.
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"], name="body_cond"),
         helper.make_node("Add", ["acc_in", "sparse_w"], ["acc_out"], name="body_add"),
         helper.make_node("Cast", ["iter_num"], ["iter_f"], name="body_cast", to=f32)],
        "loop_body",
        [helper.make_tensor_value_info("iter_num", i64, []),
         helper.make_tensor_value_info("cond_in", b, []),
         helper.make_tensor_value_info("acc_in", f32, ["batch", 4])],
        [helper.make_tensor_value_info("cond_out", b, []),
         helper.make_tensor_value_info("acc_out", f32, ["batch", 4]),
         helper.make_tensor_value_info("iter_f", f32, [])],
        doc_string="loop body")

    nodes = [
        helper.make_node("ScaledAdd", ["x", "bias"], ["shifted"], name="scaled_add", domain="com.example",
                         doc_string="calls the local function"),
        helper.make_node("If", ["flag"], ["branch"], name="if_node", then_branch=then_graph, else_branch=else_graph),
        helper.make_node("Constant", [], ["loop_cond"], name="loop_cond_const",
                         value=helper.make_tensor("loop_cond_v", b, [], [True])),
        helper.make_node("Loop", ["trip_count", "loop_cond", "branch"], ["y", "iters"], name="loop_node", body=body),
    ]
    bias = numpy_helper.from_array(np.array([0.25, -0.5, 0.75, -1.0], dtype=np.float32), "bias")
    trip = numpy_helper.from_array(np.array(3, dtype=np.int64), "trip_count")
    sparse_w = helper.make_sparse_tensor(
        helper.make_tensor("sparse_w", f32, [2], [0.125, -0.25]),
        helper.make_tensor("sparse_w_indices", i64, [2], [1, 3]),
        [4])
    graph = helper.make_graph(
        nodes, "if_loop_subgraph",
        [helper.make_tensor_value_info("x", f32, ["batch", 4]),
         helper.make_tensor_value_info("flag", b, [])],
        [helper.make_tensor_value_info("y", f32, ["batch", 4]),
         helper.make_tensor_value_info("iters", f32, [3])],
        initializer=[bias, trip],
        value_info=[helper.make_tensor_value_info("shifted", f32, ["batch", 4]),
                    helper.make_tensor_value_info("branch", f32, ["batch", 4])],
        doc_string="If + Loop + local function + sparse initializer",
        sparse_initializer=[sparse_w])
    model = helper.make_model(
        graph, producer_name="implicitreg-tools", producer_version="1",
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("com.example", 1)],
        functions=[func])
    model.ir_version = 8
    model.doc_string = "Subgraph reader test: If/Loop bodies, FunctionProto, sparse_initializer, metadata"
    model.domain = "org.implicitreg.test"
    model.model_version = 1
    helper.set_model_props(model, {"author": "tools/export_models.py", "purpose": "reader test"})
    return model


def build_legacy_ir3():
    rng = np.random.default_rng(9)
    w = (0.1 * rng.standard_normal((4, 3))).astype(np.float32)
    bias = (0.1 * rng.standard_normal(3)).astype(np.float32)

    def typed(name, arr):  # float_data storage, no raw_data
        return helper.make_tensor(name, TensorProto.FLOAT, arr.shape, arr.flatten().tolist(), raw=False)

    graph = helper.make_graph(
        [helper.make_node("Gemm", ["input", "W", "B"], ["h"], name="gemm"),
         helper.make_node("Relu", ["h"], ["r"], name="relu"),
         helper.make_node("Softmax", ["r"], ["probs"], name="softmax", axis=1)],
        "legacy_ir3",
        # IR 3 requires initializers to appear among the graph inputs.
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [2, 4]),
         helper.make_tensor_value_info("W", TensorProto.FLOAT, [4, 3]),
         helper.make_tensor_value_info("B", TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [2, 3])],
        initializer=[typed("W", w), typed("B", bias)])
    model = helper.make_model(graph, producer_name="implicitreg-tools", producer_version="",
                              opset_imports=[helper.make_opsetid("", 8)])
    model.ir_version = 3
    return model


def build_dtypes():
    T = TensorProto
    inits = []

    def raw(name, arr):
        inits.append(numpy_helper.from_array(arr, name))  # raw_data

    def typed(name, dtype, dims, vals):
        inits.append(helper.make_tensor(name, dtype, dims, vals, raw=False))

    raw("t_float", np.array([[1.5, -2.0, 0.25], [3.0, 0.0, -0.5]], dtype=np.float32))
    typed("t_float_typed", T.FLOAT, [3], [0.5, 1.0, -1.5])                       # float_data
    typed("t_double", T.DOUBLE, [2], [1.0, -2.5])                                # double_data
    raw("t_float16", np.array([1.0, -0.5, 65504.0, 0.0], dtype=np.float16))
    # float16 typed: bit patterns in int32_data (make_tensor converts the values for us).
    typed("t_float16_typed", T.FLOAT16, [2], np.array([2.0, -3.0], dtype=np.float16))
    # bfloat16: raw little-endian bit patterns, and typed bit patterns in int32_data.
    bf_bits = np.array([0x3F80, 0xC000, 0x3E80], dtype=np.uint16)               # 1.0, -2.0, 0.25
    t = helper.make_tensor("t_bfloat16", T.BFLOAT16, [3], bf_bits.tobytes(), raw=True)
    inits.append(t)
    t = TensorProto(name="t_bfloat16_typed", data_type=T.BFLOAT16, dims=[2])
    t.int32_data.extend([0x4040, 0xBF00])                                        # 3.0, -0.5
    inits.append(t)
    raw("t_int8", np.array([-128, 0, 127], dtype=np.int8))
    typed("t_int16", T.INT16, [3], [-32768, 1, 32767])                           # int32_data
    raw("t_int32", np.array([[-1, 2], [3, -4]], dtype=np.int32))
    typed("t_int64", T.INT64, [3], [-(2 ** 63), 0, 2 ** 63 - 1])                 # int64_data
    raw("t_int64_scalar", np.array(42, dtype=np.int64))                          # rank 0
    typed("t_uint8", T.UINT8, [4], [0, 1, 128, 255])                             # int32_data
    raw("t_uint16", np.array([0, 65535], dtype=np.uint16))
    typed("t_uint32", T.UINT32, [2], [0, 2 ** 32 - 1])                           # uint64_data
    raw("t_uint64", np.array([0, 2 ** 64 - 1], dtype=np.uint64))
    typed("t_bool", T.BOOL, [3], [True, False, True])                            # int32_data
    raw("t_bool_raw", np.array([False, True], dtype=np.bool_))
    typed("t_string", T.STRING, [3], [b"alpha", b"", "\u00e9t\u00e9".encode("utf-8")])  # string_data
    raw("t_float_empty", np.zeros((0, 3), dtype=np.float32))                     # zero elements

    nodes, outputs = [], []
    for init in inits:
        out = init.name.replace("t_", "out_", 1)
        nodes.append(helper.make_node("Identity", [init.name], [out], name="id_" + init.name))
        outputs.append(helper.make_tensor_value_info(out, init.data_type, list(init.dims)))
    # An input with an unknown dim (neither dim_value nor dim_param): inspect must report it as null.
    # (A wholly missing shape would be the null-shape case, but the checker rejects that on main-graph
    # inputs and outputs, so no model here has one.)
    unknown_dim = helper.make_tensor_value_info("x_unknown_dim", T.FLOAT16, [None, 3])
    unknown_dim.type.tensor_type.shape.dim[0].Clear()
    scalar = helper.make_tensor_value_info("x_scalar", T.INT64, [])   # rank 0: shape []
    nodes.append(helper.make_node("Identity", ["x_unknown_dim"], ["y_unknown_dim"], name="id_x_unknown_dim"))
    nodes.append(helper.make_node("Identity", ["x_scalar"], ["y_scalar"], name="id_x_scalar"))
    y1 = helper.make_tensor_value_info("y_unknown_dim", T.FLOAT16, ["n", 3])
    y2 = helper.make_tensor_value_info("y_scalar", T.INT64, [])
    graph = helper.make_graph(nodes, "dtypes", [unknown_dim, scalar], outputs + [y1, y2], initializer=inits)
    model = helper.make_model(graph, producer_name="implicitreg-tools", producer_version="1",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    return model


# ----------------------------------------------------------------------------- driver

BUILDERS = {
    "mlp_tanh": build_mlp_tanh,
    "mlp_relu": build_mlp_relu,
    "cnn_avgpool": build_cnn_avgpool,
    "cnn_batchnorm_maxpool": build_cnn_batchnorm_maxpool,
    "resnet8_small": build_resnet8_small,
    "attention_gelu": build_attention_gelu,
    "lstm_tiny": build_lstm_tiny,
    "if_loop_subgraph": build_if_loop_subgraph,
    "external_data": build_external_mlp,
    "legacy_ir3": build_legacy_ir3,
    "dtypes": build_dtypes,
}


def save(name, model, out):
    if name == "external_data":
        folder = os.path.join(out, "external_data")
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, "model.onnx")
        side = os.path.join(folder, "weights.bin")
        if os.path.exists(side):
            os.remove(side)  # onnx appends to an existing side file
        onnx.save(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                  location="weights.bin", size_threshold=0)
        onnx.checker.check_model(path)  # path form: resolves the side file
    else:
        path = os.path.join(out, name + ".onnx")
        onnx.save(model, path)
        onnx.checker.check_model(onnx.load(path), full_check=False)
    return path


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(here, "..", "models"), help="output folder (default: models/)")
    ap.add_argument("--only", help="comma-separated subset of: " + ",".join(BUILDERS))
    a = ap.parse_args()
    names = a.only.split(",") if a.only else list(BUILDERS)
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(1)
    for name in names:
        path = save(name, BUILDERS[name](), a.out)
        size = os.path.getsize(path)
        if name == "external_data":
            size += os.path.getsize(os.path.join(os.path.dirname(path), "weights.bin"))
        print(f"{os.path.relpath(path)}: {size} bytes, checker ok", file=sys.stderr)


if __name__ == "__main__":
    main()
