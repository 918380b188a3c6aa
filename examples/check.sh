#!/usr/bin/env bash
# Checks the example data under examples/: orgs.csv is a well-formed org tree
# (code,name,parent; codes [A-Z0-9-]{2,32}; one root; no cycles), every leaf
# org unit has a return for each month 2025-01..2025-06 and 2026-01..2026-06
# and nothing else is there, and every return is a clean CSV
# (code,name,unit,value) of the default catalog (SPEC section 9): known
# codes with their names and units, no duplicates, values non-negative whole
# numbers (amounts: at most two decimals) or blank, and every validation rule
# of the catalog, errors and warnings alike, holds (a rule with a blank
# operand is skipped). Prints a summary; exits 1 if anything is wrong.
#
# Usage: examples/check.sh [EXAMPLES_DIR]
set -euo pipefail

readonly MONTHS="2025-01 2025-02 2025-03 2025-04 2025-05 2025-06 2026-01 2026-02 2026-03 2026-04 2026-05 2026-06"

# The validation rules of the default catalog (left <= right; left may be a
# sum), and whether the daemon treats them as errors or warnings.
readonly RULES="survey_valid<=survey_issued
forum_suggestions_adopted<=forum_suggestions
members_under_35<=members_total
members_excellent+members_qualified<=members_total
evaluation_participants<=members_total
commitments_done<=commitments_total
major_cases_led<=major_cases_total
disputes_led<=disputes_total
community_disputes_local<=community_disputes
reports_verified<=reports_received
tasks_completed<=tasks_assigned
study_attendance<=study_expected
complaints_closed<=complaints_received
rectification_done<=rectification_measures"

# The elements of the default catalog: code|name|unit|type.
element_table() {
  cat <<'EOF'
members_total|党员总数|人|int
members_under_35|35岁以下党员数|人|int
study_sessions|集中学习次数|次|int
seminars|专题研讨场次|场|int
guest_lectures|邀请授课人次|人次|int
study_attendance|参学人次|人次|int
study_expected|应参学人次|人次|int
notes_chars|学习笔记字数|字|int
reflections|心得体会篇数|篇|int
disputes_resolved_theory|运用理论化解矛盾纠纷|起|int
grassroots_practice|基层跟班作业人次|人次|int
grassroots_suggestions|收集基层建议|条|int
aid_households|走访帮扶户数|户|int
donations_yuan|党员捐款|元|amount
donated_items|捐赠衣物|件|int
aid_problems_solved|解决实际问题|个|int
enterprise_visits|走访企业|家|int
enterprise_forums|政企座谈会|场|int
enterprise_needs|梳理企业法治需求|项|int
survey_issued|发放调查问卷|份|int
survey_valid|回收有效问卷|份|int
survey_problems|梳理问题|项|int
forum_participants|座谈会代表|人|int
forum_suggestions|收集意见建议|条|int
forum_suggestions_adopted|纳入整改计划的建议|条|int
model_cases|先进典型案例|个|int
publicity_items|宣传先进事迹|次|int
warning_cases|通报违法违纪案例|起|int
warning_films|观看警示教育片|部|int
branch_general_meetings|支部党员大会|次|int
committee_meetings|支委会|次|int
group_meetings|党小组会|次|int
party_lectures|党课|次|int
themed_party_days|主题党日活动|次|int
evaluation_participants|参加民主评议党员|人|int
members_excellent|评定优秀党员|名|int
members_qualified|评定合格党员|名|int
activists|确定入党积极分子|名|int
development_targets|确定发展对象|名|int
probationary_admitted|吸收预备党员|名|int
commitments_total|党员承诺事项|项|int
commitments_done|已完成承诺事项|项|int
major_cases_total|重大案件总数|起|int
major_cases_led|党员牵头办理重大案件|起|int
disputes_total|疑难纠纷总数|起|int
disputes_led|党员牵头化解疑难纠纷|起|int
legal_publicity_events|法治宣传场次|场|int
legal_publicity_reach|法治宣传覆盖群众|人次|int
community_disputes|社区矛盾纠纷|起|int
community_disputes_local|就地化解矛盾纠纷|起|int
rules_revised|修订完善制度|项|int
documents_issued|发文数量|件|int
documents_processed|办结公文|件|int
documents_processing_days|公文办结总用时|工作日|int
meetings_held|会议数量|次|int
reception_cost_yuan|公务接待费用|元|amount
case_files_sampled|抽查案件卷宗|册|int
procedural_issues|发现程序瑕疵问题|项|int
units_inspected|检查基层政法单位|个|int
self_check_issues|自查自纠问题|项|int
rectification_measures|制定整改措施|条|int
rectification_done|完成整改措施|条|int
integrity_talks|廉政谈话|人次|int
reports_received|受理群众监督举报|件|int
reports_verified|核实处理举报|件|int
tasks_assigned|工作任务|项|int
tasks_completed|完成工作任务|项|int
warning_sessions|廉政警示教育场次|场|int
integrity_attendance|廉政教育覆盖人次|人次|int
handbooks|发放廉政宣传手册|册|int
wechat_posts|推送廉政信息|条|int
family_pledges|签订家庭廉政承诺书|份|int
warning_essays|警示教育心得|篇|int
risk_points|排查廉政风险点|个|int
risk_measures|制定防控措施|条|int
enforcement_issues_fixed|整改执法不规范问题|项|int
cases_published|公开案件流程信息|条|int
complaints_received|受理执法投诉|件|int
complaints_closed|办结执法投诉|件|int
complaint_days_total|投诉办理总用时|工作日|int
petitions|信访投诉量|件|int
EOF
}

problems=0

report() {
  echo "check.sh: $*" >&2
  problems=$((problems + 1))
}

# Prints the leaf codes of a valid tree; reports what is wrong with it.
check_orgs() {
  local orgs="$1"
  awk -F ',' '
    function bad(msg) { print FILENAME ":" NR ": " msg > "/dev/stderr"; errors++ }
    NR == 1 {
      sub(/\r$/, "")
      if ($0 != "code,name,parent") bad("header must be code,name,parent, not " $0)
      next
    }
    {
      sub(/\r$/, "")
      if (NF != 3) { bad("expected 3 fields, got " NF); next }
      if ($1 !~ /^[A-Z0-9-]+$/ || length($1) < 2 || length($1) > 32)
        bad("code \"" $1 "\" does not match [A-Z0-9-]{2,32}")
      if ($1 in seen) bad("duplicate code " $1)
      if ($2 == "") bad("empty name for " $1)
      seen[$1] = NR; code[++n] = $1; parent[$1] = $3
      if ($3 == "") roots++
      else has_child[$3] = 1
    }
    END {
      if (roots != 1) { print FILENAME ": expected exactly one root, found " roots + 0 > "/dev/stderr"; errors++ }
      for (i = 1; i <= n; i++) {
        c = code[i]
        if (parent[c] != "" && !(parent[c] in seen)) {
          print FILENAME ": parent " parent[c] " of " c " is not an org unit" > "/dev/stderr"; errors++
          continue
        }
        # Walk up: a cycle never reaches the root.
        p = c; steps = 0
        while (parent[p] != "" && (parent[p] in seen) && steps <= n) { p = parent[p]; steps++ }
        if (steps > n) { print FILENAME ": " c " is in a cycle" > "/dev/stderr"; errors++ }
      }
      for (i = 1; i <= n; i++) if (!(code[i] in has_child)) print code[i]
      exit errors > 0
    }
  ' "$orgs"
}

# Checks one return; prints "blank N" for the summary.
check_return() {
  local file="$1" table
  table="$(element_table)"
  awk -F ',' -v table="$table" -v rules="$RULES" '
    function bad(line, msg) { print FILENAME ":" line ": " msg > "/dev/stderr"; errors++ }
    # Value of a sum of codes; sets missing when one of them is blank.
    function expr(e,    parts, k, n, s) {
      n = split(e, parts, "+"); s = 0
      for (k = 1; k <= n; k++) {
        if (!(parts[k] in cat_type)) { print "unknown code in rule: " parts[k] > "/dev/stderr"; exit 2 }
        if (!(parts[k] in value)) { missing = 1; return 0 }
        s += value[parts[k]]
      }
      return s
    }
    BEGIN {
      nt = split(table, lines, "\n")
      for (i = 1; i <= nt; i++) {
        split(lines[i], f, "|")
        cat_name[f[1]] = f[2]; cat_unit[f[1]] = f[3]; cat_type[f[1]] = f[4]; order[i] = f[1]
      }
    }
    NR == 1 {
      if (index($0, "\357\273\277") == 1) bad(1, "has a byte order mark")
      if ($0 != "code,name,unit,value") bad(1, "header must be code,name,unit,value, not " $0)
      next
    }
    /\r$/ { bad(NR, "CRLF line ending"); sub(/\r$/, "") }
    {
      if (NF != 4) { bad(NR, "expected 4 fields, got " NF); next }
      c = $1
      if (!(c in cat_type)) { bad(NR, "unknown element code " c); next }
      if (c in line_of) bad(NR, "duplicate code " c " (first on line " line_of[c] ")")
      line_of[c] = NR
      if ($2 != cat_name[c]) bad(NR, c ": name \"" $2 "\", catalog says \"" cat_name[c] "\"")
      if ($3 != cat_unit[c]) bad(NR, c ": unit \"" $3 "\", catalog says \"" cat_unit[c] "\"")
      if ($4 == "") { blanks++; next }
      if (cat_type[c] == "int" && $4 !~ /^[0-9]+$/) { bad(NR, c ": \"" $4 "\" is not a non-negative whole number"); next }
      if (cat_type[c] == "amount" && $4 !~ /^[0-9]+(\.[0-9][0-9]?)?$/) { bad(NR, c ": \"" $4 "\" is not a non-negative amount with at most two decimals"); next }
      if ($4 ~ /^0[0-9]/) bad(NR, c ": \"" $4 "\" has a leading zero")
      value[c] = $4 + 0
    }
    END {
      for (i = 1; i <= nt; i++)
        if (!(order[i] in line_of)) bad("-", "no row for element " order[i])
      nr = split(rules, rule, "\n")
      for (i = 1; i <= nr; i++) {
        split(rule[i], side, "<=")
        missing = 0
        l = expr(side[1]); r = expr(side[2])
        if (missing) { skipped++; continue }
        if (l > r) bad("-", "rule " side[1] " <= " side[2] " violated: " l " > " r)
      }
      print "blank " blanks + 0
      print "skipped " skipped + 0
      exit errors > 0
    }
  ' "$file"
}

# Sum of one element over the given months and all branches (blank = absent).
total_of() {
  local dir="$1" code="$2" year="$3"
  cat -- "$dir"/returns/*/"$year"-0[1-6].csv |
    awk -F ',' -v code="$code" '$1 == code && $4 != "" { s += $4 } END { printf "%.2f\n", s }' |
    sed 's/\.00$//'
}

print_trend_summary() {
  local dir="$1" code
  echo "H1 totals over all branches, 2025 -> 2026:"
  for code in study_sessions study_attendance legal_publicity_events community_disputes_local \
    documents_processing_days reception_cost_yuan complaints_received; do
    printf '  %-28s %10s -> %s\n' "$code" "$(total_of "$dir" "$code" 2025)" "$(total_of "$dir" "$code" 2026)"
  done
}

main() {
  local dir="${1:-$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)}"
  local orgs="$dir/orgs.csv" leaves org month file out files=0 blanks=0 skipped=0 blank_files=0
  [[ -r "$orgs" ]] || { echo "check.sh: cannot read $orgs" >&2; exit 1; }
  if ! leaves="$(check_orgs "$orgs")"; then
    report "$orgs is not a valid org tree"
  fi
  [[ -n "$leaves" ]] || report "$orgs has no leaf org units"

  local -A expected=()
  for org in $leaves; do
    for month in $MONTHS; do
      file="$dir/returns/$org/$month.csv"
      expected["$file"]=1
      if [[ ! -r "$file" ]]; then
        report "missing return $file"
        continue
      fi
      files=$((files + 1))
      if ! out="$(check_return "$file")"; then
        report "$file breaks the rules above"
      fi
      local n s
      n="$(awk '$1 == "blank" { print $2 }' <<<"$out")"
      s="$(awk '$1 == "skipped" { print $2 }' <<<"$out")"
      blanks=$((blanks + ${n:-0}))
      skipped=$((skipped + ${s:-0}))
      if ((${n:-0} > 0)); then
        blank_files=$((blank_files + 1))
      fi
    done
  done
  while IFS= read -r -d '' file; do
    [[ -n "${expected[$file]+x}" ]] || report "unexpected file $file (not a leaf org unit's return for a demo month)"
  done < <(find "$dir/returns" -type f -print0 2>/dev/null)

  echo "checked $files returns of $(wc -w <<<"$leaves") branches: $blank_files files leave $blanks values blank ($skipped rule checks skipped)"
  if ((problems > 0)); then
    echo "check.sh: $problems problem(s)" >&2
    exit 1
  fi
  print_trend_summary "$dir"
  echo "all example data is valid"
}

main "$@"
