// The overcloud-wide status for people: the summary first, then where each
// VIP is, then only the problems, each naming node, network, peer or VIP.
// Every value from a node (its ssh banner, pluto's conn names, a reason) is
// made printable here, before the report's own colours go around it.
import type { OvercloudReport } from './overcloudStatus.js';
import { printableLine } from '../text/printable.js';

export interface RenderOptions {
  colour: boolean;
}

export function renderOvercloudStatus(r: OvercloudReport, o: RenderOptions): string {
  const paint = (code: string, s: string) => (o.colour ? `\x1b[${code}m${s}\x1b[0m` : s);
  const s = r.summary;
  const bad = s.nodes - s.nodesOk;
  const lines = [
    `${r.ok ? paint('32', 'OK') : paint('31', 'PROBLEMS')}: ${s.nodes} node(s), ${s.nodesOk} OK, ${bad} with problems; tunnels up with an IKE and a Child SA: ${s.tunnelsUp} of ${s.tunnelsExpected}`,
  ];
  for (const v of r.vips) lines.push(`  VIP ${v.vip} ${v.address}: ${v.holder ? `on ${printableLine(v.holder)} (${v.from === 'crm_mon' ? 'Pacemaker' : "its holder's pluto"})` : paint('31', 'holder unknown')}`);
  if (r.problems.length) {
    lines.push('', `${r.problems.length} problem(s):`);
    for (const p of r.problems) lines.push(`  ${paint('31', '-')} ${printableLine(p)}`);
  }
  return lines.join('\n') + '\n';
}
