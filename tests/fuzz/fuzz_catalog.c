/*
 * fuzz_catalog.c - libFuzzer target for the catalog loader: the input is
 * split at NUL bytes into elements.csv, indicators.csv and rules.csv (a
 * missing part is an empty file) and handed to catalog_load_files. A loaded
 * catalog is then used to check a return made of its own codes with values
 * taken from its min/max, so catalog_check runs on whatever loaded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "decimal.h"

static void exercise(const struct catalog *c)
{
	struct catalog_entry *e;
	struct catalog_values v;
	struct catalog_findings f = {0};
	char(*vals)[32];
	size_t n = c->n_elements;

	e = calloc(n + 1, sizeof(*e));
	vals = calloc(n + 1, sizeof(*vals));
	if (e == NULL || vals == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct catalog_element *el = &c->elements[i];
		int64_t x = el->has_max ? el->max : el->has_min ? el->min : (int64_t)i * 100;

		if (dec_format(x, 2, vals[i], sizeof(vals[i])) != YB_OK)
			abort();
		e[i].code = el->code;
		e[i].value = vals[i];
		e[i].line = i + 2;
		if (catalog_find_element(c, el->code) != (int)i)
			abort();
	}
	for (size_t i = 0; i < c->n_indicators; i++)
		if (catalog_find_indicator(c, c->indicators[i].code) != (int)i)
			abort();
	(void)catalog_check(c, e, n, &v, &f);
	if (f.errors + f.warnings + f.skipped != f.n)
		abort();
	catalog_findings_clear(&f);
	catalog_values_free(&v);
out:
	free(e);
	free(vals);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct catalog_file files[CATALOG_NFILES];
	struct catalog *c = NULL;
	struct errbuf eb;
	size_t pos = 0;

	for (size_t k = 0; k < CATALOG_NFILES; k++) {
		const uint8_t *end = pos < size ? memchr(data + pos, 0, size - pos) : NULL;
		size_t len = end ? (size_t)(end - (data + pos)) : size - pos;

		files[k].name = (char *)catalog_file_names[k];
		files[k].data = (char *)data + pos;
		files[k].len = len;
		pos += len + (end ? 1 : 0);
	}
	eb.msg[0] = '\0';
	if (catalog_load_files(files, CATALOG_NFILES, &c, &eb) == YB_OK) {
		exercise(c);
		catalog_free(c);
	} else if (c != NULL || eb.msg[0] == '\0') {
		abort();
	}
	return 0;
}
