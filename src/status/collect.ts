// Gathering what `tripleo-ipsec status` needs, live or from saved outputs
// (the I/O side of status; report.ts judges what was gathered).
import { EnvironmentError, InputError } from '../model/errors.js';
import { oneLine } from '../text/printable.js';
import { readInputFile } from '../inputs/read.js';
import { PlutoClient } from '../libreswan/plutoClient.js';
import { DEFAULT_CTLSOCKET } from '../libreswan/whack.js';
import { runCommand } from '../system/command.js';
import { parseCrmMon } from '../pacemaker/crmMon.js';
import { parsePlutoStatus, type PlutoStatus } from '../libreswan/whackStatus.js';
import { buildStatus, type StatusReport } from './statusReport.js';
import { readPlan } from '../pacemaker/planFile.js';

export interface StatusOptions {
  plan: string;
  crmMonXml?: string;
  ipsecStatus: string[];
  local: boolean;
}

export async function collectStatus(o: StatusOptions): Promise<StatusReport> {
  const plan = readPlan(o.plan);
  let monXml: string;
  if (o.crmMonXml) monXml = readInputFile(o.crmMonXml, 'crm_mon XML');
  else {
    const r = await runCommand({ what: "reading the cluster's state (crm_mon)", argv: ['crm_mon', '-1', '--output-as=xml'], timeoutMs: 30_000 });
    // crm_mon exits non-zero when the cluster has problems, and still prints them.
    if (r.exitCode !== 0 && !r.stdout) throw new EnvironmentError(`crm_mon failed: ${oneLine(r.stderr)}`);
    monXml = r.stdout;
  }
  const mon = parseCrmMon(monXml);
  const pluto = new Map<string, PlutoStatus>();
  for (const spec of o.ipsecStatus) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new InputError(`--ipsec-status ${JSON.stringify(spec)}: expected NODE=FILE`);
    const node = spec.slice(0, eq);
    try {
      pluto.set(node, parsePlutoStatus(readInputFile(spec.slice(eq + 1), 'ipsec status')));
    } catch (e) {
      throw new InputError(`--ipsec-status ${node}: ${(e as Error).message}`, { cause: e });
    }
  }
  if (o.local) {
    const n = await runCommand({ what: "this node's cluster name (crm_node -n)", argv: ['crm_node', '-n'], timeoutMs: 10_000 });
    if (n.exitCode !== 0) throw new EnvironmentError(`cannot tell this node's cluster name (crm_node -n): ${oneLine(n.stderr || n.stdout)}`);
    pluto.set(n.stdout.trim(), await new PlutoClient(DEFAULT_CTLSOCKET).status());
  }
  return buildStatus(plan, mon, pluto);
}
