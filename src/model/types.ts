// Shared types: the validated model of an overcloud, the output of parsing
// and validation, and the input of every planner and renderer. Plain data.

export type IpFamily = 4 | 6;

/** The two opportunistic/mesh failure policies the TripleO role offered. */
export type IpsecPolicy = 'private' | 'private-or-clear';

export type PskMode = 'derived' | 'shared';

export interface IpsecVars {
  /** Master pre-shared key (>= 32 bytes). */
  ipsec_psk: string;
  /** derived: a key per tunnel from ipsec_psk (HKDF); shared: ipsec_psk itself everywhere (interop). */
  ipsec_psk_mode: PskMode;
  /** ESP proposal (phase2alg) in libreswan syntax. */
  ipsec_algorithm: string;
  /** Networks (name_lower) that get no tunnels at all. */
  ipsec_skip_networks: string[];
  /** Whether VIP tunnels (and their Pacemaker resources) are generated. */
  ipsec_configure_vips: boolean;
  /** Whether firewall rules are left out. */
  ipsec_skip_firewall_rules: boolean;
  /** Opportunistic (authby=null) conns and policy files instead of the PSK mesh. */
  use_opportunistic_ipsec: boolean;
  /** private: drop when negotiation fails; private-or-clear: fall back to clear text. */
  ipsec_policy: IpsecPolicy;
  /** psk: pre-shared keys; cert: certificates from the cluster's CA (node-to-node tunnels). */
  ipsec_auth: AuthMode;
  /** Addresses/CIDRs that stay in clear in certificate opportunistic mode (policies/overcloud-clear). */
  ipsec_clear_hosts: string[];
  /**
   * Legacy routed networks (`internal_api2` beside `internal_api`): leaf
   * name_lower -> the logical network it is a leaf of. Found from the data
   * (a declared network `<net><digits>` beside `<net>`); an entry here wins,
   * and one naming the leaf itself keeps it a network of its own.
   */
  ipsec_leaf_networks: Record<string, string>;
  /**
   * The Ansible role's own switches, kept so its IpsecVars still deploy:
   * true removes everything from every node through a normal deploy (the
   * role's ipsec_uninstall_tunnels), or replaces what an earlier
   * installation left (ipsec_upgrade_tunnels, as apply --upgrade).
   */
  ipsec_uninstall_tunnels: boolean;
  ipsec_upgrade_tunnels: boolean;
}

export type AuthMode = 'psk' | 'cert';

export interface Network {
  /** name_lower, the key used in the inventory (`<name>_ip`, `<name>_vip`). */
  name: string;
  family: IpFamily;
  /** Every subnet (leaf) of the logical network, canonical CIDRs; empty when nothing says them. */
  subnets: string[];
  /** Where the subnets came from, for the summary. */
  subnetSource: 'network_data' | 'deployed networks' | 'inventory' | 'none';
  /** Legacy leaf networks merged into this one (`internal_api2`), whose `<leaf>_ip` are addresses on it. */
  leaves: string[];
}

export interface OvercloudNode {
  /** Inventory host name (a plain host label). */
  name: string;
  /** Fully qualified name (inventory canonical_hostname), or the host name: the CN of its certificate. */
  fqdn: string;
  /** TripleO role (Controller, Compute, ...). */
  role: string;
  /** Address per isolated network (name_lower -> canonical address). */
  addresses: Record<string, string>;
  /** Member of the `pacemaker` group. */
  pacemaker: boolean;
}

export interface Vip {
  /** `internal_api`, `storage`, ..., or `redis`: the name in conn and resource names. */
  name: string;
  /** The network whose nodes reach this VIP. */
  network: string;
  address: string;
}

export interface Overcloud {
  /** Sorted by name: output never depends on inventory order. */
  nodes: OvercloudNode[];
  /** Networks that get tunnels (ctlplane and skipped networks removed), sorted by name. */
  networks: Network[];
  /** VIPs that get tunnels, sorted by name; empty when ipsec_configure_vips is false. */
  vips: Vip[];
  vars: IpsecVars;
  /** What the operator should know about how the model was built (fallbacks taken). */
  notes: string[];
  /** The inventory's stack these nodes are (undefined: the inventory names none). */
  stack?: string;
}

/** One file of the output, relative to a host's (or the cluster's) root. */
export interface OutputFile {
  path: string;
  mode: number;
  content: string;
  /** Binary files (PKCS#12 bundles): written instead of content, which is then ''. */
  bytes?: Buffer;
}

/** A host's certificate files: what its tree carries (var/lib/tripleo-ipsec) and apply imports into NSS. */
export interface HostCertificate {
  nickname: string;
  /** Key and certificate (and the CA), PKCS#12 with an empty password, as pk12util -W '' imports it. */
  p12: Buffer;
  certPem: string;
  caCertPem: string;
}
