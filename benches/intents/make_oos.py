#!/usr/bin/env python3
"""BANKING77 with unseen intents as out-of-scope (as in "BANKING77-OOS" studies).

Every 7th intent in sorted order (11 of 77) is removed from the training split entirely, and
its test utterances are relabelled `oos`; the other 66 intents stay as they are. No OOS
example is seen in training, so a model has to reject them by confidence alone.
Usage: make_oos.py BANKING77_DIR OUT_DIR   (writes OUT_DIR/train.csv and OUT_DIR/test.csv)
"""
import csv, os, sys

src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
rows = {s: list(csv.DictReader(open(f"{src}/{s}.csv"))) for s in ("train", "test")}
intents = sorted({r["category"] for r in rows["train"]})
unseen = set(intents[::7])
with open(f"{out}/train.csv", "w", newline="") as f:
    w = csv.writer(f); w.writerow(["text", "category"])
    for r in rows["train"]:
        if r["category"] not in unseen:
            w.writerow([r["text"], r["category"]])
with open(f"{out}/test.csv", "w", newline="") as f:
    w = csv.writer(f); w.writerow(["text", "category"])
    for r in rows["test"]:
        w.writerow([r["text"], "oos" if r["category"] in unseen else r["category"]])
print(f"{len(unseen)} unseen intents: {', '.join(sorted(unseen))}", file=sys.stderr)
