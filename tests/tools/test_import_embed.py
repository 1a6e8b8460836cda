#!/usr/bin/env python3
"""The weight-import path end to end, with python3 + numpy only (no PyTorch):
tools/import_torch.py converts the SupContrast checkpoints of fixtures/ (made with PyTorch
by fixtures/make_fixtures.py), clr-embed computes their features, and these must match
PyTorch's to 1e-4 (relative to each row's largest entry). Also: the importer and clr-embed
refuse bad input with one line on stderr and a non-zero exit.

    test_import_embed.py CASE --tool tools/import_torch.py --embed build/examples/clr-embed
                         --fixtures tests/tools/fixtures --work DIR

CASE: resnet18_mlp, resnet50_linear, resnet34_mlp (the three fixtures), rejects (the
importer's errors), cli (clr-embed's errors and its use of checkpoint metadata).
"""
import argparse
import importlib.util
import os
import shutil
import subprocess
import sys

import numpy as np

TOLERANCE = 1e-4


class Context:
    def __init__(self, flags):
        self.tool, self.embed = flags.tool, flags.embed
        self.fixtures, self.work = flags.fixtures, flags.work
        self.failures = []

    def fixture(self, name):
        return os.path.join(self.fixtures, name)

    def scratch(self, name):
        return os.path.join(self.work, name)

    def check(self, condition, message):
        if not condition:
            self.failures.append(message)
            print(f'FAIL: {message}')


def run(command):
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True)
    return result.returncode, result.stdout, result.stderr


def import_checkpoint(ctx, pth, out, *flags):
    code, stdout, stderr = run([sys.executable, ctx.tool, *flags, ctx.fixture(pth), out])
    print(stdout + stderr, end='')
    if code != 0:
        raise SystemExit(f'FAIL: import_torch.py {pth} exited with {code}')


def embed(ctx, checkpoint, layer, x, out, *flags):
    code, stdout, stderr = run([ctx.embed, '--ckpt', checkpoint, '--layer', layer, '--input', x,
                                '--out', out, *flags])
    print(stdout + stderr, end='')
    if code != 0:
        raise SystemExit(f'FAIL: clr-embed --layer {layer} exited with {code}')
    return np.load(out)


def relative_error(got, want):
    """Largest error of a row relative to that row's largest entry: elementwise ratios
    would divide by the zeros that ReLU leaves in encoder features."""
    return float(np.max(np.abs(got - want).max(axis=1) / np.abs(want).max(axis=1)))


def compare(ctx, case, checkpoint, embed_flags=()):
    x = ctx.fixture(f'{case}_x.npy')
    for layer in ('encoder', 'head'):
        want = np.load(ctx.fixture(f'{case}_{layer}.npy'))
        got = embed(ctx, checkpoint, layer, x, ctx.scratch(f'{layer}.npy'), *embed_flags)
        ctx.check(got.dtype == np.float32 and got.shape == want.shape,
                  f'{case} {layer}: got {got.dtype} {got.shape}, want float32 {want.shape}')
        if got.shape == want.shape:
            error = relative_error(got, want)
            print(f'{case} {layer} {list(got.shape)}: max relative error {error:.2e}')
            ctx.check(error < TOLERANCE, f'{case} {layer}: relative error {error:.2e} '
                                         f'exceeds {TOLERANCE:g}')
        if layer == 'head':
            norms = np.linalg.norm(got, axis=1)
            ctx.check(np.allclose(norms, 1.0, atol=1e-5), f'{case} head: norms {norms}')


def case_resnet18_mlp(ctx):
    """{'model': state_dict}; the flags repeated to both programs, as a user would."""
    checkpoint = ctx.scratch('resnet18_mlp.clr')
    import_checkpoint(ctx, 'resnet18_mlp.pth', checkpoint,
                      '--model', 'resnet18', '--head', 'mlp', '--feat_dim', '128')
    compare(ctx, 'resnet18_mlp', checkpoint,
            ['--model', 'resnet18', '--head', 'mlp', '--feat_dim', '128',
             '--width', '0.046875', '--in_channels', '1'])


def case_resnet50_linear(ctx):
    """main_supcon.py's checkpoint (encoder.module.*, opt, optimizer, epoch); everything
    inferred from the weights and then from the metadata; batches of 3 for 4 images."""
    checkpoint = ctx.scratch('resnet50_linear.clr')
    import_checkpoint(ctx, 'resnet50_linear.pth', checkpoint)
    metadata = read_metadata(checkpoint)
    expected = {'model': 'resnet50', 'head': 'linear', 'feat_dim': '32', 'width': '0.015625',
                'in_channels': '3', 'epoch': '7', 'source': 'SupContrast resnet50_linear.pth'}
    ctx.check(metadata == expected, f'metadata {metadata}, want {expected}')
    compare(ctx, 'resnet50_linear', checkpoint, ['--batch_size', '3'])


def case_resnet34_mlp(ctx):
    """A bare state_dict with module.*, float16 and float64 storages, a strided view and a
    tensor at an offset inside its storage; batches of 1."""
    checkpoint = ctx.scratch('resnet34_mlp.clr')
    import_checkpoint(ctx, 'resnet34_mlp.pth', checkpoint, '--model', 'resnet34')
    compare(ctx, 'resnet34_mlp', checkpoint, ['--batch_size', '1'])


def expect_failure(ctx, command, needles, code=None):
    """A non-zero exit, exactly one line on stderr, holding every needle."""
    status, stdout, stderr = run(command)
    lines = stderr.strip().splitlines()
    shown = stderr.strip() or '(nothing on stderr)'
    print(f'  exit {status}: {shown}')
    ctx.check(status != 0 and (code is None or status == code),
              f'{command[1:]}: exit {status}, want failure')
    ctx.check(len(lines) == 1, f'{command[1:]}: {len(lines)} lines on stderr, want 1')
    for needle in needles:
        ctx.check(needle in stderr, f'{command[1:]}: stderr lacks {needle!r}')


def case_rejects(ctx):
    tool = [sys.executable, ctx.tool]
    out = ctx.scratch('never.clr')
    r18 = ctx.fixture('resnet18_mlp.pth')
    cases = [
        ([ctx.fixture('bad_keys.pth')],
         ['bad_keys.pth', '1 missing: encoder.layer1.0.bn1.running_mean',
          '1 unexpected: encoder.fc.weight']),
        ([ctx.fixture('bad_shape.pth')],
         ['bad_shape.pth', 'head.2.bias has shape [9]', 'expects [8]']),
        ([ctx.fixture('bad_whole_model.pth')],
         ['bad_whole_model.pth', 'refusing to load torch.nn.modules.container.Sequential']),
        ([ctx.fixture('bad_legacy.pth')], ['bad_legacy.pth', 'legacy format']),
        ([ctx.fixture('bad_bfloat16.pth')], ['bad_bfloat16.pth', 'BFloat16Storage']),
        (['--model', 'resnet34', r18], ['--model resnet34, but the file holds model resnet18']),
        (['--feat_dim', '64', r18], ['--feat_dim 64, but the file holds feat_dim 128']),
        (['--head', 'linear', r18], ['--head linear, but the file holds head mlp']),
        ([ctx.fixture('resnet18_mlp_x.npy')], ['resnet18_mlp_x.npy', 'not a PyTorch zip']),
        ([ctx.scratch('missing.pth')], ['missing.pth', 'No such file']),
    ]
    truncated = ctx.scratch('truncated.pth')
    with open(r18, 'rb') as src, open(truncated, 'wb') as dst:
        dst.write(src.read()[:50000])
    cases.append(([truncated], ['truncated.pth']))
    for args, needles in cases:
        expect_failure(ctx, tool + args + [out], needles, code=1)
    ctx.check(not os.path.exists(out) and not os.path.exists(out + '.tmp'),
              'a failed import left an output file')
    expect_failure(ctx, tool + ['--model', 'vgg', r18, out], ['invalid choice'], code=2)
    expect_failure(ctx, tool + [r18, ctx.scratch('no_such_dir/x.clr')], ['cannot write'])


def load_tool(ctx):
    spec = importlib.util.spec_from_file_location('import_torch', ctx.tool)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_metadata(path):
    """The metadata of a clr checkpoint (layout: core/checkpoint_file.hpp)."""
    with open(path, 'rb') as f:
        data = f.read()
    at, metadata = 12, {}
    for _ in range(int.from_bytes(data[8:12], 'little')):
        fields = []
        for _ in range(2):
            size = int.from_bytes(data[at:at + 4], 'little')
            fields.append(data[at + 4:at + 4 + size].decode())
            at += 4 + size
        metadata[fields[0]] = fields[1]
    return metadata


def case_cli(ctx):
    """clr-embed's flags: help, mistakes, contradictions with the checkpoint, and a
    checkpoint without metadata, which needs the model flags."""
    checkpoint = ctx.scratch('resnet18_mlp.clr')
    import_checkpoint(ctx, 'resnet18_mlp.pth', checkpoint)
    x, out = ctx.fixture('resnet18_mlp_x.npy'), ctx.scratch('f.npy')
    base = [ctx.embed, '--ckpt', checkpoint, '--input', x, '--out', out]

    status, stdout, _ = run([ctx.embed, '--help'])
    ctx.check(status == 0 and 'usage: clr-embed' in stdout and '--batch_size N' in stdout,
              f'--help: exit {status}, {stdout[:80]!r}')
    expect_failure(ctx, [ctx.embed], ['missing --ckpt, --layer, --input, --out'])
    expect_failure(ctx, base + ['--layer', 'encoder', '--bogus', '1'], ['unknown flag --bogus'])
    expect_failure(ctx, base + ['--layer', 'middle'], ["--layer must be one of encoder, head"])
    expect_failure(ctx, base + ['--layer', 'head', '--batch_size', 'many'],
                   ["--batch_size expects an integer, got 'many'"])
    expect_failure(ctx, base + ['--layer', 'head', '--batch_size', '0'], ['--batch_size must be'])
    expect_failure(ctx, [ctx.embed, '--layer', 'head', '--ckpt'], ['--ckpt needs a value'])
    expect_failure(ctx, base + ['--layer', 'head', 'extra'], ["unexpected argument 'extra'"])
    expect_failure(ctx, base + ['--layer', 'head', '--model', 'resnet34'],
                   ['--model resnet34 contradicts checkpoint', 'which records model resnet18'])
    expect_failure(ctx, base + ['--layer', 'head', '--width', '0.0625'],
                   ['--width 0.0625 contradicts checkpoint'])
    expect_failure(ctx, [ctx.embed, '--ckpt', ctx.scratch('none.clr'), '--input', x, '--out', out,
                         '--layer', 'head'], ['none.clr', 'cannot open'])
    expect_failure(ctx, base[:4] + [ctx.fixture('resnet50_linear_x.npy'), '--out', out,
                                    '--layer', 'head'],
                   ['resnet50_linear_x.npy has shape [4, 3, 10, 10], expected [N, 1, H, W]'])
    expect_failure(ctx, base[:4] + [ctx.fixture('resnet18_mlp.pth'), '--out', out,
                                    '--layer', 'head'], ['is not a .npy file'])
    damaged = ctx.scratch('damaged.clr')
    with open(checkpoint, 'rb') as f:
        data = bytearray(f.read())
    data[len(data) // 2] ^= 1
    with open(damaged, 'wb') as f:
        f.write(data)
    expect_failure(ctx, [ctx.embed, '--ckpt', damaged, '--input', x, '--out', out,
                         '--layer', 'head'], ['damaged.clr', 'checksum'])

    # Without metadata, as save_state writes by default: the flags are needed, and suffice.
    tool = load_tool(ctx)
    state, _ = tool.load_state_dict(ctx.fixture('resnet18_mlp.pth'))
    config = dict(model='resnet18', head='mlp', feat_dim=128, width=3 / 64, in_channels=1)
    bare = ctx.scratch('bare.clr')
    tool.write_atomically(bare, tool.checkpoint_bytes({}, tool.checked_tensors(state, config)))
    plain = [ctx.embed, '--ckpt', bare, '--input', x, '--out', out, '--layer', 'head']
    expect_failure(ctx, plain, ['--model is needed', 'bare.clr'])
    expect_failure(ctx, plain + ['--model', 'resnet18', '--head', 'mlp', '--feat_dim', '128',
                                 '--in_channels', '1'],
                   ['bare.clr', 'has shape [3, 1, 3, 3], the model expects [64, 1, 3, 3]'])
    compare(ctx, 'resnet18_mlp', bare, ['--model', 'resnet18', '--head', 'mlp', '--feat_dim',
                                        '128', '--width', '0.046875', '--in_channels', '1'])


CASES = {'resnet18_mlp': case_resnet18_mlp, 'resnet50_linear': case_resnet50_linear,
         'resnet34_mlp': case_resnet34_mlp, 'rejects': case_rejects, 'cli': case_cli}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('case', choices=sorted(CASES))
    for flag in ('--tool', '--embed', '--fixtures', '--work'):
        parser.add_argument(flag, required=True)
    flags = parser.parse_args()
    shutil.rmtree(flags.work, ignore_errors=True)
    os.makedirs(flags.work)
    ctx = Context(flags)
    CASES[flags.case](ctx)
    if ctx.failures:
        print(f'{len(ctx.failures)} check(s) failed')
        return 1
    print('all checks passed')
    return 0


if __name__ == '__main__':
    sys.exit(main())
