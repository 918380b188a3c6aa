#!/usr/bin/env bash
# Who may do what, beyond the plain role rules of test_e2e: a certificate
# whose role does not fit its unit's place in the org tree. A branch is a
# unit without children; a branch certificate issued for a 党总支 or for the
# root would otherwise read its branches' returns and add its own return
# to their totals.
# shellcheck source=tests/integration/preamble.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/preamble.sh"

setup() {
	yb_make_pki "$YB_PKI" "$ORGS"
	yb_start_daemon "$YB_PKI" "$DB" "$ORGS" "$LOG"
	yb_as branch FY-DZB submit "$RETURNS/FY-DZB/2026-01.csv" --period 2026-01 >/dev/null
}

test_branch_certificate_for_a_parent() {
	local before code
	check_exit "yuebao-certs warns: a branch certificate for a unit with children" 0 \
		"warning: FY-DZZ has 2 units under it in .*a branch certificate is for a unit without any" \
		"$CERTS" issue "$YB_PKI" branch FY-DZZ --orgs "$ORGS"
	check_exit "yuebao-certs warns: a code that is not in the tree" 0 \
		"warning: NOPE is not in " "$CERTS" issue "$YB_PKI" central NOPE --orgs "$ORGS"
	check_exit "and says nothing for a real branch" 0 "^wrote " \
		"$CERTS" issue "$YB_PKI" auditor FY-DZB --orgs "$ORGS"
	"$CERTS" issue "$YB_PKI" branch JGDW >/dev/null
	before=$(revisions)
	for code in FY-DZZ JGDW; do
		check_exit "branch $code (has children): consolidate is refused, saying why" 1 \
			"refused \(PERMISSION_DENIED\): the branch certificate of $code is refused: $code has units under it" \
			yb_as branch "$code" consolidate --period 2026-01
		check_exit "branch $code: --explain shows nothing of its branches" 1 "PERMISSION_DENIED" \
			yb_as branch "$code" consolidate --period 2026-01 --explain study_sessions
		check_exit "branch $code: status is refused" 1 "PERMISSION_DENIED" \
			yb_as branch "$code" status --period 2026-01
		check_exit "branch $code: its own return is refused" 1 "PERMISSION_DENIED" \
			yb_as branch "$code" submit "$RETURNS/FY-DZB/2026-01.csv" --period 2026-01
	done
	check_eq "nothing was stored for them" "$(revisions)" "$before"
	check_exit "a real branch still reads its own return" 0 "FY-DZB" \
		yb_as branch FY-DZB show --period 2026-01
}

# unverified: how many refusals of callers that could not be verified are audited.
unverified() { db_sql "SELECT count(*) FROM audit_log WHERE action = 'refused:UNAUTHENTICATED'"; }

# A client looping on refused calls: the first 20 of a minute are audited
# one by one, the rest are counted into one entry (written at the latest
# when the daemon stops), so the log cannot be flooded; per certificate,
# and per address for callers that cannot be verified.
test_refusal_flood() {
	local before after i fp
	before=$(db_sql "SELECT count(*) FROM audit_log WHERE action = 'refused:PERMISSION_DENIED'")
	for i in $(seq 1 60); do
		yb_as branch ZFW-JG show --org FY-DZB --period 2026-01 >/dev/null 2>&1 || true
	done
	after=$(db_sql "SELECT count(*) FROM audit_log WHERE action = 'refused:PERMISSION_DENIED'")
	check_eq "60 refused calls of one certificate: 20 audit entries of their own" \
		"$((after - before))" "20"
	check_eq "every one of them is still in the daemon's log" \
		"$(grep -c 'GetReturn branch/ZFW-JG PERMISSION_DENIED' "$LOG")" "60"
	check_exit "another caller's refusals are not held back by this one" 1 "PERMISSION_DENIED" \
		yb_as branch FY-ZXJ show --org FY-DZB --period 2026-01
	check_eq "its refusal has its own entry" \
		"$(db_sql "SELECT count(*) FROM audit_log WHERE action = 'refused:PERMISSION_DENIED'")" \
		"$((after + 1))"
	# A caller that cannot be verified (its signature fails) is counted by its
	# address instead of a certificate.
	before=$(unverified)
	probe_from 127.0.0.2 --count 60 bad-signature >"$TMP/flood.out"
	check_eq "60 requests with a broken signature are each refused" \
		"$(grep -c 'UNAUTHENTICATED' "$TMP/flood.out")" "60"
	after=$(unverified)
	check_eq "60 unverified refusals from one address: 20 audit entries of their own" \
		"$((after - before))" "20"
	probe_from 127.0.0.3 bad-signature >/dev/null
	check_eq "another address's unverified refusal has its own entry" "$(unverified)" \
		"$((after + 1))"
	yb_stop_daemon
	check_match "the 40 others are one summary entry, naming the address" \
		"$(db_sql "SELECT object FROM audit_log WHERE action = 'refused:rate-limited'")" \
		"^addr:(::ffff:)?127\.0\.0\.2 dropped=40 since=[0-9]+$"
	fp=$(openssl x509 -in "$YB_PKI/branch-ZFW-JG.crt" -outform DER | sha256sum | cut -d' ' -f1)
	check_match "the 40 others are one summary entry, naming the certificate" \
		"$(db_sql "SELECT object FROM audit_log WHERE action = 'refused:rate-limited'")" \
		"^cert:$fp dropped=40 since=[0-9]+$"
}

# A central office or auditor of a subtree reads the audit entries of every
# unit of its subtree, not only those about its own unit.
test_audit_log_subtree() {
	local out
	"$CERTS" issue "$YB_PKI" central FY-DZZ >/dev/null
	"$CERTS" issue "$YB_PKI" auditor FY-DZZ >/dev/null
	yb_as branch FY-ZXJ submit "$RETURNS/FY-ZXJ/2026-01.csv" --period 2026-01 >/dev/null
	yb_as branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-01.csv" --period 2026-01 >/dev/null
	out=$(yb_as central FY-DZZ audit log --format csv)
	check_match "central FY-DZZ sees FY-DZB's submission" "$out" ",submit,FY-DZB/2026-01/r1,"
	check_match "and FY-ZXJ's" "$out" ",submit,FY-ZXJ/2026-01/r1,"
	if grep -q "ZFW-JG/" <<<"$out"; then
		fail "but nothing outside its subtree" "$(grep ZFW-JG/ <<<"$out")"
	else
		pass "but nothing outside its subtree"
	fi
	out=$(yb_as auditor FY-DZZ audit log --org FY-DZB --format csv)
	check_match "an auditor of FY-DZZ narrows to one of its units" "$out" ",submit,FY-DZB/2026-01/r1,"
	check_eq "and sees only that unit then" "$(grep -c 'FY-ZXJ/' <<<"$out" || true)" "0"
	check_exit "a unit outside the subtree is refused" 1 "PERMISSION_DENIED" \
		yb_as central FY-DZZ audit log --org ZFW-JG
}

main() {
	setup
	test_audit_log_subtree
	test_branch_certificate_for_a_parent
	test_refusal_flood
	yb_stop_daemon
	assert_summary
}

main "$@"
