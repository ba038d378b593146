#!/usr/bin/env bash
# Chinese FAQ retrieval: each example bot's own FAQ (examples/bots/*/faq.yaml, Chinese
# questions) against held-out Chinese queries written for this benchmark
# (benches/kb/zh_faq_queries.jsonl: 3 per entry, 126 in all, none a variant of the FAQ).
# Each bot is evaluated against its own FAQ, as it answers; figures are pooled over the
# 126 queries (R@1 and MRR@10 weighted by each bot's query count).
#
# Usage: benches/kb/zh_faq.sh ENCODER_DIR [DENSE_WEIGHTS]   (default 0.5,0.7,0.8,0.9; bots use linear 0.8)
#   ENCODER_DIR: BGE-small-zh-v1.5 as `scripts/onnx_bert.py import` writes it (scripts/test
#   caches it in ~/.cache/kefu/bge-small-zh-v15-1.19.0-beta29/model).
set -euo pipefail
cd "$(dirname "$0")/../.."
ENCODER=${1:?usage: benches/kb/zh_faq.sh ENCODER_DIR [DENSE_WEIGHTS]}
WEIGHTS=${2:-0.5,0.7,0.8,0.9}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p kefu-cli --features neural
kefu="$CARGO_TARGET_DIR/release/kefu"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for bot in shop bank airline telecom clinic; do
  python3 - "$bot" benches/kb/zh_faq_queries.jsonl > "$work/$bot.jsonl" <<'PY'
import json, sys
bot = sys.argv[1]
for line in open(sys.argv[2], encoding="utf-8"):
    q = json.loads(line)
    ids = [r.split("/", 1)[1] for r in q["relevant"] if r.startswith(bot + "/")]
    if ids:
        print(json.dumps({"query": q["query"], "relevant": ids}, ensure_ascii=False))
PY
  "$kefu" kb eval --faq "examples/bots/$bot/faq.yaml" --queries "$work/$bot.jsonl" --lang zh \
    --encoder "$ENCODER" --dense-weight "$WEIGHTS" --json > "$work/$bot.out"
done
python3 - "$work" <<'PY'
import json, os, sys, collections
work = sys.argv[1]
rows, counts = collections.OrderedDict(), {}
for bot in ["shop", "bank", "airline", "telecom", "clinic"]:
    n = sum(1 for _ in open(f"{work}/{bot}.jsonl", encoding="utf-8"))
    counts[bot] = n
    for line in open(f"{work}/{bot}.out"):
        r = json.loads(line)
        rows.setdefault(r["system"], []).append((bot, n, r))
total = sum(counts.values())
print(f"{total} queries over {len(counts)} bots ({', '.join(f'{b} {n}' for b, n in counts.items())})")
print("| system | R@1 | R@5 | MRR@10 | per bot R@1 |")
print("|---|---|---|---|---|")
for index, per in rows.items():
    mean = lambda key: sum(n * r[key] for _, n, r in per) / total
    bots = " ".join(f"{b} {r['recall_at_1']:.2f}" for b, _, r in per)
    print(f"| {index} | {mean('recall_at_1'):.3f} | {mean('recall_at_5'):.3f} | {mean('mrr_at_10'):.3f} | {bots} |")
PY
