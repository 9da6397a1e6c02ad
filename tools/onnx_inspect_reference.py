#!/usr/bin/python3
"""Independent reference for `implicitreg inspect --json`, computed with the onnx python package.

Usage (Debian's own python, which has python3-onnx):

    /usr/bin/python3 tools/onnx_inspect_reference.py MODEL.onnx [MODEL.onnx ...] [--out DIR]

Without --out, prints the JSON to stdout (one model: its object; several: an object keyed by the
model path as given). With --out DIR, writes DIR/<model file stem>.inspect.json for each model
(models sharing a stem need separate runs with separate folders). The files in models/ come from:

    /usr/bin/python3 tools/onnx_inspect_reference.py models/*.onnx --out models
    /usr/bin/python3 tools/onnx_inspect_reference.py models/external_data/model.onnx --out models/external_data

JSON written (keys in this order; ops and opsets sorted by key; 2-space indent, trailing newline):

  producer    {"name": producer_name, "version": producer_version}   (empty strings when unset)
  ir_version  int
  opsets      {domain: version}; the default domain is "" (an explicit "ai.onnx" is reported as "")
  inputs      [{name, type, shape}] main-graph inputs that are not initializers (dense or sparse)
  outputs     [{name, type, shape}] main-graph outputs
                type: lower-case element type name ("float", "int64", "float16", "bfloat16", "bool",
                      "string", ...)
                shape: null when the tensor type has no shape; else a list with, per dim, an int
                       (dim_value), a string (dim_param) or null (neither set)
  parameters  {count, elements, bytes} over the main graph's initializers plus sparse_initializers:
                count: number of tensors; elements: sum of element counts (product of dims; 1 for
                rank 0; a sparse initializer counts its dense shape); bytes: elements * element size,
                except strings, which count the UTF-8 bytes of their string_data (for a sparse
                string tensor: of its values)
  ops         {op: count} over main-graph nodes only (not If/Loop bodies, not function bodies);
                key is op_type for the default domain ("" or "ai.onnx"), else "domain:op_type"

External data is never read: element counts come from dims, so the side file need not exist.
"""
import argparse
import collections
import json
import os
import sys

import onnx
from onnx import TensorProto

ELEMENT_SIZE = {
    TensorProto.FLOAT: 4, TensorProto.DOUBLE: 8, TensorProto.FLOAT16: 2, TensorProto.BFLOAT16: 2,
    TensorProto.INT8: 1, TensorProto.INT16: 2, TensorProto.INT32: 4, TensorProto.INT64: 8,
    TensorProto.UINT8: 1, TensorProto.UINT16: 2, TensorProto.UINT32: 4, TensorProto.UINT64: 8,
    TensorProto.BOOL: 1, TensorProto.COMPLEX64: 8, TensorProto.COMPLEX128: 16,
}


def type_name(elem_type):
    return TensorProto.DataType.Name(elem_type).lower()


def value_info(vi):
    t = vi.type
    kind = t.WhichOneof("value")
    if kind not in ("tensor_type", "sparse_tensor_type"):
        raise ValueError(f"{vi.name}: unsupported value type {kind}")
    tt = getattr(t, kind)
    shape = None
    if tt.HasField("shape"):
        shape = []
        for d in tt.shape.dim:
            which = d.WhichOneof("value")
            shape.append(d.dim_value if which == "dim_value" else d.dim_param if which == "dim_param" else None)
    return {"name": vi.name, "type": type_name(tt.elem_type), "shape": shape}


def count(dims):
    n = 1
    for d in dims:
        n *= d
    return n


def tensor_bytes(t, elements):
    if t.data_type == TensorProto.STRING:
        return sum(len(s) for s in t.string_data)
    return elements * ELEMENT_SIZE[t.data_type]


def inspect(path):
    m = onnx.load(path, load_external_data=False)
    g = m.graph
    init_names = {t.name for t in g.initializer} | {s.values.name for s in g.sparse_initializer}
    opsets = {}
    for o in m.opset_import:
        opsets["" if o.domain in ("", "ai.onnx") else o.domain] = o.version
    elements = nbytes = 0
    for t in g.initializer:
        n = count(t.dims)
        elements += n
        nbytes += tensor_bytes(t, n)
    for s in g.sparse_initializer:
        n = count(s.dims)
        elements += n
        nbytes += sum(len(x) for x in s.values.string_data) if s.values.data_type == TensorProto.STRING \
            else n * ELEMENT_SIZE[s.values.data_type]
    ops = collections.Counter(
        n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}:{n.op_type}" for n in g.node)
    return {
        "producer": {"name": m.producer_name, "version": m.producer_version},
        "ir_version": m.ir_version,
        "opsets": dict(sorted(opsets.items())),
        "inputs": [value_info(i) for i in g.input if i.name not in init_names],
        "outputs": [value_info(o) for o in g.output],
        "parameters": {"count": len(g.initializer) + len(g.sparse_initializer),
                       "elements": elements, "bytes": nbytes},
        "ops": dict(sorted(ops.items())),
    }


def dumps(obj):
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="+", metavar="MODEL")
    ap.add_argument("--out", metavar="DIR", help="write DIR/<stem>.inspect.json instead of printing")
    a = ap.parse_args()
    results = {p: inspect(p) for p in a.models}
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        for p, r in results.items():
            dest = os.path.join(a.out, os.path.splitext(os.path.basename(p))[0] + ".inspect.json")
            with open(dest, "w", encoding="utf-8", newline="\n") as f:
                f.write(dumps(r))
            print(dest, file=sys.stderr)
    elif len(results) == 1:
        sys.stdout.write(dumps(next(iter(results.values()))))
    else:
        sys.stdout.write(dumps(results))


if __name__ == "__main__":
    main()
