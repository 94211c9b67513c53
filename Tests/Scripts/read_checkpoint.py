#!/usr/bin/env python3
"""Read a Minnow checkpoint with h5py and write what it holds as JSON.

Every float32 dataset (model parameters, buffers, optimizer slots) is written with its path,
shape, `layout` attribute and values; also the root attributes, the model config and the
training state's attributes. Tests/MinnowCheckpointTests/PythonInteropTests.swift compares the
result with what Minnow wrote, so this file is the proof that h5py reads Minnow checkpoints.

Usage: python3 Tests/Scripts/read_checkpoint.py CHECKPOINT.h5 OUT.json   (needs h5py and numpy)
"""
import json
import sys

import h5py
import numpy as np


def plain(value):
    """An HDF5 attribute value as a JSON value (h5py gives bytes for Minnow's fixed-length strings)."""
    if isinstance(value, (bytes, np.bytes_)):
        return value.decode()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value.item() if hasattr(value, "item") else value


def main(path, out):
    tensors = {}
    with h5py.File(path, "r") as f:
        def collect(name, obj):
            if isinstance(obj, h5py.Dataset) and obj.dtype == np.float32:
                layout = obj.attrs.get("layout")
                tensors[name] = {
                    "shape": list(obj.shape),
                    "layout": plain(layout) if layout is not None else None,
                    "values": np.asarray(obj[()]).ravel().tolist(),
                }
        f.visititems(collect)
        result = {
            "attributes": {key: plain(value) for key, value in f.attrs.items()},
            "config": json.loads(f["config"][()].decode()),
            "training": {key: plain(value) for key, value in f["training"].attrs.items()} if "training" in f else None,
            "tensors": tensors,
        }
    with open(out, "w") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    main(sys.argv[1], sys.argv[2])
