// Gathering what `tripleo-ipsec status` needs, live or from saved outputs.
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { EnvironmentError, InputError, oneLine } from '../model/errors.js';
import { parseCrmMon } from '../pacemaker/crmMon.js';
import { parsePlutoStatus, type PlutoStatus } from '../libreswan/status.js';
import { buildStatus, type StatusReport } from '../status.js';
import { readPlan } from './planFile.js';

export interface StatusOptions {
  plan: string;
  crmMonXml?: string;
  ipsecStatus: string[];
  local: boolean;
}

function read(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code}`, { cause: e });
  }
}

export async function collectStatus(o: StatusOptions): Promise<StatusReport> {
  const plan = readPlan(o.plan);
  let monXml: string;
  if (o.crmMonXml) monXml = read(o.crmMonXml, 'crm_mon XML');
  else {
    const r = await execa('crm_mon', ['-1', '--output-as=xml'], { reject: false, timeout: 30_000 });
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
      pluto.set(node, parsePlutoStatus(read(spec.slice(eq + 1), 'ipsec status')));
    } catch (e) {
      throw new InputError(`--ipsec-status ${node}: ${(e as Error).message}`, { cause: e });
    }
  }
  if (o.local) {
    const n = await execa('crm_node', ['-n'], { reject: false, timeout: 10_000 });
    const s = await execa('ipsec', ['whack', '--status'], { reject: false, timeout: 30_000 });
    if (n.exitCode === 0 && s.exitCode === 0) pluto.set(n.stdout.trim(), parsePlutoStatus(s.stdout));
    else throw new EnvironmentError(`cannot read the local pluto's status: ${oneLine(s.stderr || n.stderr)}`);
  }
  return buildStatus(plan, mon, pluto);
}
