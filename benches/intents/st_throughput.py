"""Encoder throughput of sentence-transformers (PyTorch, CPU) on the lines of stdin.

Usage: st_throughput.py MODEL_DIR < sentences.txt
Prints, like Kefu's `embed` example, one line per batch size (1, then 32):
`batch  1:     70.0 sentences/s  (14.29 ms/sentence, 14.29 s total)`.
PyTorch runs on TORCH_THREADS threads (default 2, the benchmark machine's cores).
"""

import os
import sys
import time

import torch
from sentence_transformers import SentenceTransformer


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: st_throughput.py MODEL_DIR < sentences.txt")
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
    lines = [line.strip() for line in sys.stdin if line.strip()]
    if not lines:
        sys.exit("no input lines on stdin")
    model = SentenceTransformer(sys.argv[1], device="cpu")
    model.encode(lines[:8], show_progress_bar=False)  # warm-up
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads", file=sys.stderr)
    for batch in (1, 32):
        start = time.perf_counter()
        model.encode(lines, batch_size=batch, show_progress_bar=False)
        seconds = time.perf_counter() - start
        print(
            f"batch {batch:>2}: {len(lines) / seconds:>8.1f} sentences/s  "
            f"({seconds * 1e3 / len(lines):.2f} ms/sentence, {seconds:.2f} s total)"
        )


if __name__ == "__main__":
    main()
