#!/usr/bin/python3
"""Cut a small slice of Fashion-MNIST out of Debian's dataset-fashion-mnist for the tests.

Usage:

    /usr/bin/python3 tools/make_fashion_mnist_slice.py [--source /usr/share/datasets/fashion-mnist]
        [--out models/data/fashion-mnist-slice] [--train 1000] [--test 500]

Writes the first --train examples of the training set and the first --test examples of the test set
as gzip-compressed IDX files with Debian's (and the original) file names:
train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz.
The gzip header carries no file name or time stamp, so running the script twice gives identical files.
Standard library only.
"""
import argparse
import gzip
import os
import struct


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, code, rank = struct.unpack(">HBB", data[:4])
    assert zero == 0 and code == 0x08, f"{path}: not an unsigned-byte IDX file"
    dims = list(struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank]))
    return dims, data[4 + 4 * rank:]


def write_idx(path, dims, payload):
    header = struct.pack(">HBB", 0, 0x08, len(dims)) + struct.pack(">" + "I" * len(dims), *dims)
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as f:
            f.write(header + payload)


def cut(source, out, prefix, count):
    for kind, idx in (("images", "idx3"), ("labels", "idx1")):
        name = f"{prefix}-{kind}-{idx}-ubyte.gz"
        dims, payload = read_idx(os.path.join(source, name))
        row = len(payload) // dims[0]
        write_idx(os.path.join(out, name), [count] + dims[1:], payload[:count * row])
        print(f"{os.path.join(out, name)}: {count} of {dims[0]}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--out", default=os.path.join(here, "..", "models", "data", "fashion-mnist-slice"))
    ap.add_argument("--train", type=int, default=1000)
    ap.add_argument("--test", type=int, default=500)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    cut(a.source, a.out, "train", a.train)
    cut(a.source, a.out, "t10k", a.test)


if __name__ == "__main__":
    main()
