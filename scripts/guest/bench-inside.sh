#!/bin/sh
# Runs inside the data-plane guest for npm run bench:dataplane.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
rw=$(sed -n 's/.* guestrw=\([^ ]*\).*/\1/p' /proc/cmdline)
for m in esp4 esp6 xfrm_user veth bridge; do modprobe "$m" 2>/dev/null; done
ip link set lo up
node dist/scripts/bench-dataplane.cjs --in-guest "$rw"
