#!/usr/bin/env python3
"""Scores and summarises an entity benchmark run (called by run.sh; standard library only).

Usage: report.py OUT_DIR RUNS SCORER CORPUS_DIR CS_SET RESULTS_JSON

OUT_DIR/run-N/{kefu,duckling}.json are the latency reports of run N (1..RUNS) and
OUT_DIR/run-N/{kefu,duckling}.SET.jsonl their predictions. Accuracy is computed by the official
scorer (SCORER --json) on run 1's predictions, per language (one corpus file each) and on the
hand-labelled customer-service set; the predictions of the other runs must be identical. Prints
Markdown tables, writes RESULTS_JSON and OUT_DIR/disagreements.jsonl (corpus cases that one parser
gets right and the other wrong, or both wrong, with both parsers' entities of the tested kind).
"""
import datetime as dt
import filecmp
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
from collections import Counter

PARSERS = ("kefu", "duckling")
KINDS = ("time", "number", "amount", "duration", "ordinal")


def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def official_score(scorer, cases, preds):
    out = subprocess.run([sys.executable, scorer, cases, preds, "--json"], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)


def spread(xs):
    """median and [min, max] of one figure over the runs."""
    return {"median": round(statistics.median(xs), 2), "min": round(min(xs), 2), "max": round(max(xs), 2),
            "runs": [round(x, 2) for x in xs]}


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    out_dir, runs, scorer, corpus, cs_set, results_path = sys.argv[1:]
    runs = int(runs)
    spec = importlib.util.spec_from_file_location("entity_eval", scorer)
    ev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ev)

    lat = {p: [json.load(open(os.path.join(out_dir, f"run-{r}", f"{p}.json"))) for r in range(1, runs + 1)]
           for p in PARSERS}
    order = ["zh", "en", "messages", "cs"]
    sets = sorted(lat["kefu"][0]["sets"], key=lambda s: (order.index(s) if s in order else len(order), s))
    # predictions must not depend on the run
    for p in PARSERS:
        for r in range(2, runs + 1):
            for s in sets:
                a = os.path.join(out_dir, "run-1", f"{p}.{s}.jsonl")
                b = os.path.join(out_dir, f"run-{r}", f"{p}.{s}.jsonl")
                if not filecmp.cmp(a, b, shallow=False):
                    print(f"warning: {p} predictions for {s} differ between run 1 and run {r}", file=sys.stderr)

    scored = {"zh": os.path.join(corpus, "zh.jsonl"), "en": os.path.join(corpus, "en.jsonl"), "cs": cs_set}
    acc = {p: {s: official_score(scorer, path, os.path.join(out_dir, "run-1", f"{p}.{s}.jsonl"))
               for s, path in scored.items()} for p in PARSERS}

    # per-case verdicts with the official scorer's own matching code
    dis = Counter()
    dis_rows = []
    verdict_rows = {}
    for s, path in scored.items():
        cases = load_jsonl(path)
        preds = {p: load_jsonl(os.path.join(out_dir, "run-1", f"{p}.{s}.jsonl")) for p in PARSERS}
        for i, c in enumerate(cases):
            kinds = [e["kind"] for e in c["expect"]] or c.get("kinds") or []
            ok = {}
            for p in PARSERS:
                ents = preds[p][i]["entities"]
                if c["expect"]:
                    ok[p] = all(ev.matched(c["expect"], ents))
                else:
                    ok[p] = not any(e.get("kind") in kinds for e in ents)
            kind = kinds[0] if c["expect"] else "negative"
            if s == "cs":
                verdict_rows[c["id"]] = ok
                continue
            if ok["kefu"] and ok["duckling"]:
                # both right: count where they still give a different currency (Kefu says CNY for 块/元)
                if kind == "amount":
                    cur = {p: {e["value"].get("currency") for e in preds[p][i]["entities"] if e["kind"] == "amount"}
                           for p in PARSERS}
                    if cur["kefu"] != cur["duckling"]:
                        dis[(s, "amount", "both match, currency differs")] += 1
                continue
            label = ("only Duckling matches" if ok["duckling"] else
                     "only Kefu matches" if ok["kefu"] else "neither matches")
            dis[(s, kind, label)] += 1
            dis_rows.append({"id": c["id"], "lang": c["lang"], "kind": kind, "text": c["text"], "now": c["now"],
                             "verdict": label, "expect": c["expect"],
                             **{p: [e["value"] for e in preds[p][i]["entities"] if e["kind"] in kinds or not kinds]
                                for p in PARSERS}})
    with open(os.path.join(out_dir, "disagreements.jsonl"), "w", encoding="utf-8") as f:
        for r in dis_rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")

    latency = {}
    for s in sets:
        latency[s] = {}
        for p in PARSERS:
            latency[s][p] = {k: spread([run["sets"][s][k] for run in lat[p]])
                             for k in ("median_us", "p99_us", "max_us", "mean_us")}
            latency[s][p]["parses_per_run"] = lat[p][0]["sets"][s]["parses"]
        latency[s]["speedup"] = {k: spread([d["sets"][s][k] / max(kf["sets"][s][k], 1e-9)
                                            for kf, d in zip(lat["kefu"], lat["duckling"])])
                                 for k in ("median_us", "p99_us", "mean_us")}

    results = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "cpu": cpu_model(), "os": platform.platform(),
                    "note": "shared with other jobs; latency figures are noisy, see min/max over runs"},
        "git": {"commit": sh("git", "rev-parse", "--short", "HEAD"),
                "dirty": bool(sh("git", "status", "--porcelain"))},
        "versions": {"kefu": lat["kefu"][0]["version"], "duckling": lat["duckling"][0]["version"],
                     "rustc": sh("rustc", "--version"), "python": platform.python_version()},
        "runs": runs, "reps_per_run": lat["kefu"][0]["reps"],
        "duckling_setup": {"dims": lat["duckling"][0]["dims"], "tz": lat["duckling"][0]["tz"],
                           "startup_ms": spread([r["startup_ms"] for r in lat["duckling"]])},
        "cold_first_parse_us": {p: spread([r["cold_first_parse_us"] for r in lat[p]]) for p in PARSERS},
        "accuracy": acc,
        "cs_verdicts": verdict_rows,
        "latency_us": latency,
        "disagreements": [{"set": s, "kind": k, "verdict": v, "cases": n} for (s, k, v), n in sorted(dis.items())],
    }
    with open(results_path, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print_tables(results)


def pct(x):
    return "–" if x is None else f"{100 * x:.1f} %"


def print_tables(r):
    acc = r["accuracy"]
    print(f"Entity benchmark, {r['date']}, {r['machine']['cpus']} CPUs ({r['machine']['cpu']}), "
          f"{r['runs']} runs × {r['reps_per_run']} timed passes; {r['versions']['duckling']}\n")
    print("### Accuracy, Duckling corpus (official scorer, case accuracy)\n")
    print("| lang | kind | cases | Kefu | Duckling | Kefu − Duckling |")
    print("|---|---|---|---|---|---|")
    for lang in ("zh", "en"):
        k, d = acc["kefu"][lang], acc["duckling"][lang]
        rows = [("**all**", k, d)] + [(kind, k["by_kind"][kind], d["by_kind"][kind])
                                       for kind in KINDS if kind in k["by_kind"] and k["by_kind"][kind]["cases"]]
        for name, a, b in rows:
            delta = 100 * (a["accuracy"] - b["accuracy"])
            print(f"| {lang} | {name} | {a['cases']} | {pct(a['accuracy'])} | {pct(b['accuracy'])} | {delta:+.1f} pts |")
        if k["negatives"]:
            print(f"| {lang} | negatives (false-positive rate) | {k['negatives']} | {pct(k['negatives_fp_rate'])} "
                  f"| {pct(d['negatives_fp_rate'])} | |")
    print("\n### Accuracy, customer-service set (hand-labelled, not from the corpus)\n")
    print("| lang | cases | Kefu | Duckling |")
    print("|---|---|---|---|")
    for lang in ("zh", "en"):
        k, d = acc["kefu"]["cs"]["by_lang"].get(lang), acc["duckling"]["cs"]["by_lang"].get(lang)
        if k:
            print(f"| {lang} | {k['cases']} | {pct(k['accuracy'])} | {pct(d['accuracy'])} |")
    k, d = acc["kefu"]["cs"], acc["duckling"]["cs"]
    print(f"| all | {k['cases']} | {pct(k['accuracy'])} | {pct(d['accuracy'])} |")
    print("\n### Warm per-parse latency, µs (median over runs, [min–max] over runs)\n")
    print("| set | parses/run | Kefu median | Kefu p99 | Kefu max | Duckling median | Duckling p99 | Duckling max "
          "| speed-up median | speed-up p99 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    f = lambda s: f"{s['median']:.1f} [{s['min']:.1f}–{s['max']:.1f}]"
    g = lambda s: f"{s['median']:.0f}× [{s['min']:.0f}–{s['max']:.0f}]"
    for s, v in r["latency_us"].items():
        k, d = v["kefu"], v["duckling"]
        print(f"| {s} | {k['parses_per_run']} | {f(k['median_us'])} | {f(k['p99_us'])} | {f(k['max_us'])} "
              f"| {f(d['median_us'])} | {f(d['p99_us'])} | {f(d['max_us'])} "
              f"| {g(v['speedup']['median_us'])} | {g(v['speedup']['p99_us'])} |")
    c = r["cold_first_parse_us"]
    print(f"\nCold first parse: Kefu {c['kefu']['median']:.0f} µs, Duckling {c['duckling']['median']:.0f} µs; "
          f"Duckling start-up (import + time zones) {r['duckling_setup']['startup_ms']['median']:.0f} ms.")
    print("\n### Corpus cases where the two disagree (official scorer's verdicts)\n")
    print("| lang | kind | verdict | cases |")
    print("|---|---|---|---|")
    for row in r["disagreements"]:
        print(f"| {row['set']} | {row['kind']} | {row['verdict']} | {row['cases']} |")


if __name__ == "__main__":
    main()
