#!/usr/bin/env python3
"""Checks a `yuebao report --format html` page against `yuebao consolidate`.

usage: check_report_html.py REPORT.html TOTAL.json BY_ORG.json BY_MONTH.json
                            [--root HEX --ca-fp HEX] [--sections N]

TOTAL.json, BY_ORG.json and BY_MONTH.json are `yuebao consolidate --format
json` for the report's org unit, period and comparison: as is, with
`--by org` and with `--by month`. The page must:
  - parse as XML (it is polyglot HTML5/XHTML) once its doctype line is off;
  - refer to nothing outside itself: no <script>, <link>, <iframe>,
    <object>, <embed>; no src/href with a scheme or starting with // (data:
    and #fragments are fine); no url( or @import in <style> or a style
    attribute;
  - have one svg.section-chart per section with figures (or N with
    --sections) and one svg.month-chart;
  - show, figure by figure, the server's value, previous and change in the
    summary rows (tr[data-code] > td.value / td.previous / td.change; "—"
    where the JSON has null), and the value of every group in the pivots
    (table#pivot-org, table#pivot-month);
  - name the org unit in its <h1>, and hold the audit root hash and CA
    fingerprint given in its provenance block (section#provenance).
Prints one summary line; on the first mismatch prints what and where and
exits 1 (2 for a usage error or unreadable input).
"""

import argparse
import json
import re
import sys
import xml.etree.ElementTree as ET

XHTML = "{http://www.w3.org/1999/xhtml}"
SVG = "{http://www.w3.org/2000/svg}"
NO_VALUE = "\u2014"
DOCTYPE = "<!DOCTYPE html>"
EXTERNAL = re.compile(r"^\s*(//|[A-Za-z][A-Za-z0-9+.-]*:)")
CSS_FETCH = re.compile(r"url\s*\(|@import", re.I)
FORBIDDEN_TAGS = {"script", "link", "iframe", "object", "embed", "frame", "base", "applet"}


class Mismatch(Exception):
    pass


def local(tag):
    return tag.rsplit("}", 1)[-1]


def classes(el):
    return el.get("class", "").split()


def text(el):
    return "".join(el.itertext()).strip()


def shown(v):
    return NO_VALUE if v is None or v == "" else v


def signed(fig, zh):
    """The change as report_change_signed writes it: +14.3%, -11.5%, 0.0%, +3.7个百分点 / +3.7 pp."""
    c = fig.get("change")
    if c is None or c == "":
        return NO_VALUE
    sign = "" if c.startswith("-") or float(c) == 0 else "+"
    if fig.get("change_unit") == "pp":
        return sign + c + ("个百分点" if zh else " pp")
    return sign + c + "%"


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print(f"check_report_html: cannot read {path}: {e}", file=sys.stderr)
        sys.exit(2)


def load_page(path):
    try:
        with open(path, encoding="utf-8") as f:
            page = f.read()
    except (OSError, UnicodeDecodeError) as e:
        print(f"check_report_html: cannot read {path}: {e}", file=sys.stderr)
        sys.exit(2)
    if not page.startswith(DOCTYPE):
        raise Mismatch(f"{path} does not start with {DOCTYPE}")
    try:
        root = ET.fromstring(page[len(DOCTYPE):])
    except ET.ParseError as e:
        raise Mismatch(f"{path} is not well-formed XML: {e}")
    if root.tag != XHTML + "html":
        raise Mismatch(f"the root element is {root.tag}, not XHTML <html>")
    return root


def check_self_contained(root):
    for el in root.iter():
        name = local(el.tag)
        if name in FORBIDDEN_TAGS:
            raise Mismatch(f"<{name}> found: the page must not load or run anything")
        for attr, v in el.attrib.items():
            a = local(attr)
            if a in ("src", "href", "data", "action", "poster", "srcset", "formaction"):
                if EXTERNAL.match(v) and not v.strip().lower().startswith("data:"):
                    raise Mismatch(f"<{name} {a}=\"{v}\">: an external reference")
            if a == "style" and CSS_FETCH.search(v):
                raise Mismatch(f"<{name} style=\"{v}\">: url( or @import")
        if name == "img" and not el.get("src", "").startswith("data:"):
            raise Mismatch(f"<img src=\"{el.get('src', '')}\">: only data: images are self-contained")
        if name == "style" and CSS_FETCH.search(el.text or ""):
            raise Mismatch("<style> holds url( or @import")


def figures_by_code(group, where):
    out = {}
    for f in group["figures"]:
        if f["code"] in out:
            raise Mismatch(f"{where}: figure {f['code']} twice in the JSON")
        out[f["code"]] = f
    return out


def one_cell(row, cls, code, required):
    cells = [td for td in row if local(td.tag) == "td" and cls in classes(td)]
    if len(cells) > 1:
        raise Mismatch(f"summary row {code}: {len(cells)} td.{cls} cells")
    if not cells:
        if required:
            raise Mismatch(f"summary row {code}: no td.{cls} cell")
        return None
    return cells[0]


def check_summary(root, total, zh):
    """The per-section tables; returns {section: number of figures}."""
    figs = figures_by_code(total["groups"][0], "TOTAL.json")
    compared = total.get("previous_period") not in (None, "")
    seen, sections = set(), {}
    for sec in root.iter(XHTML + "section"):
        if "figures" not in classes(sec):
            continue
        code = sec.get("data-section")
        if code in sections:
            raise Mismatch(f"section {code} appears twice")
        rows = [tr for tr in sec.iter(XHTML + "tr") if tr.get("data-code") is not None]
        sections[code] = len(rows)
        for row in rows:
            c = row.get("data-code")
            if c not in figs:
                raise Mismatch(f"summary row {c} (section {code}): not a figure of TOTAL.json")
            if c in seen:
                raise Mismatch(f"summary row {c}: shown twice")
            seen.add(c)
            fig = figs[c]
            got = text(one_cell(row, "value", c, True))
            if got != shown(fig["value"]):
                raise Mismatch(f"{c} value: page {got!r}, consolidate {shown(fig['value'])!r}")
            prev = one_cell(row, "previous", c, compared)
            if prev is not None and text(prev) != shown(fig["previous"]):
                raise Mismatch(f"{c} previous: page {text(prev)!r}, consolidate {shown(fig['previous'])!r}")
            if prev is None and fig.get("previous") not in (None, ""):
                raise Mismatch(f"{c}: consolidate has a previous value, the page none")
            chg = one_cell(row, "change", c, compared)
            want = signed(fig, zh)
            if chg is not None and text(chg) != want:
                raise Mismatch(f"{c} change: page {text(chg)!r}, consolidate {want!r}")
            if chg is None and want != NO_VALUE:
                raise Mismatch(f"{c}: consolidate has a change, the page none")
    missing = [c for c in figs if c not in seen]
    if missing:
        raise Mismatch(f"figures of TOTAL.json not on the page: {', '.join(missing[:8])}")
    return {s: n for s, n in sections.items() if n > 0}


def check_charts(root, sections, n_sections):
    charts = [el for el in root.iter(SVG + "svg") if "section-chart" in classes(el)]
    want = n_sections if n_sections is not None else len(sections)
    if len(charts) != want:
        raise Mismatch(f"{len(charts)} section charts for {want} sections with figures")
    per = {}
    for svg in charts:
        if svg.find(SVG + "title") is None:
            raise Mismatch(f"section chart {svg.get('data-section')} has no <title>")
        per[svg.get("data-section")] = per.get(svg.get("data-section"), 0) + 1
    if n_sections is None:
        for s in sections:
            if per.get(s) != 1:
                raise Mismatch(f"section {s}: {per.get(s, 0)} charts, not 1")
    months = [el for el in root.iter(SVG + "svg") if "month-chart" in classes(el)]
    if len(months) != 1:
        raise Mismatch(f"{len(months)} month charts, not 1")
    return len(charts)


def check_pivot(root, table_id, reply, label, by):
    tables = [t for t in root.iter(XHTML + "table") if t.get("id") == table_id]
    if len(tables) != 1:
        raise Mismatch(f"{len(tables)} table#{table_id}, not 1")
    groups = reply["groups"]
    per_group = [figures_by_code(g, f"{label} group {i}") for i, g in enumerate(groups)]
    rows = {tr.get("data-code"): tr for tr in tables[0].iter(XHTML + "tr") if tr.get("data-code")}
    for code in per_group[0]:
        row = rows.get(code)
        if row is None:
            raise Mismatch(f"table#{table_id}: no row for {code}")
        cells = [td for td in row if local(td.tag) == "td" and "value" in classes(td)]
        if len(cells) != len(groups):
            raise Mismatch(f"table#{table_id} row {code}: {len(cells)} values for {len(groups)} groups")
        for i, (td, g) in enumerate(zip(cells, groups)):
            key = g.get(by) or ""
            if i > 0 and td.get("data-group") != key:
                raise Mismatch(f"table#{table_id} row {code} column {i}: group {td.get('data-group')!r}, {label} has {key!r}")
            want = shown(per_group[i][code]["value"])
            if text(td) != want:
                raise Mismatch(f"table#{table_id} {code} of {key or 'the total'}: page {text(td)!r}, {label} {want!r}")
    return len(per_group[0]) * len(groups)


def check_provenance(root, root_hash, ca_fp):
    blocks = [s for s in root.iter(XHTML + "section") if s.get("id") == "provenance"]
    if len(blocks) != 1:
        raise Mismatch(f"{len(blocks)} section#provenance, not 1")
    body = "".join(blocks[0].itertext()).lower()
    if not any(local(e.tag) in ("dl", "table") for e in blocks[0].iter()):
        raise Mismatch("section#provenance holds no <dl> or <table> of facts")
    for what, v in (("audit root hash", root_hash), ("CA fingerprint", ca_fp)):
        if v and v.lower() not in body:
            raise Mismatch(f"the provenance block does not show the {what} {v}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("html")
    ap.add_argument("total")
    ap.add_argument("by_org")
    ap.add_argument("by_month")
    ap.add_argument("--root", help="audit log root hash (hex) the provenance block must show")
    ap.add_argument("--ca-fp", help="CA certificate fingerprint (hex) it must show")
    ap.add_argument("--sections", type=int, help="expected number of section charts")
    a = ap.parse_args()
    total, by_org, by_month = load_json(a.total), load_json(a.by_org), load_json(a.by_month)
    try:
        for label, reply in (("BY_ORG.json", by_org), ("BY_MONTH.json", by_month)):
            for field in ("org", "period", "previous_period"):
                if reply.get(field) != total.get(field):
                    raise Mismatch(f"{label} has {field} {reply.get(field)!r}, TOTAL.json {total.get(field)!r}: not the same report")
        page = load_page(a.html)
        zh = page.get("lang", "").lower().startswith("zh")
        check_self_contained(page)
        h1 = page.find(f".//{XHTML}h1")
        if h1 is None or total["org_name"] not in text(h1):
            raise Mismatch(f"the <h1> does not name {total['org_name']!r}")
        sections = check_summary(page, total, zh)
        charts = check_charts(page, sections, a.sections)
        n_org = check_pivot(page, "pivot-org", by_org, "BY_ORG.json", "org")
        n_month = check_pivot(page, "pivot-month", by_month, "BY_MONTH.json", "month")
        check_provenance(page, a.root, a.ca_fp)
    except Mismatch as e:
        print(f"check_report_html: FAIL: {a.html}: {e}", file=sys.stderr)
        return 1
    proof = " and ".join(w for w, v in (("root hash", a.root), ("CA fingerprint", a.ca_fp)) if v)
    print(f"check_report_html: OK: {a.html}: {sum(sections.values())} figures in {len(sections)} "
          f"sections, {charts} section charts + 1 month chart, {n_org} cells by org, "
          f"{n_month} by month, provenance {'with ' + proof if proof else 'present'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
