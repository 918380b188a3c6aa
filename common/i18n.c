/*
 * i18n.c - language choice and message lookup in our own catalog.
 *
 * glibc's gettext picks its catalog from the LC_MESSAGES locale and the
 * LANGUAGE variable, both process-wide: Chinese would need a generated
 * zh_CN.UTF-8 locale, and forcing LANGUAGE=zh_CN would also translate
 * strerror() and getopt() (into "?????" when the real locale cannot show
 * them, or into Chinese for an English user). So the project's own
 * messages are looked up here, in the compiled zh_CN/LC_MESSAGES/yuebao.mo
 * (GNU .mo format, read once at start), and everything else keeps
 * following the user's real locale.
 */
#include "i18n.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A catalog larger than this is not ours: refuse it rather than read it. */
#define I18N_MO_MAX (8u * 1024 * 1024)
#define I18N_MO_MAGIC 0x950412deu
#define I18N_MO_MAGIC_SWAPPED 0xde120495u

/*
 * The loaded catalog: its bytes and the two string tables (pairs of length
 * and offset). Every offset was checked against size at load, and every
 * string is NUL-terminated inside the buffer.
 */
struct mo_catalog {
	unsigned char *data;
	size_t size;
	uint32_t count;
	uint32_t originals;
	uint32_t translations;
	bool swapped;
};

static enum i18n_language process_language = I18N_ENGLISH;
static _Thread_local int thread_language = -1;
static struct mo_catalog chinese; /* written once by i18n_init */

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

static uint32_t mo_word(const struct mo_catalog *mo, size_t off)
{
	uint32_t w;

	memcpy(&w, mo->data + off, sizeof(w));
	return mo->swapped ? __builtin_bswap32(w) : w;
}

/* The string of table entry i (table = originals or translations). */
static const char *mo_string(const struct mo_catalog *mo, uint32_t table, uint32_t i)
{
	return (const char *)mo->data + mo_word(mo, (size_t)table + 8u * i + 4);
}

/* Every entry of a table lies inside the file and ends with its NUL. */
static bool mo_table_valid(const struct mo_catalog *mo, uint32_t table)
{
	if ((size_t)table + 8u * (size_t)mo->count > mo->size)
		return false;
	for (uint32_t i = 0; i < mo->count; i++) {
		size_t len = mo_word(mo, (size_t)table + 8u * i);
		size_t off = mo_word(mo, (size_t)table + 8u * i + 4);
		if (off >= mo->size || len >= mo->size - off || mo->data[off + len] != '\0')
			return false;
	}
	return true;
}

/* Reads a .mo file into mo; false (and mo empty) when absent or malformed. */
static bool mo_load(const char *path, struct mo_catalog *mo)
{
	struct stat st;
	uint32_t magic;
	ssize_t got;
	size_t have = 0;
	int fd;

	memset(mo, 0, sizeof(*mo));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	if (fstat(fd, &st) != 0 || st.st_size < 28 || (uint64_t)st.st_size > I18N_MO_MAX ||
	    (mo->data = malloc((size_t)st.st_size)) == NULL)
		goto fail;
	mo->size = (size_t)st.st_size;
	while (have < mo->size) {
		got = read(fd, mo->data + have, mo->size - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			goto fail;
		have += (size_t)got;
	}
	memcpy(&magic, mo->data, sizeof(magic));
	if (magic != I18N_MO_MAGIC && magic != I18N_MO_MAGIC_SWAPPED)
		goto fail;
	mo->swapped = magic == I18N_MO_MAGIC_SWAPPED;
	mo->count = mo_word(mo, 8);
	mo->originals = mo_word(mo, 12);
	mo->translations = mo_word(mo, 16);
	if (!mo_table_valid(mo, mo->originals) || !mo_table_valid(mo, mo->translations))
		goto fail;
	/* msgfmt sorts the originals; the lookup below relies on it. */
	for (uint32_t i = 1; i < mo->count; i++)
		if (strcmp(mo_string(mo, mo->originals, i - 1), mo_string(mo, mo->originals, i)) >=
		    0)
			goto fail;
	close(fd);
	return true;
fail:
	close(fd);
	free(mo->data);
	memset(mo, 0, sizeof(*mo));
	return false;
}

/* The translation of msgid, or NULL when the catalog has none. */
static const char *mo_lookup(const struct mo_catalog *mo, const char *msgid)
{
	uint32_t lo = 0, hi = mo->count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = strcmp(msgid, mo_string(mo, mo->originals, mid));
		if (c == 0) {
			const char *t = mo_string(mo, mo->translations, mid);
			return t[0] != '\0' ? t : NULL;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

void i18n_init(void)
{
	char exe[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n;
	char *slash;

	process_language = language_from_env();
	/* The user's own locale for everything that is not ours (strerror, getopt). */
	setlocale(LC_ALL, "");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return;
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) != NULL)
		*slash = '\0';
	snprintf(path, sizeof(path), "%s/../share/locale/zh_CN/LC_MESSAGES/yuebao.mo", exe);
	free(chinese.data);
	mo_load(path, &chinese);
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
	const char *t;

	if (i18n_language() != I18N_CHINESE || msgid == NULL || msgid[0] == '\0')
		return msgid;
	t = mo_lookup(&chinese, msgid);
	return t != NULL ? t : msgid;
}
