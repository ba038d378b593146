"""Prints what the real Duckling (pyduckling-native-phihos 0.3.0) returns for some texts, in the
corpus value shapes of `duckling_bench.py` — a reference when writing corpus expectations.

Usage: .venv-bench-duckling/bin/python benches/entities/duckling_values.py [--lang en|zh]
           [--now 2026-03-11T10:00:00] TEXT...
(`benches/entities/run.sh` creates the venv.)
"""

import argparse
import datetime as dt
import json
import os
import sys
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.dirname(__file__))
import duckling  # noqa: E402
import duckling_bench as bench  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lang", default="en", choices=["en", "zh"])
    ap.add_argument("--now", default="2026-03-11T10:00:00")
    ap.add_argument("--tz", default="Etc/GMT+2")
    ap.add_argument("texts", nargs="+")
    a = ap.parse_args()
    zone = ZoneInfo(a.tz)
    tzdb = duckling.load_time_zones("/usr/share/zoneinfo")
    dims = duckling.parse_dimensions(bench.DIMS)
    locale = duckling.default_locale_lang(duckling.parse_lang(a.lang))
    now = dt.datetime.strptime(a.now, bench.FMT).replace(tzinfo=zone)
    ctx = duckling.Context(duckling.parse_ref_time(tzdb, a.tz, int(now.timestamp())), locale)
    for text in a.texts:
        found = bench.entities(text, duckling.parse(text, ctx, dims, False), a.lang, zone)
        print(json.dumps({"text": text, "entities": found}, ensure_ascii=False))


if __name__ == "__main__":
    main()
