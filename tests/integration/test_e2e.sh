#!/usr/bin/env bash
# End to end: the real yuebaod on a free loopback port with certificates
# made here, driven by the real yuebao client. Branches submit the example
# returns; central consolidates 2026H1 year over year and every checked
# figure is recomputed independently from the example CSV files with awk.
# Then the refusals: no certificate, another CA, a branch writing for another,
# bad values and rules; and a retried call id executing once.
# shellcheck source=tests/integration/preamble.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/preamble.sh"

ORGS_COPY="$TMP/orgs.csv"

# example_values CODE FROM TO: "org month value" for every non-blank value.
example_values() {
	awk -F, -v code="$1" -v from="$2" -v to="$3" '
		FNR == 1 { n = split(FILENAME, p, "/"); org = p[n - 1]; month = substr(p[n], 1, 7) }
		$1 == code && $4 != "" && month >= from && month <= to { print org, month, $4 }' \
		"$RETURNS"/*/*.csv
}

# expected_sum CODE FROM TO [DECIMALS] / expected_last CODE FROM TO
expected_sum() {
	example_values "$1" "$2" "$3" | awk -v d="${4:-0}" '{ s += $3 } END { printf "%.*f\n", d, s }'
}
expected_last() {
	example_values "$1" "$2" "$3" | sort -k1,1 -k2,2 |
		awk '{ last[$1] = $3 } END { for (o in last) s += last[o]; print s }'
}

# csv_field CSV CODE COLUMN: a column (4 value, 5 previous, 6 change) of a code's row.
csv_field() {
	awk -F, -v code="$2" -v col="$3" '$1 == code { print $col }' <<<"$1"
}

ratio() { awk -v a="$1" -v b="$2" -v m="${3:-100}" -v d="${4:-1}" 'BEGIN { printf "%.*f\n", d, a / b * m }'; }
pct_change() { awk -v c="$1" -v p="$2" 'BEGIN { printf "%.1f\n", (c - p) / p * 100 }'; }
pp_change() { awk -v c="$1" -v p="$2" 'BEGIN { printf "%.1f\n", c - p }'; }

setup() {
	yb_make_pki "$YB_PKI" "$ORGS"
	cp "$ORGS" "$ORGS_COPY"
	yb_start_daemon "$YB_PKI" "$DB" "$ORGS_COPY" "$LOG"
}

test_submit_examples() {
	local org file n=0 bad=0
	for file in "$RETURNS"/*/*.csv; do
		org=$(basename "$(dirname "$file")")
		if yb_as branch "$org" submit "$file" --period "$(basename "$file" .csv)" >/dev/null 2>"$TMP/err"; then
			n=$((n + 1))
		else
			bad=$((bad + 1))
			cat "$TMP/err" >&2
		fi
	done
	check_eq "all 60 example returns accepted" "$n/$bad" "60/0"
	check_eq "60 revisions stored" "$(revisions)" "60"
}

test_consolidate_yoy() {
	local csv err cur prev a b c d
	csv=$(yb_as central JGDW consolidate --org JGDW --period 2026H1 --compare yoy --format csv 2>"$TMP/err")
	err=$(cat "$TMP/err")
	check_eq "CSV header is SPEC §7's" "$(head -1 <<<"$csv")" "code,name,unit,value,previous,change,change_unit"
	check_eq "one row per element and indicator" "$(($(wc -l <<<"$csv") - 1))" "97"
	check_match "completeness on stderr" "$err" "30 of 30 returns \(100.0%\); previous: 30 of 30 returns"

	for code in study_sessions study_attendance notes_chars complaints_closed; do
		check_eq "sum $code 2026H1" "$(csv_field "$csv" "$code" 4)" "$(expected_sum "$code" 2026-01 2026-06)"
		check_eq "sum $code 2025H1" "$(csv_field "$csv" "$code" 5)" "$(expected_sum "$code" 2025-01 2025-06)"
	done
	check_eq "amount donations_yuan has two decimals" "$(csv_field "$csv" donations_yuan 4)" \
		"$(expected_sum donations_yuan 2026-01 2026-06 2)"
	for code in members_total members_under_35; do
		check_eq "last $code 2026H1" "$(csv_field "$csv" "$code" 4)" "$(expected_last "$code" 2026-01 2026-06)"
		check_eq "last $code 2025H1" "$(csv_field "$csv" "$code" 5)" "$(expected_last "$code" 2025-01 2025-06)"
	done
	cur=$(expected_sum study_sessions 2026-01 2026-06)
	prev=$(expected_sum study_sessions 2025-01 2025-06)
	check_eq "study_sessions change in %" "$(csv_field "$csv" study_sessions 6),$(csv_field "$csv" study_sessions 7)" \
		"$(pct_change "$cur" "$prev"),%"

	# Indicators are rates of the totals, never averages of the branches' rates.
	a=$(ratio "$(expected_sum study_attendance 2026-01 2026-06)" "$(expected_sum study_expected 2026-01 2026-06)")
	b=$(ratio "$(expected_sum study_attendance 2025-01 2025-06)" "$(expected_sum study_expected 2025-01 2025-06)")
	check_eq "study_coverage_rate" "$(csv_field "$csv" study_coverage_rate 4)" "$a"
	check_eq "study_coverage_rate previous" "$(csv_field "$csv" study_coverage_rate 5)" "$b"
	check_eq "study_coverage_rate change in pp" \
		"$(csv_field "$csv" study_coverage_rate 6),$(csv_field "$csv" study_coverage_rate 7)" "$(pp_change "$a" "$b"),pp"
	c=$(ratio "$(expected_sum documents_processing_days 2026-01 2026-06)" "$(expected_sum documents_processed 2026-01 2026-06)" 1)
	d=$(ratio "$(expected_sum documents_processing_days 2025-01 2025-06)" "$(expected_sum documents_processed 2025-01 2025-06)" 1)
	check_eq "document_avg_days" "$(csv_field "$csv" document_avg_days 4)" "$c"
	check_eq "document_avg_days change in %" "$(csv_field "$csv" document_avg_days 6),$(csv_field "$csv" document_avg_days 7)" \
		"$(pct_change "$c" "$d"),%"
	a=$(ratio "$(expected_sum notes_chars 2026-01 2026-06)" "$(expected_last members_total 2026-01 2026-06)" 1 0)
	check_eq "notes_chars_per_member, 0 decimals, over the last stock" "$(csv_field "$csv" notes_chars_per_member 4)" "$a"
	a=$(ratio "$(expected_last members_under_35 2026-01 2026-06)" "$(expected_last members_total 2026-01 2026-06)")
	check_eq "under35_share from two stocks" "$(csv_field "$csv" under35_share 4)" "$a"
}

test_consolidate_breakdowns() {
	local csv fy_sum
	csv=$(yb_as central JGDW consolidate --org JGDW --period 2026H1 --by org --format csv 2>/dev/null)
	check_eq "--by org adds an org column" "$(head -1 <<<"$csv")" "org,code,name,unit,value,previous,change,change_unit"
	check_eq "--by org: total first, then each child" \
		"$(cut -d, -f1 <<<"$csv" | sed 1d | uniq | tr '\n' ' ')" " ZFW-JG FY-DZZ JCY-DZB SFJ-DZB "
	fy_sum=$(($(example_values study_sessions 2026-01 2026-06 | awk '$1 ~ /^FY-/ { s += $3 } END { print s }')))
	check_eq "the FY-DZZ group adds up its two branches" \
		"$(awk -F, '$1 == "FY-DZZ" && $2 == "study_sessions" { print $5 }' <<<"$csv")" "$fy_sum"
	csv=$(yb_as central JGDW consolidate --org FY-DZZ --period 2026-03 --by month --format csv 2>/dev/null)
	check_eq "--by month over one month: total and that month" \
		"$(cut -d, -f1 <<<"$csv" | sed 1d | uniq | tr '\n' ' ')" " 2026-03 "
	csv=$(yb_as central JGDW consolidate --org JGDW --period 2026Q1 --by month --format json 2>/dev/null)
	check_match "JSON groups carry completeness" "$csv" '"expected": 15'
	check_exit "a branch consolidates only itself" 1 "PERMISSION_DENIED" \
		yb_as branch ZFW-JG consolidate --org JGDW --period 2026H1
	check_exit "a bad period is a usage error" 2 "period" \
		yb_as central JGDW consolidate --period 2026H3
	check_exit "a period over 20 years is refused" 4 "longer than 240 months" \
		yb_as central JGDW consolidate --period 2000-01..2099-12 --by month
	check_exit "a comparison before 1900 is refused" 1 "before 1900" \
		yb_as central JGDW consolidate --period 1900 --compare yoy
}

test_refusals_leave_store_unchanged() {
	local before other out lines
	before=$(revisions)
	other="$TMP/other"
	"$YB_SRC/certs/yuebao-certs.sh" init "$other" >/dev/null
	"$YB_SRC/certs/yuebao-certs.sh" issue "$other" branch ZFW-JG >/dev/null
	check_exit "a certificate from another CA fails the TLS handshake" 3 "cannot connect" \
		"$YB_BIN/yuebao" --server "$YB_URL" --ca "$YB_PKI/ca.crt" --cert "$other/branch-ZFW-JG.crt" \
		--key "$other/branch-ZFW-JG.key" submit "$RETURNS/ZFW-JG/2026-01.csv" --period 2026-07
	# openssl offers no client certificate; the daemon must drop the handshake
	# before anything reaches the RPC layer (no request line is logged). In
	# TLS 1.3 the client's side of the handshake ends before the server has
	# checked its certificate: -ign_eof keeps it reading until the refusal.
	lines=$(wc -l <"$LOG")
	out=$(printf 'hello\n' | timeout 10 openssl s_client -ign_eof -connect "${YB_URL#tls+tcp://}" \
		-CAfile "$YB_PKI/ca.crt" -servername localhost 2>&1) || true
	check_match "a client without a certificate is cut off in the handshake" "$out" \
		"unexpected eof|alert|handshake failure"
	check_eq "and never reaches the RPC layer" "$(wc -l <"$LOG")" "$lines"
	check_exit "a branch cannot submit for another branch" 1 "PERMISSION_DENIED.*ZFW-JG may not submit for org unit FY-DZB" \
		yb_as branch ZFW-JG submit "$RETURNS/FY-DZB/2026-01.csv" --period 2026-07 --org FY-DZB
	check_exit "central cannot submit" 1 "PERMISSION_DENIED" \
		yb_as central JGDW submit "$RETURNS/FY-DZB/2026-01.csv" --period 2026-07 --org FY-DZB
	check_exit "a month that has not begun is refused" 4 "has not begun" \
		yb_as branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-01.csv" --period 2099-01
	check_exit "an amendment without a reason is refused" 4 "needs a reason" \
		yb_as branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-01.csv" --period 2026-01
	check_eq "refused calls stored nothing" "$(revisions)" "$before"
}

# bad_return NAME PATTERN SED-EXPRESSION: a copy of an example with one change is refused.
bad_return() {
	local f="$TMP/bad.csv" before
	before=$(revisions)
	sed -e "$3" "$RETURNS/ZFW-JG/2026-02.csv" >"$f"
	check_exit "refused: $1" 4 "$2" yb_as branch ZFW-JG submit "$f" --period 2026-07
	check_eq "store unchanged after: $1" "$(revisions)" "$before"
}

test_bad_values() {
	bad_return "unknown code" "line 83.*no_such_code" '$a no_such_code,x,y,3'
	bad_return "negative value" "line 4: study_sessions.*negative" 's/^study_sessions,\(.*\),[0-9]*$/study_sessions,\1,-2/'
	bad_return "fractional int" "line 4: study_sessions.*whole number" 's/^study_sessions,\(.*\),[0-9]*$/study_sessions,\1,2.5/'
	bad_return "violated error rule" "r_survey_valid.*survey_valid" 's/^survey_valid,\(.*\),[0-9]*$/survey_valid,\1,99999/'
	bad_return "duplicate code" "study_sessions" '$a study_sessions,x,y,3'
}

test_warning_accepted() {
	local f="$TMP/warn.csv" out
	sed -e 's/^study_attendance,\(.*\),[0-9]*$/study_attendance,\1,99999/' "$RETURNS/ZFW-JG/2026-02.csv" >"$f"
	out=$(yb_as branch ZFW-JG submit "$f" --period 2026-07 2>&1) || true
	check_match "a warning rule is accepted" "$out" "submitted ZFW-JG 2026-07 revision 1"
	check_match "and the warning is shown" "$out" "warning: .*study_attendance"
	out=$(yb_as branch ZFW-JG show --period 2026-07 2>&1) || true
	check_match "the warning is stored with the revision" "$out" "warning: .*study_attendance"
}

test_outlier_warnings() {
	local f="$TMP/outlier.csv" out members
	members=$(grep '^members_total,' "$RETURNS/SFJ-DZB/2026-06.csv" | cut -d, -f4)
	sed -e 's/^study_sessions,\(.*\),[0-9]*$/study_sessions,\1,100/' \
		-e "s/^members_total,\\(.*\\),[0-9]*\$/members_total,\\1,$((members * 2))/" \
		"$RETURNS/SFJ-DZB/2026-06.csv" >"$f"
	out=$(yb_as branch SFJ-DZB submit "$f" --period 2026-07 --dry-run 2>&1) || true
	check_match "a flow far above the branch's own median is flagged" "$out" \
		"warning: line 4: study_sessions: 100 is more than 3 times the median of its last 6 months"
	check_match "a stock that doubles is flagged" "$out" \
		"warning: line 2: members_total: $((members * 2)) is \+100% from $members in 2026-06 \(more than 50%\)"
	check_match "outliers are warnings: the return is valid" "$out" "dry run: .* valid"
}

test_call_id_executes_once() {
	local id=0123456789abcdef0123456789abcdef a b
	a=$(yb_as branch SFJ-DZB --call-id "$id" submit "$RETURNS/SFJ-DZB/2026-02.csv" --period 2026-08 2>&1) || true
	b=$(yb_as branch SFJ-DZB --call-id "$id" submit "$RETURNS/SFJ-DZB/2026-02.csv" --period 2026-08 2>&1) || true
	check_match "first call stores revision 1" "$a" "revision 1"
	check_eq "the retried call gets the same reply" "$b" "$a"
	check_eq "and executes once" "$(db_sql "SELECT count(*) FROM revisions WHERE org = 'SFJ-DZB' AND month = 2026 * 12 + 7")" "1"
	check_exit "the same call id for another request is refused, not answered with the old receipt" 1 \
		"ALREADY_EXISTS.*different request" \
		yb_as branch SFJ-DZB --call-id "$id" submit "$RETURNS/SFJ-DZB/2026-03.csv" --period 2026-09
	check_eq "and stores nothing" "$(db_sql "SELECT count(*) FROM revisions WHERE org = 'SFJ-DZB' AND month = 2026 * 12 + 8")" "0"
}

# Writes that race for one return: each is checked on its own, before the
# write turn, and then finds the return changed by the others; the daemon
# checks it again under the turn, so every amendment gets a revision of its
# own and only one of two accepts wins.
test_concurrent_writes_to_one_return() {
	local i pids=() ok=0 accepted
	for i in $(seq 1 12); do
		yb_as branch SFJ-DZB submit "$RETURNS/SFJ-DZB/2026-02.csv" --period 2026-08 \
			--reason "amendment $i" >"$TMP/amend.$i" 2>&1 &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" && ok=$((ok + 1))
	done
	check_eq "12 concurrent amendments of one return all stored" "$ok" "12"
	check_eq "as revisions 2 to 13, each once" \
		"$(db_sql "SELECT count(DISTINCT revision) || '/' || min(revision) || '/' || max(revision) FROM revisions WHERE org = 'SFJ-DZB' AND month = 2026 * 12 + 7")" \
		"13/1/13"
	for i in 1 2; do
		yb_as central JGDW review --accept --org SFJ-DZB --period 2026-08 >"$TMP/accept.$i" 2>&1 &
		pids[i]=$!
	done
	ok=0
	for i in 1 2; do
		wait "${pids[$i]}" && ok=$((ok + 1))
	done
	check_eq "of two concurrent accepts, one is applied" "$ok" "1"
	accepted=$(db_sql "SELECT count(*) FROM reviews WHERE org = 'SFJ-DZB' AND month = 2026 * 12 + 7")
	check_eq "and one review is stored" "$accepted" "1"
	check_match "the other is refused: the return is already accepted" "$(cat "$TMP/accept.1" "$TMP/accept.2")" \
		"is accepted: it cannot be accepted"
}

test_client_commands() {
	local out tpl="$TMP/template.csv" filled="$TMP/filled.csv" before
	out=$(yb_as branch ZFW-JG ping 2>&1) || true
	check_match "ping: who the server thinks you are" "$out" "O=yuebao-demo, OU=branch, CN=ZFW-JG"
	out=$(yb_as branch ZFW-JG catalog --format csv 2>&1) || true
	check_eq "catalog --format csv: 81 elements" "$(grep -c '^element,' <<<"$out")" "81"
	check_match "catalog lists the indicators with formulas" "$out" \
		"^indicator,study_coverage_rate,.*study_attendance / study_expected \* 100"
	out=$(yb_as branch ZFW-JG catalog --format json 2>&1) || true
	check_match "catalog --format json" "$out" '"code": "members_total"'
	yb_as branch ZFW-JG template --period 2026-09 --output "$tpl" 2>/dev/null
	check_eq "template file starts with a UTF-8 byte-order mark for Excel" "$(head -c 3 "$tpl" | od -An -tx1 | tr -d ' ')" "efbbbf"
	check_eq "template header" "$(head -1 "$tpl" | sed 's/^\xEF\xBB\xBF//')" "code,name,unit,value"
	out=$(yb_as branch ZFW-JG template --period 2026-07 --from-previous 2>&1) || true
	check_eq "--from-previous fills members_total from 2026-06" "$(grep '^members_total,' <<<"$out" | cut -d, -f4)" \
		"$(grep '^members_total,' "$RETURNS/ZFW-JG/2026-06.csv" | cut -d, -f4)"
	check_eq "--from-previous leaves flows blank" "$(grep '^study_sessions,' <<<"$out" | cut -d, -f4)" ""
	check_match "--from-previous says what it did" "$out" "started from 2026-06 revision 1: 2 stock values filled in"
	out=$(yb_as branch ZFW-JG template --period 2025-01 --from-previous 2>&1) || true
	check_match "--from-previous without a previous return says so" "$out" "no return for 2024-12"
	check_eq "template: the month it is for, as Excel keeps it" "$(sed -n 2p "$tpl" | cut -d, -f1,4)" "period,202609"
	check_eq "template: then one row per element" "$(($(wc -l <"$tpl") - 2))" "81"
	# Fill the template from an example, as a clerk would, keeping its name/unit columns.
	awk -F, 'NR == FNR { v[$1] = $4; next } FNR <= 2 { print; next }
		{ print $1 "," $2 "," $3 "," v[$1] }' "$RETURNS/ZFW-JG/2026-03.csv" "$tpl" >"$filled"
	out=$(XDG_CACHE_HOME="$TMP/cache" "$YB_BIN/yuebao" validate "$filled" --catalog "$YB_SRC/server/catalog" 2>&1) || true
	check_match "validate: the filled template is valid offline" "$out" "valid, 81 values"
	check_match "validate: and says which month it is for" "$out" "the return for 2026-09"
	sed -i 's/^study_sessions,\(.*\),[0-9]*$/study_sessions,\1,x/' "$filled"
	check_exit "validate: exit 4 and the line for a bad value" 4 "line 5: study_sessions" \
		"$YB_BIN/yuebao" validate "$filled" --catalog "$YB_SRC/server/catalog"
	before=$(revisions)
	check_exit "submit --dry-run reports the same error from the server" 4 "line 5: study_sessions" \
		yb_as branch ZFW-JG submit "$filled" --period 2026-09 --dry-run
	sed -i 's/^study_sessions,\(.*\),x$/study_sessions,\1,4/' "$filled"
	check_exit "submit --dry-run of a valid file" 0 "dry run: .* valid and was not stored" \
		yb_as branch ZFW-JG submit "$filled" --period 2026-09 --dry-run
	check_eq "a dry run stores nothing" "$(revisions)" "$before"
	check_exit "show of a month never submitted" 1 "NOT_FOUND.*no return from ZFW-JG for 2026-09" \
		yb_as branch ZFW-JG show --period 2026-09
	check_exit "a branch cannot read another branch's return" 1 "PERMISSION_DENIED" \
		yb_as branch ZFW-JG show --org FY-DZB --period 2026-01
	out=$(yb_as central JGDW show --org FY-DZB --period 2026-01 --format csv 2>&1) || true
	check_eq "central reads a return of its subtree, as submitted" \
		"$(grep '^study_sessions,' <<<"$out" | cut -d, -f4)" \
		"$(grep '^study_sessions,' "$RETURNS/FY-DZB/2026-01.csv" | cut -d, -f4)"
	check_exit "usage errors exit 2" 2 "unknown option" yb_as branch ZFW-JG consolidate --bogus
}

test_clock_window() {
	if [ -z "$YB_FAKETIME_LIB" ]; then
		fail "libfaketime is installed (scripts/setup.sh installs it)"
		return
	fi
	check_exit "a request stamped an hour ahead is refused as stale" 1 \
		"UNAUTHENTICATED.*off the server's clock" \
		yb_faketime "+1h" "$YB_BIN/yuebao" --server "$YB_URL" --ca "$YB_PKI/ca.crt" \
		--cert "$YB_PKI/branch-ZFW-JG.crt" --key "$YB_PKI/branch-ZFW-JG.key" ping
}

test_hung_server() {
	local t0 out rc=0 url=$YB_URL pid=$YB_DAEMON_PID
	# A stopped daemon still has its port: the kernel accepts the TCP connection
	# and nothing answers the TLS handshake. The client must give up on its own.
	# A daemon of its own, stopped and resumed, so that the main one serves
	# the rest of this test undisturbed.
	if ! yb_start_daemon "$YB_PKI" "$TMP/hung.db" "$ORGS_COPY" "$TMP/hung.log"; then
		YB_URL=$url YB_DAEMON_PID=$pid
		fail "a second daemon starts for the hung-server check"
		return
	fi
	kill -STOP "$YB_DAEMON_PID"
	t0=$SECONDS
	# The client leaves its abandoned dial running until it exits (rpc.h):
	# LeakSanitizer is off for this one call.
	out=$(ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" timeout 60 "$YB_BIN/yuebao" \
		--server "$YB_URL" --ca "$YB_PKI/ca.crt" --cert "$YB_PKI/branch-ZFW-JG.crt" \
		--key "$YB_PKI/branch-ZFW-JG.key" --timeout 2 ping 2>&1) || rc=$?
	kill -CONT "$YB_DAEMON_PID"
	yb_stop_daemon
	YB_URL=$url YB_DAEMON_PID=$pid
	check_eq "a server that never answers the handshake: the client gives up with exit 3" "$rc" 3
	check_match "and says why" "$out" "cannot connect to .*: no session within 2 s"
	check_match "within about its --timeout (2 s), not the test's 60 s limit" "$((SECONDS - t0))" "^[2-9]$"
}

test_reload_on_sighup() {
	local out before after loads
	out=$(yb_as central JGDW consolidate --org NEW-DZB --period 2026H1 2>&1) || true
	check_match "an org unit not yet in the tree is unknown" "$out" "NOT_FOUND"
	before=$(yb_as central JGDW consolidate --org JGDW --period 2026H1 --compare yoy --by org \
		--format csv 2>/dev/null)
	loads=$(db_sql "SELECT count(*) FROM loads WHERE kind = 'orgs'")
	printf 'NEW-DZB,新设党支部,JGDW\n' >>"$ORGS_COPY"
	reload_daemon "$LOG"
	check_match "a new tree shape rebuilds the consolidation pre-aggregates" \
		"$(cat "$LOG")" "pre-aggregates rebuilt \(the org tree's shape"
	after=$(yb_as central JGDW consolidate --org JGDW --period 2026H1 --compare yoy --by org \
		--format csv 2>/dev/null | grep -v '^NEW-DZB,')
	check_eq "and the figures are those of before the reload" "$after" "$before"
	out=$(yb_as central JGDW consolidate --org NEW-DZB --period 2026H1 2>&1) || true
	check_match "after SIGHUP the new org unit is known" "$out" "新设党支部 \(NEW-DZB\)"
	check_eq "each load is recorded in the store" \
		"$(db_sql "SELECT count(*) FROM loads WHERE kind = 'orgs'")" "$((loads + 1))"
	printf 'BROKEN\n' >>"$ORGS_COPY"
	reload_daemon "$LOG"
	check_match "a broken org file is refused with its line" "$(cat "$LOG")" \
		"reload failed.*line 10"
	out=$(yb_as central JGDW consolidate --org NEW-DZB --period 2026H1 2>&1) || true
	check_match "and the daemon keeps serving the previous tree" "$out" "NEW-DZB"
	sed -i '$d' "$ORGS_COPY"
}

test_revocation_on_sighup() {
	check_exit "before revocation JCY-DZB is served" 0 "CN=JCY-DZB" yb_as branch JCY-DZB ping
	"$YB_SRC/certs/yuebao-certs.sh" revoke "$YB_PKI" branch JCY-DZB >/dev/null
	reload_daemon "$LOG"
	check_exit "after revoke and SIGHUP it gets no TLS session, and is told why" 3 \
		"the server refused this client's certificate: it is revoked" yb_as branch JCY-DZB ping
	check_exit "other branches are still served" 0 "CN=SFJ-DZB" yb_as branch SFJ-DZB ping
}

main() {
	setup
	test_submit_examples
	test_consolidate_yoy
	test_consolidate_breakdowns
	test_refusals_leave_store_unchanged
	test_bad_values
	test_warning_accepted
	test_outlier_warnings
	test_call_id_executes_once
	test_concurrent_writes_to_one_return
	test_client_commands
	test_clock_window
	test_hung_server
	test_reload_on_sighup
	test_revocation_on_sighup
	check_clean_stop
	assert_summary
}

main "$@"
