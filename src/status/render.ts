// The one renderer of status for people, for both pipelines (status --plan
// and status --inventory): the summary first, then where each VIP is, then
// only the problems, each naming node, network, peer or VIP. Every value
// from a node or a saved output (a banner, pluto's conn names, crm_mon's
// node names and exit reasons) is made printable here, before the report's
// own colours go around it.
import type { OvercloudReport } from './overcloudStatus.js';
import type { StatusReport } from './statusReport.js';
import { printableLine } from '../text/printable.js';

export interface StatusView {
  ok: boolean;
  nodes: number;
  nodesOk: number;
  /** What is counted as a tunnel that is up, and how many of how many. */
  tunnels: { what: string; up: number; expected: number };
  vips: { vip: string; address: string; holder?: string; from: string; note?: string }[];
  problems: string[];
}

export interface RenderOptions {
  colour: boolean;
}

export function renderStatusView(v: StatusView, o: RenderOptions): string {
  const paint = (code: string, s: string) => (o.colour ? `\x1b[${code}m${s}\x1b[0m` : s);
  const lines = [
    `${v.ok ? paint('32', 'OK') : paint('31', 'PROBLEMS')}: ${v.nodes} node(s), ${v.nodesOk} OK, ${v.nodes - v.nodesOk} with problems; ${v.tunnels.what}: ${v.tunnels.up} of ${v.tunnels.expected}`,
  ];
  for (const x of v.vips) {
    const where = x.holder ? `on ${printableLine(x.holder)} (${x.from})` : paint('31', 'holder unknown');
    lines.push(`  VIP ${x.vip} ${x.address}: ${where}${x.note ? `; ${printableLine(x.note)}` : ''}`);
  }
  if (v.problems.length) {
    lines.push('', `${v.problems.length} problem(s):`);
    for (const p of v.problems) lines.push(`  ${paint('31', '-')} ${printableLine(p)}`);
  }
  return lines.join('\n') + '\n';
}

/** status --inventory: every node's tunnels against its plan, an IKE and a Child SA each. */
export function overcloudView(r: OvercloudReport): StatusView {
  return {
    ok: r.ok,
    nodes: r.summary.nodes,
    nodesOk: r.summary.nodesOk,
    tunnels: { what: 'tunnels up with an IKE and a Child SA', up: r.summary.tunnelsUp, expected: r.summary.tunnelsExpected },
    vips: r.vips.map((v) => ({ vip: v.vip, address: v.address, ...(v.holder ? { holder: v.holder } : {}), from: v.from === 'crm_mon' ? 'Pacemaker' : "its holder's pluto" })),
    problems: r.problems,
  };
}

/** status --plan: where each VIP and its tunnel run, and which peers the holder's ends authenticated (IKE SAs). */
export function planView(r: StatusReport): StatusView {
  const peers = r.vips.flatMap((v) => v.peers);
  const bad = new Set(r.nodes.filter((n) => !n.online || n.down.length > 0 || (n.ikeSas !== null && n.ikeSas.authenticated < n.ikeSas.total)).map((n) => n.node));
  return {
    ok: r.ok,
    nodes: r.nodes.length,
    nodesOk: r.nodes.length - bad.size,
    tunnels: { what: "peers authenticated with each VIP's holder", up: peers.filter((p) => p.authenticated === true).length, expected: peers.length },
    vips: r.vips.map((v) => ({
      vip: v.vip,
      address: v.address,
      ...(v.vipNode ? { holder: v.vipNode } : {}),
      from: 'Pacemaker',
      ...(v.tunnelNode && !v.agree ? { note: `its tunnel on ${v.tunnelNode}` } : !v.tunnelNode ? { note: 'its tunnel not running' } : {}),
    })),
    problems: r.problems,
  };
}
