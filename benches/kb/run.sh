#!/usr/bin/env bash
# Knowledge-base benchmark: StackFAQ retrieval, Chinese tokenizer comparison, synthetic scale.
# Usage: benches/kb/run.sh [--quick]   (from the repository root; data in ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p kefu-kb --features jieba --example kb_eval
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
