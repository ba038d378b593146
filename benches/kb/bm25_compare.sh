#!/usr/bin/env bash
# Kefu's lexical FAQ indexes against the `bm25s` package on the same sets, in one run.
# Usage: benches/kb/bm25_compare.sh SETS_DIR   (made by benches/kb/make_sets.py)
#   MINILM_DIR=<all-MiniLM-L6-v2 folder> adds dense and hybrid rows (needs a `neural` build).
#   KEFU_BM25S_VENV: venv with bm25s (default .venv-bm25, created with pinned versions).
set -euo pipefail
cd "$(dirname "$0")/../.."
sets=${1:?usage: benches/kb/bm25_compare.sh SETS_DIR}
venv=${KEFU_BM25S_VENV:-.venv-bm25}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q bm25s==0.2.14 PyStemmer==2.2.0.3
fi
cargo build --release -q -p kefu-cli --features neural
kefu=${CARGO_TARGET_DIR:-target}/release/kefu
encoder=(); [ -n "${MINILM_DIR:-}" ] && encoder=(--encoder "$MINILM_DIR" --dense-weight 0.8)
echo "# bm25 comparison $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores"
for pair in "banking77/faq.json banking77/test.jsonl" "stackfaq/faq.json stackfaq/queries.jsonl"; do
  set -- $pair
  echo; echo "## $1"
  "$kefu" kb eval --faq "$sets/$1" --queries "$sets/$2" --lang en "${encoder[@]}"
  "$venv/bin/python" benches/kb/bm25s_baseline.py "$sets/$1" "$sets/$2"
done
