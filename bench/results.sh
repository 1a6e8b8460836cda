#!/usr/bin/env bash
# The runs behind docs/results.md: every Fashion-MNIST row (raw-pixel logistic regression,
# an untrained encoder, SimCLR, SupCon, cross entropy) with the same ¼-width CIFAR
# ResNet-18, then the curve and t-SNE figures. Each row's accuracy line and wall time go
# to RUN_DIR/summary.txt; the figures to RUN_DIR/*.png. About 1 h 10 min on 2 cores, most
# of it SimCLR's 6 epochs; SIDES=both adds the same recipes in PyTorch (about as long again).
#
#   bash bench/results.sh [BIN_DIR] [RUN_DIR] [ROWS...]
#   bash bench/results.sh build/examples runs/results pixels random supcon   # some rows
#
# Rows: pixels random simclr supcon ce figures (default: all, in that order).
set -euo pipefail
bin=${1:-build/examples}
run=${2:-runs/results}
shift $(($# < 2 ? $# : 2))
rows=("$@")
((${#rows[@]})) || rows=(pixels random simclr supcon ce figures)
mkdir -p "$run"
python=/usr/bin/python3
export OMP_NUM_THREADS=2

# Runs a row, keeps its output, and appends its accuracy line and wall time to the summary.
row() {
  local name=$1 pattern=$2
  shift 2
  local start=$SECONDS
  "$@" | tee "$run/$name.log"
  echo "$name: $(grep -E "$pattern" "$run/$name.log" | tail -1) ($((SECONDS - start)) s)" |
    tee -a "$run/summary.txt"
}

# The trained rows are bench/compare_train.py's recipes (one definition for both sides);
# SIDES=both also runs each in PyTorch.
recipe() {
  row "$1" "clr - PyTorch|^\| clr" "$python" "$(dirname "$0")/compare_train.py" --recipe "$1" \
    --sides "${SIDES:-clr}" --clr-bin "$bin" --save_folder "$run" --json "$run/$1.json"
}

for r in "${rows[@]}"; do
  case $r in
    pixels)
      row pixels "linear eval top-1" "$bin/clr-linear" --raw_pixels --dataset fashion_mnist ;;
    random)  # the initialised, untrained encoder, probed like the others
      "$bin/clr-supcon" --model resnet18 --width 0.25 --head mlp --feat_dim 128 --epochs 0 \
        --save_folder "$run/random" > /dev/null
      row random "linear eval top-1" "$bin/clr-linear" --ckpt "$run/random/last.clr" ;;
    simclr | supcon | ce) recipe "$r" ;;
    figures)
      "$bin/clr-plot" curves --log "$run/supcon/log.csv" --log "$run/simclr/log.csv" \
        --names SupCon,SimCLR --columns loss,knn_accuracy,lr,images_per_second \
        --title "Fashion-MNIST pretraining, 1/4-width ResNet-18" --out "$run/curves.png"
      # The first 5000 test images, normalised as the encoders saw them.
      "$python" - "$run/test_images.npy" <<'PY'
import gzip, sys
import numpy as np
with gzip.open('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz') as f:
    images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)[:5000]
np.save(sys.argv[1], ((images / 255.0 - 0.2860) / 0.3530).astype(np.float32))
PY
      for method in supcon simclr ce random; do
        "$bin/clr-embed" --ckpt "$run/$method/last.clr" --layer encoder \
          --input "$run/test_images.npy" --out "$run/$method.npy" > /dev/null
        "$bin/clr-plot" tsne --embeddings "$run/$method.npy" --dataset fashion_mnist \
          --split test --max_points 5000 --title "$method encoder, Fashion-MNIST test (t-SNE)" \
          --out "$run/tsne_$method.png"
      done ;;
    *) echo "unknown row '$r' (pixels random simclr supcon ce figures)" >&2; exit 1 ;;
  esac
done
cat "$run/summary.txt"
