#!/usr/bin/env python3
"""Builds the retrieval sets for `kefu kb eval` from ../shared/data into OUT_DIR.

stackfaq/    faq.json (125 entries, the thread title as the only question) + queries.jsonl
banking77/   faq.json: 5 training questions per intent (the first five in file order) as the
             entry's variants; dev.jsonl: 2,000 other *training* questions (every 4th of the
             rest; used to choose the fusion weight); test.jsonl: the official test split.
"""
import csv, json, os, sys
from collections import defaultdict

data, out = sys.argv[1], sys.argv[2]

def dump(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")

os.makedirs(f"{out}/stackfaq", exist_ok=True)
faq = [json.loads(l) for l in open(f"{data}/stackfaq/faq.jsonl")]
json.dump([{"id": e["id"], "questions": {"en": [e["question"]] + e.get("variants", [])},
            "answer": {"en": e["answer"]}} for e in faq], open(f"{out}/stackfaq/faq.json", "w"))
dump(f"{out}/stackfaq/queries.jsonl",
     [{"query": q["query"], "relevant": q["relevant"]} for q in map(json.loads, open(f"{data}/stackfaq/queries.jsonl"))])

os.makedirs(f"{out}/banking77", exist_ok=True)
variants, rest = defaultdict(list), []
for row in csv.DictReader(open(f"{data}/banking77/train.csv")):
    (variants[row["category"]] if len(variants[row["category"]]) < 5 else rest).append(
        row["text"] if len(variants[row["category"]]) < 5 else (row["text"], row["category"]))
json.dump([{"id": c, "questions": {"en": qs}, "answer": {"en": c.replace("_", " ")}} for c, qs in sorted(variants.items())],
          open(f"{out}/banking77/faq.json", "w"))
dump(f"{out}/banking77/dev.jsonl", [{"query": t, "relevant": [c]} for t, c in rest[::4][:2000]])
dump(f"{out}/banking77/test.jsonl",
     [{"query": r["text"], "relevant": [r["category"]]} for r in csv.DictReader(open(f"{data}/banking77/test.csv"))])
