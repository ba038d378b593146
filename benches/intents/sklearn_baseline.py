"""scikit-learn TF-IDF + LogisticRegression baseline for intent classification.

Word 1-2 grams + char_wb 2-5 grams, LogisticRegression with C tuned on a 90/10 split of the
training file only, then refit on all of it. Prints one JSON object with the same keys as
`kefu eval-intents --json` (accuracy, macro_f1, train_seconds, p50_ms, p99_ms).
"""
import argparse
import csv
import json
import statistics
import sys
import time

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import FeatureUnion, Pipeline


def read(path, text_col, label_col):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r[text_col] for r in rows], [r[label_col] for r in rows]


def pipeline(c):
    features = FeatureUnion([
        ("word", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)),
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
    ])
    return Pipeline([("tfidf", features), ("lr", LogisticRegression(C=c, max_iter=2000))])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--text-col", default="text")
    ap.add_argument("--label-col", default="category")
    ap.add_argument("--cs", default="3,10,30,100")
    args = ap.parse_args()
    x_train, y_train = read(args.train, args.text_col, args.label_col)
    x_test, y_test = read(args.test, args.text_col, args.label_col)

    t0 = time.perf_counter()
    stratify = y_train if min(y_train.count(l) for l in set(y_train)) >= 2 else None
    xa, xb, ya, yb = train_test_split(x_train, y_train, test_size=0.1, random_state=0, stratify=stratify)
    scores = {}
    for c in (float(v) for v in args.cs.split(",")):
        scores[c] = accuracy_score(yb, pipeline(c).fit(xa, ya).predict(xb))
    best_c = max(scores, key=scores.get)
    tuning_seconds = time.perf_counter() - t0

    t0 = time.perf_counter()
    model = pipeline(best_c).fit(x_train, y_train)
    train_seconds = time.perf_counter() - t0

    predictions, latencies = [], []
    for text in x_test:
        t0 = time.perf_counter()
        predictions.append(model.predict([text])[0])
        latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    print(json.dumps({
        "nlu": "sklearn-tfidf-logreg",
        "accuracy": accuracy_score(y_test, predictions),
        "macro_f1": f1_score(y_test, predictions, average="macro"),
        "train_seconds": train_seconds,
        "tuning_seconds": tuning_seconds,
        "best_c": best_c,
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))],
        "train_examples": len(x_train),
        "test_examples": len(x_test),
    }))


if __name__ == "__main__":
    sys.exit(main())
