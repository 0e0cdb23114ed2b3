// Which conns and secrets each host gets (pure). Rendering is separate.
import type { Overcloud, OvercloudNode } from '../model/types.js';
import { certNames, connNames, fileNames, ids, RUN_DIR } from '../model/names.js';
import { keyDeriver, type KeyDeriver } from './keys.js';
import { addressSortKey, inSubnet, parseAddress, parseCidr } from '../model/addresses.js';

/**
 * What a conn is for. node-to-node, vip-end (a node's own end of a VIP's
 * tunnel) and opportunistic/clear are loaded by apply; vip-holder ends only
 * by the agent, on the node holding the VIP.
 */
export type ConnKind = 'node-to-node' | 'vip-end' | 'vip-holder' | 'opportunistic' | 'clear';

/** libreswan's auto= of our conns: what pluto does with a conn once it is loaded. */
export type ConnAuto = 'add' | 'start' | 'route' | 'ondemand';

/**
 * The deploy step a conn (and its file) belongs to, as in the heat service
 * template: 1 node-to-node tunnels and the firewall, 3 the VIPs' tunnels
 * (after Pacemaker has placed the VIPs).
 */
export type DeployStep = 1 | 3;

/** A libreswan conn: an ordered list of keyword=value pairs, then its auto=. */
export interface Conn {
  name: string;
  comment?: string;
  kind: ConnKind;
  step: DeployStep;
  auto: ConnAuto;
  /** The network it runs on. */
  network: string;
  /** The other end: a host name (node-to-node, a holder's end), or undefined (a VIP end answers whoever holds the VIP, a group answers many). */
  peer?: string;
  /** The VIP it carries (VIP ends and holder ends). */
  vip?: string;
  options: [string, string][];
  /** The pre-shared key it authenticates with (PSK authentication): the secret of its two ids, as its host's secrets hold it. */
  psk?: PskSecret;
}

export interface PskSecret {
  /** The two ids (addresses or @fqdn) the key is for. */
  ids: [string, string];
  psk: string;
}

// With certificates there is no secrets line: pluto 4.10 takes the private key from NSS
// with leftcert and ignores `: RSA "<nickname>"` (docs/FACTS.md).
export type Secret = PskSecret;

/** One .conf (and optionally .secrets) file in /etc/ipsec.d. */
export interface ConnFile {
  /** The step that installs the file, its conns' step (a file holds conns of one step). */
  step: DeployStep;
  /** Only the agent loads it (the VIP holder's ends), from etc/ipsec.d/overcloud-vip-holder. */
  agentOnly?: boolean;
  confName: string;
  secretsName?: string;
  header: string;
  conns: Conn[];
  secrets: Secret[];
}

export interface PolicyFile {
  /** file name under /etc/ipsec.d/policies: the opportunistic conn's name. */
  name: string;
  cidrs: string[];
}

export interface HostPlan {
  node: OvercloudNode;
  files: ConnFile[];
  policies: PolicyFile[];
  /** network -> sources (subnet, or the peers' addresses) allowed to speak IKE/ESP/AH to this host. */
  firewallSources: { network: string; family: 4 | 6; sources: string[] }[];
  /**
   * ipsec_policy private: VIP traffic that no IPsec policy covers is dropped
   * on its way out, so a gap in a VIP's tunnel (the holder moving, crashed,
   * pluto restarting) never sends it in clear. `to` is the VIP as
   * destination (every node); `from` the VIP as source towards the network
   * (cluster nodes, for when they hold it).
   */
  vipGuards: { network: string; family: 4 | 6; vip: string; fromVipTo: string[] }[];
  /**
   * ipsec_policy private: traffic to a peer that no IPsec policy covers is
   * dropped on its way out (IKE, ESP and IPv6 neighbour discovery pass), so
   * the windows in which the kernel has no policy for a tunnel (the flush of
   * ipsec.service's start after a crash, a boot before pluto has loaded its
   * conns, `ipsec restart`) never send this node's traffic in clear.
   * `subnets` narrows what walks the peer list (empty: every packet does).
   */
  peerGuards: { network: string; family: 4 | 6; subnets: string[]; peers: string[] }[];
}

// One deriver per master key (its HKDF extract step is done once).
const derivers = new Map<string, KeyDeriver>();
function derive(o: Overcloud): KeyDeriver {
  let d = derivers.get(o.vars.ipsec_psk);
  if (!d) {
    derivers.clear();
    d = keyDeriver(o.vars.ipsec_psk);
    derivers.set(o.vars.ipsec_psk, d);
  }
  return d;
}

/**
 * A PSK secret whose key is derived only when read (rendered): planning
 * every host for the summary then costs no HKDF.
 */
function pskSecret(o: Overcloud, pair: [string, string], derived: () => string): PskSecret {
  let key: string | undefined;
  return {
    ids: pair,
    get psk() {
      return (key ??= o.vars.ipsec_psk_mode === 'shared' ? o.vars.ipsec_psk : derived());
    },
  };
}

function certAuth(me: OvercloudNode, rightid: string): [string, string][] {
  return [
    ['leftcert', certNames.nickname(me.name)],
    ['leftid', '%fromcert'],
    ['leftrsasigkey', '%cert'],
    ['rightid', rightid],
    ['rightrsasigkey', '%cert'],
    ['authby', 'rsasig'],
  ];
}

/**
 * The IKE proposal. pluto 4.10's default makes every IKE SA do its key
 * exchange in MODP2048, the costliest part of a negotiation; DH19 (ECP-256,
 * FIPS-approved, far cheaper) goes first here. The default's first suite
 * with MODP2048 stays acceptable, so initiators with libreswan's defaults (the
 * Ansible role's nodes) still get an answer.
 */
const IKE_PROPOSAL = 'aes_gcm256-sha2_512-dh19+dh20+dh21+modp2048';

function esp(o: Overcloud): [string, string][] {
  return [
    ['authby', 'secret'],
    ['ikev2', 'insist'],
    ['ike', IKE_PROPOSAL],
    ['type', 'tunnel'],
    ['phase2alg', o.vars.ipsec_algorithm],
  ];
}

function shunts(o: Overcloud): [string, string][] {
  return o.vars.ipsec_policy === 'private' ? [['failureshunt', 'drop']] : [['failureshunt', 'passthrough'], ['negotiationshunt', 'passthrough']];
}

/**
 * Who starts a node-to-node tunnel: the numerically lower address, always.
 * Two initiators per pair cross (each side's IKE_SA_INIT arrives while its own
 * is in flight) and leave duplicate IKE and Child SAs, or, with uniqueids,
 * tear each other down; measured in the data-plane guest (README).
 */
export function initiatesTo(me: string, peer: string): boolean {
  return sortKeyOf(me) < sortKeyOf(peer);
}

// Every pair of a mesh asks: parsing each address once instead of per pair
// took 43% of generate's time at 150 nodes (a profile, scripts/bench-generate).
const sortKeys = new Map<string, string>();
function sortKeyOf(address: string): string {
  let k = sortKeys.get(address);
  if (k === undefined) {
    if (sortKeys.size > 100_000) sortKeys.clear();
    k = addressSortKey(parseAddress(address)!);
    sortKeys.set(address, k);
  }
  return k;
}

// Dead peer detection: a liveness probe after 5 s without traffic from the
// peer. pluto 4.10 ignores dpdtimeout for IKEv2: a probe fails after
// retransmit-timeout (60 s by default), which bounds every other exchange
// too. Lowering it to 15 s left half-open SAs piling up under load in the
// data-plane guest (README, "Who initiates"), so it stays at pluto's default.
const DPD: [string, string][] = [
  ['dpddelay', '5s'],
  ['dpdtimeout', '15s'],
];

function meshFile(o: Overcloud, node: OvercloudNode, network: string): ConnFile | undefined {
  const me = node.addresses[network];
  const cert = o.vars.ipsec_auth === 'cert';
  const peers = o.nodes.filter((p) => p.name !== node.name && p.addresses[network] !== undefined);
  if (!me || peers.length === 0) return undefined;
  // The options every conn of the file shares, made once per file: a mesh host has thousands of conns.
  const shared = cert ? esp(o).filter(([k]) => k !== 'authby') : esp(o);
  const tail = [...shunts(o), ...DPD];
  const ends = {
    initiator: { dpdaction: ['dpdaction', 'restart'] as [string, string], alias: ['connalias', connNames.meshAlias(network, 'start')] as [string, string] },
    responder: { dpdaction: ['dpdaction', 'clear'] as [string, string], alias: ['connalias', connNames.meshAlias(network, 'route')] as [string, string] },
  };
  const secrets = cert ? [] : peers.map((p) => pskSecret(o, [me, p.addresses[network]], () => derive(o).pair(network, me, p.addresses[network])));
  return {
    step: 1,
    confName: fileNames.networkConf(network),
    secretsName: fileNames.networkSecrets(network),
    header: `node-to-node tunnels of ${node.name} on ${network}`,
    conns: peers.map((p, i) => {
      const initiator = initiatesTo(me, p.addresses[network]);
      return {
        name: connNames.nodeToNode(network, p.name),
        kind: 'node-to-node',
        network,
        peer: p.name,
        step: 1,
        auto: initiator ? 'start' : 'route',
        comment: `${node.name} <-> ${p.name}; ${initiator ? 'this end initiates' : `${p.name} initiates, traffic from here triggers it too`}`,
        // A plain property, not a conditional spread: an object literal with a spread is made property by
        // property, and at a million conns that was a fifth of generate's time.
        psk: cert ? undefined : secrets[i],
        options: [
          ['left', me],
          ['right', p.addresses[network]],
          ...(cert ? certAuth(node, certNames.subject(p.fqdn)) : []),
          ...shared,
          ...tail,
          // The initiator restarts a dead tunnel; the responder only clears it and keeps its trap policy,
          // so nothing leaves in clear meanwhile. The responder's probe is needed: at start-up under load
          // it clears what an initiator abandoned (without it the 6-node mesh in the guest never settled).
          initiator ? ends.initiator.dpdaction : ends.responder.dpdaction,
          // One whack starts (or routes) all of a network's tunnels when apply has just loaded them all.
          initiator ? ends.initiator.alias : ends.responder.alias,
        ],
      } satisfies Conn;
    }),
    secrets,
  };
}

/**
 * A VIP's tunnels. Every node of the VIP's network has one end, a template
 * that answers whoever holds the VIP; the holder starts one conn to each peer.
 * The holder speaks IKE and ESP from its own address and carries the VIP as
 * its traffic selector (leftsubnet), so pluto never listens on the VIP: no
 * orientation to redo when it moves, and none of pluto 4.10's aborts on an
 * address that is both the peer and local (docs/FACTS.md). Only the holder
 * initiates, so a VIP tunnel never has two initiators; the VIP authenticates
 * as @<vip>vip, each peer as @<host>.<vip>vip, and a new holder's IKE_AUTH
 * replaces the old holder's SA on every peer (uniqueids=yes), which is what
 * covers a crashed holder that never sent a Delete.
 */
function vipFiles(o: Overcloud, node: OvercloudNode, vip: Overcloud['vips'][number]): ConnFile[] {
  const me = node.addresses[vip.network];
  if (!me) return [];
  const hostLen = parseAddress(vip.address)!.family === 4 ? 32 : 128;
  const peers = o.nodes.filter((p) => p.name !== node.name && p.addresses[vip.network] !== undefined);
  const tunnel = connNames.vipTunnel(vip.name);
  const files: ConnFile[] = [];
  // The holder needs every peer's key; any other node only its own.
  const keyed = node.pacemaker ? [node, ...peers] : [node];
  const keys = keyed.map((p) => {
    const addr = p.addresses[vip.network];
    return pskSecret(o, [ids.vip(vip.name), ids.vipPeer(vip.name, p.name)], () => derive(o).vip(vip.name, vip.address, addr));
  });
  files.push({
    step: 3,
    confName: fileNames.vipConf(vip.name),
    secretsName: fileNames.vipSecrets(vip.name),
    header: `${node.name}'s end of its tunnel with the ${vip.name} VIP ${vip.address} (network ${vip.network}), wherever Pacemaker places it`,
    conns: [
      {
        name: tunnel,
        psk: keys[0],
        kind: 'vip-end',
        network: vip.network,
        vip: vip.name,
        step: 3,
        auto: 'add',
        comment: `answers the VIP's holder, which always initiates; a new holder's SA replaces the old one's`,
        options: [
          ['left', me],
          ['leftid', ids.vipPeer(vip.name, node.name)],
          ['right', '%any'],
          ['rightid', ids.vip(vip.name)],
          ['rightsubnet', `${vip.address}/${hostLen}`],
          ...esp(o),
          ...shunts(o),
          ...DPD,
          ['dpdaction', 'clear'],
        ],
      },
    ],
    secrets: keys,
  });
  if (node.pacemaker && peers.length) {
    files.push({
      step: 3,
      agentOnly: true,
      confName: fileNames.vipHolderConf(vip.name),
      header: `the ${vip.name} VIP's ends while ${node.name} holds ${vip.address}: ocf:tripleo:ipsec links this file into ${RUN_DIR} (which ipsec.conf includes) and starts them; nothing loads it elsewhere`,
      // keys: this node's own first, then each peer's, in the order of peers.
      conns: peers.map((p, i) => ({
        psk: keys[i + 1],
        name: connNames.vipToPeer(vip.name, p.name),
        kind: 'vip-holder',
        network: vip.network,
        peer: p.name,
        vip: vip.name,
        step: 3,
        auto: 'start',
        comment: `${vip.address} (held here) <-> ${p.name}`,
        options: [
          ['left', me],
          ['leftid', ids.vip(vip.name)],
          ['leftsubnet', `${vip.address}/${hostLen}`],
          ['right', p.addresses[vip.network]],
          ['rightid', ids.vipPeer(vip.name, p.name)],
          // One whack initiates (or deletes) every end of the VIP: ocf:tripleo:ipsec's start and stop.
          ['connalias', connNames.vipHolderAlias(tunnel)],
          ...esp(o),
          ...shunts(o),
          ...DPD,
          // Not restart: pluto 4.10's restart re-initiates every conn between the two node addresses, the
          // pair's node-to-node conns too, which the lower address initiates: after a peer's crash both ends
          // initiated, crossed (libreswan issue #1903) and negotiated anew for minutes. clear on an auto=start
          // conn drops this end alone and revives it at once ("connection is supposed to remain up"); should
          // it not, tripleo-ipsec tidy initiates it again.
          ['dpdaction', 'clear'],
        ],
      })),
      secrets: [],
    });
  }
  return files;
}

function opportunisticFile(o: Overcloud, node: OvercloudNode, network: string): { file: ConnFile; policy: PolicyFile } | undefined {
  const me = node.addresses[network];
  const net = o.networks.find((n) => n.name === network)!;
  const peers = o.nodes.filter((p) => p.name !== node.name && p.addresses[network] !== undefined);
  if (!me || peers.length === 0) return undefined;
  const name = connNames.opportunistic(network, o.vars.ipsec_policy);
  const hostLen = net.family === 4 ? 32 : 128;
  const cidrs = net.subnets.length ? net.subnets : peers.map((p) => `${p.addresses[network]}/${hostLen}`);
  return {
    file: {
      step: 1,
      confName: fileNames.groupConf(name),
      header: `opportunistic (authby=null) IPsec of ${node.name} on ${network}; peers are listed in policies/${name}`,
      conns: [
        {
          name,
          kind: 'opportunistic',
          network,
          step: 1,
          auto: 'ondemand',
          options: [
            ['left', me],
            ...(o.vars.ipsec_auth === 'cert'
              ? ([['right', '%opportunisticgroup'], ...certAuth(node, '%fromcert')] as [string, string][])
              : ([['leftid', '%null'], ['right', '%opportunisticgroup'], ['rightid', '%null'], ['authby', 'null']] as [string, string][])),
            // The mesh's IKE and ESP options; authentication is this conn's own.
            ...esp(o).filter(([k]) => k !== 'authby'),
            ['negotiationshunt', o.vars.ipsec_policy === 'private' ? 'drop' : 'passthrough'],
            ['failureshunt', o.vars.ipsec_policy === 'private' ? 'drop' : 'passthrough'],
            ['keyingtries', '1'],
            // private-or-clear falls back to clear quickly when a peer does not
            // answer. private has nothing to fall back to and a failed attempt
            // leaves a drop shunt for shuntlifetime (15 min by default), so it
            // waits pluto's default 60 s for a busy peer: 2 s failed one pair in
            // three in the data-plane guest, and 15 s failed a pair whose
            // responder took 15 s over its IKE_AUTH under load (CI, stop 19).
            ['retransmit-timeout', o.vars.ipsec_policy === 'private' ? '60s' : '2s'],
          ],
        },
      ],
      secrets: [],
    },
    policy: { name, cidrs },
  };
}

export function planHost(o: Overcloud, node: OvercloudNode): HostPlan {
  const files: ConnFile[] = [];
  const policies: PolicyFile[] = [];
  for (const net of o.networks) {
    if (o.vars.use_opportunistic_ipsec) {
      const r = opportunisticFile(o, node, net.name);
      if (r) {
        files.push(r.file);
        policies.push(r.policy);
      }
    } else {
      const f = meshFile(o, node, net.name);
      if (f) files.push(f);
    }
  }
  // Hosts that stay in clear: a passthrough group per network, beside its private group
  // (the more specific policy wins), for the clear hosts inside that network's subnet.
  if (o.vars.use_opportunistic_ipsec) {
    for (const net of o.networks) {
      const me = node.addresses[net.name];
      const subnets = net.subnets.map((c) => parseCidr(c)!);
      const inside = o.vars.ipsec_clear_hosts.filter((h) => {
        const a = parseAddress(h.split('/')[0]);
        return a !== undefined && a.family === net.family && (subnets.length === 0 || subnets.some((s) => inSubnet(a, s)));
      });
      if (!me || inside.length === 0 || !files.some((f) => f.confName === fileNames.groupConf(connNames.opportunistic(net.name, o.vars.ipsec_policy)))) continue;
      const name = connNames.clear(net.name);
      files.push({
        step: 1,
        confName: fileNames.groupConf(name),
        header: `hosts on ${net.name} that stay in clear (ipsec_clear_hosts); listed in policies/${name}`,
        conns: [{ name, kind: 'clear', step: 1, auto: 'ondemand', network: net.name, options: [['left', me], ['right', '%group'], ['type', 'passthrough'], ['authby', 'never']] }],
        secrets: [],
      });
      policies.push({ name, cidrs: inside.map((h) => (h.includes('/') ? h : `${h}/${net.family === 4 ? 32 : 128}`)) });
    }
  }
  // No VIP tunnels in opportunistic mode: every node's end is a right=%any
  // template on the node's own address, and pluto 4.10 prefers it over the
  // opportunistic group for any IKE_SA_INIT that arrives there, then fails
  // the opportunistic IKE_AUTH ("Peer ID 'ID_NULL' mismatched"; seen in the
  // data-plane guest: node-to-node traffic broke). VIP traffic in that mode
  // has no tunnel: with ipsec_policy private it is dropped (README).
  if (!o.vars.use_opportunistic_ipsec) for (const vip of o.vips) files.push(...vipFiles(o, node, vip));
  const firewallSources = o.networks
    .filter((n) => node.addresses[n.name] !== undefined)
    .map((n) => {
      const peers = o.nodes.filter((p) => p.name !== node.name && p.addresses[n.name] !== undefined);
      const sources = n.subnets.length ? n.subnets : peers.map((p) => p.addresses[n.name]);
      return { network: n.name, family: n.family, sources };
    })
    .filter((s) => s.sources.length > 0);
  const vipGuards = o.vars.ipsec_policy !== 'private' ? [] : o.vips
    .filter((v) => node.addresses[v.network] !== undefined)
    .map((v) => {
      const net = o.networks.find((n) => n.name === v.network)!;
      const peers = o.nodes.filter((p) => p.name !== node.name && p.addresses[v.network] !== undefined).map((p) => p.addresses[v.network]);
      return { network: v.network, family: net.family, vip: v.address, fromVipTo: node.pacemaker ? (net.subnets.length ? net.subnets : peers) : [] };
    });
  // The peers of this node's node-to-node conns (none in opportunistic mode: its groups and clear hosts are pluto's).
  const peerGuards = o.vars.ipsec_policy !== 'private' || o.vars.use_opportunistic_ipsec ? [] : o.networks
    .map((net) => {
      const peers = new Set(files.flatMap((f) => f.conns.filter((c) => c.kind === 'node-to-node' && c.network === net.name && c.peer).map((c) => c.peer!)));
      const addresses = o.nodes.filter((p) => peers.has(p.name) && p.addresses[net.name] !== undefined).map((p) => p.addresses[net.name]);
      return { network: net.name, family: net.family, subnets: net.subnets, peers: addresses };
    })
    .filter((g) => g.peers.length > 0);
  return { node, files, policies, firewallSources, vipGuards, peerGuards };
}
