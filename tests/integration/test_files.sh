#!/usr/bin/env bash
# Data entry as clerks really do it: files saved by Excel (GB18030 with CRLF,
# UTF-8 with a byte-order mark, quoted thousands, blank cells, a note column,
# trailing empty columns and rows) reach the real daemon and are stored with
# the right values; every bad file or value of SPEC §8 is refused with its
# exact message and leaves the store unchanged; a file with five different
# mistakes reports all five at once.
# shellcheck source=tests/integration/preamble.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/preamble.sh"

EXAMPLE="$RETURNS/ZFW-JG/2026-01.csv"

# stored PERIOD: code=value lines of ZFW-JG's latest revision, as the daemon shows it.
stored() {
	yb_as branch ZFW-JG show --period "$1" --format csv 2>/dev/null | sed 1d |
		awk -F, '{ print $1 "=" $NF }' | sort
}

# expected FILE: code=value lines of the example's non-blank values, as the
# daemon shows them (amounts, the *_yuan elements, with two decimals).
expected() {
	awk -F, 'NR > 1 && $4 != "" { v = $1 ~ /_yuan$/ ? sprintf("%.2f", $4) : $4; print $1 "=" v }' "$1" |
		sort
}

setup() {
	yb_make_pki "$YB_PKI" "$ORGS"
	# A catalog with a maximum, to test "value above the element's max".
	mkdir "$TMP/catalog"
	cp "$YB_SRC"/server/catalog/*.csv "$TMP/catalog/"
	sed -i 's/^study_sessions,\(.*\),int,sum,,$/study_sessions,\1,int,sum,0,31/' "$TMP/catalog/elements.csv"
	yb_start_daemon "$YB_PKI" "$DB" "$ORGS" "$LOG" --catalog "$TMP/catalog"
}

test_gb18030_crlf() {
	iconv -f UTF-8 -t GB18030 "$EXAMPLE" | sed 's/$/\r/' >"$TMP/gbk.csv"
	check_eq "the file really is GB18030 with CRLF" \
		"$(head -2 "$TMP/gbk.csv" | tail -1 | od -An -c | tr -s ' ' | grep -c '\\r')" "1"
	check_exit "a GB18030 file with CRLF, as Chinese Excel saves it, is accepted" 0 "revision 1" \
		yb_as branch ZFW-JG submit "$TMP/gbk.csv" --period 2026-01
	check_eq "with every value right" "$(stored 2026-01)" "$(expected "$EXAMPLE")"
}

test_utf8_bom_and_excel_shapes() {
	local f="$TMP/excel.csv"
	{
		printf '\xef\xbb\xbfcode,name,unit,value,note,,\r\n'
		awk -F, 'NR > 1 { v = $4 }
			$1 == "notes_chars" { v = "\"" substr(v, 1, length(v) - 3) "," substr(v, length(v) - 2) "\"" }
			$1 == "study_sessions" { v = v ".00" }
			NR > 1 { printf "%s,%s,%s,%s,\"note, with a comma\",,\r\n", $1, $2, $3, v }' "$EXAMPLE"
		printf 'study_expected_blank_row,,,,,,\r\n' | sed 's/study_expected_blank_row//'
		printf ',,,,,,\r\n,,,,,,\r\n'
	} >"$f"
	sed -i 's/^members_under_35,\([^,]*\),\([^,]*\),[0-9]*,/members_under_35,\1,\2,,/' "$f"
	check_exit "UTF-8 with BOM, quoted thousands, 12.00 for a count, a note column, blank cells and Excel's empty columns and rows" \
		0 "revision 1" yb_as branch ZFW-JG submit "$f" --period 2026-02
	check_eq "quoted thousands are read as one number" \
		"$(stored 2026-02 | grep '^notes_chars=')" "notes_chars=$(grep '^notes_chars,' "$EXAMPLE" | cut -d, -f4)"
	check_eq "a whole number written with .00 is that number" \
		"$(stored 2026-02 | grep '^study_sessions=')" "study_sessions=$(grep '^study_sessions,' "$EXAMPLE" | cut -d, -f4)"
	check_eq "a blank cell is not reported, not zero" "$(stored 2026-02 | grep -c '^members_under_35=' || true)" "0"
	check_eq "every other value as written" "$(stored 2026-02 | grep -v '^members_under_35=')" \
		"$(expected "$EXAMPLE" | grep -v '^members_under_35=')"
}

# refused NAME EXIT MESSAGE FILE [PERIOD]: refused with that exact line, store unchanged.
refused() {
	local before out rc=0
	before=$(revisions)
	out=$(yb_as branch ZFW-JG submit "$4" --period "${5:-2026-03}" 2>&1) || rc=$?
	check_eq "$1: exit $2" "$rc" "$2"
	check_match "$1: the message" "$out" "^$(printf '%s' "$3" | sed 's/[][\.*^$()+?{}|]/\\&/g')\$"
	check_eq "$1: the store is unchanged" "$(revisions)" "$before"
}

test_bad_files() {
	printf 'code,value\nno_such_code,3\n' >"$TMP/unknown.csv"
	refused "unknown element code" 4 "  error: line 2: unknown element code 'no_such_code'" "$TMP/unknown.csv"
	printf 'code,value\nstudy_sessions,3\nstudy_sessions,4\n' >"$TMP/dup.csv"
	refused "duplicate code" 4 "  error: line 3: study_sessions (Group study sessions): given twice (first on line 2)" "$TMP/dup.csv"
	printf 'code,value\nseminars,abc\n' >"$TMP/nan.csv"
	refused "non-numeric value" 4 "  error: line 2: seminars (Thematic seminars): \"abc\" is not a number: unexpected 'a'" "$TMP/nan.csv"
	printf 'code,value\nseminars,-1\n' >"$TMP/neg.csv"
	refused "negative value" 4 "  error: line 2: seminars (Thematic seminars): \"-1\" is negative; values cannot be negative" "$TMP/neg.csv"
	printf 'code,value\nstudy_sessions,2.5\n' >"$TMP/frac.csv"
	refused "fractional int" 4 "  error: line 2: study_sessions (Group study sessions): \"2.5\" is not a whole number" "$TMP/frac.csv"
	printf 'code,value\ndonations_yuan,1.234\n' >"$TMP/dec.csv"
	refused "more than two decimals for an amount" 4 \
		"  error: line 2: donations_yuan (Donations by party members (yuan)): \"1.234\" has 3 decimals, at most 2 allowed" "$TMP/dec.csv"
	printf 'code,value\nstudy_sessions,40\n' >"$TMP/max.csv"
	refused "value above the maximum" 4 "  error: line 2: study_sessions (Group study sessions): 40 is above the maximum 31" "$TMP/max.csv"
	printf 'code,value\nsurvey_issued,10\nsurvey_valid,12\n' >"$TMP/rule.csv"
	refused "violated error rule" 4 \
		"  error: rule r_survey_valid violated: survey_valid (12) <= survey_issued (10): Valid questionnaires returned cannot exceed questionnaires issued." \
		"$TMP/rule.csv"
	printf 'PK\003\004\024\000\006\000' >"$TMP/book.csv"
	# Read as a workbook whatever its name: this one is cut short.
	refused "a broken workbook renamed .csv" 4 \
		"yuebao submit: $TMP/book.csv: not a readable .xlsx workbook (zip archive: Not a zip archive)" \
		"$TMP/book.csv"
	printf 'code,value\nstudy_sessions,\xff\xfe\xff\n' >"$TMP/enc.csv"
	refused "a wrong encoding names the byte" 4 \
		"yuebao submit: $TMP/enc.csv: line 2: byte offset 26 (0xFF) is neither UTF-8 nor GB18030 text: save the file from Excel as CSV UTF-8 (or CSV)" \
		"$TMP/enc.csv"
	printf 'study_sessions,3\n' >"$TMP/nohdr.csv"
	refused "no header" 4 \
		"yuebao submit: $TMP/nohdr.csv: line 1: no 'code' column in the header (the first line must name the columns, at least code,value or 代码,数值)" \
		"$TMP/nohdr.csv"
	refused "a month that has not begun" 4 \
		"  error: period 2099-01 has not begun: a return can be filed from the first day of its month" \
		"$EXAMPLE" 2099-01
	check_exit "a malformed period is a usage error" 2 "month 13 does not exist" \
		yb_as branch ZFW-JG submit "$EXAMPLE" --period 2026-13
}

# A file with nothing filled in is not a return: refused offline and by the
# daemon itself (the client sends it on), store unchanged.
test_empty_returns() {
	local out rc before msg="  error: no value is filled in: every value cell is blank; fill in the value column (leave blank only what was not reported)"
	printf 'code,name,unit,value\r\n' >"$TMP/header-only.csv"
	awk -F, 'NR == 1 { print; next } { print $1 "," $2 "," $3 "," }' "$EXAMPLE" >"$TMP/all-blank.csv"
	for f in header-only all-blank; do
		refused "$f: refused" 4 "$msg" "$TMP/$f.csv" 2026-05
		before=$(revisions)
		rc=0
		out=$(yb_as branch ZFW-JG submit "$TMP/$f.csv" --period 2026-05 --dry-run 2>&1) || rc=$?
		check_eq "$f: refused by the daemon, even for a dry run: exit" "$rc" "4"
		check_match "$f: refused by the daemon" "$out" \
			"^yuebao: refused \(INVALID_ARGUMENT\): the return has 1 error; nothing was stored$"
		rc=0
		out=$("$YB_BIN/yuebao" validate "$TMP/$f.csv" --catalog "$TMP/catalog" 2>/dev/null) || rc=$?
		check_eq "$f: validate refuses it: exit" "$rc" "4"
		check_eq "$f: validate says nothing was filled in" "$out" "$msg"$'\n'"$TMP/$f.csv: 1 error"
	done
	# A few values and blanks for the rest is a return; the count is of the values given.
	awk -F, 'NR == 1 { print; next }
		{ print $1 "," $2 "," $3 "," ($1 ~ /^(members_total|seminars|petitions)$/ ? $4 : "") }' \
		"$EXAMPLE" >"$TMP/three.csv"
	out=$("$YB_BIN/yuebao" validate "$TMP/three.csv" --catalog "$TMP/catalog" 2>/dev/null) || true
	check_match "validate counts the values given, not the rows" "$out" \
		"^$TMP/three.csv: valid, 3 values \(78 elements not reported\), 0 warnings, "
}

# The month travels with the data: the template writes it, a file for June
# cannot be filed as May, and the file's month stands in for --period.
test_month_in_file() {
	local f="$TMP/apr.csv" out rc before
	yb_as branch ZFW-JG template --period 2026-04 --output "$f" 2>/dev/null
	sed -i -e 's/^\(members_total,.*\),\r\{0,1\}$/\1,30/' -e 's/^\(seminars,.*\),$/\1,2/' "$f"
	check_eq "the template names its month in a row Excel keeps" "$(sed -n 2p "$f" | cut -d, -f1,4)" "period,202604"
	before=$(revisions)
	rc=0
	out=$(yb_as branch ZFW-JG submit "$f" --period 2026-05 2>&1) || rc=$?
	check_eq "an April file submitted as May: exit 4" "$rc" "4"
	check_eq "an April file submitted as May: says so" "$out" \
		"yuebao submit: $f: line 2: the file is the return for 2026-04, but --period is 2026-05: check which month you mean (the period row of the file, or --period)"
	check_eq "an April file submitted as May: nothing stored" "$(revisions)" "$before"
	check_exit "validate --period refuses it too" 4 "the file is the return for 2026-04, but --period is 2026-05" \
		"$YB_BIN/yuebao" validate "$f" --period 2026-05 --catalog "$TMP/catalog"
	check_exit "without --period the file's month is used" 0 "^submitted ZFW-JG 2026-04 revision 1" \
		yb_as branch ZFW-JG submit "$f"
	check_eq "and the values are stored for April" "$(stored 2026-04)" $'members_total=30\nseminars=2'
	# Excel on Chinese Windows writes a month back as 2026年4月, in GB18030; the
	# clerk types --period in any usual form.
	sed 's/^period,\([^,]*\),,202604/period,\1,,2026年4月/' "$f" | iconv -f UTF-8 -t GB18030 >"$TMP/apr-gb.csv"
	for p in 2026-04 2026-4 2026/04 202604 2026年4月; do
		check_exit "the Excel-saved month agrees with --period $p" 0 "dry run: the return of ZFW-JG for 2026-04 is valid" \
			yb_as branch ZFW-JG submit "$TMP/apr-gb.csv" --period "$p" --dry-run --reason "check"
	done
	check_exit "show takes the same forms" 0 "seminars" yb_as branch ZFW-JG show --period 2026年4月
	sed 's/^period,\([^,]*\),,202604/period,\1,,2026Q2/' "$f" >"$TMP/apr-q.csv"
	check_exit "a period row that is not a month is refused" 4 "line 2: the period row: period \"2026Q2\": returns are monthly" \
		yb_as branch ZFW-JG submit "$TMP/apr-q.csv" --dry-run
	check_exit "a file without a month needs --period" 2 "--period is required: $EXAMPLE does not name its month" \
		yb_as branch ZFW-JG submit "$EXAMPLE"
	rc=0
	out=$(yb_as branch ZFW-JG submit "$f" --period 2026-13 2>&1) || rc=$?
	check_eq "a malformed --period: exit 2" "$rc" "2"
	check_match "its hint lists the month forms submit takes" "$out" \
		"write the month as 2026-06 \(or 2026-6, 2026/06, 202606, 2026年6月\)$"
	check_eq "and no quarter or range, which submit refuses" "$(grep -c 'Q2\|H1\|\.\.2026' <<<"$out")" "0"
}

# What clerks type instead of a number: refused by the daemon with the
# element's name and what to do instead.
test_value_hints() {
	printf 'code,value\nseminars,95%%\n' >"$TMP/pct.csv"
	refused "a percent sign" 4 \
		"  error: line 2: seminars (Thematic seminars): \"95%\" is not a number: drop the % sign" "$TMP/pct.csv"
	for v in N/A n/a NA - 无 /; do
		printf 'code,value\nseminars,%s\n' "$v" >"$TMP/na.csv"
		refused "\"$v\" for nothing to report" 4 \
			"  error: line 2: seminars (Thematic seminars): \"$v\" is not a number: leave the cell empty when there is nothing to report" \
			"$TMP/na.csv"
	done
}

test_five_mistakes() {
	local out rc=0 before
	before=$(revisions)
	printf 'code,value\ndonations_yuan,1.234\nno_such,1\nstudy_sessions,2.5\nseminars,-1\nguest_lectures,abc\n' >"$TMP/five.csv"
	out=$(yb_as branch ZFW-JG submit "$TMP/five.csv" --period 2026-03 2>&1) || rc=$?
	check_eq "five mistakes: refused" "$rc" "4"
	check_eq "all five reported in one run, each with its line" "$(grep -c '^  error: line [2-6]:' <<<"$out")" "5"
	check_match "the summary counts them" "$out" "the return has 5 errors; nothing was stored"
	check_eq "nothing stored" "$(revisions)" "$before"
	out=$("$YB_BIN/yuebao" validate "$TMP/five.csv" --catalog "$TMP/catalog" 2>&1) || rc=$?
	check_eq "validate offline finds the same five" "$(grep -c '^  error: line [2-6]:' <<<"$out")" "5"
}

main() {
	setup
	test_gb18030_crlf
	test_utf8_bom_and_excel_shapes
	test_bad_files
	test_five_mistakes
	test_empty_returns
	test_month_in_file
	test_value_hints
	assert_summary
}

main "$@"
