// One place for every name the project writes: conn names, file names and
// paths, Pacemaker resource names, libreswan ids, certificate names.
// Operators grep for these.
// Everything here assumes its inputs already passed the patterns below.

/** Inventory host names: one DNS label (what tripleo-ansible-inventory writes). */
export const HOST_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** Network name_lower and VIP names: what TripleO allows in a parameter name. */
export const NETWORK_NAME = /^[a-z][a-z0-9_]{0,30}$/;
/** A libreswan conn name we accept from anyone (agent parameters included). */
export const CONN_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** A Pacemaker resource id we accept (--vip-resource, a plan's vipResources). */
export const RESOURCE_ID = /^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/;

export const CTLPLANE = 'ctlplane';
export const FILE_PREFIX = 'overcloud-';

export const connNames = {
  /** Node-to-node tunnel: named after the peer, so other hosts coming and going never rename it. */
  nodeToNode: (network: string, peerHost: string) => `overcloud-${network}-to-${peerHost}`,
  /** A node's end of its tunnel with a VIP, on every node of the VIP's network: answers whoever holds the VIP. */
  vipTunnel: (vip: string) => `overcloud-${vip}-vip-tunnel`,
  /** The VIP's end towards one peer: loaded and started only where the VIP is (ocf:tripleo:ipsec). */
  vipToPeer: (vip: string, peerHost: string) => `overcloud-${vip}-vip-tunnel-to-${peerHost}`,
  /**
   * The alias every end of a VIP's holder file carries (connalias): one whack
   * initiates or deletes them all. A dot keeps it apart from every conn name
   * (host names have none).
   */
  vipHolderAlias: (vipTunnel: string) => `${vipTunnel}.ends`,
  /**
   * The alias of a network's node-to-node conns this node initiates
   * (auto=start) or answers (auto=route): one whack starts or routes all of
   * them, when apply has just loaded all of them (a first deploy, a boot).
   */
  meshAlias: (network: string, auto: 'start' | 'route') => `overcloud-${network}.${auto === 'start' ? 'initiated' : 'answered'}`,
  opportunistic: (network: string, policy: string) => `overcloud-${policy}-${network}`,
  /** ipsec_clear_hosts inside a network's subnet: a passthrough group beside the opportunistic one. */
  clear: (network: string) => `overcloud-clear-${network}`,
};

/** Whether a conn is a VIP tunnel's: a node's own end, or the holder's end towards a peer. */
export function isVipConn(name: string): boolean {
  return /-vip-tunnel(?:-to-|$)/.test(name);
}

/**
 * Whether a conn pluto lists is one we loaded: recorded in the manifest
 * (before manifests recorded conns, every overcloud- conn was ours). An
 * opportunistic group's members ("<group>#<cidr>") are pluto's, not ours.
 */
export function isOurConn(name: string, recorded: Record<string, string> | undefined): boolean {
  if (name.includes('#')) return false;
  return recorded ? name in recorded : name.startsWith(FILE_PREFIX);
}

export const fileNames = {
  networkConf: (network: string) => `overcloud-${network}.conf`,
  networkSecrets: (network: string) => `overcloud-${network}.secrets`,
  vipConf: (vip: string) => `overcloud-${vip}-vip.conf`,
  vipSecrets: (vip: string) => `overcloud-${vip}-vip.secrets`,
  /**
   * The VIP's ends on a cluster node, outside ipsec.conf's *.conf glob: the
   * agent links it into RUN_DIR (included too) while the node holds the VIP,
   * so a pluto restarted there starts them itself, and one restarted anywhere
   * else never does.
   */
  vipHolderConf: (vip: string) => `${VIP_HOLDER_DIR}/overcloud-${vip}-vip-tunnel.conf`,
  /** An opportunistic or clear group's conn file; its peers are listed in policies/<conn>. */
  groupConf: (conn: string) => `${conn}.conf`,
  /** iptables-restore fragments (--noflush) of our chains, and the nftables table, under nodePaths.firewallDir. */
  iptables: (family: 4 | 6) => (family === 4 ? 'ipsec.iptables' : 'ipsec.ip6tables'),
  nftables: 'ipsec.nft',
};

/** Paths on a node, relative to its root (apply --root); generate's host trees use the same. */
export const nodePaths = {
  ipsecConf: 'etc/ipsec.conf',
  ipsecSecrets: 'etc/ipsec.secrets',
  ipsecD: 'etc/ipsec.d',
  policies: 'etc/ipsec.d/policies',
  firewallDir: 'etc/tripleo-ipsec',
  /** Our state on the node: apply's manifest, the certificate bundle. */
  stateDir: 'var/lib/tripleo-ipsec',
  manifest: 'var/lib/tripleo-ipsec/manifest.json',
  /** What apply needs besides the files, written by generate (src/plan/nodePlan.ts). */
  nodePlan: 'var/lib/tripleo-ipsec/node-plan.json',
  /** pluto's NSS database (ipsec_auth=cert imports the node's certificate there). */
  nssDir: '/var/lib/ipsec/nss',
};

/** Paths in generate's output directory (besides one tree per host). */
export const outputPaths = {
  /** The PSK generate made when none was given, for -e on later runs (0600). */
  pskFile: 'ipsec-psk.yaml',
  pacemakerPlan: 'cluster/pacemaker.json',
  pacemakerScript: 'cluster/pacemaker.sh',
  summary: 'summary.json',
  /** The CA generate created (--ca-create), reused by later runs; the key only when we made it. */
  caCert: 'ca/ca.crt',
  caKey: 'ca/ca.key',
};

/** Certificates (ipsec_auth=cert): names in pluto's NSS database, the subject peers expect, the bundle's files. */
export const certNames = {
  org: 'tripleo-ipsec',
  caNickname: 'overcloud-ca',
  nickname: (host: string) => host,
  subject: (fqdn: string) => `O=tripleo-ipsec,CN=${fqdn}`,
  p12: (host: string) => `${host}.p12`,
  cert: (host: string) => `${host}.crt`,
  caCert: 'overcloud-ca.crt',
  importScript: 'import-certs.sh',
};

export const VIP_HOLDER_DIR = 'overcloud-vip-holder';
/** Where the agent links the holder files of the VIPs this node holds (tmpfs: gone after a reboot). */
export const RUN_DIR = '/run/tripleo-ipsec';

export const ids = {
  vip: (vip: string) => `@${vip}vip`,
  /**
   * A peer's id on its VIP tunnel: not its address, which its node-to-node
   * tunnel with the holder already uses from the same address pair. With
   * one id for both, the holder's pluto switched that node-to-node IKE_AUTH
   * over to its VIP end and failed it (seen in the e2e cluster).
   */
  vipPeer: (vip: string, host: string) => `@${host}.${vip}vip`,
};

export const pacemakerNames = {
  tunnelResource: (vip: string) => `tripleo-ipsec-${vip}`,
  /** The clone earlier versions ran on every cluster node but the holder; pacemaker apply removes it. */
  retiredFallbackResource: (vip: string) => `tripleo-ipsec-${vip}-fallback`,
  colocation: (tunnelResource: string) => `colocation-${tunnelResource}-with-vip`,
  order: (tunnelResource: string) => `order-${tunnelResource}-after-vip`,
  /** TripleO's (puppet-pacemaker's) name for a VIP's IPaddr2 resource; pcs forbids ':' so IPv6 uses '.' */
  vipResource: (address: string) => `ip-${address.replace(/:/g, '.')}`,
};

/**
 * Whether `path` (relative to generate's output directory) is a file of the
 * layout generate writes, for a host among `hosts`: how an output of an
 * earlier version, which kept no record of its files, is recognised.
 */
export function inOutputLayout(path: string, hosts: ReadonlySet<string>): boolean {
  if ((Object.values(outputPaths) as string[]).includes(path)) return true;
  const slash = path.indexOf('/');
  if (slash < 0 || !hosts.has(path.slice(0, slash))) return false;
  const rest = path.slice(slash + 1);
  const host = path.slice(0, slash);
  const base = rest.slice(rest.lastIndexOf('/') + 1);
  const dir = rest.slice(0, rest.lastIndexOf('/'));
  switch (dir) {
    case nodePaths.ipsecD:
    case nodePaths.policies:
    case `${nodePaths.ipsecD}/${VIP_HOLDER_DIR}`:
      return base.startsWith(FILE_PREFIX);
    case nodePaths.firewallDir:
      return [fileNames.iptables(4), fileNames.iptables(6), fileNames.nftables].includes(base);
    case nodePaths.stateDir:
      return rest === nodePaths.nodePlan || [certNames.p12(host), certNames.cert(host), certNames.caCert, certNames.importScript].includes(base);
    default:
      return false;
  }
}
