#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests need when
# it is missing (Debian packages: libreswan, Pacemaker, pcs, resource-agents,
# xmllint; npm packages), builds, and runs unit, integration and e2e tests,
# then the data-plane suite in a guest with Debian's stock kernel (ESP).
set -euo pipefail
cd "$(dirname "$0")/.."

DEBS=(libreswan pacemaker pacemaker-cli-utils corosync pcs resource-agents libxml2-utils iproute2 iptables nftables openssl iputils-ping tcpdump ansible-core openssh-server openssh-client rpm systemd)
missing=()
for p in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm install, not npm ci: npm 11 writes lock files without the platform
# packages of optional dependencies (rollup), which npm ci then refuses.
npm install --no-audit --no-fund
rm -f .test-results.json .test-results-dataplane.json .test-output.log .test-output-dataplane.log
set +e
# Each run's console output is kept too: the summary at the end repeats what failed and why.
npm test 2>&1 | tee .test-output.log
rc=${PIPESTATUS[0]}
# The data-plane suite needs a kernel with ESP: it runs in a guest (scripts/guest/).
bash scripts/test-dataplane.sh 2>&1 | tee .test-output-dataplane.log
[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
set -e
node scripts/test-summary.mjs --log .test-output.log --log .test-output-dataplane.log .test-results.json .test-results-dataplane.json || rc=1
exit $rc
