# shellcheck shell=bash
# Assertions shared by the integration tests. Each prints "ok   - NAME" or
# "FAIL - NAME" with the evidence; a test ends with `assert_summary`, which
# prints "N passed, M failed" and fails when anything failed.

passed=0
failed=0
pass() {
  passed=$((passed + 1))
  echo "ok   - $1"
}

fail() {
  failed=$((failed + 1))
  echo "FAIL - $1" >&2
  if [[ $# -ge 2 && -n "$2" ]]; then
    printf '%s\n' "$2" | sed 's/^/       /' >&2
  fi
}

# check NAME COMMAND...: the command succeeds.
check() {
  local name="$1"
  shift
  local out
  if out="$("$@" 2>&1)"; then
    pass "$name"
  else
    fail "$name" "$out"
  fi
}

# check_fails NAME COMMAND...: the command fails.
check_fails() {
  local name="$1"
  shift
  local out
  if out="$("$@" 2>&1)"; then
    fail "$name (unexpectedly succeeded)" "$out"
  else
    pass "$name"
  fi
}

# check_exit NAME CODE PATTERN COMMAND...: the command exits with CODE and
# its output (stdout and stderr) matches the extended regex PATTERN.
check_exit() {
  local name="$1" want="$2" pattern="$3"
  shift 3
  local out rc=0
  out="$("$@" 2>&1)" || rc=$?
  if [[ "$rc" -ne "$want" ]]; then
    fail "$name (exit $rc, want $want)" "$out"
  elif ! grep -Eq -- "$pattern" <<<"$out"; then
    fail "$name (output does not match /$pattern/)" "$out"
  else
    pass "$name"
  fi
}

# check_eq NAME GOT WANT
check_eq() {
  if [[ "$2" == "$3" ]]; then
    pass "$1"
  else
    fail "$1" "got:  $2"$'\n'"want: $3"
  fi
}

# check_match NAME TEXT PATTERN (extended regex)
check_match() {
  if grep -Eq -- "$3" <<<"$2"; then
    pass "$1"
  else
    fail "$1 (no match for /$3/)" "$2"
  fi
}

# check_no_match NAME TEXT PATTERN (extended regex): TEXT has no line matching.
check_no_match() {
  if grep -Eq -- "$3" <<<"$2"; then
    fail "$1 (unexpected match for /$3/)" "$2"
  else
    pass "$1"
  fi
}

# assert_summary: the closing line CTest's log shows; non-zero on failure.
assert_summary() {
  echo "$passed passed, $failed failed"
  ((failed == 0))
}
