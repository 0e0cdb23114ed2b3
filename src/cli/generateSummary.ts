// generate's summary for the operator: the overcloud as understood, per host
// what was planned (from the plan), notes, and what was written.
import type { GenerateResult } from '../generate.js';
import { espFraming, mtuAdvice } from '../mtu.js';
import { columns } from '../output/table.js';
import { connNames, outputPaths } from '../model/names.js';

export function generateSummary(r: GenerateResult, outDir: string, written: { files: number; bytes: number; changed: number; removed: number }): string {
  const o = r.overcloud;
  const lines: string[] = [];
  lines.push(`overcloud: ${o.nodes.length} hosts, ${o.networks.length} networks, ${o.vips.length} VIPs; mode ${o.vars.use_opportunistic_ipsec ? 'opportunistic' : 'PSK mesh'} (${o.vars.ipsec_policy}), esp=${o.vars.ipsec_algorithm} (checked by ${r.algorithmJudge})`);
  // Networks and VIPs: two lists whose names line up with each other.
  const lead = [7, Math.max(0, ...o.networks.map((n) => n.name.length), ...o.vips.map((v) => v.name.length))];
  const nets = o.networks.map((n) => ['network', n.name, `IPv${n.family}`, n.subnets.join(' ') || '(subnet unknown)', n.subnets.length ? `from ${n.subnetSource}${n.leaves.length ? `, leaves ${n.leaves.join(' ')}` : ''}` : '']);
  const vips = o.vips.map((v) => ['vip', v.name, v.address, `on ${v.network}`, `-> conn ${connNames.vipTunnel(v.name)}`]);
  for (const l of [...columns(nets, { minWidths: lead }), ...columns(vips, { minWidths: lead })]) lines.push(`  ${l}`);
  const hosts = [['host', 'role', 'node-to-node', 'vip-tunnels', 'as-vip-holder', 'files']];
  for (const h of r.hosts) {
    const n2n = o.vars.use_opportunistic_ipsec ? `${h.opportunistic} (OE)` : String(h.nodeToNode);
    hosts.push([h.host, h.role + (h.pacemaker ? '*' : ''), n2n, String(h.vipTunnels), String(h.vipHolderEnds), String(h.files)]);
  }
  lines.push('', ...columns(hosts).map((l) => `  ${l}`));
  lines.push('  (* = pacemaker node; as-vip-holder: VIP ends it starts only while it holds that VIP)');
  for (const note of o.notes) lines.push(`note: ${note}`);
  const tenant = o.networks.find((n) => n.name === 'tenant');
  if (tenant && espFraming(o.vars.ipsec_algorithm)) {
    const m = mtuAdvice(1500, 'vxlan', tenant.family, o.vars.ipsec_algorithm);
    lines.push(`note: IPsec costs ${m.ipsec} bytes per packet here: tenant MTU ${m.arithmetic} on 1500-byte links (tripleo-ipsec mtu --link-mtu N --encap vxlan|geneve|none)`);
  }
  if (r.psk === 'generated') lines.push(`note: no ipsec_psk given: generated one into ${outDir}/${outputPaths.pskFile} (mode 0600); reuse it with -e`);
  if (r.psk === 'reused') lines.push(`note: no ipsec_psk given: reused the one in ${outDir}/${outputPaths.pskFile}`);
  if (r.overcloud.vars.ipsec_auth === 'cert') {
    const kept = r.nodes.length - r.certificatesIssued.length;
    lines.push(`note: host certificates: ${r.certificatesIssued.length} issued, ${kept} kept (same CA, names and addresses, more than 30 days to expiry)`);
  }
  lines.push(`wrote ${written.files} files (${written.bytes} bytes) to ${outDir}: ${written.changed} changed, ${written.removed} removed`);
  return lines.join('\n') + '\n';
}
