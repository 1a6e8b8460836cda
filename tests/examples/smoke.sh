#!/usr/bin/env bash
# The training programs end to end on a few hundred Fashion-MNIST images (Debian's
# dataset-fashion-mnist): clr-supcon writes checkpoints and a log, --resume from epoch 1
# ends with the same weights as the uninterrupted run (compared through clr-embed's
# features), clr-linear and clr-ce print their accuracy lines, and bad flags give one line
# on stderr and exit status 1.
#
#   smoke.sh BIN_DIR WORK_DIR PYTHON
set -euo pipefail
bin=$1 work=$2 python=$3
data=/usr/share/datasets/fashion-mnist
if [[ ! -e $data/train-images-idx3-ubyte.gz ]]; then
  echo "SKIP: $data not installed (apt-get install dataset-fashion-mnist)"
  exit 0
fi
rm -rf "$work" && mkdir -p "$work" && cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
tiny=(--width 0.0625 --feat_dim 16 --batch_size 32 --subset 128 --epochs 2 --learning_rate 0.05)

# Through a file: `grep -q` stops reading at its match, and a help text longer than the
# program's stdout buffer would then die of SIGPIPE, failing the pipeline under pipefail.
"$bin/clr-supcon" --help > help.txt
grep -q -- "--temp" help.txt || fail "clr-supcon --help lists no --temp"
for bad in "--tmp 0.1" "--epochs many" "--method BYOL" "--dataset cifar10 --data_folder nowhere"; do
  # shellcheck disable=SC2086
  if "$bin/clr-supcon" $bad > out.txt 2> err.txt; then fail "clr-supcon $bad succeeded"; fi
  [[ $(wc -l < err.txt) -eq 1 ]] || fail "clr-supcon $bad: not one line on stderr: $(cat err.txt)"
  grep -q "^clr-supcon: " err.txt || fail "clr-supcon $bad: $(cat err.txt)"
done

"$bin/clr-supcon" "${tiny[@]}" --save_freq 1 --save_folder straight --knn_freq 2 --knn_bank 200 \
  > straight.txt
grep -Eq "^epoch 2: kNN accuracy [0-9]+\.[0-9]{2}%$" straight.txt || fail "no kNN line: $(cat straight.txt)"
for file in straight/ckpt_epoch_1.clr straight/ckpt_epoch_2.clr straight/last.clr straight/log.csv; do
  [[ -s $file ]] || fail "clr-supcon wrote no $file"
done
[[ $(wc -l < straight/log.csv) -eq 3 ]] || fail "log.csv should hold a header and 2 epochs"

"$bin/clr-supcon" "${tiny[@]}" --save_folder resumed --resume straight/ckpt_epoch_1.clr \
  > resumed.txt
grep -q "resumed from straight/ckpt_epoch_1.clr at epoch 2" resumed.txt || fail "no resume line"

"$python" -c "import numpy as np; np.save('x.npy', np.random.default_rng(0).standard_normal((4, 1, 28, 28)).astype(np.float32))"
for run in straight resumed; do
  "$bin/clr-embed" --ckpt $run/last.clr --layer head --input x.npy --out $run.npy > /dev/null
done
cmp -s straight.npy resumed.npy || fail "the resumed run's weights differ from the uninterrupted run's"

"$bin/clr-linear" --ckpt straight/last.clr --epochs 2 --subset 500 > linear.txt
grep -Eq "^linear eval top-1: [0-9]+\.[0-9]{2}%$" linear.txt || fail "clr-linear: $(cat linear.txt)"

# The floors of docs/results.md: an untrained encoder (--epochs 0 saves the initialised
# model) and a logistic regression on the raw pixels (no encoder, no --ckpt).
"$bin/clr-supcon" --width 0.0625 --feat_dim 16 --subset 128 --epochs 0 --save_folder untrained \
  > untrained.txt
[[ -s untrained/last.clr ]] || fail "clr-supcon --epochs 0 wrote no checkpoint: $(cat untrained.txt)"
"$bin/clr-linear" --ckpt untrained/last.clr --epochs 2 --subset 500 > untrained_linear.txt
grep -Eq "^linear eval top-1: [0-9]+\.[0-9]{2}%$" untrained_linear.txt ||
  fail "clr-linear of the untrained encoder: $(cat untrained_linear.txt)"
"$bin/clr-linear" --raw_pixels --epochs 2 --subset 500 > pixels.txt
grep -q "^raw pixels: 784 features$" pixels.txt || fail "clr-linear --raw_pixels: $(cat pixels.txt)"
grep -Eq "^linear eval top-1: [0-9]+\.[0-9]{2}%$" pixels.txt || fail "clr-linear --raw_pixels: $(cat pixels.txt)"
for bad in "--raw_pixels --ckpt straight/last.clr" ""; do
  # shellcheck disable=SC2086
  if "$bin/clr-linear" $bad --subset 100 > out.txt 2> err.txt; then fail "clr-linear $bad succeeded"; fi
  grep -Eq "takes no --ckpt|--ckpt is required" err.txt || fail "clr-linear $bad: $(cat err.txt)"
done

# --base_temp scales the loss by temp / base_temp: at learning rate 0 the first epoch's loss
# with base_temp = 2 temp is half the default's (base_temp 0.07).
for base in 0.07 0.14; do
  "$bin/clr-supcon" --width 0.0625 --feat_dim 16 --batch_size 32 --subset 64 --epochs 1 \
    --learning_rate 0 --temp 0.07 --base_temp $base --save_folder base_$base > base_$base.txt
done
"$python" - base_0.07.txt base_0.14.txt <<'PY' || fail "--base_temp does not scale the loss"
import re, sys
loss = [float(re.search(r"^epoch 1: loss ([0-9.]+)", open(f).read(), re.M)[1]) for f in sys.argv[1:]]
sys.exit(0 if abs(loss[1] - loss[0] / 2) < 1e-3 * loss[0] else 1)
PY

"$bin/clr-ce" --width 0.0625 --batch_size 32 --subset 128 --epochs 1 --save_folder ce > ce.txt
grep -Eq "^ce top-1: [0-9]+\.[0-9]{2}%$" ce.txt || fail "clr-ce: $(cat ce.txt)"
# clr-embed reads a clr-ce checkpoint's encoder (t-SNE of the cross-entropy baseline); it
# has no projection head to give.
"$bin/clr-embed" --ckpt ce/last.clr --layer encoder --input x.npy --out ce.npy > ce_embed.txt
grep -q "wrote ce.npy \[4, 32\]" ce_embed.txt || fail "clr-embed of clr-ce: $(cat ce_embed.txt)"
if "$bin/clr-embed" --ckpt ce/last.clr --layer head --input x.npy --out no.npy > out.txt 2> err.txt; then
  fail "clr-embed --layer head of a clr-ce checkpoint succeeded"
fi
grep -q "use --layer encoder" err.txt || fail "clr-embed --layer head of clr-ce: $(cat err.txt)"

# Fine-tuning from the pretrained encoder (what stays frozen is checked by test_train); a
# frozen-block count without --ckpt and a contradicting --width are refused.
"$bin/clr-ce" --ckpt straight/last.clr --fine_tune_after_block 2 --batch_size 32 --subset 128 \
  --epochs 1 --save_folder tuned > tuned.txt
grep -q "fine-tuning straight/last.clr after block 2" tuned.txt || fail "clr-ce --ckpt: $(cat tuned.txt)"
grep -Eq "^ce top-1: [0-9]+\.[0-9]{2}%$" tuned.txt || fail "clr-ce --ckpt: $(cat tuned.txt)"
if "$bin/clr-ce" --fine_tune_after_block 2 --subset 128 > out.txt 2> err.txt; then
  fail "clr-ce --fine_tune_after_block without --ckpt succeeded"
fi
grep -q "needs --ckpt" err.txt || fail "clr-ce --fine_tune_after_block: $(cat err.txt)"
if "$bin/clr-ce" --ckpt straight/last.clr --width 0.5 --subset 128 > out.txt 2> err.txt; then
  fail "clr-ce --ckpt with a contradicting --width succeeded"
fi
grep -q "contradict the encoder" err.txt || fail "clr-ce --ckpt --width: $(cat err.txt)"
echo "OK"
