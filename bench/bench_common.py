"""What the side-by-side scripts share: the environment PyTorch's workers run in, and
PyTorch's sgemm peak measured in the same run as a reference."""
import json
import os
import time


def torch_env():
    """Debian's OpenBLAS falls back to SSE3 kernels on this CPU unless told its core type;
    the comparison is against PyTorch's faster setting."""
    return dict(os.environ, OPENBLAS_CORETYPE=os.environ.get('OPENBLAS_CORETYPE', 'SkylakeX'))


def torch_sgemm_worker():
    """Prints PyTorch's sgemm GFLOP/s at 2048^3, 2 threads, median of 5."""
    import torch
    torch.set_num_threads(2)
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    a @ b
    times = []
    for _ in range(5):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    print(json.dumps(dict(gflops=2 * 2048 ** 3 / sorted(times)[2] / 1e9)))
