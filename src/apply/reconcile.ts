// What apply tells pluto, decided like ovs-monitor-ipsec's refresh: the
// conns this node's plan wants against what pluto reports in one status
// query. Pure: the actions come out as data, applyNode runs them.
//   - wanted, not loaded       -> add (and start or route it, as its auto= says)
//   - wanted, loaded, changed  -> replace (and start or route it)
//   - wanted, a responder whose trap policy is gone -> route
//   - loaded, ours, no longer wanted -> delete
// A VIP holder's ends are the agent's: loaded only where the VIP is, so
// apply only replaces them there, and never adds them.
import type { DeployStep } from '../plan/tunnels.js';
import type { NodePlanConn } from '../plan/nodePlan.js';
import { isRouted, type PlutoStatus } from '../libreswan/whackStatus.js';
import { isOurConn } from '../model/names.js';

/** A conn of the node plan, with the absolute path of the file pluto loads it from. */
export type WantedConn = Omit<NodePlanConn, 'kind'> & { file: string };

export type PlutoChange =
  | { op: 'add' | 'replace'; name: string; file: string }
  | { op: 'initiate' | 'route' | 'delete'; name: string };

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
  const start = (c: WantedConn): PlutoChange[] => (c.auto === 'start' ? [{ op: 'initiate', name: c.name }] : c.auto === 'route' || c.auto === 'ondemand' ? [{ op: 'route', name: c.name }] : []);
  for (const w of i.planned) {
    if (!i.steps.includes(w.step)) continue;
    const have = loaded.get(w.name);
    const changed = i.previous ? i.previous[w.name] !== w.digest : i.changedFiles.has(w.file);
    if (w.agentOnly) {
      // Loaded here only while this node holds the VIP (the agent started it): replace and restart it there.
      if (have && changed) out.push({ op: 'replace', name: w.name, file: w.file }, { op: 'initiate', name: w.name });
      continue;
    }
    if (!have) out.push({ op: 'add', name: w.name, file: w.file }, ...start(w));
    else if (changed) out.push({ op: 'replace', name: w.name, file: w.file }, ...start(w));
    // A responder without its trap policy would let the first packets out in clear (or drop them).
    else if (w.auto === 'route' && !isRouted(have)) out.push({ op: 'route', name: w.name });
  }
  const planned = new Set(i.planned.map((w) => w.name));
  for (const name of [...loaded.keys()].sort()) if (!planned.has(name) && isOurConn(name, i.previous)) out.push({ op: 'delete', name });
  return out;
}
