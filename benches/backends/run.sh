#!/usr/bin/env bash
# Engine throughput with the memory, embedded (redb) and Redis session stores, and events/s
# through Redis Streams. Starts and stops its own redis-server (needs the redis-server binary).
# Usage: benches/backends/run.sh [SECONDS_PER_STORE] [CONCURRENCY]
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -q -p kefu-backends --features embedded,redis --example backend_bench
target/release/examples/backend_bench --secs "${1:-10}" --concurrency "${2:-8}"
