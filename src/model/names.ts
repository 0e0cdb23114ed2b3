// One place for every name the project writes: conn names, file names,
// Pacemaker resource names, libreswan ids. Operators grep for these.
// Everything here assumes its inputs already passed the patterns below.

/** Inventory host names: one DNS label (what tripleo-ansible-inventory writes). */
export const HOST_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** Network name_lower and VIP names: what TripleO allows in a parameter name. */
export const NETWORK_NAME = /^[a-z][a-z0-9_]{0,30}$/;
/** A libreswan conn name we accept from anyone (agent parameters included). */
export const CONN_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export const CTLPLANE = 'ctlplane';
export const FILE_PREFIX = 'overcloud-';

export const connNames = {
  /** Node-to-node tunnel: named after the peer, so other hosts coming and going never rename it. */
  nodeToNode: (network: string, peerHost: string) => `overcloud-${network}-to-${peerHost}`,
  vipResponder: (vip: string) => `overcloud-${vip}-vip-tunnel`,
  nodeToVip: (vip: string) => `overcloud-${vip}-node-to-vip-tunnel`,
  opportunistic: (network: string, policy: string) => `overcloud-${policy}-${network}`,
};

export const fileNames = {
  networkConf: (network: string) => `overcloud-${network}.conf`,
  networkSecrets: (network: string) => `overcloud-${network}.secrets`,
  vipConf: (vip: string) => `overcloud-${vip}-vip.conf`,
  vipSecrets: (vip: string) => `overcloud-${vip}-vip.secrets`,
};

export const ids = {
  vip: (vip: string) => `@${vip}vip`,
};

export const pacemakerNames = {
  tunnelResource: (vip: string) => `tripleo-ipsec-${vip}`,
  fallbackResource: (vip: string) => `tripleo-ipsec-${vip}-fallback`,
  /** TripleO's (puppet-pacemaker's) name for a VIP's IPaddr2 resource; pcs forbids ':' so IPv6 uses '.' */
  vipResource: (address: string) => `ip-${address.replace(/:/g, '.')}`,
};
