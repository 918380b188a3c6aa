#!/usr/bin/env bash
# Extracts every _() / N_() message of the C sources into po/yuebao.pot and
# merges it into each po/*.po, keeping existing translations. Run it after
# adding or changing messages, then translate the new entries (msgstr "")
# and the fuzzy ones (a message whose English changed), and drop the fuzzy
# mark: `msgfmt --check --statistics po/zh_CN.po` must say only "translated".
#
# scripts/update-po.sh --check changes nothing: it extracts into a temporary
# directory and fails, listing them, when a message of the sources has no
# (or only a fuzzy) translation in some po/*.po.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
check=0
[ "${1:-}" = "--check" ] && check=1

# extract POT: the messages of the sources. usage_error (client/yuebao.c)
# translates its format itself: its second argument is extracted too.
extract() {
	xgettext --language=C --from-code=UTF-8 --keyword=_ --keyword=N_ --keyword=usage_error:2 \
		--flag=usage_error:2:c-format --add-comments=TRANSLATORS \
		--package-name=yuebao --no-location --sort-output -o "$1" \
		common/*.c server/*.c client/*.c
}

if [ "$check" = 1 ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	extract "$tmp/yuebao.pot"
	rc=0
	for po in po/*.po; do
		msgmerge --quiet --no-location -o "$tmp/merged.po" "$po" "$tmp/yuebao.pot"
		stats=$(msgfmt --check --statistics -o /dev/null "$tmp/merged.po" 2>&1)
		echo "$po: $stats"
		if grep -Eq 'untranslated|fuzzy' <<<"$stats"; then
			rc=1
			# The msgid of each (the header entry first: skipped).
			for sel in --untranslated --only-fuzzy; do
				msgattrib "$sel" --no-wrap "$tmp/merged.po" |
					awk '/^msgid / { n++; p = n > 1 } /^msgstr/ { p = 0 } p { print "  " $0 }'
			done
		fi
	done
	exit "$rc"
fi

extract po/yuebao.pot
for po in po/*.po; do
	msgmerge --quiet --update --backup=none --no-location --sort-output "$po" po/yuebao.pot
	echo "$po: $(msgfmt --statistics -o /dev/null "$po" 2>&1)"
done
