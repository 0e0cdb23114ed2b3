#!/usr/bin/env bash
# The data-plane suite (test/dataplane) inside a guest that runs Debian's stock
# kernel, which has ESP (this machine's kernel has none): builds the guest when
# needed (scripts/guest/build.sh), boots it, runs vitest there, and brings its
# JSON results back to .test-results-dataplane.json. Extra arguments go to
# vitest (a file name or -t PATTERN). Fails with one clear line when the guest
# cannot run at all: it never skips.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/cli.cjs ] && [ -f agents/ipsec ] || npm run build >/dev/null
results=$(mktemp -d /var/tmp/tripleo-ipsec-dataplane.XXXXXX)
trap 'rm -rf "$results"' EXIT
printf '%s ' "$@" > "$results/vitest-args"
# DATAPLANE_* settings reach the tests in the guest.
env | grep '^DATAPLANE_[A-Z_]*=[0-9A-Za-z_.,@-]*$' | sed 's/^/export /' > "$results/env" || true
rm -f .test-results-dataplane.json
t0=$(date +%s)
set +e
GUEST_RW=$results bash scripts/guest/run.sh scripts/guest/dataplane-inside.sh
rc=$?
set -e
echo "dataplane: guest ran $(( $(date +%s) - t0 )) s, exit $rc"
if [ -d "$results/logs" ]; then rm -rf .dataplane-logs && cp -r "$results/logs" .dataplane-logs && echo "dataplane: pluto logs in .dataplane-logs/"; fi
if [ "$rc" -eq 125 ]; then
  echo "dataplane: FAILED: the guest with an ESP-capable kernel could not run (see above); the data-plane tests did not run" >&2
  exit 1
fi
if [ ! -s "$results/results.json" ]; then
  echo "dataplane: FAILED: vitest in the guest wrote no results" >&2
  exit 1
fi
cp "$results/results.json" .test-results-dataplane.json
# The results decide too: a guest that reported 0 with failed tests is not a pass.
failed=$(node -e 'const r=require(process.argv[1]); console.log(r.numFailedTests + r.numFailedTestSuites)' "$PWD/.test-results-dataplane.json")
if [ "$failed" != 0 ] && [ "$rc" -eq 0 ]; then echo "dataplane: $failed failed test(s) or file(s), though the guest exited 0" >&2; rc=1; fi
exit "$rc"
