/*
 * template.c - the blank return, as CSV or as an Excel workbook
 * (template.h). The xlsx is written with libxlsxwriter through xlsxfile.
 */
#include "template.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <xlsxwriter.h>

#include "decimal.h"
#include "i18n.h"
#include "output.h"
#include "period.h"
#include "returnfile.h"
#include "xlsxfile.h"

/* Excel's limits on a validation's texts, in characters. */
#define INPUT_TITLE_MAX 32
#define INPUT_MESSAGE_MAX 255

/* The sheet's columns. */
enum { COL_CODE, COL_NAME, COL_UNIT, COL_VALUE, COL_NOTE };

/* Row of the period (0-based); its value cell is the defined name "period". */
#define PERIOD_ROW 1

static const char *element_name(const struct catalog_element *e)
{
	return i18n_language() == I18N_CHINESE ? e->name_zh : e->name_en;
}

static const char *prefill_of(const struct template_spec *t, size_t i)
{
	return t->prefill != NULL && t->prefill[i] != NULL ? t->prefill[i] : "";
}

yb_status template_write_csv(FILE *f, const struct template_spec *t, bool bom)
{
	const struct catalog *cat = t->cat;

	if (bom)
		fputs("\xEF\xBB\xBF", f);
	fputs("code,name,unit,value\n", f);
	fprintf(f, "%s,", CATALOG_PERIOD_CODE);
	output_csv_field(f, _("month of this return (as 202606)"));
	fprintf(f, ",,%04d%02d\n", period_month_year(t->month), period_month_mon(t->month));
	for (size_t i = 0; i < cat->n_elements; i++) {
		const struct catalog_element *e = &cat->elements[i];

		fprintf(f, "%s,", e->code);
		output_csv_field(f, element_name(e));
		fputc(',', f);
		output_csv_field(f, e->unit);
		fprintf(f, ",%s\n", prefill_of(t, i));
	}
	return ferror(f) ? YB_EIO : YB_OK;
}

/* Cuts s to at most max characters, never inside a UTF-8 sequence. */
static void clip_utf8(char *s, size_t max)
{
	size_t chars = 0;

	for (char *p = s; *p; p++)
		if (((unsigned char)*p & 0xC0) != 0x80 && ++chars > max) {
			*p = '\0';
			return;
		}
}

/* Appends to buf (of size len) what printf would write, cut at the end of buf. */
static void append(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/*
 * What a clerk must know to fill in element i, one fact a line: unit, type
 * and bounds, how months add up, and the catalog's rules that name it.
 */
static void describe_element(const struct catalog *cat, size_t i, char *buf, size_t len)
{
	const struct catalog_element *e = &cat->elements[i];
	char lo[32], hi[32];
	bool zh = i18n_language() == I18N_CHINESE;

	buf[0] = '\0';
	if (e->unit[0] != '\0')
		append(buf, len, _("Unit: %s\n"), e->unit);
	append(buf, len, "%s",
	       e->type == CATALOG_INT ? _("a whole number") : _("an amount, at most 2 decimals"));
	dec_format(e->min, e->type == CATALOG_INT ? 0 : 2, lo, sizeof(lo));
	dec_format(e->max, e->type == CATALOG_INT ? 0 : 2, hi, sizeof(hi));
	if (e->has_min && e->has_max)
		append(buf, len, _(", from %s to %s"), lo, hi);
	else if (e->has_min)
		append(buf, len, _(", at least %s"), lo);
	else if (e->has_max)
		append(buf, len, _(", at most %s"), hi);
	append(buf, len, "\n%s",
	       e->agg == CATALOG_SUM ? _("The month's own figure: months are added up.")
	                             : _("The figure at the month's end: a stock, not added up."));
	for (size_t r = 0; r < cat->n_rules; r++) {
		const char *const *codes;
		size_t n = formula_codes(cat->rules[r].rule, &codes);

		for (size_t k = 0; k < n; k++)
			if (strcmp(codes[k], e->code) == 0) {
				append(buf, len, "\n%s%s",
				       cat->rules[r].severity == CATALOG_RULE_ERROR ? _("Rule: ")
				                                                    : _("Check: "),
				       zh ? cat->rules[r].message_zh : cat->rules[r].message_en);
				break;
			}
	}
}

/* The formats of the sheet; cells are locked unless their format unlocks them. */
struct template_formats {
	lxw_format *head, *section, *text, *note, *period, *value_int, *value_amount;
};

static void make_formats(lxw_workbook *wb, struct template_formats *f)
{
	f->head = workbook_add_format(wb);
	format_set_bold(f->head);
	format_set_bg_color(f->head, 0xD9D9D9);
	format_set_border(f->head, LXW_BORDER_THIN);
	f->section = workbook_add_format(wb);
	format_set_bold(f->section);
	format_set_bg_color(f->section, 0xDDEBF7);
	f->text = workbook_add_format(wb);
	format_set_border(f->text, LXW_BORDER_HAIR);
	f->note = workbook_add_format(wb);
	format_set_font_color(f->note, 0x595959);
	format_set_font_size(f->note, 9);
	format_set_text_wrap(f->note);
	/* Text, so a month typed as 2026-06 stays text and is not made a date. */
	f->period = workbook_add_format(wb);
	format_set_num_format(f->period, "@");
	format_set_unlocked(f->period);
	format_set_bg_color(f->period, 0xFFF2CC);
	format_set_border(f->period, LXW_BORDER_THIN);
	f->value_int = workbook_add_format(wb);
	format_set_num_format(f->value_int, "0");
	format_set_unlocked(f->value_int);
	format_set_bg_color(f->value_int, 0xFFF2CC);
	format_set_border(f->value_int, LXW_BORDER_THIN);
	f->value_amount = workbook_add_format(wb);
	format_set_num_format(f->value_amount, "0.00");
	format_set_unlocked(f->value_amount);
	format_set_bg_color(f->value_amount, 0xFFF2CC);
	format_set_border(f->value_amount, LXW_BORDER_THIN);
}

/*
 * The value cell's validation: a whole number within the bounds, or an
 * amount (a number with at most two decimals, by formula, since Excel's
 * decimal type does not count decimals) within them.
 */
static lxw_error validate_value(lxw_worksheet *ws, lxw_row_t row, const struct catalog_element *e,
                                const char *describe)
{
	lxw_data_validation v = {0};
	char title[INPUT_TITLE_MAX * 4 + 1], message[INPUT_MESSAGE_MAX * 4 + 1];
	char formula[256], cell[16], lo[32], hi[32];

	snprintf(title, sizeof(title), "%s", element_name(e));
	clip_utf8(title, INPUT_TITLE_MAX);
	snprintf(message, sizeof(message), "%s", describe);
	clip_utf8(message, INPUT_MESSAGE_MAX);
	v.input_title = title;
	v.input_message = message;
	v.error_title = title;
	v.error_message = message;
	v.error_type = LXW_VALIDATION_ERROR_TYPE_STOP;
	if (e->type == CATALOG_INT) {
		v.validate = LXW_VALIDATION_TYPE_INTEGER;
		v.criteria = LXW_VALIDATION_CRITERIA_BETWEEN;
		v.minimum_number = e->has_min ? (double)(e->min / 100) : -1e15;
		v.maximum_number = e->has_max ? (double)(e->max / 100) : 1e15;
	} else {
		lxw_rowcol_to_cell(cell, row, COL_VALUE);
		dec_format(e->min, 2, lo, sizeof(lo));
		dec_format(e->max, 2, hi, sizeof(hi));
		formula[0] = '\0';
		append(formula, sizeof(formula), "=AND(ISNUMBER(%s),ROUND(%s,2)=%s", cell, cell,
		       cell);
		if (e->has_min)
			append(formula, sizeof(formula), ",%s>=%s", cell, lo);
		if (e->has_max)
			append(formula, sizeof(formula), ",%s<=%s", cell, hi);
		append(formula, sizeof(formula), ")");
		v.validate = LXW_VALIDATION_TYPE_CUSTOM_FORMULA;
		v.value_formula = formula;
	}
	return worksheet_data_validation_cell(ws, row, COL_VALUE, &v);
}

/* One element's row: code, name, unit, value (pre-filled or blank), note. */
static void write_element(struct xlsxfile *file, lxw_worksheet *ws,
                          const struct template_formats *f, const struct template_spec *t, size_t i,
                          lxw_row_t row)
{
	const struct catalog_element *e = &t->cat->elements[i];
	const char *value = prefill_of(t, i);
	lxw_format *vf = e->type == CATALOG_INT ? f->value_int : f->value_amount;
	char describe[1024];

	describe_element(t->cat, i, describe, sizeof(describe));
	xlsxfile_check(file, worksheet_write_string(ws, row, COL_CODE, e->code, f->text));
	xlsxfile_check(file, worksheet_write_string(ws, row, COL_NAME, element_name(e), f->text));
	xlsxfile_check(file, worksheet_write_string(ws, row, COL_UNIT, e->unit, f->text));
	if (value[0] != '\0')
		xlsxfile_check(file,
		               worksheet_write_number(ws, row, COL_VALUE, strtod(value, NULL), vf));
	else
		xlsxfile_check(file, worksheet_write_blank(ws, row, COL_VALUE, vf));
	xlsxfile_check(file, worksheet_write_string(ws, row, COL_NOTE, describe, f->note));
	xlsxfile_check(file, validate_value(ws, row, e, describe));
}

static void write_sheet(struct xlsxfile *file, const struct template_spec *t)
{
	const struct catalog *cat = t->cat;
	bool zh = i18n_language() == I18N_CHINESE;
	const char *sheet = zh ? RETURNFILE_SHEET_ZH : RETURNFILE_SHEET_EN;
	lxw_worksheet *ws = workbook_add_worksheet(file->wb, sheet);
	lxw_protection protect = {.format_columns = LXW_TRUE, .format_rows = LXW_TRUE};
	struct template_formats f;
	char month[16], name[64];
	lxw_row_t row = PERIOD_ROW + 1;

	if (ws == NULL) {
		xlsxfile_check(file, LXW_ERROR_MEMORY_MALLOC_FAILED);
		return;
	}
	make_formats(file->wb, &f);
	xlsxfile_check(file, worksheet_set_column(ws, COL_CODE, COL_CODE, 24, NULL));
	xlsxfile_check(file, worksheet_set_column(ws, COL_NAME, COL_NAME, 36, NULL));
	xlsxfile_check(file, worksheet_set_column(ws, COL_UNIT, COL_UNIT, 8, NULL));
	xlsxfile_check(file, worksheet_set_column(ws, COL_VALUE, COL_VALUE, 14, NULL));
	xlsxfile_check(file, worksheet_set_column(ws, COL_NOTE, COL_NOTE, 60, NULL));
	/* The header words returnfile_read looks for, in the user's language. */
	xlsxfile_check(file, worksheet_write_string(ws, 0, COL_CODE, zh ? "代码" : "code", f.head));
	xlsxfile_check(file, worksheet_write_string(ws, 0, COL_NAME, zh ? "名称" : "name", f.head));
	xlsxfile_check(file, worksheet_write_string(ws, 0, COL_UNIT, zh ? "单位" : "unit", f.head));
	xlsxfile_check(file,
	               worksheet_write_string(ws, 0, COL_VALUE, zh ? "数值" : "value", f.head));
	xlsxfile_check(file, worksheet_write_string(ws, 0, COL_NOTE, zh ? "说明" : "note", f.head));
	worksheet_freeze_panes(ws, 1, 0);

	snprintf(month, sizeof(month), "%04d%02d", period_month_year(t->month),
	         period_month_mon(t->month));
	xlsxfile_check(
	    file, worksheet_write_string(ws, PERIOD_ROW, COL_CODE, CATALOG_PERIOD_CODE, f.text));
	xlsxfile_check(file, worksheet_write_string(ws, PERIOD_ROW, COL_NAME,
	                                            _("month of this return (as 202606)"), f.text));
	xlsxfile_check(file, worksheet_write_string(ws, PERIOD_ROW, COL_VALUE, month, f.period));
	snprintf(name, sizeof(name), "='%s'!$D$%d", sheet, PERIOD_ROW + 1);
	xlsxfile_check(file, workbook_define_name(file->wb, "period", name));

	for (size_t s = 0; s < cat->n_sections; s++) {
		const struct catalog_section *sec = &cat->sections[s];
		bool heading = false;

		for (size_t i = 0; i < cat->n_elements; i++) {
			if (cat->elements[i].section_index != s)
				continue;
			if (!heading) {
				xlsxfile_check(
				    file, worksheet_merge_range(ws, row, COL_NAME, row, COL_NOTE,
				                                zh ? sec->name_zh : sec->name_en,
				                                f.section));
				row++;
				heading = true;
			}
			write_element(file, ws, &f, t, i, row++);
		}
	}
	worksheet_protect(ws, NULL, &protect);
	worksheet_repeat_rows(ws, 0, 0);
	worksheet_set_landscape(ws);
	worksheet_fit_to_pages(ws, 1, 0);
}

yb_status template_write_xlsx(const char *path, const struct template_spec *t, struct errbuf *eb)
{
	lxw_doc_properties props = {0};
	struct xlsxfile file;
	char title[64];
	yb_status st;

	if ((st = xlsxfile_open(&file, path, eb)) != YB_OK)
		return st;
	write_sheet(&file, t);
	period_format_month(t->month, title, sizeof(title));
	props.title = title;
	props.comments = "yuebao template";
	xlsxfile_check(&file, workbook_set_properties(file.wb, &props));
	return xlsxfile_close(&file, true, false, eb);
}
