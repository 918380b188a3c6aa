#!/usr/bin/env python3
"""Checks a `yuebao report --format md` rendered from a template of lines
CODE|{{CODE}}|{{CODE.previous}}|{{CODE.change_abs}} (English wording) against
`yuebao consolidate --format json` for the same question, figure by figure.
A figure without a value must read "—" with a footnote, never 0.

usage: check_report_md.py REPORT.md TOTAL.json
"""
import json
import re
import sys


def main():
    report, total = sys.argv[1], sys.argv[2]
    figures = {f["code"]: f for f in json.load(open(total, encoding="utf-8"))["groups"][0]["figures"]}
    notes = {}
    seen = set()
    lines = open(report, encoding="utf-8").read().splitlines()
    for line in lines:
        m = re.match(r"^\[\^(\d+)\]: (.+)$", line)
        if m:
            notes[m.group(1)] = m.group(2)
    for line in lines:
        parts = line.split("|")
        if len(parts) != 4 or parts[0] not in figures:
            continue
        code, value, previous, change = parts
        f = figures[code]
        seen.add(code)
        for what, got, want in (("value", value, f["value"]), ("previous", previous, f["previous"])):
            if want is None:
                m = re.fullmatch(r"—\[\^(\d+)\]", got)
                if not m or m.group(1) not in notes:
                    sys.exit(f"{code} {what}: want — with a footnote, got {got!r}")
            elif got != want:
                sys.exit(f"{code} {what}: report {got!r}, consolidate {want!r}")
        if f["change"] is None:
            m = re.fullmatch(r"—\[\^(\d+)\]", change)
            if not m or m.group(1) not in notes:
                sys.exit(f"{code} change: want — with a footnote, got {change!r}")
        else:
            sign = "+" if float(f["change"]) > 0 else ""
            suffix = " pp" if f["change_unit"] == "pp" else "%"
            want = sign + f["change"] + suffix
            if change != want:
                sys.exit(f"{code} change: report {change!r}, consolidate {want!r}")
    missing = set(figures) - seen
    if missing:
        sys.exit(f"figures missing from the report: {sorted(missing)}")
    print(f"checked {len(seen)} figures (value, previous, change) and {len(notes)} footnotes")


main()
