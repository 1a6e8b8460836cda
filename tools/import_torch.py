#!/usr/bin/env python3
"""Converts a SupContrast checkpoint (PyTorch .pth) into a clr checkpoint (.clr), with
numpy alone: PyTorch need not be installed.

    python3 tools/import_torch.py --model resnet18 --head mlp --feat_dim 128 IN.pth OUT.clr

IN.pth is what SupContrast's main_supcon.py saves ({'opt', 'model', 'optimizer', 'epoch'}),
a {'model': state_dict} or a bare state_dict of SupConResNet (networks/resnet_big.py):
resnet18/34/50, head 'linear' or 'mlp', any input channels and channel width, with or
without DataParallel's 'module.' (encoder.module.conv1.weight). The flags are optional:
the architecture is read from the weights, and a flag that disagrees is an error. Every
tensor must be there with its shape, and nothing else may be.

A .pth (torch >= 1.6) is a zip of a pickle (data.pkl) and raw tensor storages (data/N).
Unpickling runs whatever code a pickle names, so this reader maps the few globals a
checkpoint needs (tensor rebuilding, storages, OrderedDict, argparse.Namespace) to numpy
stand-ins and refuses every other name: a hostile file cannot run code.

OUT.clr follows include/clr/core/checkpoint_file.hpp byte for byte ("CLRCKPT1",
metadata, named float32 tensors, FNV-1a checksum), written to OUT.clr.tmp and renamed.
Its metadata records model, head, feat_dim, width and in_channels, which clr-embed reads.
"""
import argparse
import collections
import os
import pickle
import re
import struct
import sys
import zipfile

import numpy as np

MODELS = {  # SupContrast's model_dict: blocks per stage, bottleneck?
    'resnet18': ((2, 2, 2, 2), False),
    'resnet34': ((3, 4, 6, 3), False),
    'resnet50': ((3, 4, 6, 3), True),
}
HEADS = ('mlp', 'linear')


class ConversionError(Exception):
    """A problem with the input, reported as one line."""


# ---------------------------------------------------------------- reading a .pth file

_STORAGE_DTYPES = {
    'FloatStorage': np.float32,
    'DoubleStorage': np.float64,
    'HalfStorage': np.float16,
    'LongStorage': np.int64,
    'IntStorage': np.int32,
}


class _StorageType:
    def __init__(self, name):
        self.name = name
        self.dtype = np.dtype(_STORAGE_DTYPES[name])


class _Storage:
    """A storage in the zip, read only when a tensor of the model needs it: the
    optimizer's momentum buffers of a SupContrast checkpoint are never loaded."""

    def __init__(self, reader, key, dtype, numel):
        self.reader, self.key, self.dtype, self.numel = reader, key, dtype, numel
        self._values = None

    def values(self):
        if self._values is None:
            self._values = self.reader.storage_values(self.key, self.dtype, self.numel)
        return self._values


class _LazyTensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    @property
    def dtype(self):
        return self.storage.dtype

    def numpy(self, name):
        """The tensor's values in C order; the view (offset, size, stride) is checked to
        lie inside its storage before any memory is touched."""
        flat = self.storage.values()
        if any(s == 0 for s in self.size):
            return np.zeros(self.size, flat.dtype)
        last = self.offset + sum((s - 1) * st for s, st in zip(self.size, self.stride))
        if self.offset < 0 or any(st < 0 for st in self.stride) or last >= flat.size:
            raise ConversionError(f'tensor {name} reaches past its storage '
                                  f'(offset {self.offset}, size {self.size}, '
                                  f'stride {self.stride}, storage of {flat.size})')
        view = np.lib.stride_tricks.as_strided(
            flat[self.offset:], shape=self.size,
            strides=[st * flat.itemsize for st in self.stride], writeable=False)
        return np.array(view, copy=True)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, *_):
    """torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad,
    backward_hooks[, metadata]): a view into a storage."""
    ints = (isinstance(storage_offset, int) and
            all(isinstance(v, int) for v in (*size, *stride)) and len(size) == len(stride))
    if not isinstance(storage, _Storage) or not ints:
        raise ConversionError('malformed tensor record in the pickle')
    return _LazyTensor(storage, storage_offset, tuple(size), tuple(stride))


def _rebuild_parameter(data, *_):
    """torch._utils._rebuild_parameter(data, requires_grad, backward_hooks)."""
    return data


class _Namespace:
    """Stands in for argparse.Namespace (SupContrast saves its options as 'opt'): keeps the
    fields as data and runs nothing."""

    def __setstate__(self, state):
        if isinstance(state, dict):
            self.__dict__.update(state)


def _latin1_encode(text, encoding='latin1'):
    """_codecs.encode, as protocol 2 pickles bytes; latin-1 only."""
    if encoding not in ('latin1', 'latin-1') or not isinstance(text, str):
        raise ConversionError('unexpected encoding call in the pickle')
    return text.encode('latin1')


_GLOBALS = {
    ('torch._utils', '_rebuild_tensor_v2'): _rebuild_tensor_v2,
    ('torch._utils', '_rebuild_parameter'): _rebuild_parameter,
    ('collections', 'OrderedDict'): collections.OrderedDict,
    ('argparse', 'Namespace'): _Namespace,
    ('_codecs', 'encode'): _latin1_encode,
}


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, reader):
        super().__init__(file)
        self.reader = reader

    def find_class(self, module, name):
        if (module, name) in _GLOBALS:
            return _GLOBALS[(module, name)]
        if module == 'torch' and name in _STORAGE_DTYPES:
            return _StorageType(name)
        if module == 'torch' and name.endswith('Storage'):
            raise ConversionError(f'tensors of type torch.{name} are not supported '
                                  f'(float32, float64, float16, int64, int32 are)')
        raise ConversionError(f'refusing to load {module}.{name}: a checkpoint holds tensors, '
                              f'dicts and options, and unpickling any other object could '
                              f'run code')

    def persistent_load(self, pid):
        if (not isinstance(pid, tuple) or len(pid) != 5 or pid[0] != 'storage' or
                not isinstance(pid[1], _StorageType) or not isinstance(pid[4], int)):
            raise ConversionError(f'unexpected persistent record {pid!r:.80} in the pickle')
        _, storage_type, key, _location, numel = pid
        return _Storage(self.reader, str(key), storage_type.dtype, numel)


class _PthReader:
    """The zip of a torch.save: <prefix>/data.pkl and <prefix>/data/<key>."""

    def __init__(self, path):
        self.path = path
        with open(path, 'rb') as f:
            start = f.read(4)
        if not zipfile.is_zipfile(path):
            legacy = start[:2] == b'\x80\x02'
            raise ConversionError(
                'not a PyTorch zip checkpoint' +
                (' (the legacy format of torch < 1.6 or _use_new_zipfile_serialization=False: '
                 're-save it with torch.save from torch >= 1.6)' if legacy else ''))
        self.zip = zipfile.ZipFile(path)
        pickles = [n for n in self.zip.namelist() if re.fullmatch(r'[^/]+/data\.pkl', n)]
        if len(pickles) != 1:
            raise ConversionError(f'expected one <archive>/data.pkl in the zip, found '
                                  f'{len(pickles)} (not a torch.save file?)')
        self.prefix = pickles[0][:-len('data.pkl')]
        byteorder = self.prefix + 'byteorder'
        if byteorder in self.zip.namelist():
            order = self.zip.read(byteorder).decode('ascii', 'replace').strip()
            if order != 'little':
                raise ConversionError(f'storages are {order}-endian, only little-endian '
                                      f'files are supported')

    def load(self):
        with self.zip.open(self.prefix + 'data.pkl') as f:
            return _Unpickler(f, self).load()

    def storage_values(self, key, dtype, numel):
        name = f'{self.prefix}data/{key}'
        try:
            raw = self.zip.read(name)
        except KeyError:
            raise ConversionError(f'storage {name} is missing from the zip') from None
        if len(raw) < numel * dtype.itemsize:
            raise ConversionError(f'storage {name} holds {len(raw)} bytes, its {numel} '
                                  f'{dtype} values need {numel * dtype.itemsize}')
        return np.frombuffer(raw, dtype.newbyteorder('<'), count=numel)


def load_state_dict(path):
    """The model's state_dict of a SupContrast checkpoint, with DataParallel's 'module.'
    dropped: {name: _LazyTensor}, plus the epoch when the file records one."""
    reader = _PthReader(path)
    try:
        obj = reader.load()
    except ConversionError:
        raise
    except Exception as error:  # a damaged pickle raises many kinds; each is one line here
        raise ConversionError(f'damaged pickle: {type(error).__name__}: {error}') from None
    epoch = None
    if isinstance(obj, dict) and 'model' in obj:
        epoch = obj.get('epoch') if isinstance(obj.get('epoch'), int) else None
        obj = obj['model']
    if not isinstance(obj, dict) or not obj or not all(
            isinstance(k, str) and isinstance(v, _LazyTensor) for k, v in obj.items()):
        keys = ', '.join(map(str, list(obj)[:6])) if isinstance(obj, dict) else type(obj).__name__
        raise ConversionError(f"holds neither {{'model': state_dict}} nor a state_dict "
                              f"(found: {keys})")
    state = {}
    for key, tensor in obj.items():
        name = '.'.join(part for part in key.split('.') if part != 'module')
        if name in state:
            raise ConversionError(f'both {name} and a module. variant of it are present')
        state[name] = tensor
    return state, epoch


# ---------------------------------------------------------------- the architecture

def _round(x):
    """C's lround for x >= 0, as clr's ResNet computes its channels (Python rounds half
    to even)."""
    return int(np.floor(x + 0.5))


def expected_shapes(model, head, feat_dim, width, in_channels):
    """Every state_dict key of SupConResNet with its shape, in clr's state order (which is
    PyTorch's)."""
    blocks, bottleneck = MODELS[model]
    expansion = 4 if bottleneck else 1
    shapes = collections.OrderedDict()

    def conv(name, out, inp, k):
        shapes[f'{name}.weight'] = (out, inp, k, k)

    def bn(name, c):
        for field in ('weight', 'bias', 'running_mean', 'running_var'):
            shapes[f'{name}.{field}'] = (c,)
        shapes[f'{name}.num_batches_tracked'] = (1,)

    planes0 = _round(64 * width)
    conv('encoder.conv1', planes0, in_channels, 3)
    bn('encoder.bn1', planes0)
    in_planes = planes0
    for stage in range(4):
        planes = _round((64 << stage) * width)
        for i in range(blocks[stage]):
            stride = 2 if stage > 0 and i == 0 else 1
            p = f'encoder.layer{stage + 1}.{i}'
            if bottleneck:
                conv(f'{p}.conv1', planes, in_planes, 1)
                bn(f'{p}.bn1', planes)
                conv(f'{p}.conv2', planes, planes, 3)
                bn(f'{p}.bn2', planes)
                conv(f'{p}.conv3', planes * 4, planes, 1)
                bn(f'{p}.bn3', planes * 4)
            else:
                conv(f'{p}.conv1', planes, in_planes, 3)
                bn(f'{p}.bn1', planes)
                conv(f'{p}.conv2', planes, planes, 3)
                bn(f'{p}.bn2', planes)
            if stride != 1 or in_planes != planes * expansion:
                conv(f'{p}.shortcut.0', planes * expansion, in_planes, 1)
                bn(f'{p}.shortcut.1', planes * expansion)
            in_planes = planes * expansion
    if head == 'mlp':
        shapes['head.0.weight'] = (in_planes, in_planes)
        shapes['head.0.bias'] = (in_planes,)
        shapes['head.2.weight'] = (feat_dim, in_planes)
        shapes['head.2.bias'] = (feat_dim,)
    else:
        shapes['head.weight'] = (feat_dim, in_planes)
        shapes['head.bias'] = (feat_dim,)
    return shapes


def infer_config(state, flags):
    """model, head, feat_dim, width, in_channels from the weights; a flag that disagrees
    is an error naming both."""
    conv1 = state.get('encoder.conv1.weight')
    if conv1 is None or len(conv1.size) != 4:
        raise ConversionError('no encoder.conv1.weight [out, in, 3, 3]: not a SupConResNet '
                              f'(keys: {", ".join(list(state)[:6])}, ...)')
    out, in_channels, kh, kw = conv1.size
    if (kh, kw) != (3, 3):
        raise ConversionError(f'encoder.conv1.weight is {kh}x{kw}; SupContrast\'s resnet_big '
                              f'has the 3x3 CIFAR stem')
    width = out / 64

    bottleneck = any(re.fullmatch(r'encoder\.layer\d\.\d+\.conv3\.weight', k) for k in state)
    blocks = tuple(1 + max([int(m.group(1)) for k in state
                            for m in [re.match(rf'encoder\.layer{s}\.(\d+)\.', k)] if m],
                           default=-1) for s in range(1, 5))
    model = next((name for name, spec in MODELS.items() if spec == (blocks, bottleneck)), None)
    if 'head.0.weight' in state or 'head.2.weight' in state:
        head, last = 'mlp', state.get('head.2.weight')
    elif 'head.weight' in state:
        head, last = 'linear', state['head.weight']
    else:
        head, last = None, None
    feat_dim = last.size[0] if last is not None and len(last.size) == 2 else None

    found = dict(model=model, head=head, feat_dim=feat_dim)
    described = dict(model=f'{"Bottleneck" if bottleneck else "BasicBlock"} blocks {blocks}',
                     head='no head.weight, head.0.weight or head.2.weight',
                     feat_dim='no 2-d head weight')
    config = {}
    for key in ('model', 'head', 'feat_dim'):
        flag = getattr(flags, key)
        if flag is not None and found[key] is not None and flag != found[key]:
            raise ConversionError(f'--{key} {flag}, but the file holds {key} {found[key]}')
        if flag is None and found[key] is None:
            raise ConversionError(f'cannot tell the {key} ({described[key]}): pass --{key}')
        config[key] = flag if flag is not None else found[key]
    config['width'] = width
    config['in_channels'] = in_channels
    return config


def checked_tensors(state, config):
    """[(name, float32 array)] in clr's order, after checking names, shapes and values."""
    shapes = expected_shapes(**config)
    missing = [k for k in shapes if k not in state]
    unexpected = [k for k in state if k not in shapes]
    problems = []
    if missing:
        problems.append(f'{len(missing)} missing: {", ".join(missing[:8])}'
                        f'{", ..." if len(missing) > 8 else ""}')
    if unexpected:
        problems.append(f'{len(unexpected)} unexpected: {", ".join(unexpected[:8])}'
                        f'{", ..." if len(unexpected) > 8 else ""}')
    if problems:
        raise ConversionError(f'keys do not match a {config["model"]} with a {config["head"]} '
                              f'head ({"; ".join(problems)})')
    tensors = []
    for name, shape in shapes.items():
        tensor = state[name]
        if name.endswith('num_batches_tracked'):
            # torch: an int64 scalar; clr: a float [1] (the count only steers momentum).
            if tensor.size != () or tensor.dtype.kind not in 'iu':
                raise ConversionError(f'{name} is {tensor.dtype} {list(tensor.size)}, '
                                      f'expected an int64 scalar')
            values = tensor.numpy(name).astype(np.float32).reshape(1)
        else:
            if tensor.size != shape:
                raise ConversionError(f'{name} has shape {list(tensor.size)}, a {config["model"]} '
                                      f'of width {config["width"]:g} expects {list(shape)}')
            if tensor.dtype.kind != 'f':
                raise ConversionError(f'{name} has dtype {tensor.dtype}, expected floating point')
            values = tensor.numpy(name).astype(np.float32)
            if not np.all(np.isfinite(values)):
                raise ConversionError(f'{name} holds non-finite values')
        tensors.append((name, values))
    return tensors


# ---------------------------------------------------------------- writing a .clr file

def fnv1a(data):
    """64-bit FNV-1a, as checkpoint_file.hpp's detail::fnv1a."""
    h = 0xcbf29ce484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001b3) & 0xffffffffffffffff
    return h


def checkpoint_bytes(metadata, tensors):
    """The bytes write_checkpoint writes: metadata in std::map's (byte) order, tensors in
    the given order, all little-endian."""
    out = bytearray(b'CLRCKPT1')

    def put_string(s):
        b = s.encode('utf-8')
        out.extend(struct.pack('<I', len(b)))
        out.extend(b)

    out.extend(struct.pack('<I', len(metadata)))
    for key in sorted(metadata, key=lambda k: k.encode('utf-8')):
        put_string(key)
        put_string(metadata[key])
    out.extend(struct.pack('<I', len(tensors)))
    for name, values in tensors:
        put_string(name)
        out.extend(struct.pack('<I', values.ndim))
        out.extend(struct.pack(f'<{values.ndim}i', *values.shape))
        out.extend(np.ascontiguousarray(values, dtype='<f4').tobytes())
    out.extend(struct.pack('<Q', fnv1a(out)))
    return bytes(out)


def write_atomically(path, data):
    """path.tmp, flushed and fsync'ed, then renamed over path, as write_checkpoint."""
    temporary = path + '.tmp'
    try:
        with open(temporary, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except OSError as error:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise ConversionError(f'cannot write {path}: {error.strerror or error}') from None


# ---------------------------------------------------------------- the command

def convert(flags):
    try:
        state, epoch = load_state_dict(flags.input)
        config = infer_config(state, flags)
        tensors = checked_tensors(state, config)
    except ConversionError as error:
        raise ConversionError(f'{flags.input}: {error}') from None
    except OSError as error:
        raise ConversionError(f'{flags.input}: {error.strerror or error}') from None
    except zipfile.BadZipFile as error:
        raise ConversionError(f'{flags.input}: damaged zip: {error}') from None
    metadata = {key: str(value) for key, value in config.items()}
    metadata['width'] = repr(float(config['width']))
    metadata['source'] = 'SupContrast ' + os.path.basename(flags.input)
    if epoch is not None:
        metadata['epoch'] = str(epoch)
    write_atomically(flags.output, checkpoint_bytes(metadata, tensors))
    return config, len(tensors)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage + error
        self.exit(2, f'{self.prog}: error: {message} (see --help)\n')


def main(argv=None):
    parser = _Parser(prog='import_torch.py',
                     description='Converts a SupContrast checkpoint (.pth) into a clr '
                                 'checkpoint (.clr), with numpy alone.')
    parser.add_argument('--model', choices=sorted(MODELS),
                        help='encoder (default: read from the weights; checked when given)')
    parser.add_argument('--head', choices=HEADS,
                        help='projection head (default: read from the weights)')
    parser.add_argument('--feat_dim', type=int,
                        help='projection dimension (default: read from the weights)')
    parser.add_argument('input', help='SupContrast checkpoint (.pth)')
    parser.add_argument('output', help='clr checkpoint to write (.clr)')
    flags = parser.parse_args(argv)
    try:
        config, count = convert(flags)
    except ConversionError as error:
        print(f'import_torch.py: error: {error}', file=sys.stderr)
        return 1
    print(f'import_torch.py: wrote {flags.output}: {config["model"]} (width '
          f'{config["width"]:g}, {config["in_channels"]} input channels), {config["head"]} head '
          f'to {config["feat_dim"]}, {count} tensors')
    return 0


if __name__ == '__main__':
    sys.exit(main())
