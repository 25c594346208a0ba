#!/usr/bin/env python3
"""Counts what a captcha model's mistakes are, from `digitnet-eval --task captcha --json`.

    build/release/bin/digitnet-eval --task captcha --data-dir DIR --json | scripts/captcha-confusions.py

Prints one line: captchas, wrong, wrong length, and the commonest digit confusions of the
mistakes read at the right length ("1>7 18": a 1 read as 7 in 18 places), position by position.
--top N shows N confusions (default 8); --json prints them as one object instead.
"""
import argparse
import collections
import json
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=8, help="confusions shown (default 8)")
    parser.add_argument("--json", action="store_true", help="one JSON object")
    args = parser.parse_args()
    try:
        result = json.load(sys.stdin)
        mistakes = result["mistakes"]
        total = int(result["captchas"])
    except (ValueError, KeyError, TypeError) as err:
        sys.exit(f"captcha-confusions.py: stdin is not digitnet-eval --task captcha --json output ({err})")
    confusions = collections.Counter()
    wrong_length = 0
    for m in mistakes:
        truth, read = m["truth"], m["read"]
        if len(truth) != len(read):
            wrong_length += 1
            continue
        confusions.update(f"{t}>{r}" for t, r in zip(truth, read) if t != r)
    top = confusions.most_common(max(args.top, 0))
    if args.json:
        print(json.dumps({"captchas": total, "wrong": len(mistakes), "wrong_length": wrong_length,
                          "confusions": dict(top)}))
    else:
        print(f"{total} captchas, {len(mistakes)} wrong, {wrong_length} of them of the wrong length; "
              + ", ".join(f"{k} {v}" for k, v in top))


if __name__ == "__main__":
    main()
