/*
 * i18n.h - messages in the user's language (gettext catalogs, domain "yuebao").
 *
 * Text is written in English in the code and marked with _() (or N_() where
 * it is only named, translated later); po/zh_CN.po holds the Chinese. The
 * language is chosen per process from LC_ALL / LC_MESSAGES / LANG (zh* ->
 * Chinese, else English) and can be overridden per thread, which the daemon
 * does for each request with the language its client asked for.
 *
 * Chinese needs no zh_CN locale on the machine: the compiled catalog
 * (yuebao.mo) is read and searched by this module, not through glibc's
 * gettext, so the choice never changes the language of system messages
 * (strerror, getopt), which follow the user's real locale.
 */
#ifndef YB_I18N_H
#define YB_I18N_H

#include <stdbool.h>

enum i18n_language { I18N_ENGLISH = 0, I18N_CHINESE = 1 };

#define _(msgid) i18n_text(msgid)
#define N_(msgid) (msgid)

/*
 * Sets up translations for this process: the language from the
 * environment, setlocale(LC_ALL, "") for everything else, and the Chinese
 * catalog ../share/locale/zh_CN/LC_MESSAGES/yuebao.mo relative to the
 * running binary (the build tree mirrors the install layout). A missing or
 * malformed catalog leaves every message in English. Call once from main
 * before any thread starts.
 */
void i18n_init(void);

/* msgid in the current thread's language; the result must not be freed. */
const char *i18n_text(const char *msgid) __attribute__((format_arg(1)));

/* The language of the current thread (its override, else the process's). */
enum i18n_language i18n_language(void);

/* Overrides the language of the calling thread; -1 returns to the process's. */
void i18n_set_thread_language(int language);

/* "zh" or "en", as a request carries it. */
const char *i18n_code(enum i18n_language language);

/* Parses a language code ("zh", "zh_CN", "zh-CN", "en", ...); English when unknown. */
enum i18n_language i18n_parse(const char *code);

#endif
