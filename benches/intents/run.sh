#!/usr/bin/env bash
# Intent benchmark: Kefu's lexical model vs scikit-learn TF-IDF + LogisticRegression, on the
# same data, machine and run. Usage: benches/intents/run.sh [DATA_DIR]  (default ../shared/data)
# Prints a Markdown table and writes benches/intents/results.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${1:-../shared/data}
VENV=${KEFU_BENCH_VENV:-.venv-bench}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q scikit-learn==1.5.2 numpy==2.1.3 scipy==1.14.1
fi
cargo build --release -q --bin kefu
out=benches/intents/results.json
echo "[" > "$out"
run() {  # name train test label_col
  local k s
  k=$(target/release/kefu eval-intents --train "$2" --test "$3" --label-col "$4" --json)
  s=$("$VENV/bin/python" benches/intents/sklearn_baseline.py --train "$2" --test "$3" --label-col "$4")
  echo "{\"dataset\": \"$1\", \"kefu\": $k, \"sklearn\": $s}," >> "$out"
}
run banking77 "$DATA/banking77/train.csv" "$DATA/banking77/test.csv" category
run cais "$DATA/cais/train.csv" "$DATA/cais/test.csv" label
sed -i '$ s/,$//' "$out"; echo "]" >> "$out"
python3 - "$out" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
print("| data set | model | accuracy | macro-F1 | train s | p50 ms | p99 ms |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    for name in ("kefu", "sklearn"):
        m = r[name]
        print(f"| {r['dataset']} | {m['nlu']} | {m['accuracy']*100:.2f} % | {m['macro_f1']:.4f} | {m['train_seconds']:.2f} | {m['p50_ms']:.4f} | {m['p99_ms']:.4f} |")
    k, s = r["kefu"], r["sklearn"]
    print(f"| {r['dataset']} | ratio kefu/sklearn | {k['accuracy']-s['accuracy']:+.4f} (abs) | | {k['train_seconds']/s['train_seconds']:.3f}× | {k['p50_ms']/s['p50_ms']:.4f}× | |")
PY
