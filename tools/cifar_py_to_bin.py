#!/usr/bin/env python3
"""Converts CIFAR's pickled "python version" (what torchvision downloads) to the binary
version that clr::data::cifar10 / cifar100 read.

  cifar-10-batches-py/  data_batch_1 .. data_batch_5, test_batch, batches.meta
    -> cifar-10-batches-bin/  data_batch_1.bin .. data_batch_5.bin, test_batch.bin,
                              batches.meta.txt
  cifar-100-python/  train, test, meta
    -> cifar-100-binary/  train.bin, test.bin, fine_label_names.txt, coarse_label_names.txt

Each pickle is a dict with b'data' (uint8 [N, 3072], rows already R, G, B planes of 32x32)
and b'labels' (CIFAR-10) or b'fine_labels' and b'coarse_labels' (CIFAR-100). A binary
record is the label byte(s) (CIFAR-100: coarse, then fine) followed by the 3072 bytes.

Pickles can run code when loaded, so only the numpy names an array needs are let in.

Usage: cifar_py_to_bin.py SOURCE_DIR [OUTPUT_DIR]
(OUTPUT_DIR defaults to the binary version's folder name beside SOURCE_DIR.) Needs numpy.
"""
import os
import pickle
import sys

import numpy as np

PIXELS = 3 * 32 * 32

# (module, name) pairs that unpickling a numpy uint8 array may reference, numpy 1.x and 2.x.
ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    # Python 3 writes bytes this way in protocol 2; it only encodes a string.
    ("_codecs", "encode"),
}


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def load(path):
    with open(path, "rb") as f:
        # The files were written by Python 2: str keys arrive as bytes.
        obj = _ArrayUnpickler(f, encoding="bytes").load()
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: expected a dict, got {type(obj).__name__}")
    return obj


def field(batch, key, path):
    if key not in batch:
        raise ValueError(f"{path}: no {key!r} entry (has {sorted(batch)})")
    return batch[key]


def labels_array(batch, key, count, classes, path):
    labels = np.asarray(field(batch, key, path))
    if labels.shape != (count,):
        raise ValueError(f"{path}: {key!r} has shape {labels.shape}, expected ({count},)")
    if count and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"{path}: {key!r} values lie in [{labels.min()}, {labels.max()}], "
                         f"expected [0, {classes})")
    return labels.astype(np.uint8)


def convert_batch(source, target, cifar100):
    batch = load(source)
    data = field(batch, b"data", source)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != PIXELS:
        shape = getattr(data, "shape", None)
        raise ValueError(f"{source}: b'data' must be uint8 [N, {PIXELS}], got {shape}")
    count = data.shape[0]
    if cifar100:
        heads = [labels_array(batch, b"coarse_labels", count, 20, source),
                 labels_array(batch, b"fine_labels", count, 100, source)]
    else:
        heads = [labels_array(batch, b"labels", count, 10, source)]
    records = np.empty((count, len(heads) + PIXELS), dtype=np.uint8)
    for column, labels in enumerate(heads):
        records[:, column] = labels
    records[:, len(heads):] = data
    write(target, records.tobytes())
    return count


def write(path, payload):
    # Written aside and renamed: an interrupted run leaves no half file under the real name.
    temporary = path + ".tmp"
    with open(temporary, "wb") as f:
        f.write(payload)
    os.replace(temporary, path)


def write_names(meta_path, key, target):
    if not os.path.exists(meta_path):
        return
    names = field(load(meta_path), key, meta_path)
    text = "".join((n.decode() if isinstance(n, bytes) else str(n)) + "\n" for n in names)
    write(target, text.encode())


def convert(source, output=None):
    cifar10 = os.path.exists(os.path.join(source, "data_batch_1"))
    cifar100 = os.path.exists(os.path.join(source, "train"))
    if cifar10 == cifar100:
        raise ValueError(f"{source}: expected cifar-10-batches-py (data_batch_1, ...) or "
                         "cifar-100-python (train, test)")
    if output is None:
        parent = os.path.dirname(os.path.abspath(source))
        output = os.path.join(parent, "cifar-10-batches-bin" if cifar10 else "cifar-100-binary")
    os.makedirs(output, exist_ok=True)
    if cifar10:
        names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
        meta = [("batches.meta", b"label_names", "batches.meta.txt")]
    else:
        names = ["train", "test"]
        meta = [("meta", b"fine_label_names", "fine_label_names.txt"),
                ("meta", b"coarse_label_names", "coarse_label_names.txt")]
    for name in names:
        count = convert_batch(os.path.join(source, name), os.path.join(output, name + ".bin"),
                              cifar100)
        print(f"{name}: {count} images -> {os.path.join(output, name + '.bin')}")
    for meta_file, key, target in meta:
        write_names(os.path.join(source, meta_file), key, os.path.join(output, target))
    return output


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        convert(argv[1], argv[2] if len(argv) == 3 else None)
    except (OSError, ValueError, pickle.UnpicklingError) as error:
        print(f"cifar_py_to_bin: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
