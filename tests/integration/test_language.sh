#!/usr/bin/env bash
# Language: the client speaks Chinese when LANG (or LC_MESSAGES, LC_ALL) is
# zh_CN*, English otherwise, and one daemon answers each client in its own
# language. Checked with exact strings: help, offline validation, refusals
# from the daemon (a branch writing for another, a bad value), consolidate
# tables and catalog names; CSV output is the same bytes in both languages.
# Also: every message of the sources has a Chinese translation.
# shellcheck source=tests/integration/preamble.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/preamble.sh"

CATALOG="$YB_SRC/server/catalog"

# zh / en COMMAND...: runs COMMAND with a Chinese / an English locale
# environment (whatever the caller's). No zh_CN locale needs to exist.
zh() { (
	unset LC_ALL LC_MESSAGES LANGUAGE
	export LANG=zh_CN.UTF-8
	"$@"
); }
en() { (
	unset LC_ALL LC_MESSAGES LANGUAGE
	export LANG=C
	"$@"
); }

# client ROLE CODE ARGS...: the yuebao binary as ROLE-CODE (runs under zh/en).
client() {
	local role=$1 code=$2
	shift 2
	"$YB_BIN/yuebao" --server "$YB_URL" --ca "$YB_PKI/ca.crt" \
		--cert "$YB_PKI/$role-$code.crt" --key "$YB_PKI/$role-$code.key" "$@"
}

# line N TEXT: line N of TEXT.
line() { sed -n "$1p" <<<"$2"; }

# squeeze TEXT: runs of blanks as one space, trailing blanks dropped (table rows).
squeeze() { tr -s ' ' <<<"$1" | sed 's/ *$//'; }

setup() {
	local file org
	yb_make_pki "$YB_PKI" "$ORGS"
	yb_start_daemon "$YB_PKI" "$DB" "$ORGS" "$LOG"
	for file in "$RETURNS"/*/2026-01.csv; do
		org=$(basename "$(dirname "$file")")
		client branch "$org" submit "$file" --period 2026-01 >/dev/null
	done
}

test_translations_complete() {
	local out rc=0
	out=$("$YB_SRC/scripts/update-po.sh" --check 2>&1) || rc=$?
	check_eq "every message of the sources is translated in po/zh_CN.po (scripts/update-po.sh --check)" \
		"$rc" "0"
	[ "$rc" = 0 ] || echo "$out" >&2
}

test_help() {
	local out
	out=$(zh "$YB_BIN/yuebao" --help)
	check_eq "zh: --help usage line" "$(line 1 "$out")" \
		"用法：yuebao [--server URL] [--cert F] [--key F] [--ca F] COMMAND [ARGS]"
	check_eq "zh: --help describes yuebao" "$(line 3 "$out")" \
		"yuebao 守护进程的客户端（月报）：各支部报送每月党建工作月报，"
	check_eq "zh: --help lists submit" "$(grep '^  submit ' <<<"$out")" \
		"  submit       报送月报；显示回执和警告"
	check_eq "zh: --help explains exit codes" "$(grep '^退出码' <<<"$out")" \
		"退出码：0 成功，1 服务器拒绝，2 用法错误，"
	out=$(en "$YB_BIN/yuebao" --help)
	check_eq "en: --help usage line" "$(line 1 "$out")" \
		"usage: yuebao [--server URL] [--cert F] [--key F] [--ca F] COMMAND [ARGS]"
	check_eq "en: --help lists submit" "$(grep '^  submit ' <<<"$out")" \
		"  submit       upload returns; prints the receipts and any warnings"

	out=$(zh "$YB_BIN/yuebao" submit --help)
	check_eq "zh: submit --help usage line" "$(line 1 "$out")" \
		"用法：yuebao submit FILE... [--period YYYY-MM] [--org CODE] [--reason TEXT]"
	check_eq "zh: submit --help explains the return file" "$(grep '^报送 FILE' <<<"$out")" \
		"报送 FILE 中该月的月报。FILE 可以是 Excel 工作簿（.xlsx，即 \`yuebao template\`"
	check_eq "zh: submit --help examples" "$(grep '^示例' <<<"$out")" "示例："
	out=$(en "$YB_BIN/yuebao" submit --help)
	check_eq "en: submit --help usage line" "$(line 1 "$out")" \
		"usage: yuebao submit FILE... [--period YYYY-MM] [--org CODE] [--reason TEXT]"
	check_eq "en: submit --help explains revisions" "$(grep '^Sends the return' <<<"$out")" \
		"Sends the return in FILE for the month. FILE is an Excel workbook (.xlsx,"
	out=$(zh "$YB_BIN/yuebao" help submit)
	check_eq "zh: 'yuebao help submit' is the same help" "$(line 1 "$out")" \
		"用法：yuebao submit FILE... [--period YYYY-MM] [--org CODE] [--reason TEXT]"

	# LC_ALL wins over LANG, LC_MESSAGES too, as for any program.
	out=$(env LC_ALL=zh_CN.UTF-8 LANG=C "$YB_BIN/yuebao" --help)
	check_eq "LC_ALL=zh_CN.UTF-8 over LANG=C: Chinese" "$(line 1 "$out" | cut -c1-9)" "用法："
	out=$(env -u LC_ALL LC_MESSAGES=C LANG=zh_CN.UTF-8 "$YB_BIN/yuebao" --help)
	check_eq "LC_MESSAGES=C over LANG=zh_CN.UTF-8: English" "$(line 1 "$out" | cut -c1-6)" "usage:"
}

test_usage_errors() {
	check_exit "zh: an unknown option is a usage error, in Chinese" 2 \
		"^yuebao submit: 未知选项“--bogus”$" zh "$YB_BIN/yuebao" submit --bogus
	check_exit "zh: and says where to find help" 2 "^请运行“yuebao submit --help”查看帮助。$" \
		zh "$YB_BIN/yuebao" submit --bogus
	check_exit "en: an unknown option is a usage error, in English" 2 \
		"^yuebao submit: unknown option '--bogus'$" en "$YB_BIN/yuebao" submit --bogus
	check_exit "en: and says where to find help" 2 "^Try 'yuebao submit --help'\.$" \
		en "$YB_BIN/yuebao" submit --bogus
	check_exit "zh: a malformed period names the problem in Chinese" 2 \
		"^yuebao consolidate: 报告期“2026H3”：不存在第 3 个半年（只有 1 或 2）；可用 2026-06、2026Q2、2026H1、2026H2、2026 或范围如 2026-01\.\.2026-06$" \
		zh "$YB_BIN/yuebao" consolidate --period 2026H3
}

test_validate() {
	local f="$TMP/bad.csv" out rc
	sed -e 's/^study_sessions,\(.*\),[0-9]*$/study_sessions,\1,2.5/' "$RETURNS/ZFW-JG/2026-02.csv" >"$f"
	rc=0
	out=$(zh "$YB_BIN/yuebao" validate "$f" --catalog "$CATALOG" 2>/dev/null) || rc=$?
	check_eq "zh: validate of a bad file exits 4" "$rc" "4"
	check_eq "zh: validate names the line, code, name and problem in Chinese" "$(line 1 "$out")" \
		"  错误：第 4 行：study_sessions（集中学习次数）：“2.5”不是整数"
	check_eq "zh: validate counts the errors in Chinese" "$(line 2 "$out")" "$f：1 处错误"
	rc=0
	out=$(en "$YB_BIN/yuebao" validate "$f" --catalog "$CATALOG" 2>/dev/null) || rc=$?
	check_eq "en: validate of a bad file exits 4" "$rc" "4"
	check_eq "en: validate names the line, code, name and problem in English" "$(line 1 "$out")" \
		"  error: line 4: study_sessions (Group study sessions): \"2.5\" is not a whole number"
	check_eq "en: validate counts the errors in English" "$(line 2 "$out")" "$f: 1 error"

	# A violated rule carries the catalog's own message in the user's language.
	sed -e 's/^survey_valid,\(.*\),[0-9]*$/survey_valid,\1,99999/' "$RETURNS/ZFW-JG/2026-02.csv" >"$f"
	out=$(zh "$YB_BIN/yuebao" validate "$f" --catalog "$CATALOG" 2>/dev/null) || true
	check_match "zh: a violated rule gives the catalog's Chinese message" "$out" \
		"^  错误：违反规则 r_survey_valid：survey_valid \(99999\) <= survey_issued \([0-9]+\)：$(rule_message message_zh r_survey_valid)$"
	out=$(en "$YB_BIN/yuebao" validate "$f" --catalog "$CATALOG" 2>/dev/null) || true
	check_match "en: a violated rule gives the catalog's English message" "$out" \
		"^  error: rule r_survey_valid violated: survey_valid \(99999\) <= survey_issued \([0-9]+\): $(rule_message message_en r_survey_valid)$"

	# A zip that is no workbook, whatever its name: the message says what it
	# is not, in the user's language.
	printf 'PK\003\004rest of a zip' >"$TMP/book.csv"
	check_exit "zh: a broken workbook is named as such" 4 \
		"^yuebao validate: $TMP/book.csv：不是可读取的 \.xlsx 工作簿（zip 压缩包：" \
		zh "$YB_BIN/yuebao" validate "$TMP/book.csv" --catalog "$CATALOG"
	check_exit "en: a broken workbook is named as such" 4 \
		"^yuebao validate: $TMP/book.csv: not a readable \.xlsx workbook \(zip archive: " \
		en "$YB_BIN/yuebao" validate "$TMP/book.csv" --catalog "$CATALOG"
}

# rule_message COLUMN CODE: a rule's message from the catalog (no commas in them).
rule_message() {
	awk -F, -v col="$1" -v code="$2" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$1 == code { print $c[col] }' "$CATALOG/rules.csv"
}

test_refusals() {
	local before f="$TMP/negative.csv" out
	before=$(revisions)
	out=$(zh client branch ZFW-JG submit "$RETURNS/FY-DZB/2026-01.csv" --period 2026-02 --org FY-DZB 2>&1) || true
	check_eq "zh: the daemon refuses a branch writing for another, in Chinese" "$out" \
		"yuebao：被拒绝（PERMISSION_DENIED）：支部 ZFW-JG 无权代组织 FY-DZB 报送"
	out=$(en client branch ZFW-JG submit "$RETURNS/FY-DZB/2026-01.csv" --period 2026-02 --org FY-DZB 2>&1) || true
	check_eq "en: the same daemon refuses it in English" "$out" \
		"yuebao: refused (PERMISSION_DENIED): branch ZFW-JG may not submit for org unit FY-DZB"

	sed -e 's/^study_sessions,\(.*\),[0-9]*$/study_sessions,\1,-2/' "$RETURNS/ZFW-JG/2026-02.csv" >"$f"
	out=$(zh client branch ZFW-JG submit "$f" --period 2026-02 2>&1) || true
	check_eq "zh: a bad value is refused by the daemon in Chinese" "$out" \
		"yuebao：被拒绝（INVALID_ARGUMENT）：月报有 1 处错误；未保存任何数据
  错误：第 4 行：study_sessions（集中学习次数）：“-2”是负数；数值不能为负"
	out=$(en client branch ZFW-JG submit "$f" --period 2026-02 2>&1) || true
	check_eq "en: and in English" "$out" \
		"yuebao: refused (INVALID_ARGUMENT): the return has 1 error; nothing was stored
  error: line 4: study_sessions (Group study sessions): \"-2\" is negative; values cannot be negative"

	out=$(zh client branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-01.csv" --period 2026-01 2>&1) || true
	check_eq "zh: an amendment without a reason, in Chinese" "$(line 1 "$out")" \
		"yuebao：被拒绝（INVALID_ARGUMENT）：第2版（ZFW-JG 2026-01）是对第1版的修改，须填写修改原因（--reason）"
	out=$(zh client central JGDW review --org ZFW-JG --period 2026-02 --accept 2>&1) || true
	check_eq "zh: nothing to review, in Chinese" "$out" \
		"yuebao：被拒绝（NOT_FOUND）：ZFW-JG 没有 2026-02 的可审核月报"
	check_eq "refused calls stored nothing" "$(revisions)" "$before"
}

test_consolidate() {
	local zt et zc ec zj ej
	zt=$(zh client central JGDW consolidate --org JGDW --period 2026-01 2>&1)
	et=$(en client central JGDW consolidate --org JGDW --period 2026-01 2>&1)
	check_eq "zh: consolidate title" "$(line 1 "$zt")" "汇总 机关党委（JGDW），2026-01"
	check_eq "en: consolidate title" "$(line 1 "$et")" "Consolidated 机关党委 (JGDW), 2026-01"
	check_eq "zh: the total group" "$(line 3 "$zt")" "== 合计"
	check_eq "en: the total group" "$(line 3 "$et")" "== total"
	check_eq "zh: completeness" "$(line 4 "$zt")" "数据：5/5 份月报（100.0%）"
	check_eq "en: completeness" "$(line 4 "$et")" "data: 5 of 5 returns (100.0%)"
	check_eq "zh: table headers are Chinese" "$(squeeze "$(line 5 "$zt")")" "代码 名称 单位 数值"
	check_eq "en: table headers are English" "$(squeeze "$(line 5 "$et")")" "code name unit value"
	check_match "zh: element names from the catalog's Chinese column" \
		"$(grep '^members_total ' <<<"$zt")" "^members_total +党员总数 +人 +[0-9]+$"
	check_match "en: element names from the catalog's English column" \
		"$(grep '^members_total ' <<<"$et")" "^members_total +Party members +人 +[0-9]+$"
	check_match "zh: indicator names too" "$(grep '^study_coverage_rate ' <<<"$zt")" \
		"^study_coverage_rate +学习覆盖率 +%"
	check_match "en: indicator names too" "$(grep '^study_coverage_rate ' <<<"$et")" \
		"^study_coverage_rate +Study coverage rate +%"

	zt=$(zh client central JGDW consolidate --org JGDW --period 2026-01 --compare yoy 2>&1)
	check_eq "zh: a comparison in the title" "$(line 1 "$zt")" \
		"汇总 机关党委（JGDW），2026-01，对比 2025-01（同比）"
	check_eq "zh: comparison headers" "$(squeeze "$(line 5 "$zt")")" "代码 名称 单位 数值 对比值 增减"

	zc=$(zh client central JGDW consolidate --org JGDW --period 2026-01 --compare yoy --format csv 2>"$TMP/zh.err")
	ec=$(en client central JGDW consolidate --org JGDW --period 2026-01 --compare yoy --format csv 2>"$TMP/en.err")
	check_eq "zh: the CSV header is SPEC §7's" "$(line 1 "$zc")" "code,name,unit,value,previous,change,change_unit"
	if [[ "$zc" == "$ec" && -n "$zc" ]]; then
		pass "consolidate --format csv is byte-identical in both languages"
	else
		fail "consolidate --format csv is byte-identical in both languages" "$(diff <(echo "$zc") <(echo "$ec") | head)"
	fi
	check_eq "CSV names are the catalog's own (Chinese) names" "$(grep '^members_total,' <<<"$zc" | cut -d, -f2)" "党员总数"
	check_eq "zh: completeness on stderr is for people, in Chinese" "$(cat "$TMP/zh.err")" \
		"JGDW 2026-01：5/5 份月报（100.0%）；对比期：0/5 份月报（0.0%）"
	check_eq "en: and in English" "$(cat "$TMP/en.err")" \
		"JGDW 2026-01: 5 of 5 returns (100.0%); previous: 0 of 5 returns (0.0%)"
	zj=$(zh client central JGDW consolidate --org JGDW --period 2026-01 --format json 2>/dev/null)
	ej=$(en client central JGDW consolidate --org JGDW --period 2026-01 --format json 2>/dev/null)
	check_eq "consolidate --format json is byte-identical in both languages" "$zj" "$ej"
}

test_catalog_and_status() {
	local zt et zc ec
	zt=$(zh client branch ZFW-JG catalog 2>&1)
	et=$(en client branch ZFW-JG catalog 2>&1)
	check_eq "zh: catalog table heading" "$(line 1 "$zt")" "数据项（81 项）"
	check_eq "en: catalog table heading" "$(line 1 "$et")" "Elements (81)"
	check_eq "zh: catalog table headers" "$(squeeze "$(line 2 "$zt")")" "代码 分类 名称 单位 类型 汇总方式"
	check_match "zh: catalog names follow the language" "$(grep '^members_total ' <<<"$zt")" \
		"^members_total +org +党员总数 +人 +int +last$"
	check_match "en: catalog names follow the language" "$(grep '^members_total ' <<<"$et")" \
		"^members_total +org +Party members +人 +int +last$"
	zc=$(zh client branch ZFW-JG catalog --format csv 2>&1)
	ec=$(en client branch ZFW-JG catalog --format csv 2>&1)
	check_eq "catalog --format csv is byte-identical in both languages" "$zc" "$ec"

	zt=$(zh client central JGDW status --period 2026-01 2>&1)
	check_eq "zh: status title" "$(line 1 "$zt")" "机关党委（JGDW）2026-01 报送情况：5 个支部"
	check_match "zh: status cells are Chinese state words" "$(grep '^ZFW-JG ' <<<"$zt")" "^ZFW-JG +.* +已报送 逾期$"
	check_match "zh: completeness and timeliness" "$(tail -1 <<<"$zt")" "^完整率 100\.0%（已报 5 份，应报 5 份），及时率 "
	et=$(en client central JGDW status --period 2026-01 2>&1)
	check_match "en: status cells are English state words" "$(grep '^ZFW-JG ' <<<"$et")" "^ZFW-JG +.* +submitted late$"
	zc=$(zh client central JGDW status --period 2026-01 --format csv 2>/dev/null)
	ec=$(en client central JGDW status --period 2026-01 --format csv 2>/dev/null)
	check_eq "status --format csv keeps its state words in both languages" "$zc" "$ec"
}

# The language choice is the project's own: system messages (strerror,
# getopt) keep following the real locale. Without a generated zh_CN locale
# (as on a fresh machine) they stay English under LANG=zh_CN.UTF-8, never
# "?????", and they are never Chinese under LANG=C.UTF-8.
test_system_messages() {
	local lang out zh_locale=0
	locale -a 2>/dev/null | grep -qi '^zh_CN\.utf-\?8$' && zh_locale=1
	for lang in zh_CN.UTF-8 C.UTF-8; do
		out=$( (
			unset LC_ALL LC_MESSAGES LANGUAGE
			export LANG=$lang
			"$YB_BIN/yuebao" validate "$TMP/no-such.csv" --catalog "$CATALOG" 2>&1 || true
			"$YB_BIN/yuebaod" --bogus 2>&1 || true
			"$YB_BIN/yuebaod" --config "$TMP/no-such.ini" 2>&1 || true
			HOME="$TMP/no-home" "$YB_BIN/yuebao" ping 2>&1 || true
		))
		if grep -q '??\|�' <<<"$out"; then
			fail "$lang: no '?' or U+FFFD replacement characters in messages" "$out"
		else
			pass "$lang: no '?' or U+FFFD replacement characters in messages"
		fi
		if [ "$lang" = C.UTF-8 ]; then
			check_eq "$lang: no Chinese in any message" "$(LC_ALL=C.UTF-8 grep -cP '\p{Han}' <<<"$out" || true)" "0"
			check_match "$lang: getopt's own message is English" "$out" "unrecognized option '--bogus'"
		else
			check_match "zh: the project's own message is Chinese" "$out" \
				"^yuebao validate: $TMP/no-such\.csv：无法打开："
			if [ "$zh_locale" = 0 ]; then
				check_match "zh without a zh_CN locale: strerror stays English" "$out" \
					"无法打开：No such file or directory$"
				check_match "zh without a zh_CN locale: getopt stays English" "$out" \
					"unrecognized option '--bogus'"
			fi
		fi
		check_match "$lang: a missing config file says why it cannot be read" "$out" \
			"^yuebaod: cannot read config file $TMP/no-such\.ini: "
		check_match "$lang: a missing client.ini is named, with why" "$out" \
			"^[(（]$TMP/no-home/\.config/yuebao/client\.ini[:：] ?No such file or directory[)）]$"
	done
}

# warnings TEXT: the warning lines of TEXT, in either language, sorted.
warnings() { grep -E '^  (warning|警告)：?' <<<"$1" | sort || true; }

# small_return FILE MEMBERS SESSIONS ATTENDANCE EXPECTED: a return of four values.
small_return() {
	printf 'code,value\nmembers_total,%s\nstudy_sessions,%s\nstudy_attendance,%s\nstudy_expected,%s\n' \
		"$2" "$3" "$4" "$5" >"$1"
}

# A return with a rule warning, an outlier and a stock jump, submitted in
# English: stored as codes with parameters, `show` and `history` word them
# in the reader's language. Then the other way round.
test_findings() {
	local f="$TMP/warnings.csv" month out en_lines zh_lines members zj ej
	# History for the outlier checks: study_sessions 3 (the example), 4, 4, 4.
	for month in 2026-02 2026-03 2026-04; do
		small_return "$f" 16 4 40 45
		en client branch SFJ-DZB submit "$f" --period "$month" >/dev/null
	done
	small_return "$f" 32 100 60 45
	en_lines="  warning: line 2: members_total: 32 is +100% from 16 in 2026-04 (more than 50%); please check it
  warning: line 3: study_sessions: 100 is more than 3 times the median of its last 4 months (4); please check it
  warning: rule r_study_attendance violated: study_attendance (60) <= study_expected (45): $(rule_message message_en r_study_attendance)"
	zh_lines="  警告：第 2 行：members_total：32 变动 +100%，上次为 16（2026-04），变动超过 50%；请核实
  警告：第 3 行：study_sessions：100 超过中位数的 3 倍（近 4 个月的中位数为 4）；请核实
  警告：违反规则 r_study_attendance：study_attendance (60) <= study_expected (45)：$(rule_message message_zh r_study_attendance)"
	en_lines=$(sort <<<"$en_lines")
	zh_lines=$(sort <<<"$zh_lines")

	out=$(en client branch SFJ-DZB submit "$f" --period 2026-05 2>&1)
	check_eq "en: submit shows the warnings in English" "$(warnings "$out")" "$en_lines"
	out=$(zh client branch SFJ-DZB show --period 2026-05 2>&1)
	check_eq "zh: show words the warnings of an English submission in Chinese" \
		"$(warnings "$out")" "$zh_lines"
	check_match "zh: and the rules it skipped" "$out" \
		"^  跳过：规则 r_survey_valid 已跳过：survey_valid 未填报, survey_issued 未填报$"
	out=$(zh client auditor JGDW history --org SFJ-DZB --period 2026-05 2>&1)
	check_eq "zh: history words them in Chinese too" "$(warnings "$out")" "$zh_lines"
	out=$(en client central JGDW show --org SFJ-DZB --period 2026-05 2>&1)
	check_eq "en: show words them in English for an English reader" "$(warnings "$out")" "$en_lines"
	check_match "en: and the rules it skipped" "$out" \
		"^  skipped: rule r_survey_valid skipped: survey_valid not reported, survey_issued not reported$"
	out=$(en client central JGDW history --org SFJ-DZB --period 2026-05 2>&1)
	check_eq "en: history in English" "$(warnings "$out")" "$en_lines"
	check_eq "the warnings are stored as codes with parameters, without text" \
		"$(db_sql "SELECT kind || ' ' || params || ' [' || message || ']' FROM revision_findings
			WHERE org = 'SFJ-DZB' AND month = 2026 * 12 + 4 AND severity = 'warning' ORDER BY kind")" \
		'outlier {"value":"100","median":"4","factor":3,"months":4} []
rule_violated {"expr":"study_attendance (60) <= study_expected (45)"} []
stock_jump {"value":"32","previous":"16","month":"2026-04","change":100,"limit":50} []'
	zj=$(zh client branch SFJ-DZB show --period 2026-05 --format json)
	ej=$(en client branch SFJ-DZB show --period 2026-05 --format json)
	check_eq "show --format json: only the messages differ between the languages" \
		"$(grep -v '"message":' <<<"$zj")" "$(grep -v '"message":' <<<"$ej")"
	check_match "show --format json carries each finding's kind and parameters" "$(tr -d ' \n' <<<"$zj")" \
		'"field":"study_sessions","message":"第3行：[^"]*","kind":"outlier","params":\{"value":"100","median":"4","factor":3,"months":4\}'

	# Submitted in Chinese, read in English.
	members=$(grep '^members_total,' "$RETURNS/JCY-DZB/2026-01.csv" | cut -d, -f4)
	small_return "$f" $((members * 3)) 1 60 45
	out=$(zh client branch JCY-DZB submit "$f" --period 2026-02 2>&1)
	check_match "zh: submit shows the warnings in Chinese" "$(warnings "$out")" \
		"^  警告：违反规则 r_study_attendance：study_attendance \(60\) <= study_expected \(45\)："
	en_lines=$(sort <<<"  warning: line 2: members_total: $((members * 3)) is +200% from $members in 2026-01 (more than 50%); please check it
  warning: rule r_study_attendance violated: study_attendance (60) <= study_expected (45): $(rule_message message_en r_study_attendance)")
	out=$(en client branch JCY-DZB show --period 2026-02 2>&1)
	check_eq "en: show words the warnings of a Chinese submission in English" \
		"$(warnings "$out")" "$en_lines"
	out=$(en client central JGDW history --org JCY-DZB --period 2026-02 2>&1)
	check_eq "en: history too" "$(warnings "$out")" "$en_lines"
}

# A database of schema 2 (findings stored as text) is migrated when the
# daemon starts: its findings are shown as they were stored, new ones are
# stored as codes.
test_findings_migration() {
	local out
	sqlite_only "a schema 2 database migrated" || return 0
	yb_stop_daemon
	sqlite3 "$DB" "UPDATE revision_findings
			SET message = 'line ' || line || ': ' || field || ': stored as text by an earlier yuebaod';
		ALTER TABLE revision_findings DROP COLUMN kind;
		ALTER TABLE revision_findings DROP COLUMN params;
		PRAGMA user_version = 2;"
	yb_start_daemon "$YB_PKI" "$DB" "$ORGS" "$LOG"
	check_eq "the daemon migrates a schema 2 database to the current schema (6)" \
		"$(sqlite3 "$DB" "PRAGMA user_version")" "6"
	out=$(zh client branch SFJ-DZB show --period 2026-05 2>&1)
	check_match "zh: a finding stored as text is shown as it was stored" "$(warnings "$out")" \
		"^  警告：line 3: study_sessions: stored as text by an earlier yuebaod$"
	out=$(zh client branch SFJ-DZB history --period 2026-05 2>&1)
	check_match "zh: in history too" "$(warnings "$out")" \
		"^  警告：line 3: study_sessions: stored as text by an earlier yuebaod$"
	small_return "$TMP/after.csv" 32 4 60 45
	en client branch SFJ-DZB submit "$TMP/after.csv" --period 2026-06 >/dev/null
	out=$(zh client branch SFJ-DZB show --period 2026-06 2>&1)
	check_match "zh: a finding stored after the migration is worded for the reader" \
		"$(warnings "$out")" "^  警告：违反规则 r_study_attendance："
}

main() {
	setup
	test_system_messages
	test_translations_complete
	test_help
	test_usage_errors
	test_validate
	test_refusals
	test_consolidate
	test_catalog_and_status
	test_findings
	test_findings_migration
	yb_stop_daemon
	assert_summary
}

main "$@"
