/*
 * i18n.c - language choice and gettext lookup.
 *
 * gettext picks the catalog from the LC_MESSAGES locale, which would make
 * Chinese depend on a generated zh_CN.UTF-8 locale. Instead LC_MESSAGES is
 * C.UTF-8 (built into glibc) with LANGUAGE=zh_CN, so dgettext always answers
 * in Chinese, and English is simply the msgid: the choice between the two
 * is ours, per thread.
 */
#include "i18n.h"

#include <libintl.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define I18N_DOMAIN "yuebao"

static enum i18n_language process_language = I18N_ENGLISH;
static _Thread_local int thread_language = -1;

enum i18n_language i18n_parse(const char *code)
{
	return code != NULL && strncmp(code, "zh", 2) == 0 ? I18N_CHINESE : I18N_ENGLISH;
}

const char *i18n_code(enum i18n_language language)
{
	return language == I18N_CHINESE ? "zh" : "en";
}

static enum i18n_language language_from_env(void)
{
	static const char *const vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);
		if (v != NULL && v[0] != '\0')
			return i18n_parse(v);
	}
	return I18N_ENGLISH;
}

void i18n_init(void)
{
	char exe[PATH_MAX], dir[PATH_MAX + 32];
	ssize_t n;
	char *slash;

	process_language = language_from_env();
	/* The user's locale for character handling; messages go through LANGUAGE. */
	setlocale(LC_ALL, "");
	if (setlocale(LC_MESSAGES, "C.UTF-8") != NULL)
		setenv("LANGUAGE", "zh_CN", 1);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL)
			*slash = '\0';
		snprintf(dir, sizeof(dir), "%s/../share/locale", exe);
		bindtextdomain(I18N_DOMAIN, dir);
	}
	bind_textdomain_codeset(I18N_DOMAIN, "UTF-8");
}

enum i18n_language i18n_language(void)
{
	return thread_language >= 0 ? (enum i18n_language)thread_language : process_language;
}

void i18n_set_thread_language(int language)
{
	thread_language = language;
}

const char *i18n_text(const char *msgid)
{
	if (i18n_language() != I18N_CHINESE || msgid == NULL || msgid[0] == '\0')
		return msgid;
	return dgettext(I18N_DOMAIN, msgid);
}
