/*
 * test_audit.c - who an audit entry names, read back from its text
 * (server/audit.c: audit_entry_actor), for every form of the actor line a
 * log may hold: entries written today and by earlier releases, the
 * daemon's own, and refused certificates that claim anything at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "audit.h"

#define FP "9e8bd0e8094a5e19754089b4fe1affd1d893f725a252288d7d558b2e7042033f"

/* An entry's text as audit_append writes it, with the given actor and fingerprint lines. */
static void read_actor(const char *actor, const char *fingerprint, struct audit_actor *out)
{
	char entry[1024];
	int n = snprintf(entry, sizeof(entry),
	                 "yuebao-audit-v1\nindex=7\ntime=1751500000000\nactor=%s\nfingerprint=%s\n"
	                 "action=refused:PERMISSION_DENIED\nobject=Submit actor=O=x, OU=admin, "
	                 "CN=EVIL\ndigest=00\n",
	                 actor, fingerprint);
	assert_true(n > 0 && (size_t)n < sizeof(entry));
	audit_entry_actor(entry, (size_t)n, out);
}

static void test_verified_caller(void **state)
{
	struct audit_actor a;
	(void)state;
	read_actor("O=yuebao-demo, OU=branch, CN=ZFW-JG", FP, &a);
	assert_string_equal(a.role, "branch");
	assert_string_equal(a.org, "ZFW-JG");
	assert_string_equal(a.fingerprint, FP);
	assert_true(a.verified);
}

static void test_deployment_name_with_commas(void **state)
{
	struct audit_actor a;
	(void)state;
	/* O is the deployment's free-form name: role and org are read from the right. */
	read_actor("O=Acme, OU=x, CN=y, OU=central, CN=JGDW", FP, &a);
	assert_string_equal(a.role, "central");
	assert_string_equal(a.org, "JGDW");
}

static void test_daemon(void **state)
{
	struct audit_actor a;
	(void)state;
	read_actor(AUDIT_DAEMON, FP, &a);
	assert_string_equal(a.role, AUDIT_DAEMON);
	assert_string_equal(a.org, "");
	assert_string_equal(a.fingerprint, FP);
	assert_true(a.verified);
	/* Loads logged before the daemon recorded its certificate. */
	read_actor(AUDIT_DAEMON, "", &a);
	assert_string_equal(a.role, AUDIT_DAEMON);
	assert_string_equal(a.fingerprint, "");
}

static void test_unverified(void **state)
{
	struct audit_actor a;
	(void)state;
	read_actor("unverified:O=yuebao-demo, OU=branch, CN=GONE-1", FP, &a);
	assert_false(a.verified);
	assert_string_equal(a.role, "branch");
	assert_string_equal(a.org, "GONE-1");
	assert_string_equal(a.fingerprint, FP);
	/* No certificate could be read. */
	read_actor("unverified:", "", &a);
	assert_false(a.verified);
	assert_string_equal(a.role, "");
	assert_string_equal(a.org, "");
	/* As earlier releases wrote it. */
	read_actor("(unverified caller)", "", &a);
	assert_false(a.verified);
	assert_string_equal(a.role, "");
	assert_string_equal(a.org, "");
	assert_string_equal(a.fingerprint, "");
}

static void test_claims_are_tamed(void **state)
{
	struct audit_actor a;
	(void)state;
	/* A refused certificate may claim anything: no control characters come out. */
	read_actor("unverified:O=x, OU=bra\x1b[2Jnch, CN=A\x7f"
	           "B",
	           FP, &a);
	assert_string_equal(a.role, "bra?[2Jnch");
	assert_string_equal(a.org, "A?B");
	/* Nor anything longer than its field. */
	read_actor("unverified:O=x, OU=a-role-far-longer-than-any-role, CN=X", FP, &a);
	assert_int_equal(strlen(a.role), sizeof(a.role) - 1);
}

static void test_missing_lines(void **state)
{
	struct audit_actor a;
	(void)state;
	audit_entry_actor("yuebao-audit-v1\nindex=0\n", 24, &a);
	assert_string_equal(a.role, "");
	assert_string_equal(a.org, "");
	assert_string_equal(a.fingerprint, "");
	/* Only whole lines count: "actor=" inside another field is not the actor. */
	audit_entry_actor("object=x\nactor=O=d, OU=auditor, CN=JGDW", 39, &a);
	assert_string_equal(a.role, "auditor");
	assert_string_equal(a.org, "JGDW");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verified_caller),
	    cmocka_unit_test(test_deployment_name_with_commas),
	    cmocka_unit_test(test_daemon),
	    cmocka_unit_test(test_unverified),
	    cmocka_unit_test(test_claims_are_tamed),
	    cmocka_unit_test(test_missing_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
