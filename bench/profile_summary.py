"""Summarise a py-spy raw (collapsed) profile: the share of samples per function of ours
and per library, inclusive, so one can see where a request's time goes.

    .venv/bin/python bench/profile_summary.py /tmp/prof/reports.txt [--top 40] [--match civicgrid]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter

FRAME = re.compile(r"^(?P<function>[^ ]+) \((?P<file>[^:]+)(?::\d+)?\)$")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--match", default="", help="only frames whose file contains this")
    args = parser.parse_args()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in open(args.path, encoding="utf-8", errors="replace"):
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not count.isdigit():
            continue
        samples = int(count)
        total += samples
        seen = set()
        for frame in stack.split(";"):
            match = FRAME.match(frame.strip())
            if not match:
                continue
            file = match["file"].split("site-packages/")[-1].split("/work/")[-1]
            if args.match and args.match not in file:
                continue
            key = f"{match['function']} ({file})"
            if key not in seen:  # recursion counts once
                seen.add(key)
                inclusive[key] += samples
    print(f"{total:,} samples")
    for key, samples in inclusive.most_common(args.top):
        print(f"{samples / total * 100:5.1f}%  {key}")


if __name__ == "__main__":
    main()
