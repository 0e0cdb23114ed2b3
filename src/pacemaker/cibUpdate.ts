// Applying a Pacemaker plan to a live cluster or a CIB file, as one change:
// every pcs command runs against an offline copy (pcs -f), and the copy is
// pushed once (or written back to the file). Re-running changes nothing.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { replaceFileAtomically } from '../output/atomicFile.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cloneId, type PacemakerPlan, type PcmkConstraint } from '../plan/pacemaker.js';
import { pcsConstraintArgs, pcsCreateArgs } from '../render/pcsScript.js';
import { parseCib, type CibView } from './cib.js';
import { EnvironmentError } from '../model/errors.js';
import { oneLine } from '../text/printable.js';
import { runCommand, type Command } from '../system/command.js';

export interface ApplyOptions {
  /** Work on this CIB file instead of the live cluster. */
  cibFile?: string;
  /** Print what would change, change nothing. */
  dryRun?: boolean;
  /**
   * The switch from the Ansible role: its resources have our ids
   * (tripleo-ipsec-<vip>) with its own agent; they are replaced, their
   * constraints going with them. Without it, such a resource is refused.
   */
  replaceRoleResources?: boolean;
}

/** The agent the Ansible role's resources run (its own copy of resource-agents' ipsec). */
const ROLE_AGENT = 'ocf:heartbeat:ipsec';

export interface ApplyReport {
  changes: string[];
  pushed: boolean;
}


/** pcs, whose failures are EnvironmentErrors in pcs's own words. */
async function runPcs(c: Command): Promise<void> {
  const r = await runCommand(c);
  if (r.exitCode !== 0) throw new EnvironmentError(`${c.what} failed: ${oneLine(r.stderr || r.stdout)}`);
}

async function pcs(cib: string, args: string[]) {
  await runPcs({ what: `pcs ${args.join(' ')}`, argv: ['pcs', '-f', cib, ...args], timeoutMs: 120_000 });
}

function constraintMatches(c: PcmkConstraint, have: CibView): boolean {
  const h = have.constraints.get(c.id);
  if (!h) return false;
  const a = h.attrs;
  if (c.kind === 'colocation') return h.tag === 'rsc_colocation' && a.rsc === c.rsc && a['with-rsc'] === c.withRsc && a.score === c.score;
  return (
    h.tag === 'rsc_order' && a.first === c.first && a.then === c.then && (a['first-action'] ?? 'start') === c.firstAction &&
    (a['then-action'] ?? 'start') === c.thenAction && (a.kind ?? 'Mandatory') === c.orderKind && (a.symmetrical ?? 'true') === String(c.symmetrical)
  );
}

async function withCib<T>(opts: ApplyOptions, fn: (cib: string, orig: string) => Promise<T>): Promise<T> {
  const work = mkdtempSync(join(tmpdir(), 'tripleo-ipsec-cib-'));
  try {
    const cib = join(work, 'cib.xml');
    const orig = join(work, 'orig.xml');
    if (opts.cibFile) copyFileSync(opts.cibFile, cib);
    else {
      await runPcs({ what: 'pcs cluster cib', argv: ['pcs', 'cluster', 'cib', cib], timeoutMs: 60_000 });
    }
    copyFileSync(cib, orig);
    return await fn(cib, orig);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function push(opts: ApplyOptions, cib: string, orig: string) {
  if (opts.cibFile) {
    replaceFileAtomically(opts.cibFile, readFileSync(cib), statSync(opts.cibFile).mode & 0o777);
    return;
  }
  await runPcs({ what: 'pcs cluster cib-push', argv: ['pcs', 'cluster', 'cib-push', cib, `diff-against=${orig}`], timeoutMs: 120_000 });
}

export async function applyPlan(plan: PacemakerPlan, opts: ApplyOptions = {}): Promise<ApplyReport> {
  return withCib(opts, async (cib, orig) => {
    const have = parseCib(readFileSync(cib, 'utf8'));
    for (const [vip, rsc] of Object.entries(plan.vipResources)) {
      if (!have.primitives.has(rsc) && !have.ids.has(rsc)) throw new EnvironmentError(`VIP resource ${rsc} (${vip}) does not exist: create the VIPs first`);
    }
    const changes: string[] = [];
    // First what earlier versions ran and this plan does not: pcs takes its clone and constraints along.
    for (const id of plan.retired) {
      if (!have.primitives.has(id)) continue;
      changes.push(`delete ${id} (no longer used)`);
      if (!opts.dryRun) await pcs(cib, ['resource', 'delete', id, '--force']);
    }
    for (const r of plan.resources) {
      const h = have.primitives.get(r.id);
      if (!h) {
        changes.push(`create ${r.clone ? `${cloneId(r.id)} (clone of ${r.id})` : r.id}`);
        if (!opts.dryRun) await pcs(cib, pcsCreateArgs(r));
        continue;
      }
      if (h.agent !== r.agent) {
        if (!(opts.replaceRoleResources && h.agent === ROLE_AGENT)) {
          throw new EnvironmentError(`resource ${r.id} exists with agent ${h.agent}, not ${r.agent}: remove it first${h.agent === ROLE_AGENT ? ' (the Ansible role\'s: IpsecUpgradeFromRole, or apply --upgrade, replaces it)' : ''}`);
        }
        changes.push(`replace ${r.id} (the Ansible role's ${ROLE_AGENT}) and its constraints`);
        if (!opts.dryRun) {
          await pcs(cib, ['resource', 'delete', r.id, '--force']);
          await pcs(cib, pcsCreateArgs(r));
        }
        continue;
      }
      const update: string[] = [];
      for (const [k, v] of Object.entries(r.params)) if (h.params[k] !== v) update.push(`${k}=${v}`);
      for (const k of Object.keys(h.params)) if (!(k in r.params)) update.push(`${k}=`);
      if (update.length) {
        changes.push(`update ${r.id}: ${update.join(' ')}`);
        if (!opts.dryRun) await pcs(cib, ['resource', 'update', r.id, ...update]);
      }
      const meta = Object.entries(r.meta).filter(([k, v]) => h.meta[k] !== v).map(([k, v]) => `${k}=${v}`);
      if (meta.length) {
        changes.push(`update ${r.id}: meta ${meta.join(' ')}`);
        if (!opts.dryRun) await pcs(cib, ['resource', 'meta', r.id, ...meta]);
      }
      if (h.opTimeouts.start !== `${r.startTimeout}s`) {
        changes.push(`update ${r.id}: op start timeout=${r.startTimeout}s`);
        if (!opts.dryRun) await pcs(cib, ['resource', 'update', r.id, 'op', 'start', `timeout=${r.startTimeout}s`]);
      }
    }
    for (const c of plan.constraints) {
      if (constraintMatches(c, have)) continue;
      if (have.constraints.has(c.id)) {
        changes.push(`replace constraint ${c.id}`);
        if (!opts.dryRun) await pcs(cib, ['constraint', 'delete', c.id]);
      } else changes.push(`add constraint ${c.id}`);
      if (!opts.dryRun) await pcs(cib, pcsConstraintArgs(c));
    }
    if (changes.length === 0 || opts.dryRun) return { changes, pushed: false };
    await push(opts, cib, orig);
    return { changes, pushed: true };
  });
}

/** Take out every resource and constraint of the plan; nothing else. */
export async function removePlan(plan: PacemakerPlan, opts: ApplyOptions = {}): Promise<ApplyReport> {
  return withCib(opts, async (cib, orig) => {
    const have = parseCib(readFileSync(cib, 'utf8'));
    const changes: string[] = [];
    for (const c of plan.constraints) {
      if (!have.constraints.has(c.id)) continue;
      changes.push(`delete constraint ${c.id}`);
      if (!opts.dryRun) await pcs(cib, ['constraint', 'delete', c.id]);
    }
    for (const r of [...plan.resources.map((x) => x.id), ...plan.retired].map((id) => ({ id }))) {
      if (!have.primitives.has(r.id)) continue;
      changes.push(`delete ${r.id}`);
      if (!opts.dryRun) await pcs(cib, ['resource', 'delete', r.id, '--force']);
    }
    if (changes.length === 0 || opts.dryRun) return { changes, pushed: false };
    await push(opts, cib, orig);
    return { changes, pushed: true };
  });
}
