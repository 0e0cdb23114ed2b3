#!/usr/bin/env bash
# Builds the data-plane guest under $GUEST_DIR (default /var/tmp/tripleo-ipsec-guest):
# Debian's stock kernel (it has ESP; this machine's kernel does not), unpacked from
# the package that linux-image-amd64 depends on, never installed into /boot; and a
# busybox initramfs that mounts this machine's root file system read-only over 9p,
# puts a tmpfs overlay on top and runs one script. Installs qemu-system-x86,
# busybox-static, cpio and kmod when missing. Idempotent; prints the guest dir.
set -euo pipefail
D=${GUEST_DIR:-/var/tmp/tripleo-ipsec-guest}
mkdir -p "$D"
cd "$D"

need=()
for p in qemu-system-x86 busybox-static cpio kmod tcpdump; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "guest: installing ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

kernel_pkg() { apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1; }
pkg=$(kernel_pkg)
if [ -z "$pkg" ]; then apt-get update -qq; pkg=$(kernel_pkg); fi
[ -n "$pkg" ] || { echo "guest: cannot find the kernel package linux-image-amd64 depends on" >&2; exit 1; }
K=${pkg#linux-image-}

if [ ! -f "root/boot/vmlinuz-$K" ]; then
  rm -rf root dl && mkdir dl && chmod 777 dl
  (cd dl && apt-get download "$pkg" >/dev/null)
  dpkg-deb -x dl/"$pkg"_*.deb root
  rm -rf dl
  depmod -b "$D/root" "$K"
fi
echo "$K" > kernel-version
ln -sfn "root/boot/vmlinuz-$K" vmlinuz

# The initramfs: just enough to mount the host's root over virtio-9p.
M=root/lib/modules/$K/kernel
rm -rf initrd && mkdir -p initrd/{bin,proc,sys,dev,newroot,host,upper,mods}
cp /bin/busybox initrd/bin/
for c in sh mount insmod mkdir switch_root cat echo sed; do ln -sf busybox "initrd/bin/$c"; done
order=""
for m in drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_legacy_dev \
         drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci net/9p/9pnet fs/netfs/netfs \
         fs/fscache/fscache net/9p/9pnet_virtio fs/9p/9p fs/overlayfs/overlay; do
  # Some of these are built in on some kernel versions.
  if [ -f "$M/$m.ko" ]; then cp "$M/$m.ko" initrd/mods/; order="$order $(basename "$m")"; fi
done
cat > initrd/init <<INIT
#!/bin/sh
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in $order; do insmod /mods/\$m.ko || echo "guest: insmod \$m failed"; done
rw=\$(sed -n "s/.* guestrw=\\([^ ]*\\).*/\\1/p" /proc/cmdline)
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=524288,cache=loose hostroot /host || { echo "GUEST-FAILED 9p mount"; echo o > /proc/sysrq-trigger; }
mount -t tmpfs tmpfs /upper; mkdir -p /upper/u /upper/w
mount -t overlay overlay -o lowerdir=/host,upperdir=/upper/u,workdir=/upper/w /newroot || { echo "GUEST-FAILED overlay"; echo o > /proc/sysrq-trigger; }
mount --move /proc /newroot/proc; mount --move /sys /newroot/sys; mount --move /dev /newroot/dev
if [ -n "\$rw" ]; then mkdir -p "/newroot\$rw"; mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 rw "/newroot\$rw" || echo "GUEST-FAILED rw mount"; fi
exec switch_root /newroot /bin/sh -c 'mount -t tmpfs tmpfs /run; mkdir -p /dev/shm /dev/pts; mount -t tmpfs tmpfs /dev/shm; mount -t devpts devpts /dev/pts; mkdir -p /lib/modules; mount --bind $D/root/lib/modules /lib/modules; cd "\$(sed -n "s/.* guestcwd=\\([^ ]*\\).*/\\1/p" /proc/cmdline)"; sh "\$(sed -n "s/.* guestcmd=\\([^ ]*\\).*/\\1/p" /proc/cmdline)"; rc=\$?; echo; echo "GUEST-EXIT \$rc"; echo o > /proc/sysrq-trigger'
INIT
chmod +x initrd/init
(cd initrd && find . | cpio -o -H newc 2>/dev/null | gzip -1) > initrd.gz
echo "$D"
