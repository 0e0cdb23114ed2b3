// Re-authentication after the pre-shared key changed (a rotation), tunnel by
// tunnel. A new key is used only at the next IKE_AUTH, and an IKE SA rekey
// never re-authenticates: without this, tunnels would run on the old key's
// authentication until something broke them. Deploy step 1 installs the new
// keys on every node; step 3 runs once step 1 is done everywhere, so there
// each tunnel's one initiator deletes its IKE SA and pluto revives the conn
// (auto=start) with the new key at once: the peer's uniqueids replaces its
// old SA. One tunnel at a time, each waited for, so a node never has more
// than one tunnel re-authenticating.
import type { PlutoClient } from '../libreswan/plutoClient.js';

type Reauthenticating = Pick<PlutoClient, 'status' | 'deleteState'>;
import type { PlutoStatus } from '../libreswan/whackStatus.js';
import { EnvironmentError } from '../model/errors.js';
import type { DeployStep } from '../plan/tunnels.js';
import type { WantedConn } from './reconcile.js';

export interface RenewalInput {
  planned: WantedConn[];
  steps: DeployStep[];
  /** conn -> the key digest it last authenticated with (the manifest's); undefined: never recorded. */
  previous: Record<string, string> | undefined;
  /** Conns loaded in pluto after this run's changes. */
  loaded: Set<string>;
  /** Conns this run added or replaced: they authenticate afresh anyway. */
  reloaded: Set<string>;
}

export interface Renewals {
  /** Conns whose initiator is this node and whose established SA predates their key. */
  renew: string[];
  /** What to record: conn -> key digest it authenticates with once the renewals are done. */
  keys: Record<string, string>;
}

/** Pure: which tunnels this run re-authenticates, and what the manifest records. */
export function renewals(i: RenewalInput): Renewals {
  const keys: Record<string, string> = {};
  const renew: string[] = [];
  // Step 3 (or a run of every step) comes after every node has installed its keys at step 1.
  const renewing = i.steps.includes(3);
  for (const w of i.planned) {
    if (!w.key) continue;
    const before = i.previous?.[w.name];
    if (before === undefined || before === w.key || i.reloaded.has(w.name) || !i.loaded.has(w.name)) {
      keys[w.name] = w.key;
      continue;
    }
    if (!renewing) {
      keys[w.name] = before;
      continue;
    }
    // Responders are renewed by their initiator.
    if (w.auto === 'start') renew.push(w.name);
    keys[w.name] = w.key;
  }
  return { renew, keys };
}

/** The newest established IKE SA of a conn, if any. */
function establishedIke(s: PlutoStatus, conn: string): number | undefined {
  const serials = s.states.filter((x) => x.kind === 'ike' && x.established && x.conn === conn).map((x) => x.serial);
  return serials.length ? Math.max(...serials) : undefined;
}

export interface ReauthOptions {
  /** How long one tunnel may take to authenticate again. */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Re-authenticate each conn in turn: delete its established IKE SA, wait for
 * pluto's revival to establish a newer one. A conn not up is left to
 * authenticate with the new key when it comes up. Failures are collected and
 * thrown once, after every conn was tried.
 */
export async function reauthenticate(pluto: Reauthenticating, conns: string[], o: ReauthOptions = {}): Promise<string[]> {
  const timeoutMs = o.timeoutMs ?? 30_000;
  const sleep = o.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const done: string[] = [];
  const failed: string[] = [];
  for (const conn of conns) {
    const old = establishedIke(await pluto.status(), conn);
    if (old === undefined) {
      done.push(`${conn}: not up, it authenticates with the new key when it comes up`);
      continue;
    }
    const t0 = Date.now();
    await pluto.deleteState(old);
    let now: number | undefined;
    for (;;) {
      now = establishedIke(await pluto.status(), conn);
      if (now !== undefined && now > old) break;
      if (Date.now() - t0 > timeoutMs) break;
      await sleep(50);
    }
    if (now !== undefined && now > old) done.push(`re-authenticated ${conn} with the new key (#${old} -> #${now}, ${Date.now() - t0} ms)`);
    else failed.push(conn);
  }
  if (failed.length) {
    throw new EnvironmentError(`${failed.length} tunnel(s) did not authenticate again within ${timeoutMs / 1000} s after the key changed: ${failed.join(', ')} (does the peer hold the new key? every node must have run step 1 first)`);
  }
  return done;
}
