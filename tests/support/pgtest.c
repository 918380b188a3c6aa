/*
 * pgtest.c - the test run's PostgreSQL database (see pgtest.h).
 */
#include "pgtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

bool pgtest_enabled(void)
{
	const char *url = getenv("YB_TEST_PG_URL");
	return url != NULL && url[0] != '\0';
}

char *pgtest_run(const char *sql, long long *first)
{
	PGconn *c = PQconnectdb(getenv("YB_TEST_PG_URL"));
	PGresult *res = PQexec(c, sql);
	char *err = NULL;

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		err = strdup(PQerrorMessage(c));
	else if (first != NULL && (PQntuples(res) < 1 || PQgetisnull(res, 0, 0)))
		err = strdup("no value");
	else if (first != NULL)
		*first = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	PQfinish(c);
	return err;
}

int pgtest_fresh(char *url, size_t len)
{
	char *err;

	if (!pgtest_enabled() || (size_t)snprintf(url, len, "%s", getenv("YB_TEST_PG_URL")) >= len)
		return -1;
	err = pgtest_run("SET client_min_messages = warning;"
	                 " DROP SCHEMA public CASCADE; CREATE SCHEMA public",
	                 NULL);
	if (err != NULL) {
		fprintf(stderr, "%s: %s\n", url, err);
		free(err);
		return -1;
	}
	return 0;
}
