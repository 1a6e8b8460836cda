#!/usr/bin/env bash
# clr-plot end to end: curves from a tiny CSV log (two logs, a log axis, a gap where the
# log says -1), a t-SNE figure from a tiny .npy of clustered features with int64 labels,
# both PNGs of the requested size; bad input gives one line on stderr and exit status 1.
#
#   plot_smoke.sh CLR_PLOT WORK_DIR PYTHON
set -euo pipefail
plot=$1 work=$2 python=$3
if ! "$python" -c "import numpy" 2> /dev/null; then
  echo "SKIP: $python has no numpy"
  exit 0
fi
rm -rf "$work" && mkdir -p "$work/run_a" "$work/run_b" && cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

printf 'epoch,loss,lr,knn_accuracy\n1,5.1,0.5,-1\n2,4.6,0.4,0.55\n3,4.4,0.2,-1\n4,4.3,0.05,0.61\n' \
  > run_a/log.csv
printf 'epoch,loss,lr,knn_accuracy\n1,5.3,0.5,-1\n2,4.9,0.4,0.51\n3,4.7,0.2,-1\n4,4.5,0.05,0.57\n' \
  > run_b/log.csv
"$plot" curves --log run_a/log.csv --log run_b/log.csv --columns loss,lr,knn_accuracy \
  --log_y lr --out curves.png > curves.txt || fail "curves: $(cat curves.txt)"
"$plot" curves --log run_a/log.csv --columns loss --width 500 --height 300 --out one.png > /dev/null

"$python" - << 'PY'
import numpy as np
rng = np.random.default_rng(0)
labels = np.repeat(np.arange(3), 40)
centres = rng.standard_normal((3, 16)) * 10
np.save("feats.npy", (centres[labels] + rng.standard_normal((120, 16))).astype(np.float32))
np.save("labels.npy", labels.astype(np.int64))
PY
"$plot" tsne --embeddings feats.npy --labels labels.npy --perplexity 10 --iterations 600 \
  --class_names a,b,c --map_out map.npy --out tsne.png > tsne.txt || fail "tsne: $(cat tsne.txt)"
grep -q "iteration 600: KL divergence" tsne.txt || fail "no KL line: $(cat tsne.txt)"

"$python" - << 'PY' || fail "the PNGs are not what was asked for"
import struct, zlib
import numpy as np
def size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", head[16:24])
assert size("curves.png") == (1120, 800), size("curves.png")   # 2 panels a row, 2 rows
assert size("one.png") == (500, 300), size("one.png")
assert size("tsne.png") == (900, 700), size("tsne.png")
m = np.load("map.npy")
assert m.shape == (120, 2) and np.isfinite(m).all()
labels = np.load("labels.npy")
# each point's nearest map neighbour is of its class
d = ((m[:, None] - m[None]) ** 2).sum(-1) + np.eye(120) * 1e9
assert (labels[d.argmin(1)] == labels).mean() > 0.95
PY

"$plot" --help > help.txt  # through a file: see tests/examples/smoke.sh
grep -q "curves" help.txt || fail "clr-plot --help lists no curves"
"$plot" tsne --help > help.txt
grep -q -- "--perplexity" help.txt || fail "clr-plot tsne --help lists no --perplexity"
printf 'epoch,loss\n1,2\n2,oops\n' > bad.csv
for bad in "curves --log bad.csv --columns loss --out x.png" \
           "curves --log run_a/log.csv --columns accuracy --out x.png" \
           "curves --log missing.csv --out x.png" \
           "tsne --embeddings feats.npy --out x.png" \
           "tsne --embeddings labels.npy --labels labels.npy --out x.png" \
           "draw --out x.png"; do
  # shellcheck disable=SC2086
  if "$plot" $bad > out.txt 2> err.txt; then fail "clr-plot $bad succeeded"; fi
  [[ $(wc -l < err.txt) -eq 1 ]] || fail "clr-plot $bad: not one line on stderr: $(cat err.txt)"
  grep -q "^clr-plot" err.txt || fail "clr-plot $bad: $(cat err.txt)"
done
grep -q "line 3, column 2 (loss)" <("$plot" curves --log bad.csv --columns loss --out x.png 2>&1) \
  || fail "the CSV error does not say where"
echo "plot smoke: ok"
