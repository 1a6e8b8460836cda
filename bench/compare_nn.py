#!/usr/bin/env python3
"""Side-by-side: clr's ResNet-18 (CIFAR stem) encoder (bench_nn) against PyTorch running
SupContrast's resnet18 + 'mlp' head + SupConLoss, SupCon train steps and inference, full
and quarter width, 2 threads each, in one run; and Conv2d GFLOP/s on the ResNet-18 CIFAR
layer shapes against the sgemm peak (bench_loss's BM_sgemm 2048^3) of the same run.

    /usr/bin/python3 bench/compare_nn.py [--bench build/bench/bench_nn]
        [--loss-bench build/bench/bench_loss] [--bsz 64|256|512] [--repeats 3] [--rounds 3] [--gemms]

Each measurement runs in a fresh process. A train step is main_supcon.py's without the
optimizer: 2 views of bsz images through the encoder (train mode), head, normalisation,
SupConLoss with labels, backward, zero_grad; inference is the encoder alone in eval mode
(PyTorch under no_grad, as SupContrast's linear evaluation). Time is the median of
--repeats steps after one warm-up step for PyTorch, and the median of --repeats Google
Benchmark repetitions (each one warm-up step, then timed steps) for clr; images/s counts
bsz images per step. The four rows are measured --rounds times over, PyTorch then clr for
each row, and the table gives medians over the rounds, the speed-up as the median of the
rounds' ratios (two measurements seconds apart, as this shared machine drifts). Memory is
the extra memory of a step: for PyTorch the growth of the process's peak resident set over
its size once the model, its gradients (SupContrast's optimizer.zero_grad keeps them
allocated) and the input exist and the libraries have run once; for clr the high-water
mark of its allocator above what was held before the warm-up step (bench_nn's
peak_extra_bytes), and its peak resident set growth likewise.

PyTorch's Linear layers go through Debian's libblas.so.3 (install libopenblas0-pthread:
this script sets OPENBLAS_CORETYPE=SkylakeX, its faster setting here) and its convolutions
through oneDNN (MKL-DNN), which Debian's torch 1.13 is built with.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

from bench_common import supcon_resnet18, torch_env, torch_sgemm_worker

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, '..', 'tests', 'loss', 'fixtures')
WIDTHS = {'full': 100, 'quarter': 25}  # bench_nn's width_pct
# ResNet-18's 3x3 convs on 32x32 images: in, out, input size, stride (bench_nn's BM_conv2d).
CONVS = [(3, 64, 32, 1), (64, 64, 32, 1), (64, 128, 32, 2), (128, 128, 16, 1),
         (128, 256, 16, 2), (256, 256, 8, 1), (256, 512, 8, 2), (512, 512, 4, 1)]
CONV_BATCH = 64


def resident_bytes():
    with open('/proc/self/statm') as statm:
        return int(statm.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


def torch_worker(width, mode, bsz, repeats):
    import torch
    sys.path.insert(0, FIXTURES)
    from make_fixtures import supcon_reference  # the one PyTorch SupConLoss of the project

    torch.set_num_threads(2)
    torch.manual_seed(0)
    model = supcon_resnet18(WIDTHS[width] / 100)
    views = [torch.randn(bsz, 3, 32, 32), torch.randn(bsz, 3, 32, 32)]
    labels = torch.arange(bsz) % 100
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    with torch.no_grad():  # thread pools, oneDNN and BLAS buffers: not the step's memory
        model.eval()(torch.randn(2, 3, 32, 32))

    def train_step():
        images = torch.cat([views[0], views[1]], dim=0)
        features = model(images)
        f1, f2 = torch.split(features, [bsz, bsz], dim=0)
        features = torch.cat([f1.unsqueeze(1), f2.unsqueeze(1)], dim=1)
        loss = supcon_reference(features, labels=labels)
        model.zero_grad()
        loss.backward()

    def inference():
        with torch.no_grad():
            return model.encoder(views[0])

    if mode == 'train':
        model.train()
        step = train_step
    else:
        model.eval()
        step = inference
    resident_before = resident_bytes()
    step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    seconds = sorted(times)[len(times) // 2]
    extra = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - resident_before
    blas = 'openblas' if any('openblas' in line for line in open('/proc/self/maps')) else 'other'
    print(json.dumps(dict(images_per_s=bsz / seconds, peak_extra_bytes=extra, blas=blas,
                          mkldnn=torch.backends.mkldnn.is_available())))


def torch_conv_worker(repeats):
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(2)
    rates = {}
    for cin, cout, size, stride in CONVS:
        weight = torch.randn(cout, cin, 3, 3, requires_grad=True)
        x = torch.randn(CONV_BATCH, cin, size, size, requires_grad=True)
        out = (size + 2 - 3) // stride + 1
        dy = torch.randn(CONV_BATCH, cout, out, out)
        flops = 2.0 * CONV_BATCH * cout * out * out * cin * 9

        def forward():
            with torch.no_grad():
                F.conv2d(x, weight, stride=stride, padding=1)

        def forward_backward():
            F.conv2d(x, weight, stride=stride, padding=1).backward(dy)

        for name, fn, f in (('fwd', forward, flops), ('fwd+bwd', forward_backward, 3 * flops)):
            fn()
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                fn()
                times.append(time.perf_counter() - start)
            rates[f'{cin},{cout},{size},{stride},{name}'] = f / sorted(times)[len(times) // 2] / 1e9
    print(json.dumps(rates))


def clr_env():
    return dict(os.environ, OMP_NUM_THREADS=os.environ.get('OMP_NUM_THREADS', '2'))


def run_torch(*worker_args):
    out = subprocess.run([sys.executable, __file__, *worker_args], env=torch_env(),
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        return None  # e.g. killed for memory
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_benchmark(bench, pattern, *extra):
    """Google Benchmark runs of bench matching pattern, in a fresh process."""
    args = [bench, f'--benchmark_filter={pattern}', '--benchmark_format=json', *extra]
    out = subprocess.run(args, capture_output=True, text=True, check=True, env=clr_env())
    return json.loads(out.stdout)['benchmarks']


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def run_clr_model(bench, width, mode, bsz, repeats):
    name = 'BM_supcon_step' if mode == 'train' else 'BM_resnet18_inference'
    runs = run_benchmark(bench, f'^{name}/width_pct:{WIDTHS[width]}/bsz:{bsz}/',
                         f'--benchmark_repetitions={repeats}', *(['--long'] if bsz > 64 else []))
    runs = [r for r in runs if r['run_type'] == 'iteration']
    assert runs and runs[0]['time_unit'] == 'ms'
    # Memory is the same in every repetition (the resident set's against the process's start).
    return dict(images_per_s=median(r['images/s'] for r in runs),
                peak_extra_bytes=runs[0]['peak_extra_bytes'],
                peak_rss_growth_bytes=runs[0]['peak_rss_growth_bytes'])


# bench_nn's BM_conv2d algo argument: 0 is the automatic choice, the others force a path.
FORCED_ALGOS = {'1': 'im2col', '2': 'winograd', '3': 'winograd_2x2', '4': 'winograd_2x2_cl',
                '5': 'im2col_cl', '6': 'winograd_4x4_cl'}
# Column titles of the by-algorithm table, stride-1 layers (every path but im2col_cl).
STRIDE1_ALGOS = (('im2col', 'im2col'), ('winograd', 'F4x4 rows'), ('winograd_2x2', 'F2x2 rows'),
                 ('winograd_2x2_cl', 'F2x2 CL'), ('winograd_4x4_cl', 'F4x4 CL'))


def run_clr_convs(bench, repeats):
    """GFLOP/s (im2col's flop count) keyed 'in,out,hw,stride,fwd|fwd+bwd', with ',' and the
    path's FORCED_ALGOS name appended for the forced paths."""
    runs = run_benchmark(bench, '^BM_conv2d/', f'--benchmark_repetitions={repeats}',
                         '--benchmark_min_time=0.2', '--benchmark_report_aggregates_only=true')
    rates = {}
    for r in runs:
        if r.get('aggregate_name') != 'median':
            continue
        fields = dict(part.split(':') for part in r['run_name'].split('/')[1:] if ':' in part)
        key = f"{fields['in']},{fields['out']},{fields['hw']},{fields['stride']}," + \
            ('fwd+bwd' if fields['backward'] == '1' else 'fwd')
        algo = fields.get('algo', '0')
        if algo != '0':
            key += ',' + FORCED_ALGOS[algo]
        rates[key] = r['GFLOP/s']
    return rates


def run_peak(loss_bench, repeats):
    runs = run_benchmark(loss_bench, '^BM_sgemm/m:2048/n:2048/k:2048/',
                         f'--benchmark_repetitions={repeats}', '--benchmark_report_aggregates_only=true')
    return next(r['GFLOP/s'] for r in runs if r.get('aggregate_name') == 'median')


def model_table(args):
    """--rounds rounds of (PyTorch, clr) pairs per row, so that each ratio compares two
    measurements minutes apart at most; medians over the rounds."""
    rows = [(width, mode) for width in WIDTHS for mode in ('train', 'inference')]
    results = {row: [] for row in rows}
    for _ in range(args.rounds):
        for width, mode in rows:
            ref = run_torch('--torch-worker', width, mode, '--bsz', str(args.bsz),
                            '--repeats', str(args.repeats))
            mine = run_clr_model(args.bench, width, mode, args.bsz, args.repeats)
            if ref is not None:
                results[(width, mode)].append((ref, mine))
    mib = 1 << 20
    print(f'ResNet-18 CIFAR stem, bsz {args.bsz} (train step: 2 x {args.bsz} views + mlp head'
          f' + SupCon); images/s counts bsz images; medians of {args.rounds} rounds')
    print(f"{'model':<8} {'mode':<10} {'torch img/s':>11} {'clr img/s':>9} {'speed-up':>8}"
          f" {'(rounds)':>13} {'torch MiB':>9} {'clr MiB':>7} {'memory':>6} {'clr RSS MiB':>11}")
    for (width, mode), pairs in results.items():
        label = 'train step' if mode == 'train' else 'inference'
        if not pairs:
            print(f'{width:<8} {label:<10} (PyTorch failed)')
            continue
        ratios = sorted(m['images_per_s'] / r['images_per_s'] for r, m in pairs)
        torch_mib = median(r['peak_extra_bytes'] for r, _ in pairs) / mib
        clr_mib = median(m['peak_extra_bytes'] for _, m in pairs) / mib
        print(f"{width:<8} {label:<10} {median(r['images_per_s'] for r, _ in pairs):>11.1f}"
              f" {median(m['images_per_s'] for _, m in pairs):>9.1f} {median(ratios):>7.2f}x"
              f" {ratios[0]:>6.2f}-{ratios[-1]:.2f}x {torch_mib:>9.0f} {clr_mib:>7.0f}"
              f" {torch_mib / max(clr_mib, 1e-9):>5.2f}x"
              f" {median(m['peak_rss_growth_bytes'] for _, m in pairs) / mib:>11.0f}"
              + ('' if all(r['blas'] == 'openblas' for r, _ in pairs) else '  (torch not on OpenBLAS!)'))
    print("speed-up: clr images/s over PyTorch's, median of the rounds' ratios (their range in"
          " brackets); memory: PyTorch's extra MiB over clr's (allocator); clr RSS: clr's peak"
          " resident set growth")


def conv_table(args):
    peak = run_peak(args.loss_bench, args.repeats)
    torch_peak = run_torch('--torch-sgemm')['gflops']
    mine = run_clr_convs(args.bench, args.repeats)
    ref = run_torch('--torch-convs', '--repeats', str(args.repeats)) or {}
    print(f'sgemm 2048^3, same run: clr (Eigen, bench_loss BM_sgemm) {peak:.0f} GFLOP/s;'
          f' PyTorch (OpenBLAS) {torch_peak:.0f} GFLOP/s')
    print(f'Conv2d 3x3 pad 1, batch {CONV_BATCH}, GFLOP/s (fwd: 2 N out oh ow in 9 flops;'
          f" fwd+bwd: 3x); % of clr's sgemm")
    print(f"{'layer':<18} {'clr fwd':>8} {'% peak':>6} {'clr f+b':>8} {'% peak':>6}"
          f" {'torch fwd':>9} {'torch f+b':>9}")
    for cin, cout, size, stride in CONVS:
        key = f'{cin},{cout},{size},{stride}'
        layer = f"{cin}->{cout} {size}x{size}" + (' s2' if stride == 2 else '')
        fwd, both = mine[key + ',fwd'], mine[key + ',fwd+bwd']
        print(f"{layer:<18} {fwd:>8.1f} {100 * fwd / peak:>5.0f}% {both:>8.1f}"
              f" {100 * both / peak:>5.0f}% {ref.get(key + ',fwd', float('nan')):>9.1f}"
              f" {ref.get(key + ',fwd+bwd', float('nan')):>9.1f}")
    print("\nThe stride-1 convs by algorithm, GFLOP/s counted as im2col's flops (Winograd"
          " F(4x4,3x3) does 4x fewer GEMM flops, F(2x2,3x3) 2.25x); ratios against im2col;"
          " rows: tiles of image rows side by side, CL: channels last; quarter width:"
          " channels / 4")
    for mode in ('fwd', 'fwd+bwd'):
        print(f"{mode:<18}" + ''.join(f" {title:>16}" for _, title in STRIDE1_ALGOS))
        for divisor in (1, 4):
            for cin, cout, size, stride in CONVS:
                if stride != 1:
                    continue
                cin, cout = (cin if cin == 3 else cin // divisor), cout // divisor
                key = f'{cin},{cout},{size},1,{mode}'
                rates = [mine.get(f'{key},{algo}', float('nan')) for algo, _ in STRIDE1_ALGOS]
                print(f"{f'{cin}->{cout} {size}x{size}':<18} {rates[0]:>16.1f}" + ''.join(
                    f" {f'{r:.1f} ({r / rates[0]:.2f}x)':>16}" for r in rates[1:]))
    print("\nThe stride-2 convs: im2col, and im2col channels last (ratio against im2col)")
    print(f"{'layer':<18} {'fwd im2col':>10} {'fwd CL':>16} {'f+b im2col':>10} {'f+b CL':>16}")
    for divisor in (1, 4):
        for cin, cout, size, stride in CONVS:
            if stride != 2:
                continue
            cin, cout = cin // divisor, cout // divisor
            line = f"{f'{cin}->{cout} {size}x{size} s2':<18}"
            for mode in ('fwd', 'fwd+bwd'):
                plain, cl = (mine.get(f'{cin},{cout},{size},2,{mode},{algo}', float('nan'))
                             for algo in ('im2col', 'im2col_cl'))
                line += f" {plain:>10.1f} {f'{cl:.1f} ({cl / plain:.2f}x)':>16}"
            print(line)
    if args.gemms:
        runs = run_benchmark(args.bench, '^BM_conv_gemm/', f'--benchmark_repetitions={args.repeats}',
                             '--benchmark_min_time=0.2', '--benchmark_report_aggregates_only=true')
        print("Conv2d's three GEMMs alone (no im2col / col2im), GFLOP/s: per image (as Conv2d"
              " runs them) and batched (the 64 images' columns side by side)")
        print(f"{'full width':<18} {'per image':>9} {'batched':>8}   {'quarter width':<18}"
              f" {'per image':>9} {'batched':>8}")
        rates = {r['label']: r['GFLOP/s'] for r in runs if r.get('aggregate_name') == 'median'}
        for cin, cout, size, stride in CONVS:
            cells = []
            for i, o in ((cin, cout), (cin if cin == 3 else cin // 4, cout // 4)):
                layer = f"{i}->{o} {size}x{size}" + (' s2' if stride == 2 else '')
                cells.append(f"{layer:<18} {rates[layer + ' per image']:>9.1f}"
                             f" {rates[layer + ' batched']:>8.1f}")
            print('   '.join(cells))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--bench', default=os.path.join(HERE, '..', 'build', 'bench', 'bench_nn'))
    parser.add_argument('--loss-bench',
                        default=os.path.join(HERE, '..', 'build', 'bench', 'bench_loss'))
    parser.add_argument('--bsz', type=int, default=64, choices=[64, 256, 512])
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--skip-convs', action='store_true', help='only the model table')
    parser.add_argument('--gemms', action='store_true',
                        help="add Conv2d's GEMMs alone, per image and batched")
    parser.add_argument('--torch-worker', nargs=2, metavar=('WIDTH', 'MODE'), help=argparse.SUPPRESS)
    parser.add_argument('--torch-convs', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--torch-sgemm', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.torch_worker:
        return torch_worker(*args.torch_worker, args.bsz, args.repeats)
    if args.torch_convs:
        return torch_conv_worker(args.repeats)
    if args.torch_sgemm:
        return torch_sgemm_worker()

    start = time.perf_counter()
    model_table(args)
    if not args.skip_convs:
        print()
        conv_table(args)
    print(f'\n(total {time.perf_counter() - start:.0f} s)')


if __name__ == '__main__':
    main()
