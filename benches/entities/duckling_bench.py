#!/usr/bin/env python3
"""Entity benchmark, Duckling side (the Kefu side is crates/nlu/examples/entity_bench.rs).

Usage: duckling_bench.py OUT_DIR [--reps N] [--tz ZONE] --set NAME=FILE [--set NAME=FILE ...]

Each --set is a JSONL file of inputs {"text", "lang", "now", ...}. Every input is parsed in-process
by Duckling (pyduckling-native-phihos) with the five dimensions Kefu's corpus tests (time, number,
amount-of-money, duration, ordinal), no latent parses, reference time = the input's `now` read as
local time in ZONE (default Etc/GMT+2, i.e. fixed UTC-2, Duckling's own test zone):

1. one pass whose results, converted to the value shapes of `kefu parse --json`
   (shared/data/duckling/README.md), are written to OUT_DIR/duckling.NAME.jsonl, one line
   {"id", "text", "entities": [{"kind", "start", "end", "text", "value"}], "raw": [...]} per input;
2. N timed passes (default 20) over the whole set, each `duckling.parse` call timed on its own
   (the call includes the FFI round trip and Duckling's JSON decoding; building the Context is not
   timed, as building Kefu's ParseContext is not).

Prints one JSON object with the same keys as the Kefu side.
"""
import argparse
import datetime as dt
import json
import math
import os
import re
import sys
import time
from zoneinfo import ZoneInfo

T_IMPORT = time.perf_counter()
import duckling  # noqa: E402  (timed: starting the Haskell runtime is part of Duckling's start-up)

T_IMPORTED = time.perf_counter()

DIMS = ["time", "number", "amount-of-money", "duration", "ordinal"]
KIND = {"time": "time", "number": "number", "amount-of-money": "amount", "duration": "duration",
        "ordinal": "ordinal"}
GRAINS = ["second", "minute", "hour", "day", "week", "month", "quarter", "year"]
FMT = "%Y-%m-%dT%H:%M:%S"
OFFSET = re.compile(r"^(-?\d+-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?$")


def fix_text(s):
    """The binding hands back UTF-8 bytes read as Latin-1 ("Â£" for "£"); undo that."""
    if not isinstance(s, str):
        return s
    try:
        return s.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return s


def local(stamp, zone):
    """Duckling's "2013-02-12T04:30:00.000-02:00" -> local wall time in `zone`, without offset."""
    try:
        t = dt.datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        m = OFFSET.match(stamp or "")  # e.g. a year before 1 or after 9999: keep Duckling's wall time
        return m.group(1) if m else stamp
    if t.tzinfo is not None:
        t = t.astimezone(zone).replace(tzinfo=None)
    return t.strftime(FMT) if t.year >= 1000 else t.isoformat(timespec="seconds")


def currency(unit, lang):
    """Duckling's unit -> ISO 4217 code, or None where Duckling names no currency.

    "$" (Duckling's generic Dollar) and "cent": USD in English, as the corpus reads them; in Chinese
    Duckling uses them for 块/元 and 分/毛/角, which name no currency there, so none is claimed.
    Pound is GBP; dinar, dirham, rial, riyal and "unknown" (bucks) name no single currency.
    """
    unit = fix_text(unit)
    if unit in ("$", "cent"):
        return "USD" if lang == "en" else None
    if unit in ("£", "\u00a3"):
        return "GBP"
    if isinstance(unit, str) and re.fullmatch(r"[A-Z]{3}", unit):
        return unit
    return None


def money(v, lang):
    """One Duckling money value {"value", "unit"} -> (number, currency)."""
    x = v.get("value")
    if v.get("unit") == "cent" and isinstance(x, (int, float)):
        x = x / 100
    return x, currency(v.get("unit"), lang)


def number(x):
    """Duckling's doubles: 350.0 -> 350, to print as Kefu does."""
    return int(x) if isinstance(x, float) and x.is_integer() and abs(x) < 2 ** 53 else x


def convert(d, lang, zone):
    """One Duckling entity value -> the corpus value shape of its kind, or None."""
    dim, v = d.get("dim"), d.get("value") or {}
    if dim in ("number", "ordinal"):
        return {"value": number(v.get("value"))}
    if dim == "duration":
        out = {"seconds": number((v.get("normalized") or {}).get("value"))}
        out.update(value=number(v.get("value")), unit=v.get("unit"))
        return out
    if dim == "amount-of-money":
        if v.get("type") == "interval":
            out, cur = {}, None
            for bound, key in (("from", "min"), ("to", "max")):
                if isinstance(v.get(bound), dict):
                    x, c = money(v[bound], lang)
                    out[key] = number(x)
                    cur = cur or c
        else:
            x, cur = money(v, lang)
            out = {"value": number(x)}
        if cur:
            out["currency"] = cur
        return out
    if dim == "time":
        if v.get("type") == "interval":
            out = {"type": "interval"}
            grains = []
            for bound in ("from", "to"):
                b = v.get(bound)
                if isinstance(b, dict) and b.get("value"):
                    out[bound] = local(b["value"], zone)
                    grains.append(b.get("grain", "second"))
            # the finer grain of the two bounds ("from 9:30 to 11" is minute-grained)
            out["grain"] = min(grains, key=lambda g: GRAINS.index(g) if g in GRAINS else 0) if grains else "second"
            return out
        if v.get("value"):
            return {"type": "instant", "value": local(v["value"], zone), "grain": v.get("grain", "second")}
    return None


def entities(text, raw, lang, zone):
    out = []
    for d in raw:
        kind = KIND.get(d.get("dim"))
        value = convert(d, lang, zone) if kind else None
        if value is None:
            continue
        s, e = d.get("start", 0), d.get("end", 0)
        out.append({"kind": kind, "start": s, "end": e, "text": text[s:e], "value": value})
    return out


def pct(sorted_xs, p):
    """Nearest-rank percentile (same definition as the Kefu side)."""
    if not sorted_xs:
        return 0.0
    rank = min(max(math.ceil(p * len(sorted_xs)), 1), len(sorted_xs))
    return sorted_xs[rank - 1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--tz", default="Etc/GMT+2", help="IANA zone the inputs' `now` is local time in")
    ap.add_argument("--zoneinfo", default="/usr/share/zoneinfo")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=FILE")
    a = ap.parse_args()
    if not a.set:
        ap.error("no --set NAME=FILE given")
    os.makedirs(a.out_dir, exist_ok=True)
    zone = ZoneInfo(a.tz)

    t0 = time.perf_counter()
    tzdb = duckling.load_time_zones(a.zoneinfo)
    dims = duckling.parse_dimensions(DIMS)
    locales = {lang: duckling.default_locale_lang(duckling.parse_lang(lang)) for lang in ("zh", "en")}
    startup_ms = ((T_IMPORTED - T_IMPORT) + (time.perf_counter() - t0)) * 1e3  # import + time zones

    def context(case):
        now = dt.datetime.strptime(case["now"], FMT).replace(tzinfo=zone)
        ref = duckling.parse_ref_time(tzdb, a.tz, int(now.timestamp()))
        return duckling.Context(ref, locales[case["lang"]])

    sets = []
    for spec in a.set:
        name, _, path = spec.partition("=")
        if not path:
            ap.error(f"--set {spec!r}: want NAME=FILE")
        with open(path, encoding="utf-8") as f:
            cases = [json.loads(line) for line in f if line.strip()]
        for c in cases:
            if c.get("lang") not in locales:
                sys.exit(f"{path}: lang {c.get('lang')!r} is not zh or en")
        sets.append((name, cases, [context(c) for c in cases]))

    cold_us = None
    if sets and sets[0][1]:
        c, ctx = sets[0][1][0], sets[0][2][0]
        t = time.perf_counter_ns()
        duckling.parse(c["text"], ctx, dims, False)
        cold_us = (time.perf_counter_ns() - t) / 1e3

    report = {}
    for name, cases, ctxs in sets:
        path = os.path.join(a.out_dir, f"duckling.{name}.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for c, ctx in zip(cases, ctxs):
                raw = duckling.parse(c["text"], ctx, dims, False)
                for d in raw:
                    d.pop("body", None)  # mis-decoded copy of text[start:end]
                line = {"id": c.get("id"), "text": c["text"],
                        "entities": entities(c["text"], raw, c["lang"], zone), "raw": raw}
                f.write(json.dumps(line, ensure_ascii=False) + "\n")
        lat = []
        for _ in range(a.reps):
            for c, ctx in zip(cases, ctxs):
                text = c["text"]
                t = time.perf_counter_ns()
                duckling.parse(text, ctx, dims, False)
                lat.append((time.perf_counter_ns() - t) / 1e3)
        total = sum(lat)
        lat.sort()
        report[name] = {"inputs": len(cases), "parses": len(lat), "median_us": round(pct(lat, 0.5), 2),
                        "p99_us": round(pct(lat, 0.99), 2), "max_us": round(pct(lat, 1.0), 2),
                        "mean_us": round(total / len(lat), 2) if lat else 0.0, "predictions": path}
    print(json.dumps({"parser": "duckling", "version": f"pyduckling-native-phihos {duckling.__version__}",
                      "dims": DIMS, "tz": a.tz, "reps": a.reps, "startup_ms": round(startup_ms, 1),
                      "cold_first_parse_us": round(cold_us, 2) if cold_us is not None else None,
                      "sets": report}))


if __name__ == "__main__":
    main()
