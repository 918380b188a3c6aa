#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, makes a demo
# PKI under ./demo, starts yuebaod on 127.0.0.1 with a fresh SQLite store,
# submits the example returns of every branch (January-June 2025 and 2026),
# prints the consolidated half-year report with year-over-year change, and
# writes it as demo/report-2026H1.md, .xlsx and .html.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"

export YB_BIN="$root/build/bin" YB_SRC="$root"
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"

demo="$root/demo"
orgs="$root/examples/orgs.csv"
rm -rf "$demo"
mkdir -p "$demo"
# Receipts and the catalog cache of the demo's clients stay in the demo folder.
export XDG_DATA_HOME="$demo/data" XDG_CACHE_HOME="$demo/cache"
YB_PKI="$demo/pki"
yb_make_pki "$YB_PKI" "$orgs"
echo "demo: certificates in $YB_PKI"
trap yb_stop_daemon EXIT
yb_start_daemon "$YB_PKI" "$demo/yuebao.db" "$orgs" "$demo/yuebaod.log"
echo "demo: yuebaod listening on $YB_URL (log: $demo/yuebaod.log)"

n=0
for dir in "$root"/examples/returns/*/; do
	org=$(basename "$dir")
	for file in "$dir"*.csv; do
		yb_as branch "$org" submit "$file" --period "$(basename "$file" .csv)" >/dev/null
		n=$((n + 1))
	done
	echo "demo: $org submitted its returns"
done
echo "demo: $n returns submitted"
echo
root_org=$(awk -F, 'NR > 1 && $3 == "" { print $1; exit }' "$orgs")
yb_as central "$root_org" consolidate --org "$root_org" --period 2026H1 --compare yoy
echo
# The office's deliverables, in Chinese as it hands them on (docs/reports.md).
for fmt in md xlsx html; do
	LANG=zh_CN.UTF-8 yb_as central "$root_org" report --org "$root_org" --period 2026H1 \
		--format "$fmt" -o "$demo/report-2026H1.$fmt" 2>/dev/null
	echo "demo: wrote demo/report-2026H1.$fmt"
done
echo
echo "demo: try it yourself:"
echo "  export YUEBAO_SERVER=<the URL above> YUEBAO_CA=$YB_PKI/ca.crt \\"
echo "         YUEBAO_CERT=$YB_PKI/central-$root_org.crt YUEBAO_KEY=$YB_PKI/central-$root_org.key"
echo "  (the daemon stops with this script; start it again as the README shows)"
