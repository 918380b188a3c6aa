#!/usr/bin/env bash
# Extracts every _() / N_() message of the C sources into po/yuebao.pot and
# merges it into each po/*.po, keeping existing translations. Run it after
# adding or changing messages, then translate the new entries (msgstr "").
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
xgettext --language=C --from-code=UTF-8 --keyword=_ --keyword=N_ --add-comments=TRANSLATORS \
	--package-name=yuebao --no-location --sort-output -o po/yuebao.pot \
	common/*.c server/*.c client/*.c
for po in po/*.po; do
	msgmerge --quiet --update --backup=none --no-location --sort-output "$po" po/yuebao.pot
	echo "$po: $(msgfmt --statistics -o /dev/null "$po" 2>&1)"
done
