#!/usr/bin/env python3
"""Side-by-side: clr's augmentation pipelines (bench_augment) against torchvision's on PIL
images, as SupContrast and the PyTorch SimCLR ports run them, views per second, in one run.

    /usr/bin/python3 bench/compare_augment.py [--bench build/bench/bench_augment]
        [--rounds 3] [--seconds 2] [--steps]

Pipelines (the same parameters on both sides):
  cifar     SupContrast's main_supcon.py train_transform on 32x32 RGB pictures:
            RandomResizedCrop(32, scale=(0.2, 1)), RandomHorizontalFlip(),
            RandomApply([ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8), RandomGrayscale(p=0.2),
            ToTensor(), Normalize(CIFAR-10 mean, std)           clr: simclr_cifar(32)
  imagenet  SimCLR's ImageNet augmentation on 375x500 RGB pictures: RandomResizedCrop(224),
            RandomHorizontalFlip(), RandomApply([ColorJitter(0.8, 0.8, 0.8, 0.2)], p=0.8),
            RandomGrayscale(p=0.2), RandomApply([GaussianBlur(23, (0.1, 2.0))], p=0.5),
            ToTensor(), Normalize(ImageNet mean, std)           clr: simclr_imagenet(224)

torchvision runs in a fresh process with torch.set_num_threads(1): one core, as one
DataLoader worker. clr runs on 1 thread and on 2 (std::threads over pictures, each with its
own stream). The pictures are random bytes (the speed of these transforms does not depend
on the content). Rates are views per wall-clock second and per CPU-second of the process
(all its threads): where other programs share the cores, the second is the steadier
per-core figure. A row is measured --rounds times over, torchvision then clr each round;
the table gives medians over the rounds and speed-ups as medians of the rounds' ratios.
With --steps, each transform alone at 32 and 224 (torchvision on the PIL picture it gets
in the pipeline, p = 1).
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CIFAR_MEAN, CIFAR_STD = (0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
PIPELINES = {'cifar': (0, 32, (32, 32), 256), 'imagenet': (1, 224, (375, 500), 16)}
STEPS = ['RandomResizedCrop', 'RandomHorizontalFlip', 'ColorJitter', 'RandomGrayscale',
         'GaussianBlur', 'Normalize']


def torchvision_pipeline(name):
    import torchvision.transforms as T
    if name == 'cifar':
        return T.Compose([
            T.RandomResizedCrop(size=32, scale=(0.2, 1.)),
            T.RandomHorizontalFlip(),
            T.RandomApply([T.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8),
            T.RandomGrayscale(p=0.2),
            T.ToTensor(),
            T.Normalize(mean=CIFAR_MEAN, std=CIFAR_STD)])
    s = 1.0
    return T.Compose([
        T.RandomResizedCrop(224),
        T.RandomHorizontalFlip(),
        T.RandomApply([T.ColorJitter(0.8 * s, 0.8 * s, 0.8 * s, 0.2 * s)], p=0.8),
        T.RandomGrayscale(p=0.2),
        T.RandomApply([T.GaussianBlur(23, sigma=(0.1, 2.0))], p=0.5),
        T.ToTensor(),
        T.Normalize(mean=IMAGENET_MEAN, std=IMAGENET_STD)])


def pil_pictures(count, height, width, seed):
    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(seed)
    return [Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), 'RGB')
            for _ in range(count)]


def rate(fn, count, seconds, cpu=False):
    """Calls per second of fn over at least `seconds` (after one warm-up pass); with cpu,
    also calls per CPU-second of this process."""
    for i in range(min(count, 4)):
        fn(i)
    calls, start, start_cpu = 0, time.perf_counter(), time.process_time()
    while True:
        for i in range(count):
            fn(i)
        calls += count
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            per_s = calls / elapsed
            return (per_s, calls / (time.process_time() - start_cpu)) if cpu else per_s


def torch_worker(name, seconds):
    import torch
    torch.set_num_threads(1)
    torch.manual_seed(0)
    _, _, (h, w), count = PIPELINES[name]
    pictures = pil_pictures(count, h, w, 1)
    pipeline = torchvision_pipeline(name)
    per_s, per_cpu_s = rate(lambda i: pipeline(pictures[i]), count, seconds, cpu=True)
    print(json.dumps(dict(views_per_s=per_s, views_per_cpu_s=per_cpu_s)))


def torch_steps_worker(seconds):
    """Each transform alone, on what it receives in the pipeline: the crop on the input
    picture, the rest on the PIL picture the crop yields; Normalize includes ToTensor."""
    import torch
    import torchvision.transforms as T
    torch.set_num_threads(1)
    rates = {}
    for size, (h, w), s, blur in ((32, (32, 32), 0.5, 3), (224, (375, 500), 1.0, 23)):
        picture = pil_pictures(1, h, w, 2)[0]
        crop = T.RandomResizedCrop(size, scale=(0.2 if size == 32 else 0.08, 1.0))
        cropped = crop(picture)
        flip, gray = T.RandomHorizontalFlip(1.0), T.RandomGrayscale(1.0)
        jitter = T.ColorJitter(0.8 * s, 0.8 * s, 0.8 * s, 0.2 * s)
        gaussian = T.GaussianBlur(blur, (0.1, 2.0))
        to_tensor, normalize = T.ToTensor(), T.Normalize(CIFAR_MEAN, CIFAR_STD)
        steps = {
            'RandomResizedCrop': lambda i: crop(picture),
            'RandomHorizontalFlip': lambda i: flip(cropped),
            'ColorJitter': lambda i: jitter(cropped),
            'RandomGrayscale': lambda i: gray(cropped),
            'GaussianBlur': lambda i: gaussian(cropped),
            'Normalize': lambda i: normalize(to_tensor(cropped)),
        }
        for step, fn in steps.items():
            rates[f'{step} {size}'] = 1e6 / rate(fn, 1, seconds / 4)  # us per call
    print(json.dumps(rates))


def run_torch(*worker_args):
    out = subprocess.run([sys.executable, __file__, *worker_args], capture_output=True, text=True)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_benchmark(bench, pattern, seconds):
    args = [bench, f'--benchmark_filter={pattern}', '--benchmark_format=json',
            f'--benchmark_min_time={seconds}']
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)['benchmarks']


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def pipeline_table(args):
    results = {name: [] for name in PIPELINES}
    for _ in range(args.rounds):
        for name, (index, _, _, _) in PIPELINES.items():
            ref = run_torch('--torch-worker', name, '--seconds', str(args.seconds))
            runs = run_benchmark(args.bench, f'^BM_pipeline/pipeline:{index}/', args.seconds)
            mine = {int(r['run_name'].split('threads:')[1].split('/')[0]): r for r in runs}
            if ref is not None:
                results[name].append(dict(
                    torch=ref['views_per_s'], torch_cpu=ref['views_per_cpu_s'],
                    one=mine[1]['views/s'], one_cpu=mine[1]['views/cpu_s'],
                    two=mine[2]['views/s'], two_cpu=mine[2]['views/cpu_s']))
    print(f'views/s (wall clock) and views per CPU-second, medians of {args.rounds} rounds;'
          ' torchvision: PIL pictures, 1 thread')
    print(f"{'':<20} {'torchvision':>17} {'clr 1 thread':>17} {'clr 2 threads':>17}"
          f" {'speed-up 1 thread':>24} {'2 threads':>10}")
    print(f"{'pipeline':<20} {'views/s':>8} {'/cpu-s':>8} {'views/s':>8} {'/cpu-s':>8}"
          f" {'views/s':>8} {'/cpu-s':>8} {'wall':>6} {'(rounds)':>11} {'cpu':>5} {'cpu':>10}")
    for name, rows in results.items():
        if not rows:
            print(f'{name:<20} (torchvision failed)')
            continue
        col = lambda key: median(r[key] for r in rows)  # noqa: E731
        wall = sorted(r['one'] / r['torch'] for r in rows)
        cpu1 = median(r['one_cpu'] / r['torch_cpu'] for r in rows)
        cpu2 = median(r['two_cpu'] / r['torch_cpu'] for r in rows)
        label = 'simclr_cifar 32' if name == 'cifar' else 'simclr_imagenet 224'
        print(f"{label:<20} {col('torch'):>8.0f} {col('torch_cpu'):>8.0f} {col('one'):>8.0f}"
              f" {col('one_cpu'):>8.0f} {col('two'):>8.0f} {col('two_cpu'):>8.0f}"
              f" {median(wall):>5.1f}x {wall[0]:>5.1f}-{wall[-1]:.1f}x {cpu1:>4.1f}x {cpu2:>9.1f}x")
    print("speed-up: clr over torchvision's one core, median of the rounds' ratios: wall-clock"
          " views/s on 1 thread (the rounds' range in brackets), and views per CPU-second on 1"
          " and on 2 threads (the per-core rate, which other programs on the machine disturb"
          " less)")


def steps_table(args):
    ref = run_torch('--torch-steps', '--seconds', str(args.seconds)) or {}
    runs = run_benchmark(args.bench, '^BM_transform/', args.seconds / 4)
    mine = {r['label']: r['real_time'] for r in runs}  # us (the benchmark's unit)
    print('each transform alone, us per picture (p = 1; ColorJitter 0.4/0.4/0.4/0.1 at 32,'
          ' 0.8/0.8/0.8/0.2 at 224; blur kernel 3 at 32, 23 at 224; Normalize includes'
          ' ToTensor)')
    print(f"{'transform':<26} {'torchvision':>11} {'clr':>8} {'speed-up':>8}")
    for size in (32, 224):
        for step in STEPS:
            key = f'{step} {size}'
            t, m = ref.get(key, float('nan')), mine.get(key, float('nan'))
            print(f'{key:<26} {t:>11.1f} {m:>8.2f} {t / m:>7.1f}x')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--bench',
                        default=os.path.join(HERE, '..', 'build', 'bench', 'bench_augment'))
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--seconds', type=float, default=2.0)
    parser.add_argument('--steps', action='store_true', help='add each transform alone')
    parser.add_argument('--torch-worker', metavar='PIPELINE', help=argparse.SUPPRESS)
    parser.add_argument('--torch-steps', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.torch_worker:
        return torch_worker(args.torch_worker, args.seconds)
    if args.torch_steps:
        return torch_steps_worker(args.seconds)

    start = time.perf_counter()
    pipeline_table(args)
    if args.steps:
        print()
        steps_table(args)
    print(f'\n(total {time.perf_counter() - start:.0f} s)')


if __name__ == '__main__':
    main()
