// One view of the cluster's tunnels for an operator: per VIP, where the VIP
// and its tunnel run, whether they agree, and which nodes hold an
// authenticated tunnel with the holder; per node, SA counts and the tunnels
// that are down; failed actions with their reasons.
import type { CrmMon } from '../pacemaker/crmMon.js';
import type { PacemakerPlan } from '../plan/pacemaker.js';
import type { PlutoStatus, SaCounts } from '../libreswan/whackStatus.js';
import { connNames, isVipConn, pacemakerNames } from '../model/names.js';
import { planView, renderStatusView, type RenderOptions } from './render.js';
import { ikeUp, sasByConn } from './judge.js';

export interface VipView {
  vip: string;
  address: string;
  vipResource: string;
  vipNode: string | null;
  tunnelResource: string;
  tunnelNode: string | null;
  agree: boolean;
  /** Every other node on the VIP's network: authenticated with the holder, or null when no status tells. */
  peers: { node: string; authenticated: boolean | null }[];
}

export interface NodeView {
  node: string;
  online: boolean;
  standby: boolean;
  /** null when no pluto status was available for this node */
  ikeSas: SaCounts | null;
  ipsecSas: SaCounts | null;
  /** loaded conns with no established IKE SA */
  down: string[];
}

export interface StatusReport {
  ok: boolean;
  vips: VipView[];
  nodes: NodeView[];
  failedActions: { resource: string; node: string; task: string; exitStatus: string; exitReason: string }[];
  problems: string[];
}

function where(mon: CrmMon, id: string): string[] {
  return mon.resources.filter((r) => r.id === id && r.active).flatMap((r) => r.nodes);
}

export function buildStatus(plan: PacemakerPlan, mon: CrmMon, pluto: Map<string, PlutoStatus>): StatusReport {
  const problems: string[] = [];
  const vips: VipView[] = [];
  // Each node's conns judged once, by the rule status --inventory uses too (IKE SAs only: clusters without ESP have no Child SA).
  const sasOf = new Map([...pluto].map(([node, s]) => [node, sasByConn(s.states)]));
  for (const [vip, vipResource] of Object.entries(plan.vipResources)) {
    const tunnel = plan.resources.find((r) => !r.clone && r.params.vip !== undefined && r.id === pacemakerNames.tunnelResource(vip));
    if (!tunnel) continue;
    const vipNodes = where(mon, vipResource);
    const tunnelNodes = where(mon, tunnel.id);
    const v: VipView = {
      vip,
      address: tunnel.params.vip,
      vipResource,
      vipNode: vipNodes[0] ?? null,
      tunnelResource: tunnel.id,
      tunnelNode: tunnelNodes[0] ?? null,
      agree: vipNodes.length === 1 && tunnelNodes.length === 1 && vipNodes[0] === tunnelNodes[0],
      peers: [],
    };
    if (!v.vipNode) problems.push(`${vipResource} (${vip} VIP) is not running`);
    if (!v.tunnelNode) problems.push(`${tunnel.id} is not running`);
    if (v.vipNode && v.tunnelNode && !v.agree) problems.push(`${tunnel.id} runs on ${v.tunnelNode} but ${vipResource} on ${v.vipNode}`);
    // The holder's end towards each peer is conn <tunnel>-to-<peer>: its IKE SA is that peer's tunnel.
    const holder = v.tunnelNode;
    const hs = holder ? pluto.get(holder) : undefined;
    const prefix = connNames.vipToPeer(vip, '');
    const holderSas = holder ? sasOf.get(holder) : undefined;
    const peerNames = plan.vipPeers[vip]?.length ? plan.vipPeers[vip] : hs ? [...hs.conns.keys()].filter((c) => c.startsWith(prefix)).map((c) => c.slice(prefix.length)) : [];
    for (const peer of peerNames.filter((p) => p !== holder).sort()) {
      const authenticated = holderSas ? ikeUp(holderSas.get(connNames.vipToPeer(vip, peer))) : null;
      v.peers.push({ node: peer, authenticated });
      if (authenticated === false) problems.push(`${peer} holds no authenticated tunnel with the ${vip} VIP ${v.address} on its holder ${holder}`);
    }
    vips.push(v);
  }
  const nodes: NodeView[] = mon.nodes.map((n) => {
    const s = pluto.get(n.name);
    if (!n.online) problems.push(`node ${n.name} is offline`);
    if (!s) return { node: n.name, online: n.online, standby: n.standby, ikeSas: null, ipsecSas: null, down: [] };
    const sas = sasOf.get(n.name)!;
    // VIP tunnels are judged per VIP above (a node's own end has no SA while it holds the VIP itself).
    const down = [...s.conns.keys()].filter((c) => !ikeUp(sas.get(c)) && !isVipConn(c)).sort();
    for (const c of down) problems.push(`${n.name}: tunnel ${c} has no established IKE SA`);
    if (s.ikeSas.authenticated < s.ikeSas.total) problems.push(`${n.name}: ${s.ikeSas.total - s.ikeSas.authenticated} IKE SA(s) not authenticated`);
    return { node: n.name, online: n.online, standby: n.standby, ikeSas: s.ikeSas, ipsecSas: s.ipsecSas, down };
  });
  const ours = new Set(plan.resources.map((r) => r.id));
  const failedActions = mon.failures.filter((f) => ours.has(f.resource) || Object.values(plan.vipResources).includes(f.resource));
  for (const f of failedActions) problems.push(`failed ${f.task} of ${f.resource} on ${f.node}: ${f.exitReason || f.exitStatus}`);
  return { ok: problems.length === 0, vips, nodes, failedActions, problems };
}

/** For people: the same renderer as status --inventory (src/status/render.ts). */
export function renderStatus(r: StatusReport, o: RenderOptions = { colour: false }): string {
  return renderStatusView(planView(r), o);
}
