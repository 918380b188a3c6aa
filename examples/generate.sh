#!/usr/bin/env bash
# Generates the example monthly returns under examples/returns/ from
# examples/orgs.csv: one CSV (code,name,unit,value, the default catalog of
# SPEC section 9) for every leaf org unit (a unit without children) and every
# month of 2025-01..2025-06 and 2026-01..2026-06, then runs check.sh on them.
#
# The numbers are made up but plausible for a branch of 10-40 members and
# deterministic: every value comes from a small hash-seeded generator
# (Park-Miller, exact in awk's doubles), so the same orgs.csv always gives the
# same files with any POSIX awk (mawk, gawk). 2026 runs somewhat higher
# than 2025 (lower for elements that should fall: meetings, reception costs,
# complaints, processing days), so year-over-year change is visible. A few
# files leave a few elements blank (not reported: missing is not zero).
#
# Usage: examples/generate.sh [--no-check]
set -euo pipefail

readonly MONTHS="2025-01 2025-02 2025-03 2025-04 2025-05 2025-06 2026-01 2026-02 2026-03 2026-04 2026-05 2026-06"

die() {
  echo "generate.sh: $*" >&2
  exit 1
}

# The elements of the default catalog, in catalog order, with how each value
# is made up:
#   code|name|unit|type|rule|trend|gate|months
# rule:  stock_total, stock_u35          members (stocks, slowly growing)
#        eval_part, eval_excellent, eval_qualified   democratic evaluation
#        fix A B        a whole number from A to B
#        zfix P A B     0 with probability P, else fix A B
#        per A B        members x (A..B)
#        part E A B     share A..B of element E (never more than E)
#        mult E A B     element E x (A..B)
#        mulm E A B     element E x members x (A..B)
#        amount P A B   yuan, 0 with probability P, else A..B
# trend: 2026 against 2025: + higher, - lower, = the same
# gate:  element that must be non-zero for this one to be (- for none)
# months: months of the year with a value (others report 0), * for all
element_table() {
  cat <<'EOF'
members_total|党员总数|人|int|stock_total|=|-|*
members_under_35|35岁以下党员数|人|int|stock_u35|=|-|*
study_sessions|集中学习次数|次|int|fix 2 3|+|-|*
seminars|专题研讨场次|场|int|fix 0 2|+|-|*
guest_lectures|邀请授课人次|人次|int|fix 0 2|+|-|*
study_attendance|参学人次|人次|int|part study_expected 0.86 0.98|+|-|*
study_expected|应参学人次|人次|int|mulm study_sessions 1 1|=|-|*
notes_chars|学习笔记字数|字|int|per 1200 2400|+|-|*
reflections|心得体会篇数|篇|int|per 0.2 0.6|+|-|*
disputes_resolved_theory|运用理论化解矛盾纠纷|起|int|fix 0 4|+|-|*
grassroots_practice|基层跟班作业人次|人次|int|per 0.05 0.3|+|-|*
grassroots_suggestions|收集基层建议|条|int|fix 1 8|+|-|*
aid_households|走访帮扶户数|户|int|fix 1 5|+|-|*
donations_yuan|党员捐款|元|amount|amount 0.5 200 3000|+|-|*
donated_items|捐赠衣物|件|int|zfix 0.6 10 60|+|-|*
aid_problems_solved|解决实际问题|个|int|fix 0 4|+|aid_households|*
enterprise_visits|走访企业|家|int|fix 0 5|+|-|*
enterprise_forums|政企座谈会|场|int|zfix 0.5 1 1|+|-|*
enterprise_needs|梳理企业法治需求|项|int|fix 1 8|+|enterprise_visits|*
survey_issued|发放调查问卷|份|int|zfix 0.6 50 300|+|-|*
survey_valid|回收有效问卷|份|int|part survey_issued 0.85 0.98|+|-|*
survey_problems|梳理问题|项|int|fix 2 9|+|survey_issued|*
forum_participants|座谈会代表|人|int|zfix 0.5 8 25|+|-|*
forum_suggestions|收集意见建议|条|int|fix 3 15|+|forum_participants|*
forum_suggestions_adopted|纳入整改计划的建议|条|int|part forum_suggestions 0.4 0.9|+|-|*
model_cases|先进典型案例|个|int|fix 0 2|+|-|*
publicity_items|宣传先进事迹|次|int|fix 1 4|+|-|*
warning_cases|通报违法违纪案例|起|int|fix 1 3|+|-|*
warning_films|观看警示教育片|部|int|zfix 0.4 1 1|=|-|*
branch_general_meetings|支部党员大会|次|int|fix 1 1|=|-|1,3,6
committee_meetings|支委会|次|int|fix 1 2|+|-|*
group_meetings|党小组会|次|int|fix 1 3|+|-|*
party_lectures|党课|次|int|fix 1 1|=|-|3,6
themed_party_days|主题党日活动|次|int|fix 1 1|+|-|*
evaluation_participants|参加民主评议党员|人|int|eval_part|=|-|1
members_excellent|评定优秀党员|名|int|eval_excellent|=|-|1
members_qualified|评定合格党员|名|int|eval_qualified|=|-|1
activists|确定入党积极分子|名|int|zfix 0.6 1 2|=|-|*
development_targets|确定发展对象|名|int|zfix 0.7 1 1|=|-|*
probationary_admitted|吸收预备党员|名|int|zfix 0.3 1 1|=|-|6
commitments_total|党员承诺事项|项|int|per 0.2 0.5|+|-|*
commitments_done|已完成承诺事项|项|int|part commitments_total 0.7 0.95|+|-|*
major_cases_total|重大案件总数|起|int|fix 1 6|+|-|*
major_cases_led|党员牵头办理重大案件|起|int|part major_cases_total 0.5 0.95|+|-|*
disputes_total|疑难纠纷总数|起|int|fix 2 9|+|-|*
disputes_led|党员牵头化解疑难纠纷|起|int|part disputes_total 0.45 0.9|+|-|*
legal_publicity_events|法治宣传场次|场|int|fix 1 3|+|-|*
legal_publicity_reach|法治宣传覆盖群众|人次|int|mult legal_publicity_events 80 260|+|-|*
community_disputes|社区矛盾纠纷|起|int|fix 3 14|+|-|*
community_disputes_local|就地化解矛盾纠纷|起|int|part community_disputes 0.75 0.97|+|-|*
rules_revised|修订完善制度|项|int|zfix 0.5 1 3|+|-|*
documents_issued|发文数量|件|int|fix 6 20|-|-|*
documents_processed|办结公文|件|int|fix 15 45|+|-|*
documents_processing_days|公文办结总用时|工作日|int|mult documents_processed 2.2 4.2|-|-|*
meetings_held|会议数量|次|int|fix 3 8|-|-|*
reception_cost_yuan|公务接待费用|元|amount|amount 0.4 150 1800|-|-|*
case_files_sampled|抽查案件卷宗|册|int|fix 5 20|+|-|*
procedural_issues|发现程序瑕疵问题|项|int|fix 0 4|-|case_files_sampled|*
units_inspected|检查基层政法单位|个|int|fix 0 3|+|-|*
self_check_issues|自查自纠问题|项|int|fix 1 5|=|-|*
rectification_measures|制定整改措施|条|int|fix 2 8|+|-|*
rectification_done|完成整改措施|条|int|part rectification_measures 0.6 1.0|+|-|*
integrity_talks|廉政谈话|人次|int|per 0.1 0.4|+|-|*
reports_received|受理群众监督举报|件|int|fix 0 4|-|-|*
reports_verified|核实处理举报|件|int|part reports_received 0.6 1.0|+|-|*
tasks_assigned|工作任务|项|int|fix 10 30|+|-|*
tasks_completed|完成工作任务|项|int|part tasks_assigned 0.85 1.0|+|-|*
warning_sessions|廉政警示教育场次|场|int|fix 1 1|+|-|*
integrity_attendance|廉政教育覆盖人次|人次|int|mulm warning_sessions 0.85 1.0|=|-|*
handbooks|发放廉政宣传手册|册|int|per 0.5 1.5|+|-|*
wechat_posts|推送廉政信息|条|int|fix 4 15|+|-|*
family_pledges|签订家庭廉政承诺书|份|int|per 0.8 1.0|=|-|1
warning_essays|警示教育心得|篇|int|per 0.2 0.8|+|-|*
risk_points|排查廉政风险点|个|int|fix 1 6|+|-|*
risk_measures|制定防控措施|条|int|mult risk_points 1.0 2.0|+|-|*
enforcement_issues_fixed|整改执法不规范问题|项|int|fix 0 4|+|-|*
cases_published|公开案件流程信息|条|int|fix 20 120|+|-|*
complaints_received|受理执法投诉|件|int|fix 0 5|-|-|*
complaints_closed|办结执法投诉|件|int|part complaints_received 0.7 1.0|+|-|*
complaint_days_total|投诉办理总用时|工作日|int|mult complaints_closed 3 9|-|-|*
petitions|信访投诉量|件|int|fix 0 4|-|-|*
EOF
}

# Members and members under 35 at 2025-01 for the example branches; other
# codes get a size derived from their code.
org_profile() {
  case "$1" in
    ZFW-JG) echo "18 7" ;;
    FY-DZB) echo "34 13" ;;
    FY-ZXJ) echo "26 9" ;;
    JCY-DZB) echo "29 10" ;;
    SFJ-DZB) echo "13 4" ;;
    *) echo "0 0" ;;
  esac
}

# Codes of the org units without children, in file order.
leaf_codes() {
  local orgs="$1"
  awk -F ',' '
    NR == 1 { next }
    { sub(/\r$/, ""); if ($1 == "") next
      code[++n] = $1; if ($3 != "") parent[$3] = 1 }
    END { for (i = 1; i <= n; i++) if (!(code[i] in parent)) print code[i] }
  ' "$orgs"
}

# Writes OUT/ORG/<month>.csv for every month.
generate_org() {
  local org="$1" out="$2" members u35
  read -r members u35 <<<"$(org_profile "$org")"
  mkdir -p -- "$out/$org"
  element_table | awk -F '|' -v org="$org" -v outdir="$out" \
    -v base_members="$members" -v base_u35="$u35" -v months="$MONTHS" '
    function hash(s,    h, i) {
      h = 7
      for (i = 1; i <= length(s); i++)
        h = (h * 131 + ord[substr(s, i, 1)]) % 2147483647
      return h
    }
    # A number in [0, 1) determined by key.
    function rnd(key,    s, i) {
      s = hash(key) % 2147483646 + 1
      for (i = 0; i < 4; i++)
        s = (s * 16807) % 2147483647
      return (s - 1) / 2147483646
    }
    function uni(key, a, b) { return a + (b - a) * rnd(key) }
    function growth(c) {
      if (year == 2025 || trend[c] == "=") return 1
      if (trend[c] == "+") return 1.08 + 0.2 * rnd(org "|" c "|growth")
      return 0.65 + 0.2 * rnd(org "|" c "|growth")
    }
    function in_months(c,    n, i, list) {
      if (mlist[c] == "*") return 1
      n = split(mlist[c], list, ",")
      for (i = 1; i <= n; i++) if (list[i] + 0 == mon) return 1
      return 0
    }
    # Value of element c (cents for amounts); deps must be done already.
    function value_of(c,    key, r, n, x, ratio, cents) {
      key = org "|" month "|" c
      n = split(rule[c], r, " ")
      if (!in_months(c)) return 0
      if (gate[c] != "-" && v[gate[c]] == 0) return 0
      if (r[1] == "zfix") {
        if (rnd(key "|zero") < r[2] + 0) return 0
        r[2] = r[3]; r[3] = r[4]; r[1] = "fix"
      }
      if (r[1] == "fix") {
        x = r[2] + (r[3] - r[2] + 1) * rnd(key)
        return int(x * growth(c))
      }
      if (r[1] == "per")
        return int(members * uni(key, r[2], r[3]) * growth(c) + 0.5)
      if (r[1] == "part") {
        ratio = uni(key, r[3], r[4])
        if (year == 2026 && trend[c] == "+") ratio += (1 - ratio) * 0.35
        x = int(v[r[2]] * ratio + 0.5)
        return x > v[r[2]] ? v[r[2]] : x
      }
      if (r[1] == "mult")
        return int(v[r[2]] * uni(key, r[3], r[4]) * growth(c) + 0.5)
      if (r[1] == "mulm")
        return int(v[r[2]] * members * uni(key, r[3], r[4]) + 0.5)
      if (r[1] == "amount") {
        if (rnd(key "|zero") < r[2] + 0) return 0
        cents = int(uni(key, r[3], r[4]) * growth(c) * 100)
        x = rnd(key "|cents")
        if (x < 0.6) return int(cents / 100) * 100
        if (x < 0.85) return int(cents / 10) * 10
        return cents
      }
      print "generate.sh: unknown rule for " c ": " rule[c] > "/dev/stderr"
      exit 1
    }
    function dependency(c,    r) {
      split(rule[c], r, " ")
      if (r[1] == "part" || r[1] == "mult" || r[1] == "mulm") return r[2]
      return ""
    }
    function format_value(c, x) {
      if (type[c] != "amount") return sprintf("%d", x)
      if (x % 100 == 0) return sprintf("%d", x / 100)
      return sprintf("%d.%02d", int(x / 100), x % 100)
    }
    function generate_month(    c, i, pass, left, dep, file, nblank, pick) {
      idx = (year - 2025) * 12 + mon - 1
      members = base_members + int((idx + off) / step)
      u35 = base_u35 + int((idx + off35) / step35)
      split("", v); split("", done); split("", blank)
      v["members_total"] = members; done["members_total"] = 1
      v["members_under_35"] = u35; done["members_under_35"] = 1
      # Democratic evaluation (民主评议) happens in January.
      if (mon == 1) {
        v["evaluation_participants"] = members - int(rnd(org "|" month "|absent") * 3)
        v["members_excellent"] = int(members * uni(org "|" month "|excellent", 0.12, 0.2) + 0.5)
        v["members_qualified"] = v["evaluation_participants"] - v["members_excellent"] \
          - (rnd(org "|" month "|basic") < 0.3 ? 1 : 0)
      } else {
        v["evaluation_participants"] = v["members_excellent"] = v["members_qualified"] = 0
      }
      done["evaluation_participants"] = done["members_excellent"] = done["members_qualified"] = 1
      for (pass = 0; pass < 5; pass++) {
        left = 0
        for (i = 1; i <= n; i++) {
          c = codes[i]
          if (c in done) continue
          dep = dependency(c)
          if ((dep != "" && !(dep in done)) || (gate[c] != "-" && !(gate[c] in done))) {
            left++
            continue
          }
          v[c] = value_of(c)
          done[c] = 1
        }
        if (left == 0) break
      }
      if (left) { print "generate.sh: circular rules" > "/dev/stderr"; exit 1 }
      # A few files leave an element or two blank.
      if (rnd(org "|" month "|missing") < 0.15) {
        nblank = rnd(org "|" month "|nmissing") < 0.4 ? 2 : 1
        for (i = 1; i <= nblank; i++) {
          pick = int(rnd(org "|" month "|missing" i) * ncand) + 1
          blank[cand[pick]] = 1
        }
      }
      file = outdir "/" org "/" month ".csv"
      print "code,name,unit,value" > file
      for (i = 1; i <= n; i++) {
        c = codes[i]
        print c "," name[c] "," unit[c] "," ((c in blank) ? "" : format_value(c, v[c])) > file
      }
      close(file)
    }
    BEGIN {
      for (i = 32; i < 127; i++) ord[sprintf("%c", i)] = i
      ncand = split("guest_lectures donated_items notes_chars wechat_posts enterprise_needs handbooks grassroots_practice cases_published survey_problems members_under_35 reception_cost_yuan", cand, " ")
    }
    {
      codes[++n] = $1; name[$1] = $2; unit[$1] = $3; type[$1] = $4
      rule[$1] = $5; trend[$1] = $6; gate[$1] = $7; mlist[$1] = $8
    }
    END {
      if (base_members + 0 == 0) {
        base_members = 10 + int(rnd(org "|members") * 28)
        base_u35 = int(base_members * (0.2 + 0.2 * rnd(org "|u35")))
      }
      step = 4 + int(rnd(org "|step") * 3)
      off = int(rnd(org "|off") * step)
      step35 = 7 + int(rnd(org "|step35") * 3)
      off35 = int(rnd(org "|off35") * step35)
      nm = split(months, mlist_all, " ")
      for (k = 1; k <= nm; k++) {
        month = mlist_all[k]
        year = substr(month, 1, 4) + 0
        mon = substr(month, 6, 2) + 0
        generate_month()
      }
    }'
}

main() {
  local check=1
  case "${1:-}" in
    "") ;;
    --no-check) check=0 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
      return
      ;;
    *) die "unknown argument '$1' (usage: generate.sh [--no-check])" ;;
  esac
  local here orgs out org count=0
  here="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
  orgs="$here/orgs.csv"
  out="$here/returns"
  [[ -r "$orgs" ]] || die "cannot read $orgs"
  rm -rf -- "$out"
  mkdir -p -- "$out"
  while IFS= read -r org; do
    generate_org "$org" "$out"
    count=$((count + 1))
  done < <(leaf_codes "$orgs")
  ((count > 0)) || die "$orgs has no leaf org units"
  echo "generated $((count * $(wc -w <<<"$MONTHS"))) returns for $count branches in $out"
  if ((check)); then
    bash "$here/check.sh"
  fi
}

main "$@"
