"""Rasa 3.6 DIET baseline for intent classification (benchmark scripts only, never CI).

Two sub-commands, run as separate processes so each one's peak RSS can be measured:

  convert --train CSV --label-col COL --out DIR [--epochs N] [--language en]
      writes DIR/nlu.yml (Rasa 3 NLU training data) and DIR/config.yml (the standard Rasa 3
      pipeline: WhitespaceTokenizer, CountVectorsFeaturizer word + char_wb 1-4,
      DIETClassifier(epochs=N)). Newlines inside a text become spaces; intent names are kept.
  eval --model TAR_GZ --test CSV --label-col COL
      loads the trained model with rasa.core.agent.Agent.load and parses every test utterance
      one at a time (Agent.parse_message); prints one JSON object with the keys of
      `kefu eval-intents --json` (accuracy, macro_f1, p50_ms, p99_ms, ...).

Training itself is `rasa train nlu` (see compare.sh), timed from outside.
"""
import argparse
import asyncio
import csv
import json
import logging
import os
import statistics
import sys
import time


def read(path, text_col, label_col):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r[text_col] for r in rows], [r[label_col] for r in rows]


def clean(text):
    return " ".join(text.split())


def convert(args):
    texts, labels = read(args.train, args.text_col, args.label_col)
    by_intent = {}
    for t, l in zip(texts, labels):
        t = clean(t)
        if t:
            by_intent.setdefault(l, []).append(t)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "nlu.yml"), "w", encoding="utf-8") as f:
        f.write('version: "3.1"\nnlu:\n')
        for intent in sorted(by_intent):
            f.write(f"- intent: {intent}\n  examples: |\n")
            for t in by_intent[intent]:
                f.write(f"    - {t}\n")
    with open(os.path.join(args.out, "config.yml"), "w", encoding="utf-8") as f:
        f.write(f"""recipe: default.v1
assistant_id: kefu-bench
language: {args.language}
pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 4
  - name: DIETClassifier
    epochs: {args.epochs}
    random_seed: 0
policies: []
""")
    print(json.dumps({"examples": sum(map(len, by_intent.values())), "intents": len(by_intent)}))


async def parse_all(agent, texts, warmup):
    for t in texts[:warmup]:
        await agent.parse_message(t)
    predictions, latencies = [], []
    for t in texts:
        t0 = time.perf_counter()
        result = await agent.parse_message(t)
        latencies.append((time.perf_counter() - t0) * 1000)
        predictions.append((result.get("intent") or {}).get("name"))
    return predictions, latencies


def evaluate(args):
    logging.disable(logging.WARNING)
    from rasa.core.agent import Agent
    from sklearn.metrics import accuracy_score, f1_score

    texts, labels = read(args.test, args.text_col, args.label_col)
    t0 = time.perf_counter()
    agent = Agent.load(args.model)
    load_seconds = time.perf_counter() - t0
    predictions, latencies = asyncio.run(parse_all(agent, texts, args.warmup))
    latencies.sort()
    predictions = [p if p is not None else "<none>" for p in predictions]
    print(json.dumps({
        "nlu": "rasa-3.6-diet",
        "accuracy": accuracy_score(labels, predictions),
        "macro_f1": f1_score(labels, predictions, average="macro"),
        "load_seconds": load_seconds,
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))],
        "test_examples": len(texts),
        "latency_examples": len(latencies),
    }))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("convert")
    c.add_argument("--train", required=True)
    c.add_argument("--out", required=True)
    c.add_argument("--epochs", type=int, default=100)
    c.add_argument("--language", default="en")
    e = sub.add_parser("eval")
    e.add_argument("--model", required=True)
    e.add_argument("--test", required=True)
    e.add_argument("--warmup", type=int, default=20)
    for p in (c, e):
        p.add_argument("--text-col", default="text")
        p.add_argument("--label-col", default="category")
    args = ap.parse_args()
    return convert(args) if args.cmd == "convert" else evaluate(args)


if __name__ == "__main__":
    sys.exit(main())
