"""sentence-transformers all-MiniLM-L6-v2 embeddings + LogisticRegression baseline.

Training = encoding the training set (batch 32) + fitting LogisticRegression on all of it
(`train_seconds`); C is chosen beforehand on a 90/10 split of the *training* set only, reusing the
embeddings (`tuning_seconds`, reported apart, as in sklearn_baseline.py). Accuracy and macro-F1
on the whole test set (batch-encoded). Latency: the first --latency-n test utterances, one at a
time (encode one sentence + predict), after --warmup untimed ones. torch uses --threads threads.
Prints one JSON object with the keys of `kefu eval-intents --json`.
"""
import argparse
import csv
import json
import os
import statistics
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def read(path, text_col, label_col):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r[text_col] for r in rows], [r[label_col] for r in rows]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="all-MiniLM-L6-v2 folder")
    ap.add_argument("--train", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--text-col", default="text")
    ap.add_argument("--label-col", default="category")
    ap.add_argument("--cs", default="1,3,10,30,100")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--latency-n", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=20)
    args = ap.parse_args()

    import torch
    torch.set_num_threads(args.threads)
    from sentence_transformers import SentenceTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import train_test_split

    x_train, y_train = read(args.train, args.text_col, args.label_col)
    x_test, y_test = read(args.test, args.text_col, args.label_col)
    t0 = time.perf_counter()
    encoder = SentenceTransformer(args.model, device="cpu")
    load_seconds = time.perf_counter() - t0

    def encode(texts):
        return encoder.encode(texts, batch_size=32, convert_to_numpy=True, show_progress_bar=False)

    def lr(c):
        return LogisticRegression(C=c, max_iter=3000)

    t0 = time.perf_counter()
    e_train = encode(x_train)
    encode_seconds = time.perf_counter() - t0

    t0 = time.perf_counter()
    stratify = y_train if min(y_train.count(l) for l in set(y_train)) >= 2 else None
    idx = list(range(len(x_train)))
    ia, ib = train_test_split(idx, test_size=0.1, random_state=0, stratify=stratify)
    scores = {}
    for c in (float(v) for v in args.cs.split(",")):
        m = lr(c).fit(e_train[ia], [y_train[i] for i in ia])
        scores[c] = accuracy_score([y_train[i] for i in ib], m.predict(e_train[ib]))
    best_c = max(scores, key=scores.get)
    tuning_seconds = time.perf_counter() - t0

    t0 = time.perf_counter()
    model = lr(best_c).fit(e_train, y_train)
    fit_seconds = time.perf_counter() - t0

    predictions = model.predict(encode(x_test))

    timed = x_test[: args.latency_n]
    for text in x_test[: args.warmup]:
        model.predict(encoder.encode([text], show_progress_bar=False))
    latencies = []
    for text in timed:
        t0 = time.perf_counter()
        model.predict(encoder.encode([text], show_progress_bar=False))
        latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    print(json.dumps({
        "nlu": "st-minilm-logreg",
        "accuracy": accuracy_score(y_test, predictions),
        "macro_f1": f1_score(y_test, predictions, average="macro"),
        "train_seconds": encode_seconds + fit_seconds,
        "encode_seconds": encode_seconds,
        "fit_seconds": fit_seconds,
        "tuning_seconds": tuning_seconds,
        "load_seconds": load_seconds,
        "best_c": best_c,
        "c_scores": scores,
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))],
        "latency_examples": len(latencies),
        "threads": args.threads,
        "train_examples": len(x_train),
        "test_examples": len(x_test),
    }))


if __name__ == "__main__":
    sys.exit(main())
