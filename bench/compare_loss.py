#!/usr/bin/env python3
"""Side-by-side: clr's SupCon loss (bench_loss) against PyTorch running SupContrast's
SupConLoss, forward + backward, 2 views, dim 128, labels, 2 threads each, in one run.

    /usr/bin/python3 bench/compare_loss.py --bench build/bench/bench_loss [--sizes 1024 4096]

Each measurement runs in a fresh process. Time is the mean of --repeats calls after one
warm-up call for PyTorch, Google Benchmark's mean over >= 1 s for clr. Memory is the extra memory of the loss: for PyTorch the growth of the
process's peak resident set over its size before the loss; for clr the high-water mark of
its allocator above what was held before (bench_loss's peak_extra_bytes counter).

PyTorch's matmuls go through Debian's libblas.so.3: install libopenblas0-pthread, and this
script sets OPENBLAS_CORETYPE=SkylakeX for them (without it OpenBLAS falls back to SSE3
kernels on this CPU, ~4x slower): the comparison is against PyTorch's faster setting.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, '..', 'tests', 'loss', 'fixtures')


def torch_worker(bsz, repeats):
    import torch
    import torch.nn.functional as F
    sys.path.insert(0, FIXTURES)
    from make_fixtures import supcon_reference  # the one PyTorch SupConLoss of the project

    torch.set_num_threads(2)
    gen = torch.Generator().manual_seed(0)
    features = F.normalize(torch.randn(bsz, 2, 128, generator=gen), dim=-1)
    labels = torch.arange(bsz) % 100

    def step():
        x = features.clone().requires_grad_(True)
        loss = supcon_reference(x, labels=labels)
        loss.backward()
        return x.grad

    with open('/proc/self/statm') as statm:
        resident_before = int(statm.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
    step()
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    seconds = (time.perf_counter() - start) / repeats
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    blas = 'openblas' if any('openblas' in line for line in open('/proc/self/maps')) else 'other'
    print(json.dumps(dict(seconds=seconds, peak_extra_bytes=peak - resident_before, blas=blas)))


def run_torch(bsz, repeats):
    env = dict(os.environ, OPENBLAS_CORETYPE=os.environ.get('OPENBLAS_CORETYPE', 'SkylakeX'))
    out = subprocess.run([sys.executable, __file__, '--torch-worker', str(bsz),
                          '--repeats', str(repeats)], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        return None  # e.g. killed for memory
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_clr(bench, bsz, repeats):
    args = [bench, f'--benchmark_filter=^BM_supcon/bsz:{bsz}/labels:1/', '--benchmark_format=json',
            '--benchmark_min_time=1']
    if bsz > 8192:
        args.append('--long')
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    run = json.loads(out.stdout)['benchmarks'][0]
    assert run['time_unit'] == 'ms'
    return dict(seconds=run['real_time'] / 1e3, peak_extra_bytes=run['peak_extra_bytes'],
                gflops=run['GFLOP/s'])


def run_peak(bench):
    out = subprocess.run([bench, '--benchmark_filter=^BM_sgemm', '--benchmark_format=json'],
                         capture_output=True, text=True, check=True)
    return {run['name'].split('/real_time')[0]: run['GFLOP/s']
            for run in json.loads(out.stdout)['benchmarks']}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--bench', default=os.path.join(HERE, '..', 'build', 'bench', 'bench_loss'))
    parser.add_argument('--sizes', type=int, nargs='+', default=[256, 1024, 4096, 8192])
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--torch-worker', type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.torch_worker:
        return torch_worker(args.torch_worker, args.repeats)

    peaks = run_peak(args.bench)
    print('clr sgemm, same run: ' + ', '.join(f'{k[9:]} {v:.0f}' for k, v in peaks.items())
          + ' GFLOP/s')
    print(f"{'bsz':>6} {'torch s':>9} {'clr s':>8} {'speed-up':>9} {'clr GFLOP/s':>12}"
          f" {'torch MiB':>10} {'clr MiB':>8} {'memory':>7}")
    for bsz in args.sizes:
        mine = run_clr(args.bench, bsz, args.repeats)
        ref = run_torch(bsz, args.repeats) if bsz <= 8192 else None
        mib = 1 << 20
        if ref is None:
            print(f"{bsz:>6} {'-':>9} {mine['seconds']:>8.3f} {'-':>9} {mine['gflops']:>12.1f}"
                  f" {'-':>10} {mine['peak_extra_bytes'] / mib:>8.1f} {'-':>7}")
            continue
        print(f"{bsz:>6} {ref['seconds']:>9.3f} {mine['seconds']:>8.3f}"
              f" {ref['seconds'] / mine['seconds']:>8.1f}x {mine['gflops']:>12.1f}"
              f" {ref['peak_extra_bytes'] / mib:>10.1f} {mine['peak_extra_bytes'] / mib:>8.1f}"
              f" {ref['peak_extra_bytes'] / max(mine['peak_extra_bytes'], 1):>6.0f}x"
              + ('' if ref['blas'] == 'openblas' else '  (torch not on OpenBLAS!)'))


if __name__ == '__main__':
    main()
