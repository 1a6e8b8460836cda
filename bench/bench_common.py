"""What the side-by-side scripts share: the environment PyTorch's workers run in,
PyTorch's sgemm peak measured in the same run as a reference, and SupContrast's ResNet-18."""
import json
import os
import time


# glibc's malloc hands large freed blocks back to the kernel (blocks from 128 KiB up are
# mmapped, and the heap's free top is trimmed), so a PyTorch step that allocates the same
# activations every step takes them again as fresh pages that fault in. On the virtual
# machines these comparisons ran on (2026-12-05) that made PyTorch's ResNet-18 train step
# 2-3x slower: 11 against 35 images/s at full width, 160-200 against 330-370 at quarter
# width. Kept in the heap, as clr's own block cache keeps its blocks (block_cache.hpp), they
# do not; mmap_threshold = 1 GiB, trim_threshold = 16 GiB gave the fastest steps of the
# settings tried (compare_nn.py --torch-worker, docs/benchmarks.md).
MALLOC_KEEPS_MEMORY = 'glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=17179869184'


def torch_env():
    """PyTorch's faster settings here: Debian's OpenBLAS falls back to SSE3 kernels on this
    CPU unless told its core type, and glibc's malloc returns freed memory to the kernel
    unless told to keep it (MALLOC_KEEPS_MEMORY)."""
    env = dict(os.environ)
    env.setdefault('OPENBLAS_CORETYPE', 'SkylakeX')
    env.setdefault('GLIBC_TUNABLES', MALLOC_KEEPS_MEMORY)
    return env


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


def supcon_resnet18(width, in_channel=3, classes=None):
    """SupContrast's networks/resnet_big.py, resnet18 + SupConResNet(head='mlp'), with the
    channels scaled by width (1: SupContrast's own); with `classes`, SupCEResNet instead
    (the encoder and a linear classifier)."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class BasicBlock(nn.Module):
        expansion = 1

        def __init__(self, in_planes, planes, stride=1):
            super().__init__()
            self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.shortcut = nn.Sequential()
            if stride != 1 or in_planes != self.expansion * planes:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(in_planes, self.expansion * planes, 1, stride=stride, bias=False),
                    nn.BatchNorm2d(self.expansion * planes))

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += self.shortcut(x)
            return F.relu(out)

    class ResNet(nn.Module):
        def __init__(self, block, num_blocks, in_channel=3):
            super().__init__()
            self.in_planes = round(64 * width)
            self.conv1 = nn.Conv2d(in_channel, self.in_planes, 3, stride=1, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(self.in_planes)
            self.layer1 = self._make_layer(block, round(64 * width), num_blocks[0], stride=1)
            self.layer2 = self._make_layer(block, round(128 * width), num_blocks[1], stride=2)
            self.layer3 = self._make_layer(block, round(256 * width), num_blocks[2], stride=2)
            self.layer4 = self._make_layer(block, round(512 * width), num_blocks[3], stride=2)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
                elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)

        def _make_layer(self, block, planes, num_blocks, stride):
            layers = []
            for s in [stride] + [1] * (num_blocks - 1):
                layers.append(block(self.in_planes, planes, s))
                self.in_planes = planes * block.expansion
            return nn.Sequential(*layers)

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
            return torch.flatten(self.avgpool(out), 1)

    class SupCEResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = ResNet(BasicBlock, [2, 2, 2, 2], in_channel)
            self.fc = nn.Linear(round(512 * width), classes)

        def forward(self, x):
            return self.fc(self.encoder(x))

    class SupConResNet(nn.Module):
        def __init__(self, feat_dim=128):
            super().__init__()
            self.encoder = ResNet(BasicBlock, [2, 2, 2, 2], in_channel)
            dim_in = round(512 * width)
            self.head = nn.Sequential(nn.Linear(dim_in, dim_in), nn.ReLU(inplace=True),
                                      nn.Linear(dim_in, feat_dim))

        def forward(self, x):
            return F.normalize(self.head(self.encoder(x)), dim=1)

    return SupCEResNet() if classes else SupConResNet()
