// What apply tells pluto, decided like ovs-monitor-ipsec's refresh: the
// conns this node's plan wants against what pluto reports in one status
// query. Pure: the actions come out as data, applyNode runs them.
//   - wanted, not loaded       -> add (and start or route it, as its auto= says)
//   - wanted, loaded, changed  -> replace (and start or route it)
//   - wanted, a responder whose trap policy is gone -> route
//   - loaded, ours, no longer wanted -> delete
// A VIP holder's ends are the agent's: loaded only where the VIP is, so
// apply only replaces them there, and never adds them.
import { createHash } from 'node:crypto';
import type { Conn, DeployStep } from '../plan/tunnels.js';
import { isRouted, type PlutoStatus } from '../libreswan/whackStatus.js';
import { FILE_PREFIX } from '../model/names.js';

export interface WantedConn {
  conn: Conn;
  /** The conn file (absolute path) pluto loads it from. */
  file: string;
  agentOnly: boolean;
}

export type PlutoChange =
  | { op: 'add' | 'replace'; name: string; file: string }
  | { op: 'initiate' | 'route' | 'delete'; name: string };

/** What identifies a conn's definition (its comment aside): a change of it means a replace. */
export function connDigest(c: Conn): string {
  return createHash('sha256').update(JSON.stringify([c.options, c.auto])).digest('hex').slice(0, 32);
}

/**
 * Whether a conn pluto lists is one we loaded: recorded in the manifest
 * (before manifests recorded conns, every overcloud- conn was ours). An
 * opportunistic group's members ("<group>#<cidr>") are pluto's, not ours.
 */
export function isOurConn(name: string, recorded: Record<string, string> | undefined): boolean {
  if (name.includes('#')) return false;
  return recorded ? name in recorded : name.startsWith(FILE_PREFIX);
}

export interface ReconcileInput {
  /** Every conn of this node's plan, all steps (deletes look at all of them). */
  planned: WantedConn[];
  /** The steps this run installs. */
  steps: DeployStep[];
  status: PlutoStatus;
  /** conn name -> digest of what we loaded last time; undefined: a manifest of an earlier version that did not record it. */
  previous: Record<string, string> | undefined;
  /** Conn files this run rewrote (for conns an earlier version loaded without a digest). */
  changedFiles: Set<string>;
}

export function plutoChanges(i: ReconcileInput): PlutoChange[] {
  const out: PlutoChange[] = [];
  const loaded = i.status.conns;
  const start = (c: Conn): PlutoChange[] => (c.auto === 'start' ? [{ op: 'initiate', name: c.name }] : c.auto === 'route' || c.auto === 'ondemand' ? [{ op: 'route', name: c.name }] : []);
  for (const w of i.planned) {
    if (!i.steps.includes(w.conn.step)) continue;
    const c = w.conn;
    const have = loaded.get(c.name);
    const changed = i.previous ? i.previous[c.name] !== connDigest(c) : i.changedFiles.has(w.file);
    if (w.agentOnly) {
      // Loaded here only while this node holds the VIP (the agent started it): replace and restart it there.
      if (have && changed) out.push({ op: 'replace', name: c.name, file: w.file }, { op: 'initiate', name: c.name });
      continue;
    }
    if (!have) out.push({ op: 'add', name: c.name, file: w.file }, ...start(c));
    else if (changed) out.push({ op: 'replace', name: c.name, file: w.file }, ...start(c));
    // A responder without its trap policy would let the first packets out in clear (or drop them).
    else if (c.auto === 'route' && !isRouted(have)) out.push({ op: 'route', name: c.name });
  }
  const planned = new Set(i.planned.map((w) => w.conn.name));
  for (const name of [...loaded.keys()].sort()) if (!planned.has(name) && isOurConn(name, i.previous)) out.push({ op: 'delete', name });
  return out;
}
