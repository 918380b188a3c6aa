#!/usr/bin/env python3
"""Fills in an xlsx return as a clerk would, editing the workbook's XML.

fill_xlsx.py IN OUT CODE=VALUE...  copies the workbook IN to OUT with the
value cell (column D) of the row whose code (column A) is CODE set:
  CODE=12.5         a number
  CODE='text        a string (inline), e.g. period='2026-05
  CODE=@SUM(1,2)    a formula with no saved result (as a program that does
                    not calculate would write it)
  CODE=@SUM(1,2):3  a formula with its saved result 3
Everything else in the workbook is copied byte for byte, so what the reader
sees is what libxlsxwriter (or LibreOffice) wrote plus these cells.
"""
import re
import sys
import zipfile
from xml.sax.saxutils import escape


def shared_strings(z):
    try:
        xml = z.read("xl/sharedStrings.xml").decode()
    except KeyError:
        return []
    out = []
    for si in re.findall(r"<si>(.*?)</si>", xml, re.S):
        out.append("".join(re.findall(r"<t[^>]*>(.*?)</t>", si, re.S)))
    return out


def first_sheet(z):
    wb = z.read("xl/workbook.xml").decode()
    rid = re.search(r'<sheet [^>]*r:id="([^"]+)"', wb).group(1)
    rels = z.read("xl/_rels/workbook.xml.rels").decode()
    for rel in re.findall(r"<Relationship [^>]*/>", rels):
        if f'Id="{rid}"' in rel:
            target = re.search(r'Target="([^"]+)"', rel).group(1)
            return target.lstrip("/") if target.startswith("/") else "xl/" + target
    raise SystemExit("no first sheet")


def cell_xml(ref, style, value):
    s = f' s="{style}"' if style else ""
    if value.startswith("'"):
        return f'<c r="{ref}"{s} t="inlineStr"><is><t>{escape(value[1:])}</t></is></c>'
    if value.startswith("@"):
        formula, _, result = value[1:].partition(":")
        v = f"<v>{result}</v>" if result else ""
        return f'<c r="{ref}"{s}><f>{escape(formula)}</f>{v}</c>'
    return f'<c r="{ref}"{s}><v>{value}</v></c>'


def main():
    src, dst, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
    with zipfile.ZipFile(src) as z:
        strings = shared_strings(z)
        sheet = first_sheet(z)
        xml = z.read(sheet).decode()
        rows = {}
        for m in re.finditer(r'<c r="A(\d+)"[^>]*t="s"[^>]*><v>(\d+)</v></c>', xml):
            rows[strings[int(m.group(2))]] = m.group(1)
        for pair in pairs:
            code, value = pair.split("=", 1)
            row = rows[code]
            ref = f"D{row}"
            pat = re.compile(rf'<c r="{ref}"(?: s="(\d+)")?[^>]*?(?:/>|>.*?</c>)', re.S)
            m = pat.search(xml)
            if m is None:
                raise SystemExit(f"no cell {ref} for {code}")
            xml = xml[: m.start()] + cell_xml(ref, m.group(1), value) + xml[m.end():]
        with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
            for info in z.infolist():
                data = xml.encode() if info.filename == sheet else z.read(info)
                out.writestr(info, data)


if __name__ == "__main__":
    main()
