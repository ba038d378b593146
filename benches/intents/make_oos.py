#!/usr/bin/env python3
"""An intent data set with unseen intents as out-of-scope (as in "BANKING77-OOS" studies).

Every N-th intent in sorted order of the training split is removed from the training split
entirely, and its test utterances are relabelled `oos`; the other intents stay as they are. No
OOS example is seen in training, so a model has to reject them without having seen any.

Usage: make_oos.py SRC_DIR OUT_DIR [--label-col category] [--every 7]
  (reads SRC_DIR/train.csv and SRC_DIR/test.csv with columns `text` and the label column;
   writes OUT_DIR/train.csv and OUT_DIR/test.csv with columns `text,category`)

BANKING77: --every 7 (11 of 77 intents unseen). CAIS: --label-col label --every 4
(AskKnowledge, GetWeather, PlayFMStory, Sing unseen: 66 of 1,012 test messages).
"""
import argparse, csv, os, sys

p = argparse.ArgumentParser()
p.add_argument("src"); p.add_argument("out")
p.add_argument("--label-col", default="category")
p.add_argument("--every", type=int, default=7)
a = p.parse_args()
os.makedirs(a.out, exist_ok=True)
rows = {s: list(csv.DictReader(open(f"{a.src}/{s}.csv", encoding="utf-8"))) for s in ("train", "test")}
intents = sorted({r[a.label_col] for r in rows["train"]})
unseen = set(intents[:: a.every])
with open(f"{a.out}/train.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f); w.writerow(["text", "category"])
    for r in rows["train"]:
        if r[a.label_col] not in unseen:
            w.writerow([r["text"], r[a.label_col]])
with open(f"{a.out}/test.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f); w.writerow(["text", "category"])
    for r in rows["test"]:
        w.writerow([r["text"], "oos" if r[a.label_col] in unseen else r[a.label_col]])
print(f"{len(unseen)} unseen intents: {', '.join(sorted(unseen))}", file=sys.stderr)
