#!/usr/bin/env bash
# The audit trail end to end: receipts prove their entries; an untouched
# store exports and verifies clean; then the SQLite file is tampered with
# directly (a stored value changed, a revision deleted, an audit entry
# rewritten, two entries swapped, the log truncated) and `audit verify`
# names the entry each time, and a receipt issued before the log was
# truncated and rebuilt fails `audit prove`. The auditor's own CA is the
# trust anchor: a bundle or receipt of another deployment (a second CA made
# here) is refused, naming both CA fingerprints. `audit log` names who did
# each thing: role, org unit and certificate fingerprint, refusals included.
# Nothing people are shown can be back-dated or edited unseen: received
# times, on-time flags, reasons, submitters, reviews and closures are each
# changed in the store and named; an entry made with the daemon's clock set
# back (libfaketime) is named against the checkpoint signed before it.
# shellcheck source=tests/integration/preamble.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/preamble.sh"

OTHER="$TMP/other-pki" # another deployment's CA
RECEIPTS="$HOME/.local/share/yuebao/receipts"

sql() { sqlite3 "$1" "$2"; }

# fp CERT: the SHA-256 fingerprint of a PEM certificate (of its DER), as yuebao prints it.
fp() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }

# verify BUNDLE [--trusted FILE]: audit verify against this deployment's CA.
verify() { "$YB_BIN/yuebao" --ca "$YB_PKI/ca.crt" audit verify "$@"; }

# verify_copy NAME SQL: applies SQL to a copy of the store, serves it, exports
# and verifies the bundle; prints verify's output and exit status.
verify_copy() {
	local name=$1 copy="$TMP/$1.db" out rc=0
	sqlite3 "$DB" ".backup '$copy'"
	sql "$copy" "$2"
	yb_start_daemon "$YB_PKI" "$copy" "$ORGS" "$TMP/$name.log"
	yb_as auditor JGDW audit export "$TMP/$name.bundle" >/dev/null
	yb_stop_daemon
	out=$(verify "$TMP/$name.bundle" 2>&1) || rc=$?
	printf '%s\nexit %s\n' "$out" "$rc"
}

# leaf_of HEX: the RFC 6962 leaf hash of an entry given in hex.
leaf_of() {
	{ printf '\000'; printf '%s' "$1" | sed 's/../\\x&/g' | xargs -0 printf '%b'; } |
		openssl dgst -sha256 -binary | od -An -tx1 | tr -d ' \n'
}

setup() {
	yb_make_pki "$YB_PKI" "$ORGS"
	"$YB_SRC/certs/yuebao-certs.sh" init "$OTHER" >/dev/null
	yb_start_daemon "$YB_PKI" "$DB" "$ORGS" "$LOG"
	yb_as branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-01.csv" --period 2026-01 >/dev/null
	yb_as branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-02.csv" --period 2026-02 >/dev/null
	yb_as branch FY-DZB submit "$RETURNS/FY-DZB/2026-01.csv" --period 2026-01 >/dev/null
	yb_as central JGDW review --org FY-DZB --period 2026-01 --accept \
		--comment "数据已核对, 同意" >/dev/null
	yb_as branch SFJ-DZB submit "$RETURNS/SFJ-DZB/2026-01.csv" --period 2026-01 \
		--receipt "$TMP/sfj.json" >/dev/null
	yb_as branch ZFW-JG submit "$RETURNS/FY-DZB/2026-01.csv" --period 2026-01 --org FY-DZB \
		>/dev/null 2>&1 || true # refused: audited as a security refusal
}

test_log_and_receipts() {
	local log
	log=$(yb_as auditor JGDW audit log --format csv 2>&1) || true
	check_eq "the log holds loads, submissions, the review and the refusal" \
		"$(cut -d, -f3 <<<"$log" | sed 1d | tr '\n' ' ')" \
		"load:orgs load:catalog submit submit submit review:accept submit refused:PERMISSION_DENIED "
	check_match "each submission names its return" "$log" "^3,.*,submit,ZFW-JG/2026-02/r1,[0-9a-f]{64},"
	check_exit "a branch may not read the audit log" 1 "PERMISSION_DENIED" yb_as branch ZFW-JG audit log
	check_eq "submit kept a receipt for each revision" "$(ls "$RECEIPTS" | tr '\n' ' ')" \
		"FY-DZB-2026-01-r1.json ZFW-JG-2026-01-r1.json ZFW-JG-2026-02-r1.json "
	check_exit "--receipt FILE chooses where" 0 "yuebao-receipt-v1" cat "$TMP/sfj.json"
	check_exit "a receipt proves its entry and that nothing before it changed" 0 \
		"entry 2 is in the log, and the log of 3 entries it was issued with is a prefix of today's 9 entries" \
		yb_as branch ZFW-JG audit prove --receipt "$RECEIPTS/ZFW-JG-2026-01-r1.json"
	check_exit "the latest receipt proves against an unchanged log" 0 "entry 6 is in the log" \
		yb_as branch SFJ-DZB audit prove --receipt "$TMP/sfj.json"
}

# Who did it: role, org unit and certificate of every entry, in every format.
test_log_names_who() {
	local log zfw central logcert
	zfw=$(fp "$YB_PKI/branch-ZFW-JG.crt")
	central=$(fp "$YB_PKI/central-JGDW.crt")
	logcert=$(fp "$YB_PKI/log.crt")
	log=$(yb_as auditor JGDW audit log --format csv 2>&1) || true
	check_eq "the CSV names the actor, the certificate and the comment" "$(head -1 <<<"$log")" \
		"index,time,action,object,leaf_hash,actor_role,actor_org,fingerprint,actor_verified,comment"
	check_match "a submission names the branch and its certificate" "$log" \
		"^3,.*,submit,ZFW-JG/2026-02/r1,[0-9a-f]{64},branch,ZFW-JG,$zfw,yes,$"
	check_match "a review names the central office, its certificate and its comment" "$log" \
		"^5,.*,review:accept,FY-DZB/2026-01/r1,[0-9a-f]{64},central,JGDW,$central,yes,\"数据已核对, 同意\"$"
	check_match "a refusal names the caller it refused" "$log" \
		"^7,.*,refused:PERMISSION_DENIED,Submit,[0-9a-f]{64},branch,ZFW-JG,$zfw,yes,$"
	check_match "a load names the daemon and its certificate" "$log" \
		"^0,.*,load:orgs,.*,[0-9a-f]{64},yuebaod,,$logcert,yes,$"
	log=$(yb_as auditor JGDW audit log 2>&1) || true
	check_match "the table names the actor, the certificate and the comment" "$log" \
		"^ +5 .*central/JGDW +${central:0:16} +review:accept +FY-DZB/2026-01/r1 +数据已核对, 同意$"
	check_match "and the refused caller" "$log" \
		"^ +7 .*branch/ZFW-JG +${zfw:0:16} +refused:PERMISSION_DENIED +Submit"
	log=$(yb_as auditor JGDW audit log --format json 2>&1) || true
	check_eq "JSON carries the same" \
		"$(jq -c '.entries[5] | [.index, .actor.role, .actor.org, .actor.fingerprint, .actor.verified, .action, .object, .comment]' <<<"$log")" \
		"[5,\"central\",\"JGDW\",\"$central\",true,\"review:accept\",\"FY-DZB/2026-01/r1\",\"数据已核对, 同意\"]"
	check_eq "JSON times are RFC 3339, and entries without a comment have null" \
		"$(jq -c '.entries[3] | [(.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}$")), .comment]' <<<"$log")" \
		"[true,null]"
}

test_explain() {
	local out
	out=$(yb_as central JGDW consolidate --period 2026-01 --explain study_sessions --format csv 2>&1) || true
	check_eq "--explain lists each return behind a figure with its audit entry" \
		"$(cut -d, -f1,2,3,4,6 <<<"$out" | tr '\n' ' ')" \
		"org,period,revision,code,log_index FY-DZB,2026-01,1,study_sessions,4 SFJ-DZB,2026-01,1,study_sessions,6 ZFW-JG,2026-01,1,study_sessions,2 "
	check_eq "and the values add up to the figure" \
		"$(sed 1d <<<"$out" | awk -F, '{ s += $5 } END { print s }')" \
		"$(yb_as central JGDW consolidate --period 2026-01 --format csv 2>/dev/null | awk -F, '$1 == "study_sessions" { print $4 }')"
	out=$(yb_as central JGDW consolidate --period 2026-01..2026-02 --explain members_total --format csv 2>&1) || true
	check_eq "a stock counts only each unit's latest month" \
		"$(grep '^ZFW-JG' <<<"$out" | cut -d, -f2)" "2026-02"
	out=$(yb_as central JGDW consolidate --period 2026-01 --explain study_coverage_rate --format csv 2>&1) || true
	check_eq "an indicator is explained by the elements of its formula" \
		"$(sed 1d <<<"$out" | cut -d, -f4 | sort -u | tr '\n' ' ')" "study_attendance study_expected "
	check_exit "an unknown code is refused" 4 "no_such" \
		yb_as central JGDW consolidate --period 2026-01 --explain no_such
}

test_clean_export_verifies() {
	yb_as auditor JGDW audit export "$TMP/clean" >/dev/null
	check_eq "the bundle has every part" "$(ls "$TMP/clean" | tr '\n' ' ')" \
		"ca.crt checkpoints.tsv closures.tsv entries.tsv log.crt requests reviews.tsv revisions.tsv "
	check_exit "an untouched store verifies clean, offline" 0 \
		"verified 9 entries, 9 checkpoints, 4 revisions with their signed requests, 1 reviews and 0 closures: nothing was altered or back-dated" \
		verify "$TMP/clean"
	check_exit "a branch may not export" 1 "PERMISSION_DENIED" yb_as branch ZFW-JG audit export "$TMP/nope"
	check_eq "an export that did not finish leaves nothing behind" \
		"$(ls -d "$TMP"/nope* 2>/dev/null)" ""
	check_exit "an existing bundle is never written over" 2 "clean exists already" \
		yb_as auditor JGDW audit export "$TMP/clean"
	# What an export cut short (a lost connection) leaves: DIR.partial, never DIR.
	mkdir "$TMP/half.partial"
	check_exit "the rest of an unfinished export is named, not reused" 2 \
		"cannot create .*/half.partial: .*an export that did not finish; delete it" \
		yb_as auditor JGDW audit export "$TMP/half"
	check_eq "and no bundle appears" "$(ls -d "$TMP/half" 2>/dev/null)" ""
}

# The auditor's own CA is the trust anchor, never the one a bundle or a
# receipt brings along.
test_own_ca_is_the_anchor() {
	local own other out rc
	own=$(fp "$YB_PKI/ca.crt")
	other=$(fp "$OTHER/ca.crt")
	check_exit "verify prints the fingerprint of the CA it used" 0 "CA certificate SHA-256 $own" \
		verify "$TMP/clean"
	check_exit "a bundle checked against another deployment's CA is refused (exit 1)" 1 \
		"the bundle was made under another CA" \
		"$YB_BIN/yuebao" --ca "$OTHER/ca.crt" audit verify "$TMP/clean"
	out=$("$YB_BIN/yuebao" --ca "$OTHER/ca.crt" audit verify "$TMP/clean" 2>&1) || true
	check_match "and the refusal names the bundle's CA" "$out" "$own"
	check_match "and the auditor's" "$out" "$other"
	check_exit "YUEBAO_CA is the anchor too" 1 "$other" \
		env YUEBAO_CA="$OTHER/ca.crt" "$YB_BIN/yuebao" audit verify "$TMP/clean"
	mkdir -p "$TMP/ini/yuebao"
	printf 'ca = %s\n' "$OTHER/ca.crt" >"$TMP/ini/yuebao/client.ini"
	check_exit "and so is client.ini" 1 "$other" \
		env XDG_CONFIG_HOME="$TMP/ini" "$YB_BIN/yuebao" audit verify "$TMP/clean"
	check_exit "without a CA of one's own, verify says what it needs (exit 2)" 2 "--ca" \
		env -u YUEBAO_CA -u XDG_CONFIG_HOME "$YB_BIN/yuebao" audit verify "$TMP/clean"
	cp -r "$TMP/clean" "$TMP/swapped"
	cp "$OTHER/ca.crt" "$TMP/swapped/ca.crt"
	check_exit "a bundle that brings another CA along is refused" 1 "$other" verify "$TMP/swapped"
	cp "$YB_PKI/ca.crt" "$TMP/swapped/ca.crt"
	cp "$OTHER/log.crt" "$TMP/swapped/log.crt"
	check_exit "a bundle signed by a log certificate of another CA fails" 4 \
		"checkpoint 1: signature does not verify: certificate not issued by this deployment's CA" \
		verify "$TMP/swapped"

	check_exit "prove prints the fingerprint of the CA it used" 0 "CA certificate SHA-256 $own" \
		yb_as branch ZFW-JG audit prove --receipt "$RECEIPTS/ZFW-JG-2026-01-r1.json"
	out=$("$YB_BIN/yuebao" --ca "$OTHER/ca.crt" audit prove --receipt "$TMP/sfj.json" 2>&1) &&
		rc=0 || rc=$?
	check_eq "a receipt checked against another deployment's CA is refused (exit 1)" "$rc" 1
	check_match "naming the receipt's CA" "$out" "$own"
	check_match "and the user's" "$out" "$other"
	jq 'del(.ca_sha256)' "$TMP/sfj.json" >"$TMP/sfj-old.json"
	check_exit "a receipt that does not name its CA is refused when its log certificate is not from the user's CA" \
		1 "not issued by your CA .*$other" \
		"$YB_BIN/yuebao" --ca "$OTHER/ca.crt" audit prove --receipt "$TMP/sfj-old.json"
}

test_tampering() {
	local out hex new month=$((2026 * 12))
	yb_stop_daemon
	sqlite_only "stores edited behind the daemon's back" || return 0
	out=$(verify_copy value "UPDATE revision_values SET value = value + 100 WHERE org = 'ZFW-JG' AND month = $month AND code = 'study_sessions'")
	check_match "a changed stored value is named with its entry" "$out" \
		"entry 2: ZFW-JG/2026-01/r1: the stored value of study_sessions is [0-9.]+, but the branch signed [0-9.]+"
	check_match "and verify fails" "$out" "exit 4"

	out=$(verify_copy deleted "DELETE FROM revision_findings WHERE org = 'SFJ-DZB'; DELETE FROM revision_values WHERE org = 'SFJ-DZB'; DELETE FROM revisions WHERE org = 'SFJ-DZB'")
	check_match "a deleted revision is named with its entry" "$out" \
		"entry 6: revision 1 of SFJ-DZB for 2026-01 is missing from the store: it was deleted"

	hex=$(sql "$DB" "SELECT hex(entry) FROM audit_log WHERE seq = 4")
	new=$(printf '%s' "$hex" | sed 's/323032362D3032/323032362D3034/') # 2026-02 -> 2026-04
	out=$(verify_copy rewritten "UPDATE audit_log SET entry = X'$new' WHERE seq = 4")
	check_match "an entry rewritten without its hash is named" "$out" \
		"entry 3: its content does not match its stored hash"
	out=$(verify_copy rehashed "UPDATE audit_log SET entry = X'$new', leaf = X'$(leaf_of "$new")' WHERE seq = 4")
	check_match "an entry rewritten with a new hash breaks the signed checkpoint" "$out" \
		"entry 3: the log up to it no longer matches the checkpoint signed when it was added"

	out=$(verify_copy state "UPDATE revisions SET state = 'rejected' WHERE org = 'FY-DZB'")
	check_match "a review state changed in the store is named" "$out" \
		"revision 1 of FY-DZB for 2026-01 is stored as rejected, but its reviews make it accepted"
	out=$(verify_copy comment "UPDATE reviews SET comment = 'changed afterwards'")
	check_match "a review comment changed afterwards is named with its entry" "$out" \
		"entry 5: the review:accept of FY-DZB/2026-01/r1 is missing from the store, or its comment was changed"

	out=$(verify_copy swapped "UPDATE audit_log SET seq = -3 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = 4; UPDATE audit_log SET seq = 4 WHERE seq = -3")
	check_match "two swapped entries are named" "$out" \
		"entry 2: the log up to it no longer matches the checkpoint signed when it was added"

	# Truncated after entry 4 with the tree's edge repaired (as whoever runs
	# the database would, so the daemon starts): the returns logged after it
	# are left without entries.
	out=$(verify_copy truncated "DELETE FROM audit_log WHERE seq > 4; DELETE FROM checkpoints WHERE size > 4;
		DELETE FROM audit_frontier; INSERT INTO audit_frontier SELECT 2, root FROM checkpoints WHERE size = 4")
	check_match "a truncated log leaves revisions without entries" "$out" \
		"revision 1 of FY-DZB for 2026-01 has no audit entry"
	check_match "each of them" "$out" "revision 1 of SFJ-DZB for 2026-01 has no audit entry"

	sqlite3 "$DB" ".backup '$TMP/cut.db'"
	sql "$TMP/cut.db" "DELETE FROM audit_log WHERE seq > 6"
	check_exit "a log cut without repair stops the daemon at start" 1 \
		"the audit log's edge does not match its 6 entries: the store was altered" \
		"$YB_BIN/yuebaod" --listen tls+tcp://127.0.0.1:0 --db "$TMP/cut.db" --cert "$YB_PKI/server.crt" \
		--key "$YB_PKI/server.key" --ca "$YB_PKI/ca.crt" --orgs "$ORGS"
}

test_rebuilt_log_fails_receipt() {
	local copy="$TMP/rebuilt.db"
	sqlite_only "a log rebuilt behind the daemon's back" || return 0
	# Whoever runs the database truncates the log after entry 4, hides the
	# SFJ-DZB return, and repairs the tree's edge so the daemon goes on.
	sqlite3 "$DB" ".backup '$copy'"
	sql "$copy" "DELETE FROM audit_log WHERE seq > 4; DELETE FROM checkpoints WHERE size > 4;
		DELETE FROM audit_frontier; INSERT INTO audit_frontier SELECT 2, root FROM checkpoints WHERE size = 4;
		DELETE FROM revision_findings WHERE org = 'SFJ-DZB'; DELETE FROM revision_values WHERE org = 'SFJ-DZB';
		DELETE FROM revisions WHERE org = 'SFJ-DZB'"
	yb_start_daemon "$YB_PKI" "$copy" "$ORGS" "$TMP/rebuilt.log"
	check_exit "a receipt beyond the truncated log fails the proof (exit 4), saying why" 4 \
		"PROOF FAILED: the log now holds fewer entries than the [0-9]+ of your receipt's checkpoint" \
		yb_as branch SFJ-DZB audit prove --receipt "$TMP/sfj.json"
	yb_as branch JCY-DZB submit "$RETURNS/JCY-DZB/2026-01.csv" --period 2026-01 --receipt "$TMP/jcy.json" >/dev/null
	yb_as branch JCY-DZB submit "$RETURNS/JCY-DZB/2026-02.csv" --period 2026-02 --receipt "$TMP/jcy2.json" >/dev/null
	yb_as branch JCY-DZB submit "$RETURNS/JCY-DZB/2026-03.csv" --period 2026-03 --receipt "$TMP/jcy3.json" >/dev/null
	check_exit "a receipt issued before the rewrite fails audit prove" 4 "FAILED" \
		yb_as branch SFJ-DZB audit prove --receipt "$TMP/sfj.json"
	check_exit "a receipt from before the truncation point still proves" 0 "entry 2 is in the log" \
		yb_as branch ZFW-JG audit prove --receipt "$RECEIPTS/ZFW-JG-2026-01-r1.json"
	check_exit "new receipts prove against the rebuilt log" 0 "entry 6 is in the log" \
		yb_as branch JCY-DZB audit prove --receipt "$TMP/jcy.json"
	yb_stop_daemon
}

# A refused certificate that does not verify is named as it claims itself,
# marked unverified, with the fingerprint of what was presented.
test_unverified_refusal_named() {
	local log
	yb_start_daemon "$YB_PKI" "$DB" "$ORGS" "$TMP/who.log"
	"$YB_SRC/certs/yuebao-certs.sh" issue "$YB_PKI" branch GONE-1 >/dev/null
	"$YB_SRC/certs/yuebao-certs.sh" revoke "$YB_PKI" branch GONE-1 >/dev/null
	reload_daemon "$TMP/who.log"
	check_exit "a revoked certificate gets no TLS session" 3 "it is revoked" yb_as branch GONE-1 ping
	# Inside an envelope sent over another branch's session, it reaches the RPC layer.
	check_exit "a revoked certificate in the envelope is refused" 0 \
		"reply UNAUTHENTICATED: certificate revoked" \
		"$YB_BIN/ybprobe" --server "$YB_URL" --ca "$YB_PKI/ca.crt" --cert "$YB_PKI/branch-ZFW-JG.crt" \
		--key "$YB_PKI/branch-ZFW-JG.key" --envelope-cert "$YB_PKI/branch-GONE-1.crt" \
		--envelope-key "$YB_PKI/branch-GONE-1.key" ping
	log=$(yb_as auditor JGDW audit log --format csv 2>&1) || true
	check_match "its refusal names the certificate as it claims itself, unverified" "$log" \
		",refused:UNAUTHENTICATED,Ping,[0-9a-f]{64},branch,GONE-1,$(fp "$YB_PKI/branch-GONE-1.crt"),no,$"
	log=$(yb_as auditor JGDW audit log 2>&1) || true
	check_match "the table marks it unverified" "$log" "\(unverified\) branch/GONE-1 .*refused:UNAUTHENTICATED"
	yb_stop_daemon
}

# SPEC §1: nothing altered or back-dated. Every field people are shown of a
# revision, a review or a closure is bound by the entry that recorded it;
# each is changed in a copy of the store and verify names it.
test_backdating() {
	local out month=$((2026 * 12)) clock="$TMP/clock.db" other
	other=$(fp "$YB_PKI/branch-FY-DZB.crt")
	yb_start_daemon "$YB_PKI" "$DB" "$ORGS" "$TMP/close.log"
	yb_as central JGDW close --period 2026Q1 --force --comment "一季度已发布" >/dev/null
	out=$(yb_as auditor JGDW audit log --period 2026-02 --format csv 2>&1) || true
	check_match "the close of a quarter is in the audit log of each of its months" "$out" \
		",close,JGDW/2026Q1,"
	yb_stop_daemon
	sqlite_only "stores edited behind the daemon's back" || return 0
	out=$(verify_copy closed "SELECT 1")
	check_match "a store with a closure verifies clean" "$out" \
		"and 3 closures: nothing was altered or back-dated"
	check_match "and says so" "$out" "exit 0"

	out=$(verify_copy backdated "UPDATE revisions SET received_at_ms = received_at_ms - 400 * 86400000, on_time = 1
		WHERE org = 'ZFW-JG' AND month = $month")
	check_match "a back-dated received time is named with its entry" "$out" \
		"entry 2: ZFW-JG/2026-01/r1 is stored as received at .*, but its entry records .*: it was back-dated"
	check_match "and so is the on-time flag set with it" "$out" \
		"entry 2: ZFW-JG/2026-01/r1 is stored as on time, but it was received at .*, after its deadline"
	check_match "and verify fails" "$out" "exit 4"
	out=$(verify_copy ontime "UPDATE revisions SET on_time = 1 WHERE org = 'ZFW-JG' AND month = $month")
	check_match "the on-time flag alone is named" "$out" \
		"entry 2: ZFW-JG/2026-01/r1 is stored as on time, but it was received at"
	out=$(verify_copy reason "UPDATE revisions SET reason = '更正笔误' WHERE org = 'ZFW-JG' AND month = $month")
	check_match "an edited reason is named" "$out" \
		"entry 2: the stored reason of ZFW-JG/2026-01/r1 is not the one the branch signed"
	out=$(verify_copy subject "UPDATE revisions SET subject = 'O=yuebao-demo, OU=branch, CN=FY-DZB'
		WHERE org = 'ZFW-JG' AND month = $month")
	check_match "an edited submitter is named, with who signed" "$out" \
		"entry 2: ZFW-JG/2026-01/r1 is stored as submitted by O=yuebao-demo, OU=branch, CN=FY-DZB, but it was signed by .*CN=ZFW-JG"
	out=$(verify_copy fingerprint "UPDATE revisions SET fingerprint = '$other'
		WHERE org = 'ZFW-JG' AND month = $month")
	check_match "an edited certificate fingerprint is named" "$out" \
		"entry 2: ZFW-JG/2026-01/r1 stores the certificate fingerprint $other, but it was signed with the certificate $(fp "$YB_PKI/branch-ZFW-JG.crt")"

	out=$(verify_copy reviewed_at "UPDATE reviews SET at_ms = at_ms - 86400000")
	check_match "a back-dated review is named" "$out" \
		"entry 5: the review:accept of FY-DZB/2026-01/r1 is stored as made by .* at .*, but its entry records"
	out=$(verify_copy reviewer "UPDATE reviews SET reviewer = 'O=yuebao-demo, OU=central, CN=FY-DZZ'")
	check_match "a review given to another reviewer is named" "$out" \
		"entry 5: the review:accept of FY-DZB/2026-01/r1 is stored as made by O=yuebao-demo, OU=central, CN=FY-DZZ"
	out=$(verify_copy review_fp "UPDATE reviews SET fingerprint = '$other'")
	check_match "and one with another certificate" "$out" \
		"entry 5: the review:accept of FY-DZB/2026-01/r1 is stored as made by .*\(certificate ${other:0:16}\)"

	out=$(verify_copy unclosed "DELETE FROM closures")
	check_match "a deleted closure is named with its entry, month by month" "$out" \
		"entry [0-9]+: the close of JGDW/2026Q1 is missing from the store for 2026-02, or its comment, time or author was changed"
	out=$(verify_copy close_comment "UPDATE closures SET comment = '改过' WHERE month = $((month + 2))")
	check_match "an edited closure comment is named" "$out" \
		"entry [0-9]+: the close of JGDW/2026Q1 is missing from the store for 2026-03, or its comment"
	out=$(verify_copy close_at "UPDATE closures SET at_ms = at_ms - 86400000 WHERE month = $month")
	check_match "a back-dated closure is named" "$out" \
		"entry [0-9]+: the close of JGDW/2026Q1 is missing from the store for 2026-01"
	check_match "and the row left over has no entry" "$out" \
		"the closing of JGDW for 2026-01 at .* has no audit entry"
	out=$(verify_copy reopened "UPDATE closures SET closed = 0 WHERE month = $month")
	check_match "a closure turned into a reopening is named" "$out" \
		"the reopening of JGDW for 2026-01 at .* has no audit entry"

	# The daemon's clock set back: an entry made a day ahead, then one at
	# today's time, which is before the checkpoint signed before it.
	sqlite3 "$DB" ".backup '$clock'"
	local asan=${ASAN_OPTIONS-}
	# Preloaded ahead of an ASan build's runtime, which must then not insist on coming first.
	export FAKETIME="+1d" LD_PRELOAD="$YB_FAKETIME_LIB" \
		ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0"
	yb_start_daemon "$YB_PKI" "$clock" "$ORGS" "$TMP/clock.log"
	yb_as branch JCY-DZB submit "$RETURNS/JCY-DZB/2026-04.csv" --period 2026-04 >/dev/null
	yb_stop_daemon
	unset FAKETIME LD_PRELOAD
	export ASAN_OPTIONS="$asan"
	yb_faketime_sweep
	yb_start_daemon "$YB_PKI" "$clock" "$ORGS" "$TMP/clock.log"
	yb_as branch JCY-DZB submit "$RETURNS/JCY-DZB/2026-05.csv" --period 2026-05 >/dev/null
	yb_as auditor JGDW audit export "$TMP/clock.bundle" >/dev/null
	yb_stop_daemon
	out=$(verify "$TMP/clock.bundle" 2>&1) || true
	check_match "an entry dated before the checkpoint signed before it is named" "$out" \
		"entry [0-9]+: its time .* is before that of the checkpoint signed before it \(.*\): it was back-dated"
}

# Pages are sized by bytes, not only by count: with a small --max-message,
# a return amended a dozen times with the longest reasons and rejections
# allowed still lists in full (history, audit log) and exports, page by
# page, where one page of that many items would pass the reply cap.
test_pages_by_bytes() {
	local db="$TMP/pages.db" long i out n=12
	long=$(printf '改%.0s' $(seq 1 2000)) # 2,000 characters, 6,000 bytes
	fresh_store # a store of its own, as $db is a new file
	yb_start_daemon "$YB_PKI" "$db" "$ORGS" "$TMP/pages.log" --max-message 65536 \
		--log-level debug # every page a log line, to count them
	for i in $(seq 1 $n); do
		if [ "$i" -eq 1 ]; then
			yb_as branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-03.csv" --period 2026-03 >/dev/null
		else
			yb_as branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-03.csv" --period 2026-03 \
				--reason "$long" >/dev/null
		fi
		yb_as central JGDW review --org ZFW-JG --period 2026-03 --reject --comment "$long" >/dev/null
	done
	out=$(yb_as branch ZFW-JG history --period 2026-03 --page-size 100 --format json 2>&1) || true
	check_eq "history lists every revision and review, over several pages" \
		"$(jq -c '[(.revisions | length), (.reviews | length)]' <<<"$out" 2>&1)" "[$n,$n]"
	out=$(yb_as auditor JGDW audit log --period 2026-03 --format csv 2>&1) || true
	check_eq "the audit log lists every entry, over several pages" \
		"$(grep -c ',review:reject,' <<<"$out")" "$n"
	check_exit "the export is complete" 0 "wrote $TMP/pages.bundle" \
		yb_as auditor JGDW audit export "$TMP/pages.bundle"
	yb_stop_daemon
	check_exit "and verifies" 0 "$n revisions with their signed requests, $n reviews" \
		verify "$TMP/pages.bundle"
	check_match "several pages were asked for" "$(grep -c 'AuditExport auditor/JGDW OK' "$TMP/pages.log")" \
		"^([6-9]|[1-9][0-9]+)$"
}

# size_of FILE: the size line of a verified-checkpoint.
size_of() { sed -n 's/^size //p' "$1"; }

# An auditor checks only what is new (issue 18): the checkpoint a verify
# wrote starts the next export (--since) and verify (--trusted), which
# check the daemon's consistency proof and the new entries alone. A log
# rebuilt before that checkpoint is caught, naming both tree heads, whether
# the bundle is incremental or whole.
test_incremental() {
	local db="$TMP/inc.db" copy="$TMP/inc-rebuilt.db" first second m
	fresh_store
	yb_start_daemon "$YB_PKI" "$db" "$ORGS" "$TMP/inc.log"
	yb_as branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-01.csv" --period 2026-01 >/dev/null
	yb_as branch FY-DZB submit "$RETURNS/FY-DZB/2026-01.csv" --period 2026-01 >/dev/null
	yb_as auditor JGDW audit export "$TMP/inc0" >/dev/null
	check_exit "a clean verify writes the checkpoint it verified" 0 \
		"wrote $TMP/inc0/verified-checkpoint \(4 entries\): next time, export only what is new" \
		verify "$TMP/inc0"
	first="$TMP/inc0/verified-checkpoint"
	check_eq "it names the checkpoint of the whole log" "$(head -2 "$first" | tr '\n' ' ')" \
		"yuebao-verified-checkpoint-v1 size 4 "
	yb_as branch JCY-DZB submit "$RETURNS/JCY-DZB/2026-01.csv" --period 2026-01 >/dev/null
	yb_as central JGDW review --org ZFW-JG --period 2026-01 --reject --comment "请补充" >/dev/null
	check_exit "export --since takes only what came after the checkpoint" 0 \
		"the 2 audit entries after the first 4, .*audit verify $TMP/inc1 --trusted $first" \
		yb_as auditor JGDW audit export "$TMP/inc1" --since "$first"
	check_eq "the new entries alone" "$(cut -f1 "$TMP/inc1/entries.tsv" | tr '\n' ' ')" "4 5 "
	# FY-DZB's is the last entry of the trusted checkpoint, of its millisecond:
	# it comes along, and no entry in the bundle needs to name it.
	check_eq "the new revision, the one a new review changed, the one at the start" \
		"$(cut -f1,2,4 "$TMP/inc1/revisions.tsv" | tr '\t\n' ', ')" \
		"FY-DZB,2026-01,submitted JCY-DZB,2026-01,submitted ZFW-JG,2026-01,rejected "
	check_exit "without --trusted, verify says what it needs (exit 2)" 2 \
		"only the entries after the first 4 .*give --trusted" verify "$TMP/inc1"
	check_exit "with it, the increment verifies: the proof, the new entries, the states" 0 \
		"verified the 2 entries after the first 4, 3 checkpoints, 3 revisions .* 1 reviews .*extends the one you trusted" \
		verify "$TMP/inc1" --trusted "$first"
	# The bundle's copy of where it starts is checked against the trusted file.
	cp -r "$TMP/inc1" "$TMP/inc1-forged"
	rm -f "$TMP/inc1-forged/verified-checkpoint"
	sed -i 's/^time .*/time 9000000000000000/' "$TMP/inc1-forged/since-checkpoint"
	check_exit "a bundle whose start was changed is refused" 2 \
		"since-checkpoint is not the checkpoint you trust" \
		verify "$TMP/inc1-forged" --trusted "$first"
	second="$TMP/inc1/verified-checkpoint"
	check_eq "and writes the checkpoint to go on from" "$(size_of "$second")" 6
	check_exit "a checkpoint of another size is refused" 2 \
		"the bundle holds the entries after the first 4, but the checkpoint you trust has 6" \
		verify "$TMP/inc1" --trusted "$second"
	yb_as auditor JGDW audit export "$TMP/inc-all" >/dev/null
	check_exit "a whole bundle verifies against a trusted checkpoint" 0 "verified 6 entries" \
		verify "$TMP/inc-all" --trusted "$second"
	yb_as auditor JGDW audit export "$TMP/inc2" --since "$second" >/dev/null
	# A link planted in the bundle is replaced, never followed.
	echo precious >"$TMP/victim"
	ln -s "$TMP/victim" "$TMP/inc2/verified-checkpoint.tmp"
	check_exit "nothing new: an empty increment verifies" 0 "verified the 0 entries after the first 6" \
		verify "$TMP/inc2" --trusted "$second"
	check_eq "a link planted where verify writes is not followed" "$(cat "$TMP/victim")" precious
	yb_stop_daemon
	sqlite_only "a log rebuilt behind the daemon's back, caught by --trusted" || return 0
	# The operator truncates the log after entry 2 and lets it grow past the
	# trusted checkpoint again.
	sqlite3 "$db" ".backup '$copy'"
	sql "$copy" "DELETE FROM audit_log WHERE seq > 2; DELETE FROM checkpoints WHERE size > 2;
		DELETE FROM audit_frontier; INSERT INTO audit_frontier SELECT 1, root FROM checkpoints WHERE size = 2"
	yb_start_daemon "$YB_PKI" "$copy" "$ORGS" "$TMP/inc-rebuilt.log"
	for m in 01 02 03 04 05; do
		yb_as branch FY-ZXJ submit "$RETURNS/FY-ZXJ/2026-$m.csv" --period "2026-$m" >/dev/null
	done
	yb_as auditor JGDW audit export "$TMP/inc-bad" --since "$second" >/dev/null
	check_exit "an increment from a rebuilt log fails, naming both tree heads (exit 4)" 4 \
		"FAILED: the log was rewritten before the checkpoint you trusted: the daemon's tree head \([0-9]+ entries, root [0-9a-f]{64}, signed .*\) does not extend yours \(6 entries, root [0-9a-f]{64}, signed .*\)" \
		verify "$TMP/inc-bad" --trusted "$second"
	yb_as auditor JGDW audit export "$TMP/inc-bad-all" >/dev/null
	check_exit "so does a whole bundle of it" 4 \
		"FAILED: the log was rewritten before the checkpoint you trusted: your tree head \(6 entries, root [0-9a-f]{64}, signed .*\) is not the bundle's, whose first 6 entries give root [0-9a-f]{64}" \
		verify "$TMP/inc-bad-all" --trusted "$second"
	yb_stop_daemon
	# Truncated again and not grown back (the daemon's start adds its two loads).
	sql "$copy" "DELETE FROM audit_log WHERE seq > 2; DELETE FROM checkpoints WHERE size > 2;
		DELETE FROM audit_frontier; INSERT INTO audit_frontier SELECT 1, root FROM checkpoints WHERE size = 2"
	yb_start_daemon "$YB_PKI" "$copy" "$ORGS" "$TMP/inc-rebuilt.log"
	check_exit "a log shorter than the trusted checkpoint fails the export (exit 4)" 4 \
		"FAILED: the log now holds fewer entries than the 6 of $second" \
		yb_as auditor JGDW audit export "$TMP/inc-short" --since "$second"
	yb_stop_daemon
}

# Witnesses (issue 18): an auditor's scheduled look at the log keeps the
# head it saw, checks each new one extends it, and cosigns it; a branch's
# proof then shows who saw the log; a rebuilt or truncated log is an alert.
test_witness() {
	local db="$TMP/wit.db" copy="$TMP/wit-rebuilt.db" url out m rc
	fresh_store
	yb_start_daemon "$YB_PKI" "$db" "$ORGS" "$TMP/wit.log"
	url=${YB_URL//+/\\+}
	yb_as branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-01.csv" --period 2026-01 \
		--receipt "$TMP/wit-r1.json" >/dev/null
	yb_as branch FY-DZB submit "$RETURNS/FY-DZB/2026-01.csv" --period 2026-01 >/dev/null
	out=$(yb_as auditor JGDW audit witness --state "$TMP/witness" 2>&1) && rc=0 || rc=$?
	check_eq "a witness's first look succeeds" "$rc" 0
	check_match "it keeps the first checkpoint it sees" "$out" \
		"witnessed $url: 4 entries, root [0-9a-f]{16}…, signed .* \(the first checkpoint seen; kept in $TMP/witness/witnessed-checkpoint\)"
	check_match "and cosigns it" "$out" "cosigned it: 1 witness\(es\) have cosigned this checkpoint"
	check_eq "its state is the signed head, without the tree's edge" \
		"$(grep -c '^edge ' "$TMP/witness/witnessed-checkpoint" || true)" "0"
	check_match "the cosignature is in the log, by the auditor" \
		"$(yb_as auditor JGDW audit log --format csv 2>&1)" \
		"^4,.*,cosign,checkpoint/4,[0-9a-f]{64},auditor,JGDW,$(fp "$YB_PKI/auditor-JGDW.crt"),yes,$"
	out=$(yb_as branch ZFW-JG audit prove --receipt "$TMP/wit-r1.json" 2>&1) || true
	check_match "a branch's proof shows the log was witnessed, its entry included" "$out" \
		"witnessed: the checkpoint of 4 entries, .* was cosigned by 1 witness\(es\), and today's log extends it; your entry is in it"
	check_match "and who cosigned it" "$out" "  cosigned by auditor/JGDW \(certificate [0-9a-f]{16}\) at "
	check_exit "a branch may watch the log but not cosign it (exit 1)" 1 \
		"PERMISSION_DENIED.*a branch certificate cannot witness the log" \
		yb_as branch ZFW-JG audit witness --state "$TMP/branch-witness"
	yb_as branch JCY-DZB submit "$RETURNS/JCY-DZB/2026-01.csv" --period 2026-01 >/dev/null
	yb_as central JGDW review --org ZFW-JG --period 2026-01 --reject --comment "请补充" >/dev/null
	check_exit "the next look checks the new head extends the one it kept" 0 \
		"witnessed $url: 8 entries, .*; it extends the one witnessed before \(4 entries, .*\): 4 new entries, nothing before them changed" \
		yb_as auditor JGDW audit witness --state "$TMP/witness"
	check_exit "a witness's state is no --trusted for verify (exit 2)" 2 "without the tree's edge" \
		verify "$TMP/clean" --trusted "$TMP/witness/witnessed-checkpoint"
	yb_stop_daemon
	sqlite_only "a log rebuilt behind the daemon's back, caught by a witness" || return 0
	# The operator truncates the log after entry 2, hides the cosignatures and
	# lets the log grow past the witnessed head again.
	sqlite3 "$db" ".backup '$copy'"
	sql "$copy" "DELETE FROM audit_log WHERE seq > 2; DELETE FROM checkpoints WHERE size > 2;
		DELETE FROM cosignatures; DELETE FROM audit_frontier;
		INSERT INTO audit_frontier SELECT 1, root FROM checkpoints WHERE size = 2"
	yb_start_daemon "$YB_PKI" "$copy" "$ORGS" "$TMP/wit-rebuilt.log"
	url=${YB_URL//+/\\+}
	for m in 01 02 03 04 05; do
		yb_as branch FY-ZXJ submit "$RETURNS/FY-ZXJ/2026-$m.csv" --period "2026-$m" >/dev/null
	done
	cp "$TMP/witness/witnessed-checkpoint" "$TMP/witnessed-before"
	check_exit "the witness catches the rebuilt log: an alert, exit 1" 1 \
		"yuebao audit witness: ALERT: the log at $url was rewritten: its tree head \([0-9]+ entries, .*\) does not extend the one witnessed before \(8 entries, .*\)" \
		yb_as auditor JGDW audit witness --state "$TMP/witness"
	check "and keeps the head it witnessed" cmp -s "$TMP/witness/witnessed-checkpoint" \
		"$TMP/witnessed-before"
	yb_stop_daemon
	sql "$copy" "DELETE FROM audit_log WHERE seq > 2; DELETE FROM checkpoints WHERE size > 2;
		DELETE FROM audit_frontier; INSERT INTO audit_frontier SELECT 1, root FROM checkpoints WHERE size = 2"
	yb_start_daemon "$YB_PKI" "$copy" "$ORGS" "$TMP/wit-rebuilt.log"
	url=${YB_URL//+/\\+}
	check_exit "a log shorter than the witnessed head is an alert too (exit 1)" 1 \
		"ALERT: the log at $url now holds fewer entries than the checkpoint witnessed before \(8 entries, " \
		yb_as auditor JGDW audit witness --state "$TMP/witness"
	yb_stop_daemon
}

main() {
	setup
	test_log_and_receipts
	test_log_names_who
	test_explain
	test_clean_export_verifies
	test_own_ca_is_the_anchor
	test_tampering
	test_rebuilt_log_fails_receipt
	test_unverified_refusal_named
	test_backdating
	test_pages_by_bytes
	test_incremental
	test_witness
	assert_summary
}

main "$@"
