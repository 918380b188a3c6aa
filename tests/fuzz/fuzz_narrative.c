/*
 * fuzz_narrative.c - libFuzzer target for report templates (narrative.h):
 * any bytes either parse against the default catalog and render, with
 * every kind of gap (no value, no previous, zero previous), without a
 * crash or leak, or are refused with a message naming line and column.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "narrative.h"

static struct catalog *cat;
static Yuebao__V1__Figure *figures;
static Yuebao__V1__Figure **list;
static Yuebao__V1__Group group, *groups[1];
static Yuebao__V1__ConsolidateReply reply;
static struct report rep;

/* A report whose figures cycle through a value, a change and each kind of gap. */
static void setup(void)
{
	static char *const values[][4] = {{"16", "14", "14.3", "%"},
	                                  {"99.0", "95.3", "3.7", "pp"},
	                                  {"", "", "", ""},
	                                  {"4", "0", "", ""},
	                                  {"28000.00", "", "", ""}};
	struct errbuf eb;
	size_t n;

	if (catalog_load_dir(YB_FUZZ_CATALOG_DIR, &cat, &eb) != YB_OK)
		abort();
	n = cat->n_elements + cat->n_indicators;
	figures = calloc(n, sizeof(*figures));
	list = calloc(n, sizeof(*list));
	if (figures == NULL || list == NULL)
		abort();
	for (size_t k = 0; k < n; k++) {
		char *const *v = values[k % 5];
		yuebao__v1__figure__init(&figures[k]);
		figures[k].code = k < cat->n_elements ? cat->elements[k].code
		                                      : cat->indicators[k - cat->n_elements].code;
		figures[k].value = v[0];
		figures[k].previous = v[1];
		figures[k].change = v[2];
		figures[k].change_unit = v[3];
		list[k] = &figures[k];
	}
	yuebao__v1__group__init(&group);
	group.figures = list;
	group.n_figures = n;
	group.expected = 3;
	group.present = 2;
	groups[0] = &group;
	yuebao__v1__consolidate_reply__init(&reply);
	reply.groups = groups;
	reply.n_groups = 1;
	reply.period = (char *)"2026H1";
	reply.previous_period = (char *)"2025H1";
	reply.compare = (char *)"yoy";
	rep.cat = cat;
	rep.total = rep.by_org = rep.by_month = &reply;
	rep.zone = tz_utc();
	strcpy(rep.cutoff, "2026-06");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct narrative *n = NULL;
	struct errbuf eb;
	FILE *sink;

	if (cat == NULL)
		setup();
	eb.msg[0] = '\0';
	if (narrative_parse(cat, "t.md", (const char *)data, size, &n, &eb) != YB_OK) {
		if (n != NULL || strncmp(eb.msg, "t.md: ", 6) != 0)
			abort();
		return 0;
	}
	if ((sink = fopen("/dev/null", "w")) == NULL)
		abort();
	if (narrative_render(n, &rep, sink, &eb) != YB_OK)
		abort();
	fclose(sink);
	narrative_free(n);
	return 0;
}
