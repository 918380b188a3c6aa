#!/usr/bin/env bash
# The life of a return over one month, with the real daemon and client and
# a fake clock (libfaketime) so that on time and late are deterministic:
# three branches, one late, one rejected then corrected, one accepted then
# an amendment refused, reopened and amended; status and history checked
# field by field; who may review and read what; closing a period; deadlines
# and times on the office's clock (Beijing) while every machine runs on UTC.
# shellcheck source=tests/integration/preamble.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/preamble.sh"

export TZ=UTC

# at DATE: every later process (certificates, daemon, clients) lives at DATE
# and after; returns for 2026-06 are due by the end of 2026-07-05.
at() {
	if [ -z "$YB_FAKETIME_LIB" ]; then
		echo "libfaketime is not installed (scripts/setup.sh installs it)" >&2
		exit 1
	fi
	export FAKETIME="@$1" LD_PRELOAD="$YB_FAKETIME_LIB"
	export ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0"
}

# cell CSV ORG FIELD: a field of the status CSV row of ORG (3 month, 4 state,
# 5 revision, 6 on_time, 8 closed).
cell() { awk -F, -v org="$2" -v f="$3" '$1 == org { print $f }' <<<"$1"; }

revisions_of() { db_sql "SELECT count(*) FROM revisions WHERE org = '$1'"; }

# corrected FILE: the FY-DZB June return with study_sessions changed to 9.
corrected() {
	sed 's/^study_sessions,\(.*\),[0-9]*$/study_sessions,\1,9/' "$RETURNS/FY-DZB/2026-06.csv" >"$1"
}

test_first_week() {
	at "2026-07-03 10:00:00"
	yb_make_pki "$YB_PKI" "$ORGS"
	"$YB_SRC/certs/yuebao-certs.sh" issue "$YB_PKI" central FY-DZZ >/dev/null
	yb_start_daemon "$YB_PKI" "$DB" "$ORGS" "$LOG"
	check_exit "ZFW-JG submits June on time" 0 "revision 1, on time" \
		yb_as branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-06.csv" --period 2026-06
	check_exit "FY-DZB submits June on time" 0 "revision 1, on time" \
		yb_as branch FY-DZB submit "$RETURNS/FY-DZB/2026-06.csv" --period 2026-06

	check_exit "a branch cannot review" 1 "PERMISSION_DENIED.*only the central office" \
		yb_as branch ZFW-JG review --org ZFW-JG --period 2026-06 --accept
	check_exit "an auditor cannot review" 1 "PERMISSION_DENIED" \
		yb_as auditor JGDW review --org ZFW-JG --period 2026-06 --accept
	check_exit "a central office cannot review outside its subtree" 1 \
		"PERMISSION_DENIED.*FY-DZZ may not read org unit ZFW-JG" \
		yb_as central FY-DZZ review --org ZFW-JG --period 2026-06 --accept
	check_exit "nor see the status outside it" 1 "PERMISSION_DENIED" \
		yb_as central FY-DZZ status --org JGDW --period 2026-06
	check_exit "a branch cannot see another branch's history" 1 "PERMISSION_DENIED" \
		yb_as branch ZFW-JG history --org FY-DZB --period 2026-06

	check_exit "central accepts ZFW-JG" 0 "ZFW-JG 2026-06 revision 1 is now accepted" \
		yb_as central JGDW review --org ZFW-JG --period 2026-06 --accept --comment "数据完整"
	check_exit "an amendment of an accepted return is refused, saying who accepted it" 1 \
		"FAILED_PRECONDITION.*accepted by O=yuebao-demo, OU=central, CN=JGDW on 2026-07-03.*reopen" \
		yb_as branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-06.csv" --period 2026-06 --reason "again"
	check_eq "and nothing was stored" "$(revisions_of ZFW-JG)" "1"

	check_exit "a rejection needs a comment" 4 "comment" \
		yb_as central JGDW review --org FY-DZB --period 2026-06 --reject
	check_exit "central rejects FY-DZB" 0 "revision 1 is now rejected" \
		yb_as central JGDW review --org FY-DZB --period 2026-06 --reject --comment "党课次数有误"
	check_match "the branch sees the rejection and its comment" \
		"$(yb_as branch FY-DZB show --period 2026-06 2>&1)" \
		"revision 1 of 1: rejected.*|reject revision 1 by .*CN=JGDW: \"党课次数有误\""
	corrected "$TMP/fy.csv"
	check_exit "a correction needs a reason" 4 "needs a reason" \
		yb_as branch FY-DZB submit "$TMP/fy.csv" --period 2026-06
	check_exit "FY-DZB resubmits with a reason" 0 "revision 2" \
		yb_as branch FY-DZB submit "$TMP/fy.csv" --period 2026-06 --reason "按意见更正党课次数"
	yb_stop_daemon
}

test_second_week() {
	local csv err hist
	at "2026-07-08 09:00:00"
	yb_start_daemon "$YB_PKI" "$DB" "$ORGS" "$LOG"
	check_exit "JCY-DZB submits June after the 5th: late" 0 "revision 1, late" \
		yb_as branch JCY-DZB submit "$RETURNS/JCY-DZB/2026-06.csv" --period 2026-06

	csv=$(yb_as central JGDW status --period 2026-06 --format csv 2>"$TMP/err") || true
	err=$(cat "$TMP/err")
	check_eq "status CSV header" "$(head -1 <<<"$csv")" \
		"org,name,month,state,revision,on_time,received_at,closed"
	check_eq "status: one row per branch" "$(($(wc -l <<<"$csv") - 1))" "5"
	check_eq "ZFW-JG accepted, revision 1, on time" \
		"$(cell "$csv" ZFW-JG 4),$(cell "$csv" ZFW-JG 5),$(cell "$csv" ZFW-JG 6),$(cell "$csv" ZFW-JG 8)" \
		"accepted,1,yes,no"
	check_eq "FY-DZB submitted, revision 2, on time (its first submission was)" \
		"$(cell "$csv" FY-DZB 4),$(cell "$csv" FY-DZB 5),$(cell "$csv" FY-DZB 6)" "submitted,2,yes"
	check_eq "JCY-DZB submitted, late" \
		"$(cell "$csv" JCY-DZB 4),$(cell "$csv" JCY-DZB 5),$(cell "$csv" JCY-DZB 6)" "submitted,1,no"
	check_eq "FY-ZXJ and SFJ-DZB missing" "$(cell "$csv" FY-ZXJ 4),$(cell "$csv" SFJ-DZB 4)" \
		"missing,missing"
	check_match "completeness and timeliness (DHIS2)" "$err" \
		"5 branches, 3 of 5 returns present \(completeness 60.0%\), 2 on time \(timeliness 40.0%\), 1 accepted, 0 rejected"
	check_eq "a page size of 2 gives the same status" \
		"$(yb_as central JGDW status --period 2026-06 --format csv --page-size 2 2>/dev/null)" "$csv"
	check_match "status over a half year is a branch × month grid" \
		"$(yb_as central JGDW status --period 2026H1 2>&1)" "2026-01 +2026-02 +2026-03 +2026-04 +2026-05 +2026-06"
	check_eq "a central office of a subtree sees its branches only" \
		"$(yb_as central FY-DZZ status --period 2026-06 --format csv 2>/dev/null | sed 1d | cut -d, -f1 | tr '\n' ' ')" \
		"FY-DZB FY-ZXJ "

	hist=$(yb_as branch FY-DZB history --period 2026-06 --format csv 2>&1) || true
	check_eq "history CSV header" "$(head -1 <<<"$hist")" \
		"revision,state,received_at,on_time,submitter,fingerprint,reason,code,before,after"
	check_match "revision 1: rejected, on time, 81 values" "$hist" \
		"^1,rejected,2026-07-03T18:00:[0-9]{2}\+08:00,yes,\"O=yuebao-demo, OU=branch, CN=FY-DZB\",[0-9a-f]{64},,members_total,,"
	check_eq "revision 1 lists every value it brought" "$(grep -c '^1,' <<<"$hist")" "81"
	# (the submitter, quoted, spans fields 5-7 for cut; the fingerprint is field 8)
	check_eq "revision 2 changed only study_sessions, with its reason" \
		"$(grep '^2,' <<<"$hist" | cut -d, -f2,4,9-)" \
		"submitted,yes,按意见更正党课次数,study_sessions,$(grep '^study_sessions,' "$RETURNS/FY-DZB/2026-06.csv" | cut -d, -f4),9"
	check_match "history shows the review with its comment" \
		"$(yb_as branch FY-DZB history --period 2026-06 2>&1)" \
		"reject revision 1 by O=yuebao-demo, OU=central, CN=JGDW: \"党课次数有误\""
	check_eq "a page size of 1 gives the same history" \
		"$(yb_as branch FY-DZB history --period 2026-06 --format csv --page-size 1 2>&1)" "$hist"
}

test_reopen_and_accepted_only() {
	local all acc zfw
	check_exit "central reopens ZFW-JG" 0 "revision 1 is now submitted" \
		yb_as central JGDW review --org ZFW-JG --period 2026-06 --reopen --comment "请补充数据"
	check_exit "reopen of a return that is not accepted is refused" 1 "FAILED_PRECONDITION.*only an accepted" \
		yb_as central JGDW review --org ZFW-JG --period 2026-06 --reopen
	check_exit "after reopening, the amendment is accepted" 0 "revision 2, late" \
		yb_as branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-06.csv" --period 2026-06 --reason "补充"
	check_exit "central accepts the amendment" 0 "revision 2 is now accepted" \
		yb_as central JGDW review --org ZFW-JG --period 2026-06 --accept
	all=$(yb_as central JGDW consolidate --period 2026-06 --format csv 2>/dev/null |
		awk -F, '$1 == "study_sessions" { print $4 }') || true
	acc=$(yb_as central JGDW consolidate --period 2026-06 --format csv --accepted-only 2>/dev/null |
		awk -F, '$1 == "study_sessions" { print $4 }') || true
	zfw=$(grep '^study_sessions,' "$RETURNS/ZFW-JG/2026-06.csv" | cut -d, -f4)
	check_eq "--accepted-only counts only the accepted return" "$acc" "$zfw"
	check_eq "the default counts every return not rejected" "$all" \
		"$((zfw + 9 + $(grep '^study_sessions,' "$RETURNS/JCY-DZB/2026-06.csv" | cut -d, -f4)))"
}

test_close_period() {
	check_exit "a branch cannot close a period" 1 "PERMISSION_DENIED" \
		yb_as branch SFJ-DZB close --period 2026-06
	check_exit "central closes the first half year" 0 "JGDW 2026H1 \(6 months\) is now closed" \
		yb_as central JGDW close --period 2026H1 --force --comment "上半年总结已发布"
	check_exit "a closed period refuses a submission" 1 \
		"FAILED_PRECONDITION.*period 2026-06 is closed for JGDW by O=yuebao-demo, OU=central, CN=JGDW" \
		yb_as branch SFJ-DZB submit "$RETURNS/SFJ-DZB/2026-06.csv" --period 2026-06
	check_eq "and stores nothing" "$(revisions_of SFJ-DZB)" "0"
	check_eq "status shows the month closed" \
		"$(yb_as central JGDW status --period 2026-06 --format csv 2>/dev/null | awk -F, '$1 == "SFJ-DZB" { print $8 }')" "yes"
	check_exit "central reopens the month" 0 "is now open" \
		yb_as central JGDW close --period 2026-06 --reopen --comment "补报"
	check_exit "submission works again" 0 "revision 1, late" \
		yb_as branch SFJ-DZB submit "$RETURNS/SFJ-DZB/2026-06.csv" --period 2026-06
	check_eq "closing and reopening are recorded" \
		"$(db_sql "SELECT closed FROM closures WHERE org = 'JGDW' AND month = 2026 * 12 + 5 ORDER BY id" | paste -sd, -)" \
		"1,0"
}

# The office keeps Beijing time (the default time zone) while the daemon and
# the clients run with TZ=UTC: 2026-12-31T17:00Z is already January there,
# and a return sent at 2027-01-05T20:00Z (04:00 on the 6th in Beijing) is
# late for a day-5 deadline. Every time shown says +08:00; CSV and JSON carry
# RFC 3339; the daemon's log stays in UTC.
test_office_time_zone() {
	local db="$TMP/tz.db" log="$TMP/tz.log" out
	yb_stop_daemon
	at "2026-12-31 17:00:00"
	yb_start_daemon "$YB_PKI" "$db" "$ORGS" "$log"
	check_exit "01:00 on 1 January in Beijing: January has begun there" 0 "revision 1, on time" \
		yb_as branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-06.csv" --period 2027-01
	check_exit "December, sent the same hour, is on time, received at +08:00" 0 \
		"revision 1, on time, received 2027-01-01 01:00:[0-9]{2} \+08:00" \
		yb_as branch FY-ZXJ submit "$RETURNS/FY-ZXJ/2026-06.csv" --period 2026-12
	yb_stop_daemon

	at "2027-01-05 20:00:00"
	yb_start_daemon "$YB_PKI" "$db" "$ORGS" "$log"
	check_exit "04:00 on the 6th in Beijing is late for a day-5 deadline" 0 \
		"revision 1, late, received 2027-01-06 04:00:[0-9]{2} \+08:00" \
		yb_as branch FY-DZB submit "$RETURNS/FY-DZB/2026-06.csv" --period 2026-12
	check_match "the daemon's log stays in UTC" "$(grep Submit "$log" | tail -1)" \
		"^2027-01-05T20:00:[0-9]{2}\.[0-9]{3}Z "
	check_match "ping names the office's zone and clock" "$(yb_as branch FY-DZB ping 2>&1)" \
		"server time 2027-01-06 04:00:[0-9]{2} \+08:00, time zone Asia/Shanghai"
	check_match "show: received at +08:00, late" \
		"$(yb_as branch FY-DZB show --period 2026-12 2>&1)" \
		"received 2027-01-06 04:00:[0-9]{2} \+08:00 \(late\)"
	check_match "history: received at +08:00, late" \
		"$(yb_as branch FY-DZB history --period 2026-12 2>&1)" \
		"revision 1: submitted, received 2027-01-06 04:00:[0-9]{2} \+08:00 \(late\)"
	check_match "history JSON: RFC 3339" \
		"$(yb_as branch FY-DZB history --period 2026-12 --format json 2>&1)" \
		'"received_at": "2027-01-06T04:00:[0-9]{2}\+08:00"'
	out=$(yb_as central JGDW status --org FY-DZZ --period 2026-12 --format json 2>&1 | tr -d ' \n') || true
	check_match "status JSON: RFC 3339, late" "$out" \
		'"org":"FY-DZB",[^]]*"on_time":false,"received_at":"2027-01-06T04:00:[0-9]{2}\+08:00"'
	check_match "status CSV: RFC 3339 on the office's clock" \
		"$(yb_as central JGDW status --org FY-DZZ --period 2026-12 --format csv 2>/dev/null)" \
		"^FY-ZXJ,.*,2026-12,submitted,1,yes,2027-01-01T01:00:[0-9]{2}\+08:00,no$"
	# 2 of 6 returns present, 1 of 6 on time (16.66...%), 2 of 12 (16.66...%).
	check_match "status rounds its rates like every other rate" \
		"$(yb_as central JGDW status --org FY-DZZ --period 2026Q4 2>&1)" \
		"completeness 33.3% \(2 of 6 returns\), timeliness 16.7% \(1 on time\)"
	yb_as central JGDW consolidate --org FY-DZZ --period 2026H2 --format csv >/dev/null 2>"$TMP/err" || true
	check_eq "consolidate rounds completeness too" "$(cat "$TMP/err")" \
		"FY-DZZ 2026H2: 2 of 12 returns (16.7%)"
	yb_as central JGDW review --org FY-DZB --period 2026-12 --accept >/dev/null 2>&1 || true
	check_exit "a refusal names the time of the acceptance at +08:00" 1 \
		"accepted by O=yuebao-demo, OU=central, CN=JGDW on 2027-01-06 04:0[0-9] \+08:00" \
		yb_as branch FY-DZB submit "$RETURNS/FY-DZB/2026-06.csv" --period 2026-12 --reason "again"
	yb_stop_daemon

	check_exit "an unknown time zone is refused at start" 2 \
		"unknown time zone 'Asia/Shangai'.*Asia/Shanghai" \
		"$YB_BIN/yuebaod" --listen tls+tcp://127.0.0.1:0 --db "$db" --cert "$YB_PKI/server.crt" \
		--key "$YB_PKI/server.key" --ca "$YB_PKI/ca.crt" --orgs "$ORGS" --timezone Asia/Shangai
	printf '[yuebaod]\ntimezone = UTC\n' >"$TMP/utc.ini"
	yb_start_daemon "$YB_PKI" "$db" "$ORGS" "$log" --config "$TMP/utc.ini"
	check_exit "with timezone = UTC in the INI file, 20:00Z on the 5th is on time" 0 \
		"revision 1, on time, received 2027-01-05 20:00:[0-9]{2} \+00:00" \
		yb_as branch SFJ-DZB submit "$RETURNS/SFJ-DZB/2026-06.csv" --period 2026-12
}

main() {
	test_first_week
	test_second_week
	test_reopen_and_accepted_only
	test_close_period
	test_office_time_zone
	yb_stop_daemon
	check_eq "the daemon stopped cleanly" "$YB_DAEMON_STATUS" "0"
	assert_summary
}

main "$@"
