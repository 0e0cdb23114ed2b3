#!/bin/bash
# Keeps one cluster node's namespaces alive. Started as:
#   ip netns exec NS unshare --mount --uts --propagation private node-holder.sh NODE DIR
# Gives the node its own hostname, /run, /dev/shm, cluster state and logs, and
# mounts its generated /etc/ipsec.d, so corosync, pacemaker and pluto of
# several nodes can share one machine.
set -eu
node=$1 dir=$2
hostname "$node"
for m in etc-corosync:/etc/corosync var-lib-corosync:/var/lib/corosync var-lib-pacemaker:/var/lib/pacemaker \
         log-pacemaker:/var/log/pacemaker log-corosync:/var/log/corosync ipsec.d:/etc/ipsec.d; do
  mkdir -p "${m#*:}"
  mount --bind "$dir/${m%%:*}" "${m#*:}"
done
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mkdir -p /run/crm /run/lock /run/resource-agents /run/pluto
mkdir -m 0700 /run/tripleo-ipsec
chown hacluster:haclient /run/crm
chmod 0750 /run/crm
chmod 1777 /run/lock
ln -s /dev/shm /run/shm
touch "$dir/holder.ready"
exec sleep infinity
