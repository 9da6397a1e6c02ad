#!/usr/bin/python3
"""Write the tiny numpy-made fixtures of tests/ImplicitRegOnnx.Onnx.Tests/Numpy/Fixtures/.

Usage (Debian's own python, whose numpy comes with python3-torch; the pyenv python has none):

    /usr/bin/python3 tools/make_numpy_fixtures.py

Writes, every file produced by numpy itself (np.save, np.savez, np.savez_compressed,
np.lib.format.write_array):

    <name>.npy          one array per numeric dtype, little- and big-endian, Fortran order,
                        scalars, empty arrays, format versions 2.0 and 3.0
    unsupported_*.npy   dtypes the toolkit refuses: complex, object, unicode, structured, datetime
    *.npz               archives with names holding '/', stored and deflated
    manifest.json       for every supported fixture: descr, shape, fortran_order, format version
                        and the values in C order (what the C# reader must produce; infinities
                        as the strings "inf" and "-inf")
    oracle.json         names, dtypes and shapes of every array in ../shared/oracle/*/{data,expected}.npz,
                        as numpy reports them (written only when ../shared/oracle exists)

Running the script twice produces the same arrays (the .npz files' zip timestamps differ).
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
OUT = os.path.join(ROOT, "tests", "ImplicitRegOnnx.Onnx.Tests", "Numpy", "Fixtures")
ORACLE = os.path.normpath(os.path.join(ROOT, "..", "shared", "oracle"))


def values(a):
    """C-order values as JSON numbers (bools as 0/1); float16/32 widened exactly to float64."""
    flat = np.ascontiguousarray(a).reshape(-1)
    if a.dtype.kind == "b":
        return [int(v) for v in flat]
    if a.dtype.kind in "iu":
        return [int(v) for v in flat]
    # JSON has no infinities: those are written as the strings "inf" and "-inf".
    return [float(v) if np.isfinite(v) else str(float(v)) for v in flat]


def describe(a, version=(1, 0)):
    return {
        "descr": a.dtype.str,
        "shape": list(a.shape),
        "fortran_order": bool(a.flags.f_contiguous and not a.flags.c_contiguous),
        "version": f"{version[0]}.{version[1]}",
        "values": values(a),
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    manifest = {}

    def save(name, a, version=None):
        path = os.path.join(OUT, name + ".npy")
        with open(path, "wb") as f:
            if version is None:
                np.save(f, a)
            else:
                np.lib.format.write_array(f, a, version=version)
        manifest[name + ".npy"] = describe(a, version or (1, 0))

    base = np.array([[0, 1, -2], [3, -4, 5]])
    frac = np.array([[0.5, -1.25, 3.0], [1e-3, -7.75, 1024.0]])
    for code in ["f2", "f4", "f8"]:
        save(f"le_{code}", frac.astype("<" + code))
        save(f"be_{code}", frac.astype(">" + code))
    for code in ["i1", "i2", "i4", "i8"]:
        save(f"le_{code}", base.astype(("|" if code == "i1" else "<") + code))
        if code != "i1":
            save(f"be_{code}", base.astype(">" + code))
    for code in ["u1", "u2", "u4", "u8"]:
        save(f"le_{code}", np.abs(base).astype(("|" if code == "u1" else "<") + code))
        if code != "u1":
            save(f"be_{code}", np.abs(base).astype(">" + code))
    save("bool", np.array([[True, False, True], [False, False, True]]))
    # Extremes: every byte of the element matters.
    save("le_i8_extremes", np.array([np.iinfo(np.int64).min, -1, np.iinfo(np.int64).max], dtype="<i8"))
    save("be_u8_extremes", np.array([0, 2**53, np.iinfo(np.uint64).max], dtype=">u8"))
    save("le_f4_special", np.array([np.inf, -np.inf, -0.0, np.finfo(np.float32).tiny, np.finfo(np.float32).max], dtype="<f4"))

    cube = np.arange(24, dtype="<f4").reshape(2, 3, 4) * 0.5 - 3
    save("fortran_f4_2x3x4", np.asfortranarray(cube))
    save("fortran_be_i4_3x2", np.asfortranarray(np.arange(6, dtype=">i4").reshape(3, 2) - 2))
    save("fortran_f8_1d", np.asfortranarray(np.arange(5, dtype="<f8")))   # 1-D: C and F coincide, numpy writes False

    save("scalar_f8", np.array(2.5, dtype="<f8"))
    save("scalar_i8", np.array(-7, dtype="<i8"))
    save("scalar_bool", np.array(True))
    save("empty_f4", np.zeros((0,), dtype="<f4"))
    save("empty_i8_2x0x3", np.zeros((2, 0, 3), dtype="<i8"))
    save("v2_f4", frac.astype("<f4"), version=(2, 0))
    save("v3_i2", base.astype("<i2"), version=(3, 0))
    # A header just over 64 KiB would need 2.0; a long shape is the only way to grow it, so
    # the 2.0 fallback is covered by the C# writer tests against numpy's rule instead.

    unsupported = {
        "unsupported_complex": np.array([1 + 2j], dtype="<c8"),
        "unsupported_object": np.array([{"a": 1}, None], dtype=object),
        "unsupported_unicode": np.array(["hello", "ab"], dtype="<U5"),
        "unsupported_structured": np.array([(1.0, 2)], dtype=[("x", "<f4"), ("y", "<i4")]),
        "unsupported_datetime": np.array(["2021-01-01"], dtype="<M8[D]"),
    }
    for name, a in unsupported.items():
        with open(os.path.join(OUT, name + ".npy"), "wb") as f:
            np.save(f, a, allow_pickle=True)

    arrays = {
        "loss": np.array(0.25, dtype="<f8"),
        "grad/fc.weight": frac.astype("<f4"),
        "grad/fc.bias": np.array([1, -2, 3], dtype="<f4"),
        "target": np.array([3, 1], dtype="<i8"),
    }
    np.savez(os.path.join(OUT, "stored.npz"), **arrays)
    np.savez_compressed(os.path.join(OUT, "compressed.npz"), **arrays)
    for archive in ["stored.npz", "compressed.npz"]:
        manifest[archive] = {k: describe(v) for k, v in arrays.items()}

    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")

    if os.path.isdir(ORACLE):
        oracle = {}
        for case in sorted(os.listdir(ORACLE)):
            folder = os.path.join(ORACLE, case)
            if not os.path.isdir(folder):
                continue
            oracle[case] = {}
            for archive in ["data.npz", "expected.npz"]:
                with np.load(os.path.join(folder, archive)) as z:
                    oracle[case][archive] = {k: {"descr": z[k].dtype.str, "shape": list(z[k].shape)} for k in z.files}
        with open(os.path.join(OUT, "oracle.json"), "w") as f:
            json.dump(oracle, f, indent=1)
            f.write("\n")
    print(f"wrote {len(os.listdir(OUT))} files to {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
