#!/usr/bin/env python3
"""Checks the Excel annex of `yuebao report --format xlsx` figure by figure.

usage: check_report_xlsx.py REPORT.xlsx TOTAL.json BY_ORG.json BY_MONTH.json
                            [--root HEX] [--ca-fp HEX]

The JSON files are `yuebao consolidate --format json` for the same org unit,
period and comparison as the report: without --by, with --by org and with
--by month. The workbook is read as a reader does (workbook.xml's sheet
order and names, its relationships, shared strings, cell types), with the
standard library only, and every number is compared with the server's
string: value, previous and change on the summary sheet, the value of every
unit and month on the pivot sheets; rates and changes in per cent are stored
as fractions, so they are compared x100; all are rounded to the decimals the
JSON string has. A figure with no value must be "—". Figure rows are found by
the code in column A, never by name. Also checks that the about sheet names
the audit checkpoint's root hash and the CA fingerprint (when given), and
counts the charts: one bar chart per section with a change in per cent
(titled with the section's name), one line chart when there are months.

Prints one line on success; exits 1 with the first mismatch.
"""
import argparse
import json
import re
import sys
import zipfile
import xml.etree.ElementTree as ET
from decimal import Decimal, ROUND_HALF_UP

NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "pr": "http://schemas.openxmlformats.org/package/2006/relationships",
    "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
}
DASH = "\u2014"
SHEETS = [("汇总", "Summary"), ("按单位", "By unit"), ("按月", "By month")]
CHARTS = ("图表", "Charts")
ABOUT = ("说明", "About")
CODE_HEADER = ("代码", "Code")


class Mismatch(Exception):
    pass


def col_index(ref):
    """'AB12' -> (11, 27): zero-based row and column."""
    m = re.fullmatch(r"([A-Z]+)(\d+)", ref)
    if not m:
        raise Mismatch(f"bad cell reference {ref!r}")
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - ord("A") + 1
    return int(m.group(2)) - 1, col - 1


def text_of(si):
    """A shared or inline string: its <t> runs joined."""
    return "".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t"))


class Workbook:
    def __init__(self, path):
        self.zip = zipfile.ZipFile(path)
        wb = ET.fromstring(self.zip.read("xl/workbook.xml"))
        rels = ET.fromstring(self.zip.read("xl/_rels/workbook.xml.rels"))
        target = {r.get("Id"): r.get("Target") for r in rels.findall("pr:Relationship", NS)}
        self.sheets = []  # (name, part path) in workbook order
        for s in wb.find("m:sheets", NS).findall("m:sheet", NS):
            t = target[s.get(f"{{{NS['r']}}}id")]
            part = t.lstrip("/") if t.startswith("/") else "xl/" + t
            self.sheets.append((s.get("name"), part))
        self.strings = []
        if "xl/sharedStrings.xml" in self.zip.namelist():
            sst = ET.fromstring(self.zip.read("xl/sharedStrings.xml"))
            self.strings = [text_of(si) for si in sst.findall("m:si", NS)]

    def cells(self, index):
        """{(row, col): str | float} of sheet index, formulas by their cached value."""
        root = ET.fromstring(self.zip.read(self.sheets[index][1]))
        out = {}
        for c in root.iter(f"{{{NS['m']}}}c"):
            pos = col_index(c.get("r"))
            t = c.get("t", "n")
            v = c.find("m:v", NS)
            if t == "s":
                out[pos] = self.strings[int(v.text)]
            elif t == "inlineStr":
                out[pos] = text_of(c.find("m:is", NS))
            elif t in ("str", "e"):
                out[pos] = v.text if v is not None else ""
            elif t == "b":
                out[pos] = float(v.text)
            elif v is not None:
                out[pos] = float(v.text)
        return out

    def charts(self):
        """[(kind, title)] of every chart part, kind 'bar' or 'line'."""
        found = []
        for name in sorted(self.zip.namelist()):
            if not re.fullmatch(r"xl/charts/chart\d+\.xml", name):
                continue
            root = ET.fromstring(self.zip.read(name))
            kinds = [k for k in ("bar", "line") if root.find(f".//c:{k}Chart", NS) is not None]
            title = root.find(".//c:title", NS)
            words = "".join(t.text or "" for t in title.iter(f"{{{NS['a']}}}t")) if title is not None else ""
            found.append(("+".join(kinds) or "other", words))
        return found


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def is_rate(fig):
    return fig["kind"] == "indicator" and fig["unit"] == "%"


def shown(cell):
    return "an empty cell" if cell is None else repr(cell)


def col_name(col):
    """0 -> 'A', 27 -> 'AB'."""
    name = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        name = chr(ord("A") + rem) + name
    return name


def same(cell, want, scale, where):
    """cell (as read) equals the JSON decimal string want, the cell x100 when scale."""
    if want is None:
        if cell != DASH:
            raise Mismatch(f"{where}: expected {DASH} (no figure), found {shown(cell)}")
        return
    if not isinstance(cell, float):
        raise Mismatch(f"{where}: expected the number {want}, found {shown(cell)}")
    exp = Decimal(want)
    got = Decimal(repr(cell * 100 if scale else cell)).quantize(
        Decimal(1).scaleb(exp.as_tuple().exponent), rounding=ROUND_HALF_UP)
    if got != exp:
        raise Mismatch(f"{where}: expected {want}, found {got} (cell {cell!r})")


def table(cells, codes, sheet):
    """The header row, {code: row} and [(section, [codes])] of a figure table."""
    head = next((r for (r, c), v in sorted(cells.items()) if c == 0 and v in CODE_HEADER), None)
    if head is None:
        raise Mismatch(f"sheet {sheet}: no header row (column A {' or '.join(CODE_HEADER)})")
    rows, sections = {}, []
    for (r, c), v in sorted(cells.items()):
        if c != 0 or r <= head or not isinstance(v, str):
            continue
        if v in codes:
            if v in rows:
                raise Mismatch(f"sheet {sheet}: figure {v} on rows {rows[v] + 1} and {r + 1}")
            rows[v] = r
            if not sections:
                raise Mismatch(f"sheet {sheet}: figure {v} on row {r + 1} before any section heading")
            sections[-1][1].append(v)
        elif (r, 1) not in cells:
            sections.append((v, []))  # a heading, or the note below the table
    missing = [c for c in codes if c not in rows]
    if missing:
        raise Mismatch(f"sheet {sheet}: no row for figure(s) {', '.join(missing)}")
    return head, rows, [s for s in sections if s[1]]


def check_pivot(wb, index, reply, key, cells_seen):
    name = wb.sheets[index][0]
    cells = wb.cells(index)
    figures = reply["groups"][0]["figures"]
    head, rows, _ = table(cells, [f["code"] for f in figures], name)
    for g, group in enumerate(reply["groups"]):
        col = 3 + g
        if g > 0:
            label = group.get("name") or group.get(key)
            if cells.get((head, col)) != label:
                raise Mismatch(f"sheet {name}: column {col_name(col)} is headed "
                               f"{cells.get((head, col))!r}, expected {label!r}")
        for k, fig in enumerate(group["figures"]):
            row = rows[fig["code"]]
            same(cells.get((row, col)), fig["value"], is_rate(fig),
                 f"sheet {name}, {fig['code']} of {group.get(key) or 'total'} (row {row + 1})")
            cells_seen[0] += 1
    return len(reply["groups"]) - 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("xlsx")
    ap.add_argument("total")
    ap.add_argument("by_org")
    ap.add_argument("by_month")
    ap.add_argument("--root", help="the audit checkpoint's root hash (hex)")
    ap.add_argument("--ca-fp", help="the CA certificate's fingerprint (hex)")
    a = ap.parse_args()
    total, by_org, by_month = load(a.total), load(a.by_org), load(a.by_month)
    wb = Workbook(a.xlsx)
    names = [n for n, _ in wb.sheets]
    zh = names and names[0] == SHEETS[0][0]
    lang = 0 if zh else 1
    expect = [s[lang] for s in SHEETS]
    if names[:3] != expect or names[-1] != ABOUT[lang] or len(names) not in (4, 5) or (
            len(names) == 5 and names[3] != CHARTS[lang]):
        raise Mismatch(f"sheets are {names}, expected {expect} [+ {CHARTS[lang]}] + {ABOUT[lang]}")

    # Summary: value, previous, change of the subtree total.
    compare = total.get("previous_period") is not None
    figures = total["groups"][0]["figures"]
    cells = wb.cells(0)
    _, rows, sections = table(cells, [f["code"] for f in figures], names[0])
    seen = 0
    for fig in figures:
        row, where = rows[fig["code"]], f"sheet {names[0]}, {fig['code']} (row {rows[fig['code']] + 1})"
        same(cells.get((row, 3)), fig["value"], is_rate(fig), where + " value")
        if compare:
            same(cells.get((row, 4)), fig["previous"], is_rate(fig), where + " previous")
            same(cells.get((row, 5)), fig["change"], fig["change_unit"] == "%", where + " change")
        elif (row, 4) in cells or (row, 5) in cells:
            raise Mismatch(f"{where}: previous/change cells in a report without comparison")
        seen += 3 if compare else 1

    pivot = [0]
    units = check_pivot(wb, 1, by_org, "org", pivot)
    months = check_pivot(wb, 2, by_month, "month", pivot)

    about = [v for v in wb.cells(len(names) - 1).values() if isinstance(v, str)]
    for label, want in (("root hash", a.root), ("CA fingerprint", a.ca_fp)):
        if want and not any(want.lower() in v.lower() for v in about):
            raise Mismatch(f"sheet {names[-1]}: the {label} {want} is not there")

    unit_of = {f["code"]: f["change_unit"] for f in figures}
    want_bars = sorted(s for s, codes in sections if any(unit_of[c] == "%" for c in codes))
    charts = wb.charts()
    bars = sorted(t for k, t in charts if k == "bar")
    lines = [t for k, t in charts if k == "line"]
    if bars != want_bars:
        raise Mismatch(f"bar charts titled {bars}, expected one per section with a change in "
                       f"per cent: {want_bars}")
    if len(lines) != (1 if months else 0) or len(charts) != len(bars) + len(lines):
        raise Mismatch(f"charts {charts}: expected {len(want_bars)} bar and "
                       f"{1 if months else 0} line chart(s)")

    print(f"checked {len(figures)} figures: {seen} summary cells, {pivot[0]} pivot cells "
          f"({units} unit(s), {months} month(s), with totals), "
          f"provenance{' with root hash' if a.root else ''}{' and CA fingerprint' if a.ca_fp else ''}, "
          f"{len(bars)} bar + {len(lines)} line chart(s) in {a.xlsx}")


if __name__ == "__main__":
    try:
        main()
    except Mismatch as e:
        print(f"check_report_xlsx: {e}", file=sys.stderr)
        sys.exit(1)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, ET.ParseError) as e:
        print(f"check_report_xlsx: cannot read the workbook or JSON: {e!r}", file=sys.stderr)
        sys.exit(1)
