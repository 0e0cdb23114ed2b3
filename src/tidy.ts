// tripleo-ipsec tidy: the SAs peers' restarts left on this node, deleted
// (src/libreswan/supersededSas.ts says which: superseded by the conn's newest
// IKE SA, once that one carries the conn's newest Child SA; their own old
// Child SA, which no policy uses any more, goes with them; and Child SAs
// beside their conn's newest on an IKE SA that stays). One `whack
// --showstates`, then one `whack --deletestate` each; pluto sends the peer
// a Delete, which a restarted peer no longer knows and ignores. Only our
// conns; on those this node initiates, only once the pair has settled, and
// when the stale one has the higher serial, only after a rekey of the one
// that stays (deleteOrRekey). And the conns this node initiates that have no IKE SA at all (a VIP
// holder's end that a failed liveness probe cleared): initiated again.
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { supersededChildSas, supersededIkeSas, type SupersededChildSa, type SupersededIkeSa } from './libreswan/supersededSas.js';
import { parseStates, statesByConn } from './libreswan/whackStatus.js';
import { WHACK } from './libreswan/whack.js';
import { FILE_PREFIX } from './model/names.js';
import { EnvironmentError } from './model/errors.js';
import { runChecked, runCommandOrTimeout } from './system/command.js';

const MS = 30_000;
/** How long a whack --deletestate (or --initiate --asynchronous) is given; for deletes the state list is asked after. */
const WHACK_MS = 2_000;
/** How long the deleted states may take to go: pluto's retransmit-timeout (60 s) and some. */
const GONE_MS = 90_000;

export interface TidyReport {
  /** false: no pluto answers on the socket (nothing to tidy). */
  pluto: boolean;
  deleted: SupersededIkeSa[];
  /** Child SAs beside their conn's newest, on IKE SAs that stay. */
  deletedChildren: SupersededChildSa[];
  /**
   * Conns this node initiates whose stale IKE SA has a higher serial than the one that stays: their
   * IKE SA rekeyed (whack --rekey-ike) instead, the stale one deleted by a later round.
   */
  rekeyed: SupersededIkeSa[];
  /** Conns this node initiates that had no IKE SA, not even a negotiating one: initiated again. */
  initiated: string[];
  /** Of those, the ones whack could not initiate (the conn gone meanwhile: a VIP stopped), with its words. */
  notInitiated: { conn: string; why: string }[];
}

/**
 * The conns of ours this node initiates (auto=start in its files: the lower
 * address of a pair, a VIP holder's ends). On those, tidy waits until the IKE
 * SA that stays has been established INITIATOR_SETTLE_S: in the data-plane
 * guest, right after an initiator's crash, both ends of a pair deleted what
 * each took for the older IKE SA while the pair was still negotiating, each
 * deletion made the other end negotiate anew, and they chased each other;
 * the leftovers of a responder's restart, which sit on the initiator, are
 * still deleted a little later.
 */
const INITIATOR_SETTLE_S = 90;

/**
 * The conns this node initiates and pluto has loaded: auto=start in our files
 * in `ipsecdir` (apply loads them all) and in the VIP holder's files the
 * agent linked into `rundir` (the VIPs held here; the holder directory has
 * every VIP's, loaded nowhere else). Each with when its file was last
 * written (for a link, the later of the link and the file it names: apply
 * rewrites a held VIP's file and initiates its ends without touching the link).
 */
export function initiatedConns(ipsecdir: string, rundir: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const dir of [ipsecdir, rundir]) {
    let names: string[];
    try {
      names = readdirSync(dir).filter((f) => f.startsWith(FILE_PREFIX) && f.endsWith('.conf'));
    } catch {
      continue;
    }
    for (const f of names) {
      let text: string;
      let written: number;
      try {
        written = Math.max(lstatSync(join(dir, f)).mtimeMs, statSync(join(dir, f)).mtimeMs);
        text = readFileSync(join(dir, f), 'utf8');
      } catch {
        continue; // a link whose VIP was just stopped
      }
      let conn: string | undefined;
      for (const line of text.split('\n')) {
        const c = /^conn\s+(\S+)/.exec(line);
        if (c) conn = c[1];
        else if (conn && /^\s+auto=start\s*$/.test(line)) out.set(conn, written);
      }
    }
  }
  return out;
}

/**
 * A conn written this recently may be being initiated by apply or the agent's start right now, and a
 * pluto started this recently (its control socket's age) is initiating its auto=start conns itself:
 * not initiated again.
 */
const JUST_WRITTEN_MS = 60_000;

/**
 * Which stale IKE SAs to delete now, and on which conns to rekey the IKE SA
 * that stays first: those this node initiates whose stale IKE SA has the
 * higher serial. Seen in the data-plane guest after `ipsec restart` of a
 * peer (both ends initiated, the peer dropped its own half): the Delete of
 * such a stale SA, which the peer no longer knows, went unanswered for
 * pluto's 60 s (pluto 4.10 ends it early only when the conn's newest IKE SA
 * has the higher serial), then pluto replaced the stale SA with a childless
 * one, the peer's tidy deleted that, the conn was revived onto the older
 * IKE SA, and the peer's pluto logged `EXPECTATION FAILED: ... newest_ike_sa
 * == ... st_serialno (process_v2_child_request_payloads)`. Rekeyed, the IKE
 * SA that stays gets a serial above the stale one's, and the stale one's
 * Delete then ends at once, with no replacement.
 */
export function deleteOrRekey(stale: readonly SupersededIkeSa[], initiated: ReadonlyMap<string, number>): { stale: SupersededIkeSa[]; rekey: SupersededIkeSa[] } {
  // Not a childless newest: the rekey would act on it (pluto rekeys the conn's newest IKE SA).
  const higher = (s: SupersededIkeSa) => initiated.has(s.conn) && s.serial > s.newer && !s.childlessNewest;
  const rekey = new Map<string, SupersededIkeSa>();
  for (const s of stale) if (higher(s) && !rekey.has(s.conn)) rekey.set(s.conn, s);
  return {
    stale: stale.filter((s) => !rekey.has(s.conn)).sort((a, b) => a.serial - b.serial),
    rekey: [...rekey.values()].sort((a, b) => a.serial - b.serial),
  };
}

async function states(ctlsocket: string) {
  const shown = await runChecked({ what: "reading pluto's states (whack --showstates)", argv: [WHACK, '--ctlsocket', ctlsocket, '--showstates'], timeoutMs: MS });
  return parseStates(shown.stdout);
}

export async function tidy(o: { ctlsocket: string; ipsecdir: string; rundir: string; dryRun: boolean }): Promise<TidyReport> {
  if (!existsSync(o.ctlsocket)) return { pluto: false, deleted: [], deletedChildren: [], rekeyed: [], initiated: [], notInitiated: [] };
  const initiated = initiatedConns(o.ipsecdir, o.rundir);
  const byConn = statesByConn(await states(o.ctlsocket));
  const ours = [...byConn].filter(([conn]) => conn.startsWith(FILE_PREFIX));
  // With no state at all nothing can be duplicated by initiating it; pluto then retries until the peer answers.
  const plutoUpMs = Date.now() - lstatSync(o.ctlsocket).mtimeMs;
  const idle = plutoUpMs > JUST_WRITTEN_MS ? [...initiated].filter(([c, written]) => !byConn.has(c) && Date.now() - written > JUST_WRITTEN_MS).map(([c]) => c).sort() : [];
  const done: string[] = o.dryRun ? idle : [];
  const notInitiated: { conn: string; why: string }[] = [];
  for (const c of o.dryRun ? [] : idle) {
    const r = await runCommandOrTimeout({ what: `initiating ${c}`, argv: [WHACK, '--ctlsocket', o.ctlsocket, '--initiate', '--asynchronous', '--name', c], timeoutMs: WHACK_MS });
    if (r.timedOut) notInitiated.push({ conn: c, why: `whack gave no answer in ${WHACK_MS / 1000} s` });
    else if (r.exitCode !== 0) notInitiated.push({ conn: c, why: (r.stdout + r.stderr).trim().split('\n').pop() || `exit ${r.exitCode}` });
    else done.push(c);
  }
  const settled = (s: SupersededIkeSa) => !initiated.has(s.conn) || (s.newerAgeS !== undefined && s.newerAgeS >= INITIATOR_SETTLE_S);
  const { stale, rekey } = deleteOrRekey(ours.flatMap(([conn, list]) => supersededIkeSas(conn, list).filter((s) => s.replaced && settled(s))), initiated);
  // A stale IKE SA's Child SAs go with it; the others beside their conn's newest are deleted on their own.
  const going = new Set(stale.map((s) => s.serial));
  // Both ends hold the pair's extra Child SA: the end that answers deletes it (its Delete takes it from both).
  const children = ours.filter(([conn]) => !initiated.has(conn)).flatMap(([conn, list]) => supersededChildSas(conn, list, going)).sort((a, b) => a.serial - b.serial);
  // Not the half-open IKE SAs a crossed negotiation abandoned (status names them): pluto 4.10's
  // --deletestate refuses one ("IKE SA is not in state ESTABLISHED_IKE_SA"; guest logs), and only
  // its own discard, 200 s after it answered, removes it.
  const report = { pluto: true, deleted: stale, deletedChildren: children, rekeyed: rekey, initiated: done, notInitiated };
  for (const s of o.dryRun ? [] : rekey) await runCommandOrTimeout({ what: `rekeying the IKE SA of ${s.conn}`, argv: [WHACK, '--ctlsocket', o.ctlsocket, '--rekey-ike', '--asynchronous', '--name', s.conn], timeoutMs: WHACK_MS });
  const deleting = [...stale, ...children];
  if (o.dryRun || deleting.length === 0) return report;
  // whack waits for the peer to answer the Delete, which a restarted peer may never do (it no longer
  // knows the SA): pluto then drops the state at its retransmit-timeout (60 s by default). So whack
  // is not waited for; the state list is, that long.
  for (const s of deleting) await runCommandOrTimeout({ what: `deleting stale SA #${s.serial}`, argv: [WHACK, '--ctlsocket', o.ctlsocket, '--deletestate', String(s.serial)], timeoutMs: WHACK_MS });
  const deadline = Date.now() + GONE_MS;
  let left: { serial: number; conn: string }[] = [];
  for (;;) {
    const now = new Set((await states(o.ctlsocket)).map((x) => x.serial));
    left = deleting.filter((s) => now.has(s.serial));
    if (left.length === 0 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  if (left.length) throw new EnvironmentError(`pluto still holds the stale SA(s) ${left.map((s) => `#${s.serial} of ${s.conn}`).join(', ')} ${GONE_MS / 1000} s after whack --deletestate`);
  return report;
}
