#!/usr/bin/env python3
"""Side-by-side: clr's SupCon loss (bench_loss) against PyTorch running SupContrast's
SupConLoss, forward + backward, 2 views, dim 128, labels, 2 threads each, in one run.

    /usr/bin/python3 bench/compare_loss.py --bench build/bench/bench_loss [--sizes 1024 4096]

Each measurement runs in a fresh process. Time is the median of --repeats calls after
one warm-up call for PyTorch, and the median of --repeats Google Benchmark repetitions
for clr (these machines are shared: medians, not means). Memory is the extra memory of the loss: for PyTorch the growth of the
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

from bench_common import torch_env, torch_sgemm_worker

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, '..', 'tests', 'loss', 'fixtures')


def torch_worker(bsz, repeats, device):
    import torch
    import torch.nn.functional as F
    sys.path.insert(0, FIXTURES)
    from make_fixtures import supcon_reference  # the one PyTorch SupConLoss of the project

    torch.set_num_threads(2)
    gen = torch.Generator().manual_seed(0)
    features = F.normalize(torch.randn(bsz, 2, 128, generator=gen), dim=-1).to(device)
    labels = (torch.arange(bsz) % 100).to(device)

    def step():
        x = features.clone().requires_grad_(True)
        loss = supcon_reference(x, labels=labels)
        loss.backward()
        if device == 'cuda':
            torch.cuda.synchronize()
        return x.grad

    with open('/proc/self/statm') as statm:
        resident_before = int(statm.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
    step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    seconds = sorted(times)[len(times) // 2]
    if device == 'cuda':
        extra = torch.cuda.max_memory_allocated() - features.numel() * 4
        blas = 'openblas'  # not used on the GPU
    else:
        extra = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - resident_before
        blas = 'openblas' if any('openblas' in line for line in open('/proc/self/maps')) else 'other'
    print(json.dumps(dict(seconds=seconds, peak_extra_bytes=extra, blas=blas)))


def run_torch_sgemm():
    out = subprocess.run([sys.executable, __file__, '--torch-sgemm'], env=torch_env(),
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])['gflops']


def run_torch(bsz, repeats, device):
    out = subprocess.run([sys.executable, __file__, '--torch-worker', str(bsz),
                          '--repeats', str(repeats), '--device', device], env=torch_env(),
                         capture_output=True, text=True)
    if out.returncode != 0:
        return None  # e.g. killed for memory
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_clr(bench, bsz, repeats, device):
    name = 'BM_supcon_cuda' if device == 'cuda' else 'BM_supcon'
    args = [bench, f'--benchmark_filter=^{name}/bsz:{bsz}/labels:1/', '--benchmark_format=json',
            f'--benchmark_repetitions={repeats}', '--benchmark_report_aggregates_only=true']
    if bsz > 8192:
        args.append('--long')
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    run = next(r for r in json.loads(out.stdout)['benchmarks'] if r.get('aggregate_name') == 'median'
               or r['run_type'] == 'iteration')
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
    parser.add_argument('--device', choices=['cpu', 'cuda'], default='cpu',
                        help='cuda: bench_loss built with -DCLR_WITH_CUDA=ON, PyTorch on the GPU')
    parser.add_argument('--torch-worker', type=int, help=argparse.SUPPRESS)
    parser.add_argument('--torch-sgemm', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.torch_worker:
        return torch_worker(args.torch_worker, args.repeats, args.device)
    if args.torch_sgemm:
        return torch_sgemm_worker()

    peaks = run_peak(args.bench)
    print('clr sgemm, same run: ' + ', '.join(f'{k[9:]} {v:.0f}' for k, v in peaks.items())
          + f' GFLOP/s; PyTorch (OpenBLAS) sgemm 2048^3: {run_torch_sgemm():.0f} GFLOP/s')
    print('clr GFLOP/s counts the 3 GEMMs of a one-pass method, 6 (2 bsz)^2 128 flops; the'
          ' symmetric pass does 4 of those 6')
    print(f"{'bsz':>6} {'torch s':>9} {'clr s':>8} {'speed-up':>9} {'clr GFLOP/s':>12}"
          f" {'torch MiB':>10} {'clr MiB':>8} {'memory':>7}")
    for bsz in args.sizes:
        mine = run_clr(args.bench, bsz, args.repeats, args.device)
        fits = bsz <= 8192 or args.device == 'cuda'
        ref = run_torch(bsz, args.repeats, args.device) if fits else None
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
