// Turning results and errors into words and exit codes (the CLI's only job).
import { EXIT_CODES, TripleoIpsecError, oneLine } from '../model/errors.js';
import type { GenerateResult } from '../generate.js';
import { espFraming, mtuAdvice } from '../mtu.js';
import { columns } from '../output/table.js';

export interface ErrorOutput {
  /** --debug: also print the stack (and the causes) of an expected failure. */
  debug?: boolean;
  /** Where the words go (stderr). */
  write?: (text: string) => void;
}

/**
 * The CLI's one error handler: every command's failures come here. An
 * expected failure (a TripleoIpsecError that is not a bug) is one line per
 * problem and its kind's exit code (2: input or validation, 1: environment);
 * anything else is a bug: its message, its stack, exit 1.
 * Plain text only: nothing here (or anywhere in the CLI) prints colour.
 */
export function handleError(e: unknown, o: ErrorOutput = {}): number {
  const write = o.write ?? ((text: string) => void process.stderr.write(text));
  if (e instanceof TripleoIpsecError && e.kind !== 'bug') {
    for (const line of e.lines()) write(`tripleo-ipsec: ${line}\n`);
    if (o.debug) write(stackOf(e));
    return e.exitCode;
  }
  write(`tripleo-ipsec: ${(e instanceof Error ? oneLine(e.message) : '') || String(e)}\n`);
  if (e instanceof Error) write(stackOf(e));
  return EXIT_CODES.bug;
}

/** The stack of an error and of its causes, for --debug and for bugs. */
function stackOf(e: unknown): string {
  const parts: string[] = [];
  for (let c: unknown = e, depth = 0; c !== undefined && depth < 8; depth++) {
    const text = c instanceof Error ? (c.stack ?? `${c.name}: ${c.message}`) : String(c);
    parts.push(depth === 0 ? text : `caused by: ${text}`);
    c = c instanceof Error ? c.cause : undefined;
  }
  return parts.join('\n') + '\n';
}

export function generateSummary(r: GenerateResult, outDir: string, algorithmCheckedBy: string, written: { files: number; bytes: number }): string {
  const o = r.overcloud;
  const lines: string[] = [];
  lines.push(`overcloud: ${o.nodes.length} hosts, ${o.networks.length} networks, ${o.vips.length} VIPs; mode ${o.vars.use_opportunistic_ipsec ? 'opportunistic' : 'PSK mesh'} (${o.vars.ipsec_policy}), esp=${o.vars.ipsec_algorithm} (checked by ${algorithmCheckedBy})`);
  // Networks and VIPs: two lists whose names line up with each other.
  const lead = [7, Math.max(0, ...o.networks.map((n) => n.name.length), ...o.vips.map((v) => v.name.length))];
  const nets = o.networks.map((n) => ['network', n.name, `IPv${n.family}`, n.subnet ?? '(subnet unknown)', n.subnet ? `from ${n.subnetSource}` : '']);
  const vips = o.vips.map((v) => ['vip', v.name, v.address, `on ${v.network}`, `-> conn overcloud-${v.name}-vip-tunnel`]);
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
  if (r.psk === 'generated') lines.push(`note: no ipsec_psk given: generated one into ${outDir}/ipsec-psk.yaml (mode 0600); reuse it with -e`);
  if (r.psk === 'reused') lines.push(`note: no ipsec_psk given: reused the one in ${outDir}/ipsec-psk.yaml`);
  lines.push(`wrote ${written.files} files (${written.bytes} bytes) to ${outDir}`);
  return lines.join('\n') + '\n';
}
