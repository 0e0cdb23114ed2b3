// One view of the cluster's tunnels for an operator: per VIP, where the VIP
// and its tunnel run and whether they agree; per node, SA counts and the
// tunnels that are down; failed actions with their reasons.
import type { CrmMon } from './pacemaker/crmMon.js';
import type { PacemakerPlan } from './plan/pacemaker.js';
import { cloneId } from './plan/pacemaker.js';
import { connsWithIkeSa, type PlutoStatus, type SaCounts } from './libreswan/status.js';

export interface VipView {
  vip: string;
  address: string;
  vipResource: string;
  vipNode: string | null;
  tunnelResource: string;
  tunnelNode: string | null;
  agree: boolean;
  fallbackNodes: string[];
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
  for (const [vip, vipResource] of Object.entries(plan.vipResources)) {
    const tunnel = plan.resources.find((r) => !r.clone && r.params.vip !== undefined && r.id === `tripleo-ipsec-${vip}`);
    if (!tunnel) continue;
    const fallback = plan.resources.find((r) => r.clone && r.id === `tripleo-ipsec-${vip}-fallback`);
    const vipNodes = where(mon, vipResource);
    const tunnelNodes = where(mon, tunnel.id);
    const fallbackNodes = fallback ? mon.resources.filter((r) => r.clone === cloneId(fallback.id) && r.active).flatMap((r) => r.nodes).sort() : [];
    const v: VipView = {
      vip,
      address: tunnel.params.vip,
      vipResource,
      vipNode: vipNodes[0] ?? null,
      tunnelResource: tunnel.id,
      tunnelNode: tunnelNodes[0] ?? null,
      agree: vipNodes.length === 1 && tunnelNodes.length === 1 && vipNodes[0] === tunnelNodes[0],
      fallbackNodes,
    };
    if (!v.vipNode) problems.push(`${vipResource} (${vip} VIP) is not running`);
    if (!v.tunnelNode) problems.push(`${tunnel.id} is not running`);
    if (v.vipNode && v.tunnelNode && !v.agree) problems.push(`${tunnel.id} runs on ${v.tunnelNode} but ${vipResource} on ${v.vipNode}`);
    if (v.vipNode && fallbackNodes.includes(v.vipNode)) problems.push(`${fallback!.id} runs on the VIP holder ${v.vipNode}`);
    if (pluto.size && v.tunnelNode && pluto.has(v.tunnelNode)) {
      const s = pluto.get(v.tunnelNode)!;
      if (!s.conns.get(tunnel.params.tunnel)?.oriented) problems.push(`${v.tunnelNode}: conn ${tunnel.params.tunnel} is not oriented`);
    }
    vips.push(v);
  }
  const nodes: NodeView[] = mon.nodes.map((n) => {
    const s = pluto.get(n.name);
    if (!n.online) problems.push(`node ${n.name} is offline`);
    if (!s) return { node: n.name, online: n.online, standby: n.standby, ikeSas: null, ipsecSas: null, down: [] };
    const up = connsWithIkeSa(s);
    // A responder (…-vip-tunnel) waits for peers; every other loaded conn should have an IKE SA.
    const down = [...s.conns.keys()].filter((c) => !up.has(c) && !(c.endsWith('-vip-tunnel') && !c.endsWith('-node-to-vip-tunnel'))).sort();
    for (const c of down) problems.push(`${n.name}: tunnel ${c} has no established IKE SA`);
    if (s.ikeSas.authenticated < s.ikeSas.total) problems.push(`${n.name}: ${s.ikeSas.total - s.ikeSas.authenticated} IKE SA(s) not authenticated`);
    return { node: n.name, online: n.online, standby: n.standby, ikeSas: s.ikeSas, ipsecSas: s.ipsecSas, down };
  });
  const ours = new Set(plan.resources.map((r) => r.id));
  const failedActions = mon.failures.filter((f) => ours.has(f.resource) || Object.values(plan.vipResources).includes(f.resource));
  for (const f of failedActions) problems.push(`failed ${f.task} of ${f.resource} on ${f.node}: ${f.exitReason || f.exitStatus}`);
  return { ok: problems.length === 0, vips, nodes, failedActions, problems };
}

export function renderStatus(r: StatusReport): string {
  const lines: string[] = [];
  lines.push('VIP             address                 VIP on      tunnel on   agree  fallback on');
  for (const v of r.vips) {
    lines.push(`${v.vip.padEnd(15)} ${v.address.padEnd(23)} ${String(v.vipNode ?? '-').padEnd(11)} ${String(v.tunnelNode ?? '-').padEnd(11)} ${(v.agree ? 'yes' : 'NO').padEnd(6)} ${v.fallbackNodes.join(',') || '-'}`);
  }
  lines.push('', 'node        online  IKE SAs (auth/total)  IPsec SAs  down');
  for (const n of r.nodes) {
    const ike = n.ikeSas ? `${n.ikeSas.authenticated}/${n.ikeSas.total}` : 'n/a';
    lines.push(`${n.node.padEnd(11)} ${(n.online ? (n.standby ? 'standby' : 'yes') : 'NO').padEnd(7)} ${ike.padEnd(21)} ${String(n.ipsecSas?.total ?? 'n/a').padEnd(10)} ${n.down.join(', ') || '-'}`);
  }
  for (const f of r.failedActions) lines.push(`failed: ${f.task} ${f.resource} on ${f.node}: ${f.exitReason || f.exitStatus}`);
  lines.push('', r.ok ? 'OK: every tunnel follows its VIP and every tunnel is up' : `PROBLEMS:\n${r.problems.map((p) => `  - ${p}`).join('\n')}`);
  return lines.join('\n') + '\n';
}
