#!/usr/bin/env bash
# Encoder throughput in one run (issue: transformer NLU): Kefu's all-MiniLM-L6-v2 on candle (CPU)
# against sentence-transformers on PyTorch (TORCH_THREADS, default 2), the first N sentences of
# BANKING77's test split, cache off, batch 1 then batch 32 (both sides sort by length).
# Kefu runs twice, both as the CLI runs it (RAYON_NUM_THREADS set to the available cores): with
# its own forward pass (the default) and with candle-transformers' BertModel
# (`--engine candle-transformers`, the forward pass used before).
#
# Usage: benches/intents/encoder_throughput.sh [DATA_DIR]      (default ../shared/data)
# Environment: KEFU_ST_VENV (see common.sh), KEFU_THROUGHPUT_N (default 1000),
#   KEFU_THROUGHPUT_MODEL (another encoder folder, e.g. BGE-small-zh imported by
#   scripts/onnx_bert.py) and KEFU_THROUGHPUT_SET (banking77, default, or cais: the first N
#   sentences of that set's test split).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=benches/intents/common.sh
. benches/intents/common.sh
DATA=${1:-../shared/data}
N=${KEFU_THROUGHPUT_N:-1000}
OUT=benches/intents/out
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
mkdir -p "$OUT"
SENTENCES=$OUT/throughput-sentences.txt
SET=${KEFU_THROUGHPUT_SET:-banking77}
python3 - "$DATA/$SET/test.csv" "$N" > "$SENTENCES" <<'PY'
import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    rows = list(csv.DictReader(f))
for row in rows[: int(sys.argv[2])]:
    print(" ".join(row["text"].split()))
PY
cargo build --release -q -p kefu-nlu --features neural --example embed
EMBED=${CARGO_TARGET_DIR:-target}/release/examples/embed
MODEL=${KEFU_THROUGHPUT_MODEL:-$(minilm_dir)}
ST=$(st_python)

env -u RAYON_NUM_THREADS "$EMBED" "$MODEL" < "$SENTENCES" 2> "$OUT/throughput-kefu.log"
env -u RAYON_NUM_THREADS "$EMBED" "$MODEL" --engine candle-transformers < "$SENTENCES" 2> "$OUT/throughput-kefu-candle.log"
"$ST" benches/intents/st_throughput.py "$MODEL" < "$SENTENCES" > "$OUT/throughput-st.log" 2>&1

python3 - "$OUT" <<'PY'
import re, sys
out = sys.argv[1]
def rates(name):
    text = open(f"{out}/{name}.log").read()
    return {int(b): float(r) for b, r in re.findall(r"batch +(\d+): +([\d.]+) sentences/s", text)}
kefu, candle, st = rates("throughput-kefu"), rates("throughput-kefu-candle"), rates("throughput-st")
print("| batch | Kefu, own forward pass | Kefu, candle-transformers' BertModel | sentence-transformers | own / ST | own / BertModel |")
print("|---|---|---|---|---|---|")
for b in (1, 32):
    print(f"| {b} | {kefu[b]:.1f}/s | {candle[b]:.1f}/s | {st[b]:.1f}/s | {kefu[b] / st[b]:.2f}× | {kefu[b] / candle[b]:.2f}× |")
PY
