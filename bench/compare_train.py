#!/usr/bin/env python3
"""One training recipe run twice, side by side: by clr's programs and by the same recipe in
PyTorch (Debian's python3-torch, 2 threads, OPENBLAS_CORETYPE=SkylakeX), on Fashion-MNIST.

Both sides use SupContrast's ¼-width CIFAR ResNet-18 on 28x28 grayscale images, its
augmentations (RandomResizedCrop(28, scale=(0.2, 1)), flip, colour jitter, grayscale; the
colour steps act on brightness and contrast only, an 'L' image has no hue), SGD with
momentum 0.9 and weight decay 1e-4, a cosine learning rate to lr * 0.1**3 (annealed at
every step for the contrastive recipes, once per epoch as main_ce.py for 'ce'), full
batches only, and a data loader with one worker beside the two compute
threads. Contrastive recipes end with the same linear evaluation: the frozen encoder's
features of the un-augmented images, standardised, a linear classifier trained 100 epochs
(SGD 0.1, momentum 0.9, cosine per epoch, batch 256). The seed sets each side's
initialisation, order and augmentations; the two sides cannot share random streams, so
their accuracies differ by run-to-run spread as well as by anything real. clr's side also
runs its kNN monitor after each epoch (for the curves of docs/results.md), outside the
epoch times compared; clr-ce evaluates the test split once, at the end, as the PyTorch
side does.

    OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 bench/compare_train.py --recipe supcon
    /usr/bin/python3 bench/compare_train.py --recipe ce --epochs 1 --subset 6000   # quick

Prints each side's accuracy, epoch wall times (data loading included), images/s and peak
resident memory, and the ratios; --json FILE keeps them.
"""
import argparse
import csv
import gzip
import json
import math
import os
import re
import subprocess
import sys
import time

from bench_common import supcon_resnet18, torch_env

HERE = os.path.dirname(os.path.abspath(__file__))
FASHION_MNIST = '/usr/share/datasets/fashion-mnist'
MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST's, as clr's presets
WIDTH = 0.25

# The recipes: clr's flags, read by the PyTorch side as well.
RECIPES = {
    # README's main job (examples/quickstart.sh).
    'supcon': dict(method='SupCon', batch_size=128, learning_rate=0.1, temp=0.1, base_temp=0.07,
                   epochs=2),
    # docs/results.md's SimCLR row: plain NT-Xent (base_temp = temp).
    'simclr': dict(method='SimCLR', batch_size=128, learning_rate=0.2, temp=0.2, base_temp=0.2,
                   epochs=6),
    # The cross-entropy baseline (SupContrast's main_ce.py), trained end to end.
    'ce': dict(method='CE', batch_size=128, learning_rate=0.1, epochs=3),
}
LINEAR = dict(epochs=100, batch_size=256, learning_rate=0.1, momentum=0.9)


def read_idx(path):
    import numpy as np
    with gzip.open(path, 'rb') as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def fashion_mnist(split, subset):
    prefix = 'train' if split == 'train' else 't10k'
    images = read_idx(os.path.join(FASHION_MNIST, prefix + '-images-idx3-ubyte.gz'))[:subset]
    labels = read_idx(os.path.join(FASHION_MNIST, prefix + '-labels-idx1-ubyte.gz'))[:subset]
    return images, labels.astype('int64')


def torch_worker(recipe_name, epochs, subset, seed, workers):
    """The recipe in PyTorch; prints one JSON line."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    from PIL import Image
    from torchvision import transforms

    torch.set_num_threads(2)
    torch.manual_seed(seed)
    np.random.seed(seed)
    recipe = dict(RECIPES[recipe_name], epochs=epochs)
    contrastive = recipe['method'] != 'CE'
    train_images, train_labels = fashion_mnist('train', subset)
    test_images, test_labels = fashion_mnist('test', subset)

    augment = transforms.Compose([
        transforms.RandomResizedCrop(size=28, scale=(0.2, 1.)),
        transforms.RandomHorizontalFlip(),
        transforms.RandomApply([transforms.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8),
        transforms.RandomGrayscale(p=0.2),
        transforms.ToTensor(),
        transforms.Normalize((MEAN,), (STD,)),
    ])
    views = 2 if contrastive else 1

    class Train(torch.utils.data.Dataset):
        def __len__(self):
            return len(train_labels)

        def __getitem__(self, i):
            image = Image.fromarray(train_images[i], mode='L')
            x = torch.cat([augment(image) for _ in range(views)]) if views > 1 else augment(image)
            return x, train_labels[i]

    loader = torch.utils.data.DataLoader(Train(), batch_size=recipe['batch_size'], shuffle=True,
                                         num_workers=workers, drop_last=True,
                                         persistent_workers=workers > 0)
    model = supcon_resnet18(WIDTH, in_channel=1, classes=None if contrastive else 10)
    optimizer = torch.optim.SGD(model.parameters(), lr=recipe['learning_rate'], momentum=0.9,
                                weight_decay=1e-4)
    eta_min = recipe['learning_rate'] * 0.1 ** 3
    steps = recipe['epochs'] * len(loader)

    def supcon_loss(features, labels):
        """SupContrast's SupConLoss, contrast_mode 'all': features [bsz, views, dim]."""
        bsz = features.shape[0]
        mask = (labels[:, None] == labels[None, :]).float() if labels is not None \
            else torch.eye(bsz)
        anchors = torch.cat(torch.unbind(features, dim=1))
        logits = anchors @ anchors.T / recipe['temp']
        logits = logits - logits.max(dim=1, keepdim=True).values.detach()
        mask = mask.repeat(views, views)
        not_self = 1 - torch.eye(bsz * views)
        mask = mask * not_self
        log_prob = logits - torch.log((torch.exp(logits) * not_self).sum(1, keepdim=True))
        mean_log_prob_pos = (mask * log_prob).sum(1) / mask.sum(1)
        return -(recipe['temp'] / recipe['base_temp']) * mean_log_prob_pos.mean()

    epoch_seconds, step = [], 0
    for epoch in range(recipe['epochs']):
        model.train()
        start = time.perf_counter()
        for x, y in loader:
            done = step / steps if contrastive else (epoch + 1) / recipe['epochs']
            lr = eta_min + (recipe['learning_rate'] - eta_min) * (1 + math.cos(math.pi * done)) / 2
            for group in optimizer.param_groups:
                group['lr'] = lr
            if contrastive:
                bsz = y.shape[0]
                x = x.view(bsz * views, 1, 28, 28)  # sample-major, as clr's loader
                features = model(x).view(bsz, views, -1)
                loss = supcon_loss(features, y if recipe['method'] == 'SupCon' else None)
            else:
                loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
        epoch_seconds.append(time.perf_counter() - start)
        print(f'torch epoch {epoch + 1}: {epoch_seconds[-1]:.1f} s, loss {loss.item():.4f}',
              file=sys.stderr, flush=True)

    def normalised(images):
        return ((torch.from_numpy(images.copy()).float() / 255 - MEAN) / STD).unsqueeze(1)

    evaluate_start = time.perf_counter()
    model.eval()
    with torch.no_grad():
        if contrastive:
            top1 = linear_eval(model.encoder, normalised(train_images), train_labels,
                               normalised(test_images), test_labels, seed)
        else:
            logits = torch.cat([model(chunk) for chunk in normalised(test_images).split(1000)])
            top1 = (logits.argmax(1).numpy() == test_labels).mean()
    print(json.dumps(dict(top1=float(top1), epoch_seconds=epoch_seconds,
                          images_per_epoch=len(loader) * recipe['batch_size'],
                          evaluate_seconds=time.perf_counter() - evaluate_start)))


def linear_eval(encoder, train_x, train_y, test_x, test_y, seed):
    """clr's train::linear_eval in PyTorch: encode once, standardise, train a linear layer."""
    import torch
    import torch.nn as nn
    train_f = torch.cat([encoder(chunk) for chunk in train_x.split(1000)])
    test_f = torch.cat([encoder(chunk) for chunk in test_x.split(1000)])
    mean, std = train_f.mean(0), train_f.std(0, unbiased=False).clamp_min(1e-12)
    train_f, test_f = (train_f - mean) / std, (test_f - mean) / std
    train_y = torch.from_numpy(train_y)
    torch.manual_seed(seed)
    classifier = nn.Linear(train_f.shape[1], 10)
    optimizer = torch.optim.SGD(classifier.parameters(), lr=LINEAR['learning_rate'],
                                momentum=LINEAR['momentum'])
    eta_min = LINEAR['learning_rate'] * 1e-3
    with torch.enable_grad():
        for epoch in range(LINEAR['epochs']):
            for group in optimizer.param_groups:
                group['lr'] = eta_min + (LINEAR['learning_rate'] - eta_min) * (
                    1 + math.cos(math.pi * epoch / LINEAR['epochs'])) / 2
            order = torch.randperm(len(train_y))
            for first in range(0, len(order), LINEAR['batch_size']):
                rows = order[first:first + LINEAR['batch_size']]
                loss = nn.functional.cross_entropy(classifier(train_f[rows]), train_y[rows])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
    return (classifier(test_f).argmax(1).numpy() == test_y).mean()


def run_measured(command, env):
    """Runs a command, its output passed on to stderr as it comes; returns its stdout and
    peak resident set in MiB (its largest process)."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    lines = []
    for line in process.stdout:
        sys.stderr.write(line)
        lines.append(line)
    stdout = ''.join(lines)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f'{command[0]} failed with exit status {process.returncode}')
    return stdout, usage.ru_maxrss / 1024


def run_clr(args, recipe, folder):
    env = dict(os.environ, OMP_NUM_THREADS='2')
    common = ['--model', 'resnet18', '--width', str(WIDTH), '--dataset', 'fashion_mnist',
              '--batch_size', str(recipe['batch_size']),
              '--learning_rate', str(recipe['learning_rate']), '--cosine',
              '--epochs', str(recipe['epochs']), '--num_workers', str(args.num_workers),
              '--seed', str(args.seed), '--save_folder', folder, '--print_freq', '100']
    if args.subset:
        common += ['--subset', str(args.subset)]
    if recipe['method'] == 'CE':
        out, rss = run_measured([os.path.join(args.clr_bin, 'clr-ce'), *common,
                                 '--eval_freq', str(recipe['epochs'])], env)
        top1, evaluate_seconds = float(re.search(r'ce top-1: ([\d.]+)%', out)[1]) / 100, 0.0
    else:
        out, rss = run_measured([os.path.join(args.clr_bin, 'clr-supcon'), *common,
                                 '--method', recipe['method'], '--head', 'mlp',
                                 '--feat_dim', '128', '--temp', str(recipe['temp']),
                                 '--base_temp', str(recipe['base_temp']), '--cosine_per_step',
                                 '--save_freq', '1000', '--knn_freq', '1', '--knn_bank', '5000'],
                                env)
        start = time.perf_counter()
        linear = [os.path.join(args.clr_bin, 'clr-linear'), '--ckpt',
                  os.path.join(folder, 'last.clr'), '--epochs', str(LINEAR['epochs']),
                  '--seed', str(args.seed)]
        if args.subset:
            linear += ['--subset', str(args.subset)]
        out, linear_rss = run_measured(linear, env)
        evaluate_seconds = time.perf_counter() - start
        rss = max(rss, linear_rss)
        top1 = float(re.search(r'linear eval top-1: ([\d.]+)%', out)[1]) / 100
    with open(os.path.join(folder, 'log.csv')) as log:
        rows = list(csv.DictReader(log))
    epoch_seconds = [float(row['seconds']) for row in rows]
    images = sum(float(row['images_per_second']) * float(row['seconds']) for row in rows)
    return dict(top1=top1, epoch_seconds=epoch_seconds, images_per_epoch=images / len(rows),
                evaluate_seconds=evaluate_seconds, peak_rss_mib=rss)


def run_torch(args, recipe):
    command = [sys.executable, __file__, '--worker', args.recipe, str(recipe['epochs']),
               str(args.subset or 0), str(args.seed), str(args.num_workers)]
    out, rss = run_measured(command, torch_env())
    return dict(json.loads(out.strip().splitlines()[-1]), peak_rss_mib=rss)


def summary(name, side):
    epoch = sum(side['epoch_seconds']) / len(side['epoch_seconds'])
    return (f"| {name} | {100 * side['top1']:.2f}% | {epoch:.1f} | "
            f"{side['images_per_epoch'] / epoch:.0f} | {side['evaluate_seconds']:.0f} | "
            f"{side['peak_rss_mib']:.0f} |")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == '--worker':
        recipe, epochs, subset, seed, workers = sys.argv[2:7]
        torch_worker(recipe, int(epochs), int(subset) or None, int(seed), int(workers))
        return
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--recipe', choices=sorted(RECIPES), default='supcon')
    parser.add_argument('--epochs', type=int, help="override the recipe's epochs")
    parser.add_argument('--subset', type=int, default=0, help='first N images of each split')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num_workers', type=int, default=1)
    parser.add_argument('--clr-bin', default=os.path.join(HERE, '..', 'build', 'examples'))
    parser.add_argument('--save_folder', default='runs/compare_train')
    parser.add_argument('--sides', choices=['both', 'clr', 'torch'], default='both')
    parser.add_argument('--json', help='write the measurements here')
    args = parser.parse_args()
    recipe = dict(RECIPES[args.recipe])
    if args.epochs:
        recipe['epochs'] = args.epochs
    folder = os.path.join(args.save_folder, args.recipe)
    os.makedirs(folder, exist_ok=True)
    results = {}
    if args.sides in ('both', 'clr'):
        results['clr'] = run_clr(args, recipe, folder)
    if args.sides in ('both', 'torch'):
        results['torch'] = run_torch(args, recipe)
    print(f"recipe {args.recipe}: {json.dumps(recipe)}, seed {args.seed}, "
          f"subset {args.subset or 'none'}")
    print('| side | top-1 | s / epoch | images/s | evaluation s | peak RSS MiB |')
    print('| --- | --- | --- | --- | --- | --- |')
    for name, side in results.items():
        print(summary(name, side))
    if len(results) == 2:
        clr, torch = results['clr'], results['torch']
        per_epoch = (sum(clr['epoch_seconds']) / len(clr['epoch_seconds'])) / (
            sum(torch['epoch_seconds']) / len(torch['epoch_seconds']))
        print(f"clr - PyTorch top-1: {100 * (clr['top1'] - torch['top1']):+.2f} points; "
              f"clr's epoch takes {per_epoch:.2f}x PyTorch's; peak memory "
              f"{clr['peak_rss_mib'] / torch['peak_rss_mib']:.2f}x")
    if args.json:
        with open(args.json, 'w') as out:
            json.dump(dict(recipe=recipe, seed=args.seed, subset=args.subset, **results), out,
                      indent=1)


if __name__ == '__main__':
    main()
