#!/usr/bin/env bash
# yuebao report: the example returns of every branch submitted to the real
# daemon, then the half-year report of the whole tree in the three formats,
# each checked figure by figure against `consolidate --format json` (value,
# previous, change; by unit and by month for the annex and the page): the
# Markdown by tests/tools/check_report_md.py, the xlsx read as Excel files
# are (zip + XML) by check_report_xlsx.py, the HTML parsed strictly, with no
# external reference and one chart per section, by check_report_html.py.
# Also: the provenance names the audit log's current checkpoint and the
# CA's fingerprint; a template mistake is named by line and column and
# writes nothing; a branch is refused; consolidate --bom.
# shellcheck source=tests/integration/preamble.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/preamble.sh"

TOOLS="$YB_SRC/tests/tools"
ROOT=JGDW

central() { yb_as central "$ROOT" "$@"; }
zh_central() { LANG=zh_CN.UTF-8 yb_as central "$ROOT" "$@"; }

setup() {
	yb_make_pki "$YB_PKI" "$ORGS"
	yb_start_daemon "$YB_PKI" "$DB" "$ORGS" "$LOG"
	local file
	for file in "$RETURNS"/*/*.csv; do
		yb_as branch "$(basename "$(dirname "$file")")" submit "$file" \
			--period "$(basename "$file" .csv)" >/dev/null
	done
	central consolidate --org "$ROOT" --period 2026H1 --compare yoy --format json >"$TMP/total.json"
	central consolidate --org "$ROOT" --period 2026H1 --compare yoy --by org --format json \
		>"$TMP/by_org.json"
	central consolidate --org "$ROOT" --period 2026H1 --compare yoy --by month --format json \
		>"$TMP/by_month.json"
	CHECKPOINT_ROOT=$(central audit log --format json | jq -r '.checkpoint.root')
	CA_FP=$(openssl x509 -in "$YB_PKI/ca.crt" -noout -fingerprint -sha256 |
		sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
}

test_markdown() {
	# A template naming every figure of the catalog, one per line.
	central catalog --format csv |
		awk -F, 'NR > 1 && ($1 == "element" || $1 == "indicator") {
			printf "%s|{{%s}}|{{%s.previous}}|{{%s.change_abs}}\n", $2, $2, $2, $2 }' \
			>"$TMP/every.md"
	check "report --format md with a template of every figure" \
		central report --org "$ROOT" --period 2026H1 --format md --template "$TMP/every.md" \
		-o "$TMP/every-out.md"
	check "every figure of the md equals consolidate's (value, previous, change)" \
		python3 "$TOOLS/check_report_md.py" "$TMP/every-out.md" "$TMP/total.json"

	# The catalog's own template: a Chinese first draft, in the reader's language.
	check "report --format md with the catalog's template, in Chinese" \
		zh_central report --org "$ROOT" --period 2026H1 --format md -o "$TMP/draft.md"
	local study coverage change
	study=$(jq -r '.groups[0].figures[] | select(.code == "study_sessions") | .value' "$TMP/total.json")
	coverage=$(jq -r '.groups[0].figures[] | select(.code == "study_coverage_rate") | .value' \
		"$TMP/total.json")
	change=$(jq -r '.groups[0].figures[] | select(.code == "study_coverage_rate") | .change' \
		"$TMP/total.json")
	local draft
	draft=$(cat "$TMP/draft.md")
	check_match "the draft has the study sessions" "$draft" "组织集中学习${study}次"
	check_match "the draft has the coverage rate and its change in points" "$draft" \
		"学习覆盖率达${coverage}%，较上年同期(提高|降低)${change#-}个百分点"
	check_match "the draft names the period, cut-off and completeness" "$draft" \
		"数据截至2026年6月；本期应报30份，实报30份（100.0%）"
	check_match "the draft's provenance has the audit checkpoint's root" "$draft" "$CHECKPOINT_ROOT"
	check_match "the draft's provenance has the CA fingerprint" "$draft" "$CA_FP"
	check_eq "no placeholder is left in the draft" "$(grep -c '{{' "$TMP/draft.md" || true)" "0"
}

# test_spreadsheet_and_page FORMAT WHAT: the report in FORMAT (xlsx or html),
# checked against consolidate by tests/tools/check_report_FORMAT.py.
test_spreadsheet_and_page() {
	local fmt=$1 what=$2 out="$TMP/report.$1"
	check "report --format $fmt" \
		central report --org "$ROOT" --period 2026H1 --format "$fmt" -o "$out"
	check "$what" python3 "$TOOLS/check_report_$fmt.py" "$out" "$TMP/total.json" \
		"$TMP/by_org.json" "$TMP/by_month.json" --root "$CHECKPOINT_ROOT" --ca-fp "$CA_FP"
}

test_mistakes() {
	printf '第一行\n学习{{study_sessions}}次，研讨{{seminar}}场\n' >"$TMP/typo.md"
	check_exit "a template's unknown code is named with its line and column (exit 2)" 2 \
		"typo.md: line 2, column 27: unknown code 'seminar'" \
		central report --org "$ROOT" --period 2026H1 --format md --template "$TMP/typo.md" \
		-o "$TMP/typo-out.md"
	check_eq "and nothing is written" "$(ls "$TMP" | grep -c typo-out || true)" "0"
	check_exit "an unknown filter too" 2 "line 1, column 18: unknown filter '千'" \
		central report --org "$ROOT" --period 2026H1 --format md --template \
		<(printf '{{donations_yuan|千}}') -o -
	check "an auditor may report on a subtree, as consolidate allows" \
		yb_as auditor "$ROOT" report --org FY-DZZ --period 2026H1 --format md -o "$TMP/a.md"
	check_exit "a branch may not report on the tree (exit 1)" 1 "refused|not allowed|permission" \
		yb_as branch ZFW-JG report --org "$ROOT" --period 2026H1 --format md -o "$TMP/b.md"
	check_exit "no -o is a usage error" 2 "-o FILE" \
		central report --org "$ROOT" --period 2026H1 --format html
	check_exit "an unknown format is a usage error" 2 "md, html or xlsx" \
		central report --org "$ROOT" --period 2026H1 --format docx -o "$TMP/x.docx"
}

test_bom() {
	central consolidate --org "$ROOT" --period 2026H1 --format csv >"$TMP/plain.csv" 2>/dev/null
	central consolidate --org "$ROOT" --period 2026H1 --format csv --bom >"$TMP/bom.csv" 2>/dev/null
	check_eq "consolidate --bom starts with the UTF-8 byte-order mark" \
		"$(head -c 3 "$TMP/bom.csv" | od -An -tx1 | tr -d ' ')" "efbbbf"
	check_eq "and is otherwise the same CSV" "$(tail -c +4 "$TMP/bom.csv" | sha256sum)" \
		"$(sha256sum <"$TMP/plain.csv")"
	check_exit "--bom without --format csv is a usage error" 2 "--bom is for --format csv" \
		central consolidate --org "$ROOT" --period 2026H1 --bom
}

setup
test_markdown
test_spreadsheet_and_page xlsx "the xlsx, read as a spreadsheet reader does, has consolidate's figures"
test_spreadsheet_and_page html \
	"the page parses, is self-contained, has one chart per section and consolidate's figures"
test_mistakes
test_bom
assert_summary
