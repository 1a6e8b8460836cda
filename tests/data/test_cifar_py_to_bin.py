#!/usr/bin/env python3
"""tools/cifar_py_to_bin.py on fake torchvision pickles; the C++ reader then checks the
result (cifar_roundtrip_check). Exits 77 (ctest: skipped) without numpy.

Usage: test_cifar_py_to_bin.py TOOL CHECKER
"""
import os
import pickle
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    print("skipped: this python3 has no numpy")
    sys.exit(77)


def images(first, count):
    # Image g's byte j is (37 g + 11 j) mod 256: what cifar_roundtrip_check expects.
    g = np.arange(first, first + count, dtype=np.int64)[:, None]
    j = np.arange(3072, dtype=np.int64)[None, :]
    return ((37 * g + 11 * j) % 256).astype(np.uint8)


def dump(path, obj, protocol):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=protocol)


def run(*args, ok=True):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    print(result.stdout, result.stderr, sep="")
    if ok and result.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, args))}")
    return result


def main(tool, checker):
    with tempfile.TemporaryDirectory() as tmp:
        # CIFAR-10: five train batches of 3 images, a test batch of 4 (images 100..103).
        src = os.path.join(tmp, "cifar-10-batches-py")
        os.makedirs(src)
        for b in range(1, 6):
            first = 3 * (b - 1)
            dump(os.path.join(src, f"data_batch_{b}"),
                 {b"batch_label": b"training batch", b"data": images(first, 3),
                  b"labels": [g % 10 for g in range(first, first + 3)],
                  b"filenames": [b"x.png"] * 3}, protocol=2)  # as the originals
        dump(os.path.join(src, "test_batch"),
             {b"data": images(100, 4), b"labels": [g % 10 for g in range(100, 104)]},
             protocol=pickle.HIGHEST_PROTOCOL)
        dump(os.path.join(src, "batches.meta"),
             {b"label_names": [f"class{k}".encode() for k in range(10)]}, protocol=2)
        run(sys.executable, tool, src)
        out = os.path.join(tmp, "cifar-10-batches-bin")
        record = open(os.path.join(out, "data_batch_2.bin"), "rb").read()
        assert len(record) == 3 * 3073, len(record)
        assert record[0] == 3 and record[1:3073] == images(3, 1).tobytes()
        run(checker, tmp, "cifar10")

        # CIFAR-100: 6 train images, 2 test images (50, 51).
        src = os.path.join(tmp, "cifar-100-python")
        os.makedirs(src)
        for name, first, count in (("train", 0, 6), ("test", 50, 2)):
            ids = range(first, first + count)
            dump(os.path.join(src, name),
                 {b"data": images(first, count), b"fine_labels": [(7 * g) % 100 for g in ids],
                  b"coarse_labels": [g % 20 for g in ids]}, protocol=2)
        dump(os.path.join(src, "meta"),
             {b"fine_label_names": [f"fine{k}".encode() for k in range(100)],
              b"coarse_label_names": [f"coarse{k}".encode() for k in range(20)]}, protocol=2)
        run(sys.executable, tool, src)
        run(checker, tmp, "cifar100")

        # Refused: a label out of range, the wrong shape, a pickle that would run code.
        bad = os.path.join(tmp, "bad", "cifar-10-batches-py")
        os.makedirs(bad)
        dump(os.path.join(bad, "data_batch_1"), {b"data": images(0, 2), b"labels": [1, 10]}, 2)
        result = run(sys.executable, tool, bad, ok=False)
        assert result.returncode == 1 and "expected [0, 10)" in result.stderr, result.stderr
        dump(os.path.join(bad, "data_batch_1"),
             {b"data": images(0, 2)[:, :100], b"labels": [1, 2]}, 2)
        result = run(sys.executable, tool, bad, ok=False)
        assert result.returncode == 1 and "must be uint8 [N, 3072]" in result.stderr
        with open(os.path.join(bad, "data_batch_1"), "wb") as f:
            f.write(b"cos\nsystem\n(S'echo pwned'\ntR.")
        result = run(sys.executable, tool, bad, ok=False)
        assert result.returncode == 1 and "refusing to load os.system" in result.stderr
    print("cifar_py_to_bin: 3 passed, 0 failed")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
