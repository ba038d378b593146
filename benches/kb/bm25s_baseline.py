#!/usr/bin/env python3
"""The `bm25s` package (BM25, Snowball English stemmer, English stop words) on a `kefu kb eval`
set, printing rows in the same table format: the peer of Kefu's lexical rows.

    bm25s_baseline.py FAQ_JSON QUERIES_JSONL [--lang en]

Two ways of indexing an entry with several question variants are measured: one document per
variant (the best variant ranks the entry, as Kefu's indexes do) and one document per entry
(all variants concatenated).
"""
import argparse
import json
import time

import bm25s
import Stemmer


def recall_rows(name, ranked, queries, times):
    r1 = sum(1 for q, r in zip(queries, ranked) if r[:1] and r[0] in q["relevant"]) / len(queries)
    r5 = sum(1 for q, r in zip(queries, ranked) if set(r[:5]) & set(q["relevant"])) / len(queries)
    mrr = 0.0
    for q, r in zip(queries, ranked):
        for i, doc in enumerate(r[:10]):
            if doc in q["relevant"]:
                mrr += 1 / (i + 1)
                break
    times = sorted(times)
    p50, p99 = times[len(times) // 2] * 1000, times[min(len(times) - 1, int(len(times) * 0.99))] * 1000
    print(f"| {name} | {len(queries)} | {r1:.3f} | {r5:.3f} | {mrr / len(queries):.3f} | {p50:.3f} | {p99:.3f} |")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("faq")
    p.add_argument("queries")
    p.add_argument("--lang", default="en")
    a = p.parse_args()
    entries = json.load(open(a.faq, encoding="utf-8"))
    queries = [json.loads(line) for line in open(a.queries, encoding="utf-8") if line.strip()]
    stemmer = Stemmer.Stemmer("english")

    for mode in ("per variant", "per entry"):
        docs, owner = [], []
        for e in entries:
            variants = e["questions"].get(a.lang, [])
            if mode == "per entry":
                docs.append(" ".join(variants))
                owner.append(e["id"])
            else:
                docs.extend(variants)
                owner.extend([e["id"]] * len(variants))
        retriever = bm25s.BM25()  # k1 1.5, b 0.75, Lucene idf (the package defaults)
        retriever.index(bm25s.tokenize(docs, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
        ranked, times = [], []
        k = min(len(docs), 50)
        for q in queries:
            started = time.perf_counter()
            tokens = bm25s.tokenize([q["query"]], stopwords="en", stemmer=stemmer, show_progress=False)
            ids, _ = retriever.retrieve(tokens, k=k, show_progress=False)
            seen, out = set(), []
            for i in ids[0]:
                if owner[i] not in seen:
                    seen.add(owner[i])
                    out.append(owner[i])
            times.append(time.perf_counter() - started)
            ranked.append(out)
        recall_rows(f"bm25s 0.2.14, {mode}", ranked, queries, times)


if __name__ == "__main__":
    main()
