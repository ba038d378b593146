#!/usr/bin/env bash
# Entity benchmark: Kefu's built-in entity parser vs Duckling (pyduckling-native-phihos), side by side
# in one run, on the Duckling corpus (shared/data/duckling), a hand-labelled customer-service set
# (cs_set.jsonl), Kefu's own corpus (corpus/*.jsonl: one file per class of expression, and entity-free
# messages) and 33 short customer messages (messages.jsonl, latency only).
#
# Usage: benches/entities/run.sh            (env: RUNS=5 REPS=20 SHARED=../shared CARGO_TARGET_DIR=target)
# Prints Markdown tables and writes benches/entities/results.json; predictions, latency reports and
# disagreements.jsonl go to benches/entities/out/ (git-ignored). Re-runnable; not part of CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
HERE=benches/entities
SHARED=${SHARED:-../shared}
CORPUS=$SHARED/data/duckling
SCORER=$SHARED/acceptance/entity_eval.py
RUNS=${RUNS:-5}
REPS=${REPS:-20}
VENV=${KEFU_BENCH_DUCKLING_VENV:-.venv-bench-duckling}
TARGET=${CARGO_TARGET_DIR:-target}
OUT=$HERE/out

for f in "$CORPUS/zh.jsonl" "$CORPUS/en.jsonl" "$SCORER"; do
  [ -f "$f" ] || { echo "missing $f (set SHARED=path/to/shared)" >&2; exit 2; }
done

# Duckling in a venv outside git tracking, pinned.
if ! "$VENV/bin/python" -c 'import duckling; assert duckling.__version__ == "0.3.0"' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q pyduckling-native-phihos==0.3.0
fi

CARGO_TARGET_DIR=$TARGET cargo build --release -q -p kefu-nlu --example entity_bench
KEFU=$TARGET/release/examples/entity_bench

rm -rf "$OUT"
mkdir -p "$OUT"
# Kefu's own corpus, one file per class of expression, as one set
cat "$HERE"/corpus/*.jsonl > "$OUT/own.jsonl"
SETS=(--set "zh=$CORPUS/zh.jsonl" --set "en=$CORPUS/en.jsonl" --set "cs=$HERE/cs_set.jsonl"
      --set "messages=$HERE/messages.jsonl" --set "own=$OUT/own.jsonl")
for r in $(seq 1 "$RUNS"); do  # alternate the two parsers so that both see the same machine load
  d=$OUT/run-$r
  mkdir -p "$d"
  echo "run $r/$RUNS: kefu" >&2
  "$KEFU" "$d" --reps "$REPS" "${SETS[@]}" > "$d/kefu.json"
  echo "run $r/$RUNS: duckling" >&2
  "$VENV/bin/python" "$HERE/duckling_bench.py" "$d" --reps "$REPS" "${SETS[@]}" > "$d/duckling.json"
done
"$VENV/bin/python" "$HERE/report.py" "$OUT" "$RUNS" "$SCORER" "$CORPUS" "$HERE/cs_set.jsonl" "$HERE/results.json"
echo
echo "## Kefu's own corpus (benches/entities/corpus), Kefu vs Duckling"
"$VENV/bin/python" "$HERE/own_report.py" "$OUT" "$SCORER" "$HERE/corpus"
