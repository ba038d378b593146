#!/usr/bin/env bash
# Engine throughput with the memory, embedded (redb) and Redis session stores, and events/s
# through Redis Streams (and Kafka). Starts and stops its own redis-server (needs the redis-server binary).
# Usage: benches/backends/run.sh [SECONDS_PER_STORE] [CONCURRENCY]
set -euo pipefail
cd "$(dirname "$0")/../.."
# With KEFU_KAFKA_CLASSPATH (the broker jars, see scripts/test) it also measures the Kafka transport.
features=embedded,redis
[ -n "${KEFU_KAFKA_CLASSPATH:-}" ] && features=embedded,redis,kafka
cargo build --release -q -p kefu-backends --features "$features" --example backend_bench
target/release/examples/backend_bench --secs "${1:-10}" --concurrency "${2:-8}"
