#!/usr/bin/python3
"""Writes tests/LoweringCases/training_info_momentum: a model whose TrainingInfoProto holds a training
algorithm in ai.onnx.preview.training ops (Gradient + Momentum), with two steps of reference values.

Main graph: Y = X @ W. Algorithm (joined to the main graph as the ONNX IR spec defines):
L = sum((Y - target)^2); G = Gradient(xs=[W], zs=[X, target], y=L); W_new, V_new = Momentum(R, T, W, G, V);
T_new = T + 1; update_binding W <- W_new, V <- V_new, T <- T_new.
The reference is computed here in float64 numpy with the analytic gradient dL/dW = 2 X^T (X W - target)
and the Momentum formula of the ONNX operator spec (standard mode, beta applies from T > 0), then stored
as float32 TensorProtos: test_data_set_0 is the first step from the initializers, test_data_set_1 the
second step with the bound outputs fed back. Run with Debian's python (onnx 1.12, numpy).
"""
import os
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "LoweringCases", "training_info_momentum")
ALPHA, BETA, NORM = 0.9, 0.5, 0.01

rng = np.random.default_rng(7)
x = rng.standard_normal((4, 3)).astype(np.float32)
target = rng.standard_normal((4, 1)).astype(np.float32)
w0 = rng.standard_normal((3, 1)).astype(np.float32)
v0 = np.zeros((3, 1), np.float32)
rate = np.array(0.05, np.float32)

main = helper.make_graph(
    [helper.make_node("MatMul", ["X", "W"], ["Y"])],
    "linear",
    [helper.make_tensor_value_info("X", TensorProto.FLOAT, [4, 3])],
    [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [4, 1])],
    [numpy_helper.from_array(w0, "W")],
)
algorithm = helper.make_graph(
    [
        helper.make_node("Sub", ["Y", "target"], ["D"]),
        helper.make_node("Mul", ["D", "D"], ["D2"]),
        helper.make_node("ReduceSum", ["D2"], ["L"], keepdims=0),
        helper.make_node("Gradient", ["W", "X", "target"], ["G"], domain="ai.onnx.preview.training",
                         xs=["W"], zs=["X", "target"], y="L"),
        helper.make_node("Momentum", ["R", "T", "W", "G", "V"], ["W_new", "V_new"], domain="ai.onnx.preview.training",
                         alpha=ALPHA, beta=BETA, mode="standard", norm_coefficient=NORM),
        helper.make_node("Add", ["T", "one"], ["T_new"]),
    ],
    "momentum_step",
    [helper.make_tensor_value_info("target", TensorProto.FLOAT, [4, 1]),
     helper.make_tensor_value_info("R", TensorProto.FLOAT, [])],
    [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in [("L", []), ("W_new", [3, 1]), ("V_new", [3, 1])]]
    + [helper.make_tensor_value_info("T_new", TensorProto.INT64, [])],
    [numpy_helper.from_array(v0, "V"), numpy_helper.from_array(np.array(0, np.int64), "T"),
     numpy_helper.from_array(np.array(1, np.int64), "one")],
)
info = onnx.TrainingInfoProto()
info.algorithm.CopyFrom(algorithm)
for key, value in [("W", "W_new"), ("V", "V_new"), ("T", "T_new")]:
    entry = info.update_binding.add()
    entry.key, entry.value = key, value
model = helper.make_model(main, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.preview.training", 1)],
                          producer_name="make_training_info_case.py")
model.ir_version = 8
model.training_info.append(info)


def step(w, v, t):
    w, v = w.astype(np.float64), v.astype(np.float64)
    d = x.astype(np.float64) @ w - target
    loss = np.sum(d * d)
    g = 2 * x.astype(np.float64).T @ d + NORM * w
    beta = BETA if t > 0 else 1.0
    v_new = ALPHA * v + beta * g
    return loss, w - float(rate) * v_new, v_new, t + 1


def save(folder, tensors):
    os.makedirs(folder, exist_ok=True)
    for role, items in tensors.items():
        for k, (name, array) in enumerate(items):
            with open(os.path.join(folder, f"{role}_{k}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(array, name).SerializeToString())


os.makedirs(OUT, exist_ok=True)
onnx.save(model, os.path.join(OUT, "model.onnx"))
f32 = np.float32
loss1, w1, v1, t1 = step(w0, v0, 0)
save(os.path.join(OUT, "test_data_set_0"), {
    "input": [("X", x), ("target", target), ("R", rate)],
    "output": [("L", f32(loss1)), ("W_new", w1.astype(f32)), ("V_new", v1.astype(f32)), ("T_new", np.array(t1, np.int64))],
})
loss2, w2, v2, t2 = step(w1.astype(f32), v1.astype(f32), t1)
save(os.path.join(OUT, "test_data_set_1"), {
    "input": [("X", x), ("target", target), ("R", rate), ("W", w1.astype(f32)), ("V", v1.astype(f32)), ("T", np.array(t1, np.int64))],
    "output": [("L", f32(loss2)), ("W_new", w2.astype(f32)), ("V_new", v2.astype(f32)), ("T_new", np.array(t2, np.int64))],
})
print("wrote", os.path.normpath(OUT), "losses", loss1, loss2)
