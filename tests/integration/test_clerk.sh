#!/usr/bin/env bash
# A branch clerk's Excel round trip and the office's bulk work, with the
# real daemon and client:
# - `template --format xlsx`: the sheet, its headings in the user's
#   language, the month in the cell named "period", protection, one data
#   validation per element, stocks pre-filled with --from-previous;
# - the template filled in by editing its XML (tests/tools/fill_xlsx.py),
#   validated, submitted and shown back value for value;
# - a formula with a saved result counts by it; one without is refused,
#   naming the cell; a workbook saved by LibreOffice (soffice --headless,
#   from a CSV with a formula) is read; a zip bomb is refused;
# - a CSV whose header is in Chinese (代码,名称,单位,数值);
# - `submit F1 F2 F3` with one bad file: a summary, exit 4, the good ones
#   stored and nothing of the bad one;
# - `review --accept --all-submitted` on a subtree, and --revision refusing
#   a decision about a revision that is no longer the latest;
# - `close` refusing while returns are unreviewed or missing, and --force.
# shellcheck source=tests/integration/preamble.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/preamble.sh"

FILL="$YB_SRC/tests/tools/fill_xlsx.py"

# csv_values FILE: "code=value" of each filled-in row of a return CSV, sorted.
csv_values() {
	tail -n +2 "$1" | tr -d '\r' | awk -F, '$1 != "period" && $NF != "" { print $1 "=" $NF }' |
		sort
}

# same_values: "code=value" lines with the value as a number (the daemon
# stores amounts with two decimals: 0 comes back as 0.00).
same_values() { awk -F= '{ printf "%s=%.2f\n", $1, $2 }'; }

# shown ORG PERIOD: "code=value" of the stored return, sorted.
shown() {
	yb_as central JGDW show --org "$1" --period "$2" --format csv |
		tail -n +2 | awk -F, '$NF != "" { print $1 "=" $NF }' | sort
}

# xlsx_facts FILE: what a reader of the workbook sees, one fact a line.
xlsx_facts() {
	python3 - "$1" <<'PY'
import re, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
wb = z.read("xl/workbook.xml").decode()
sheet = z.read("xl/worksheets/sheet1.xml").decode()
strings = re.findall(r"<t[^>]*>(.*?)</t>", z.read("xl/sharedStrings.xml").decode())
print("sheet", re.search(r'<sheet name="([^"]+)"', wb).group(1))
print("name", re.search(r'<definedName name="period"[^>]*>([^<]+)<', wb).group(1))
print("protected", "<sheetProtection" in sheet)
print("validations", len(re.findall(r"<dataValidation ", sheet)))
head = re.search(r'<row r="1".*?</row>', sheet, re.S).group(0)
print("header", ",".join(strings[int(v)] for v in re.findall(r"<v>(\d+)</v>", head)))
print("unlocked-style", bool(re.search(r'<protection locked="0"', z.read("xl/styles.xml").decode())))
PY
}

test_template() {
	local t="$TMP/2026-07.xlsx" facts n
	check "template --format xlsx writes a workbook" \
		yb_as branch ZFW-JG template --period 2026-07 --format xlsx -o "$t"
	n=$(yb_as branch ZFW-JG catalog --format csv | grep -c '^element,')
	facts=$(xlsx_facts "$t")
	check_match "the sheet is the template's, in English" "$facts" "^sheet Return$"
	check_match "the month is the cell named period" "$facts" "^name 'Return'!\\\$D\\\$2$"
	check_match "the sheet is protected, the value cells unlocked" \
		"$(grep -E '^(protected|unlocked)' <<<"$facts" | xargs)" "^protected True unlocked-style True$"
	check_match "one data validation per element ($n)" "$facts" "^validations $n$"
	check_match "the header in English" "$facts" "^header code,name,unit,value,note$"
	facts=$(LANG=zh_CN.UTF-8 yb_as branch ZFW-JG template --period 2026-07 -o "$TMP/zh.xlsx" 2>&1 &&
		xlsx_facts "$TMP/zh.xlsx")
	check_match "in Chinese: the sheet 月报 (chosen by the .xlsx name)" "$facts" "^sheet 月报$"
	check_match "in Chinese: the header" "$facts" "^header 代码,名称,单位,数值,说明$"
	check_exit "an existing file is never overwritten" 2 "exists" \
		yb_as branch ZFW-JG template --period 2026-07 -o "$t"
	check_exit "xlsx to the terminal is refused" 2 "give -o FILE.xlsx" \
		yb_as branch ZFW-JG template --period 2026-07 --format xlsx
}

# fill_from_csv TEMPLATE OUT CSV [EXTRA...]: the template with CSV's values.
fill_from_csv() {
	local tpl=$1 out=$2 csv=$3
	shift 3
	# shellcheck disable=SC2046 # one argument per value
	python3 "$FILL" "$tpl" "$out" $(csv_values "$csv") "$@"
}

test_round_trip() {
	local t="$TMP/t-2026-03.xlsx" f="$TMP/2026-03.xlsx" out
	yb_as branch ZFW-JG template --period 2026-03 -o "$t" 2>/dev/null
	fill_from_csv "$t" "$f" "$RETURNS/ZFW-JG/2026-03.csv"
	out=$(yb_as branch ZFW-JG validate "$f" 2>&1) || true
	check_match "validate reads the filled-in xlsx" "$out" "2026-03.xlsx: valid"
	check "submit sends it" yb_as branch ZFW-JG submit "$f"
	check_eq "show gives back every value of the workbook" "$(shown ZFW-JG 2026-03 | same_values)" \
		"$(csv_values "$RETURNS/ZFW-JG/2026-03.csv" | same_values)"

	python3 "$FILL" "$t" "$TMP/nocache.xlsx" study_sessions=@SUM\(1,2\)
	check_exit "a formula without a saved result is refused, naming its cell" 4 \
		"cell D[0-9]+.*formula" yb_as branch ZFW-JG validate "$TMP/nocache.xlsx"
	fill_from_csv "$t" "$TMP/cached.xlsx" "$RETURNS/ZFW-JG/2026-05.csv" \
		study_sessions=@SUM\(1,2\):3 period="'2026-05"
	check "a formula counts by its saved result, a month typed as text is read" \
		yb_as branch ZFW-JG submit "$TMP/cached.xlsx"
	check_match "the saved result is the value stored, for the month in the file" \
		"$(shown ZFW-JG 2026-05)" "^study_sessions=3$"

	# From-previous: March's stocks start April.
	yb_as branch ZFW-JG template --period 2026-04 --from-previous -o "$TMP/prev.xlsx" 2>"$TMP/prev.err"
	check_match "--from-previous says how many stocks it filled in" "$(cat "$TMP/prev.err")" \
		"started from 2026-03 revision 1: [1-9][0-9]* stock values? filled in"
}

test_libreoffice() {
	local dir="$TMP/lo" csv="$TMP/lo.csv"
	mkdir -p "$dir"
	# A clerk's CSV with a formula, opened and saved as xlsx by LibreOffice.
	{
		echo "code,name,unit,value"
		echo "period,,,202604"
		tail -n +2 "$RETURNS/ZFW-JG/2026-04.csv" | grep -v '^study_sessions,'
		echo "study_sessions,集中学习次数,次,=1+2"
	} >"$csv"
	if ! soffice --headless --convert-to xlsx --outdir "$dir" "$csv" >"$TMP/soffice.log" 2>&1; then
		fail "LibreOffice converts the CSV" "$(cat "$TMP/soffice.log")"
		return
	fi
	check "a workbook saved by LibreOffice validates" yb_as branch ZFW-JG validate "$dir/lo.xlsx"
	check "and is submitted" yb_as branch ZFW-JG submit "$dir/lo.xlsx"
	check_match "LibreOffice's saved formula result is the value stored" \
		"$(shown ZFW-JG 2026-04)" "^study_sessions=3$"
}

test_zip_bomb() {
	python3 - "$TMP/bomb.xlsx" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("[Content_Types].xml", "<Types/>")
    z.writestr("xl/workbook.xml", '<workbook xmlns:r="r"><sheets><sheet name="s" sheetId="1" r:id="rId1"/></sheets></workbook>')
    z.writestr("xl/_rels/workbook.xml.rels", '<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>')
    z.writestr("xl/worksheets/sheet1.xml", b"<worksheet>" + b" " * (200 << 20) + b"</worksheet>")
PY
	check_exit "a zip bomb is refused with a clear message" 4 "zip bomb" \
		yb_as branch ZFW-JG validate "$TMP/bomb.xlsx"
}

test_chinese_header() {
	{
		echo "代码,名称,单位,数值"
		tail -n +2 "$RETURNS/FY-DZB/2026-05.csv"
	} >"$TMP/zh-header.csv"
	check "a CSV with a Chinese header is accepted" \
		yb_as branch FY-DZB submit "$TMP/zh-header.csv" --period 2026-05
	check_eq "and stored value for value" "$(shown FY-DZB 2026-05 | same_values)" \
		"$(csv_values "$RETURNS/FY-DZB/2026-05.csv" | same_values)"
}

test_bulk_submit() {
	local out rc=0
	yb_as branch FY-ZXJ template --period 2026-07 -o "$TMP/zxj-07.xlsx" 2>/dev/null
	fill_from_csv "$TMP/zxj-07.xlsx" "$TMP/zxj-07-filled.xlsx" "$RETURNS/FY-ZXJ/2026-06.csv"
	{
		echo "code,name,unit,value"
		echo "period,,,202608"
		tail -n +2 "$RETURNS/FY-ZXJ/2026-05.csv"
	} >"$TMP/zxj-08.csv"
	{
		echo "code,name,unit,value"
		echo "period,,,202609"
		echo "no_such_element,,,3"
		tail -n +2 "$RETURNS/FY-ZXJ/2026-05.csv"
	} >"$TMP/zxj-09-bad.csv"
	out=$(yb_as branch FY-ZXJ submit "$TMP/zxj-07-filled.xlsx" "$TMP/zxj-09-bad.csv" \
		"$TMP/zxj-08.csv" 2>&1) || rc=$?
	check_eq "a bulk submit with one bad file exits with the worst status" "$rc" "4"
	check_match "the summary names each file, its month and result" "$out" \
		"zxj-07-filled.xlsx +2026-07 +revision 1, late"
	check_match "the bad file is listed as not stored" "$out" "zxj-09-bad.csv +2026-09 +not "
	check_match "the file after the bad one was still sent" "$out" "zxj-08.csv +2026-08 +revision 1"
	check_eq "the good ones are stored" "$(shown FY-ZXJ 2026-08 | same_values)" \
		"$(csv_values "$TMP/zxj-08.csv" | same_values)"
	check_exit "nothing of the bad one is" 1 "NOT_FOUND|no return" \
		yb_as central JGDW show --org FY-ZXJ --period 2026-09
	check_exit "--receipt with several files is a usage error" 2 "--receipt names one file" \
		yb_as branch FY-ZXJ submit "$TMP/zxj-08.csv" "$TMP/zxj-08.csv" --receipt "$TMP/r.json"
}

# on_terminal CMD...: runs CMD with stdout and stderr on a pseudo-terminal
# (util-linux script), progress drawn at once; prints what the terminal got.
on_terminal() {
	YUEBAO_PROGRESS_DELAY_MS=0 script -qec "$(printf '%q ' "$@")" /dev/null </dev/null || true
}

test_progress() {
	local bin=("$YB_BIN/yuebao" --server "$YB_URL" --ca "$YB_PKI/ca.crt") out
	local branch=(--cert "$YB_PKI/branch-FY-ZXJ.crt" --key "$YB_PKI/branch-FY-ZXJ.key")
	local auditor=(--cert "$YB_PKI/auditor-JGDW.crt" --key "$YB_PKI/auditor-JGDW.key")
	out=$(on_terminal "${bin[@]}" "${branch[@]}" submit --dry-run "$TMP/zxj-08.csv" \
		"$TMP/zxj-08.csv" "$TMP/zxj-08.csv" 2>&1)
	check_match "on a terminal, a bulk submit shows done/total and the rate" "$out" \
		"submit: files: [1-3]/3 \([0-9]+%\), [0-9]+/s"
	check_match "and erases the line before the summary" "$out" $'\r\033\\[K'
	out=$(on_terminal "${bin[@]}" "${auditor[@]}" audit export "$TMP/progress.bundle" 2>&1)
	check_match "audit export shows entries done of the log's size" "$out" \
		"audit export: entries: [0-9]+/[0-9]+ \([0-9]+%\)"
	out=$(on_terminal "${bin[@]}" "${auditor[@]}" audit verify "$TMP/progress.bundle" 2>&1)
	check_match "audit verify shows the entries checked" "$out" "audit verify: entries: [0-9]+/[0-9]+"
	out=$(on_terminal "${bin[@]}" --quiet "${branch[@]}" submit --dry-run "$TMP/zxj-08.csv" \
		"$TMP/zxj-08.csv" 2>&1)
	check_no_match "--quiet: no progress line" "$out" "submit: files"
	out=$(YUEBAO_PROGRESS_DELAY_MS=0 yb_as branch FY-ZXJ submit --dry-run "$TMP/zxj-08.csv" \
		"$TMP/zxj-08.csv" 2>&1) || true
	check_no_match "stderr not a terminal: no progress line" "$out" "submit: files"
}

test_bulk_accept() {
	local out b
	for b in ZFW-JG FY-DZB FY-ZXJ JCY-DZB SFJ-DZB; do
		yb_as branch "$b" submit "$RETURNS/$b/2026-06.csv" --period 2026-06 >/dev/null
	done
	out=$(yb_as central JGDW review --org FY-DZZ --period 2026-06 --accept --all-submitted 2>&1)
	check_eq "--all-submitted accepts the subtree's submitted returns, listed" \
		"$(grep 'is now' <<<"$out" | sort)" \
		"$(printf '%s\n' "FY-DZB 2026-06 revision 1 is now accepted" \
			"FY-ZXJ 2026-06 revision 1 is now accepted")"
	check_match "and counts them" "$out" "accepted 2 of 2 submitted returns"
	check_eq "returns outside the subtree are untouched" \
		"$(yb_as central JGDW status --period 2026-06 --format csv 2>/dev/null | grep -E '^(JCY-DZB|ZFW-JG),' | cut -d, -f1,4 | sort | xargs)" \
		"JCY-DZB,submitted ZFW-JG,submitted"
	check_exit "--all-submitted is for --accept only" 2 "--accept only" \
		yb_as central JGDW review --org JGDW --period 2026-06 --reject --all-submitted --comment x
	yb_as branch JCY-DZB submit "$RETURNS/JCY-DZB/2026-05.csv" --period 2026-06 \
		--reason "second revision" >/dev/null
	check_exit "--revision refuses a decision about a revision no longer the latest" 1 \
		"revision 2 now, not 1" \
		yb_as central JGDW review --org JCY-DZB --period 2026-06 --accept --revision 1
	out=$(yb_as central JGDW review --org JGDW --period 2026-06 --accept --all-submitted 2>&1)
	check_match "the whole tree: the rest, each at its latest revision" \
		"$(grep 'is now' <<<"$out" | sort | xargs)" \
		"JCY-DZB 2026-06 revision 2 is now accepted SFJ-DZB 2026-06 revision 1 is now accepted ZFW-JG 2026-06 revision 1 is now accepted"
	check_match "nothing left to accept is said" \
		"$(yb_as central JGDW review --org JGDW --period 2026-06 --accept --all-submitted 2>&1)" \
		"no return of JGDW for 2026-06 is waiting for review"
}

test_close() {
	local out rc=0
	out=$(yb_as central JGDW close --period 2026-07 2>&1) || rc=$?
	check_eq "close over unsettled returns is refused" "$rc" "1"
	check_match "it lists the unreviewed ones" "$out" "ZFW-JG +2026-07 +submitted|FY-ZXJ +2026-07 +submitted"
	check_match "and the missing ones" "$out" "SFJ-DZB +2026-07 +missing"
	check_match "and says how to go on" "$out" "--force"
	check_exit "nothing was closed: a branch may still submit" 0 "submitted" \
		yb_as branch SFJ-DZB submit "$RETURNS/SFJ-DZB/2026-06.csv" --period 2026-07
	check_exit "--force closes over them" 0 "closed for submissions" \
		yb_as central JGDW close --period 2026-07 --force --comment "不再等"
	check_exit "and now the period is closed" 1 "closed" \
		yb_as branch FY-DZB submit "$RETURNS/FY-DZB/2026-06.csv" --period 2026-07
	check_exit "a period whose returns are all accepted closes without --force" 0 \
		"closed for submissions" yb_as central JGDW close --period 2026-06
}

yb_make_pki "$YB_PKI" "$ORGS"
yb_start_daemon "$YB_PKI" "$DB" "$ORGS" "$LOG"
test_template
test_round_trip
test_libreoffice
test_zip_bomb
test_chinese_header
test_bulk_submit
test_progress
test_bulk_accept
test_close
assert_summary
