#!/usr/bin/env bash
# usage: GUEST_RW=DIR run.sh SCRIPT
# Runs SCRIPT as root from the current directory inside the guest that build.sh
# made: Debian's stock kernel under qemu (TCG: no KVM needed), this machine's own
# userspace read-only with a tmpfs overlay, and DIR shared read-write at the same
# path (the only place what the guest writes survives). Prints the console; the
# last line is 'GUEST-EXIT <status>'. Exits with SCRIPT's status, or 125 when the
# guest did not run SCRIPT to its end (boot failure, timeout, qemu missing).
set -uo pipefail
D=${GUEST_DIR:-/var/tmp/tripleo-ipsec-guest}
here=$(cd "$(dirname "$0")" && pwd)
# Built when missing, and again when build.sh changed since (its init is in the initramfs).
if [ ! -f "$D/initrd.gz" ] || [ ! -e "$D/vmlinuz" ] || [ "$here/build.sh" -nt "$D/initrd.gz" ]; then
  GUEST_DIR=$D "$here/build.sh" >/dev/null || { echo "guest: build failed" >&2; exit 125; }
fi
command -v qemu-system-x86_64 >/dev/null || { echo "guest: qemu-system-x86_64 is not installed" >&2; exit 125; }
script=$(readlink -f "$1")
rw=${GUEST_RW:+$(readlink -f "$GUEST_RW")}
log=$(mktemp)
timeout "${GUEST_TIMEOUT:-2400}" qemu-system-x86_64 -accel tcg,thread=multi -cpu max -m "${GUEST_MEM_MB:-4096}" \
  -smp "${GUEST_CPUS:-2}" -nographic -no-reboot -nodefaults -serial stdio \
  -kernel "$D/vmlinuz" -initrd "$D/initrd.gz" \
  -append "console=ttyS0 quiet panic=-1 guestcmd=$script guestcwd=$(pwd)${rw:+ guestrw=$rw}" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap \
  ${rw:+-virtfs local,path=$rw,mount_tag=rw,security_model=passthrough} 2>&1 </dev/null \
  | stdbuf -oL tr -d '\r' | tee "$log"
rc=$(sed -n 's/.*GUEST-EXIT \([0-9]*\)$/\1/p' "$log" | tail -n1)
fail=$(grep -m1 '^GUEST-FAILED' "$log" || true)
rm -f "$log"
if [ -n "$fail" ]; then echo "guest: $fail" >&2; exit 125; fi
[ -n "$rc" ] || { echo "guest: qemu ended before the script finished (timeout ${GUEST_TIMEOUT:-2400} s, or the guest did not boot)" >&2; exit 125; }
exit "$rc"
