#!/usr/bin/env python3
"""Kefu vs Duckling on Kefu's own entity corpus (benches/entities/corpus/*.jsonl), per file, kind
and language, scored by the official scorer's matching code (called by run.sh; standard library).

Usage: own_report.py OUT_DIR SCORER CORPUS_DIR
OUT_DIR/run-1/{kefu,duckling}.own.jsonl are both parsers' predictions for the concatenation of the
corpus files in name order (OUT_DIR/own.jsonl). Prints Markdown tables.
"""
import importlib.util
import json
import os
import sys


def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    out_dir, scorer, corpus = sys.argv[1:]
    spec = importlib.util.spec_from_file_location("entity_eval", scorer)
    ev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ev)
    files = sorted(f for f in os.listdir(corpus) if f.endswith(".jsonl"))
    preds = {p: {r["id"]: r for r in load_jsonl(os.path.join(out_dir, "run-1", f"{p}.own.jsonl"))}
             for p in ("kefu", "duckling")}
    print("| file | lang | cases | Kefu | Duckling |")
    print("|---|---|---|---|---|")
    totals = {}
    for name in files:
        cases = load_jsonl(os.path.join(corpus, name))
        for lang in ("zh", "en"):
            mine = [c for c in cases if c["lang"] == lang]
            if not mine:
                continue
            row = {}
            for p in ("kefu", "duckling"):
                tot, _ = ev.score(mine, [preds[p].get(c["id"], {"id": c["id"], "entities": []}) for c in mine])
                s = ev.summary(tot["all"])
                row[p] = s
                t = totals.setdefault((lang, p), [0, 0, 0, 0])
                t[0] += tot["all"]["cases"]
                t[1] += tot["all"]["correct"]
                t[2] += tot["all"]["negatives"]
                t[3] += tot["all"]["fp"]

            def cell(s):
                parts = []
                if s["cases"]:
                    parts.append(f"{100 * s['accuracy']:.1f} %")
                if s["negatives"]:
                    parts.append(f"FP {100 * s['fp_rate']:.1f} %")
                return ", ".join(parts)

            n = f"{row['kefu']['cases']}" + (f" + {row['kefu']['negatives']} negatives" if row["kefu"]["negatives"] else "")
            print(f"| {name} | {lang} | {n} | {cell(row['kefu'])} | {cell(row['duckling'])} |")
    for lang in ("zh", "en"):
        k, d = totals.get((lang, "kefu")), totals.get((lang, "duckling"))
        if k and k[0]:
            print(f"| **all positive cases** | {lang} | {k[0]} | **{100 * k[1] / k[0]:.1f} %** | {100 * d[1] / d[0]:.1f} % |")
        if k and k[2]:
            print(f"| **all negatives** | {lang} | {k[2]} | FP {100 * k[3] / k[2]:.1f} % | FP {100 * d[3] / d[2]:.1f} % |")


if __name__ == "__main__":
    main()
