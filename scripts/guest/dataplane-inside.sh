#!/bin/sh
# Runs inside the data-plane guest (scripts/test-dataplane.sh boots it): loads
# the kernel's IPsec modules, then vitest on test/dataplane, with its JSON
# results written to the read-write share named in the kernel command line.
set -u
# CI=true: vitest's plain reporter (the serial console looks like a terminal).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root CI=true
rw=$(sed -n 's/.* guestrw=\([^ ]*\).*/\1/p' /proc/cmdline)
[ -n "$rw" ] || { echo "dataplane: no read-write share"; exit 125; }
for m in esp4 esp6 xfrm_user xfrm_interface af_key veth bridge overlay; do modprobe "$m" 2>/dev/null; done
# The guest's own loopback, and the facts the tests rely on.
ip link set lo up
echo "dataplane: kernel $(uname -r), $(nproc) vCPUs, $(sed -n 's/MemTotal: *//p' /proc/meminfo)"
[ -f "$rw/env" ] && . "$rw/env"
# DATAPLANE_KEEP_LOGS=1: the plutos' logs come back too (test-dataplane.sh copies them to .dataplane-logs/).
[ "${DATAPLANE_KEEP_LOGS:-}" = 1 ] && export DATAPLANE_LOG_DIR="$rw/logs"
args=$(cat "$rw/vitest-args" 2>/dev/null)
# shellcheck disable=SC2086
node node_modules/vitest/vitest.mjs run --config vitest.dataplane.config.ts --reporter=default --reporter=json \
  --outputFile="$rw/results.json" $args
