#!/usr/bin/env bash
# The main job, end to end on a fresh Debian 12 machine: installs what is missing (the
# compiler, Eigen, stb, zlib and Debian's Fashion-MNIST), builds clr-supcon and clr-linear,
# pretrains a quarter-width ResNet-18 with SupCon on Fashion-MNIST (28x28 grayscale, two
# views per image) and evaluates it with a linear classifier on the frozen encoder. About
# 10 minutes on 2 cores; ends with the line `linear eval top-1: NN.NN%`.
#
#   bash examples/quickstart.sh                 # the defaults below
#   bash examples/quickstart.sh --epochs 10     # any clr-supcon flag overrides them
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake ninja-build g++ libeigen3-dev libstb-dev zlib1g-dev dataset-fashion-mnist)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if ((${#missing[@]})); then
  echo "== installing ${missing[*]}"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi

echo "== building clr-supcon and clr-linear"
cmake -S . -B build-quickstart -G Ninja -DCMAKE_BUILD_TYPE=Release -DCLR_BUILD_TESTS=OFF \
  -DCLR_BUILD_BENCH=OFF > /dev/null
cmake --build build-quickstart --target clr-supcon clr-linear

run=runs/quickstart
echo "== SupCon pretraining (checkpoints and log.csv in $run)"
build-quickstart/examples/clr-supcon --method SupCon --dataset fashion_mnist \
  --model resnet18 --width 0.25 --head mlp --feat_dim 128 \
  --batch_size 128 --learning_rate 0.1 --temp 0.1 --cosine --cosine_per_step --epochs 2 \
  --num_workers 1 --save_folder "$run" --save_freq 1000 "$@"

echo "== linear evaluation of the frozen encoder"
build-quickstart/examples/clr-linear --ckpt "$run/last.clr" --epochs 100
