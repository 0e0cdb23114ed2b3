// What each OCF action does. Every path ends in an OCF code; every failure
// carries one reason an operator can act on.
//
// The resource runs where the VIP is. Its state is a link in rundir to the
// holder file (the VIP's ends towards every peer, auto=start): ipsec.conf
// includes rundir, so a pluto restarted on the holder starts those ends
// itself, and after a reboot (rundir is on tmpfs) no node believes it holds
// the VIP. The peers' ends are loaded by apply and pluto, never by Pacemaker,
// so nothing a peer's cluster stack does can take its tunnel down.
import { lstatSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { makeDirs } from '../output/makeDirs.js';
import { ikeStatesByConn } from '../libreswan/whackStatus.js';
import { isLocalAddress } from './localnet.js';
import { OCF, OcfExit, log, type OcfCode } from './ocf.js';
import { connNamesIn, confFileDefining, holderConns, holderFiles, type Params } from './params.js';
import { instanceName, lockInstance, plutoIdentity, recordStart, startedRecord, forgetStart } from './instance.js';
import { connNames } from '../model/names.js';
import { libreswanInstalled } from '../libreswan/whack.js';
import { Deadline, PlutoCtl } from './plutoctl.js';

export interface Context {
  params: Params;
  pluto: PlutoCtl;
  /** interval 0: a probe (Pacemaker asking what runs where). */
  probe: boolean;
  checkLevel: number;
  /** When the action must have answered. */
  deadline: Deadline;
}

/** stop runs with invalid parameters too: it stops what was recorded. */
export interface StopContext extends Omit<Context, 'params'> {
  params?: Params;
  /** Why the parameters are invalid, when they are (then the rundir given, if it is a path, else the default). */
  invalid?: string;
  rundir: string;
}

/** validate-all: the parameters (already checked), both conn files, the tools. */
export function validateAll(p: Params): OcfCode {
  if (!libreswanInstalled()) throw new OcfExit(OCF.ERR_INSTALLED, 'libreswan is not installed (no /usr/libexec/ipsec/whack)');
  if (p.role === 'retired') return OCF.SUCCESS;
  confFileDefining(p.confdir, p.tunnel);
  connNamesIn(holderFiles(p).file);
  return OCF.SUCCESS;
}

/** Whether rundir holds our link to the holder file: "this node holds the VIP's tunnel". */
function linked(p: Params): boolean {
  const { file, link } = holderFiles(p);
  try {
    return lstatSync(link).isSymbolicLink() && readlinkSync(link) === file;
  } catch {
    return false;
  }
}

/** A symlink in rundir, made in one step (a temporary name, renamed over). */
function placeLink(p: Params, target: string, path: string) {
  makeDirs(p.rundir, 0o700);
  const tmp = `${path}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  symlinkSync(target, tmp);
  renameSync(tmp, path);
}

function link(p: Params) {
  const { file, link } = holderFiles(p);
  placeLink(p, file, link);
}

// A resource of the clone earlier versions ran on every node but the holder:
// it does nothing now, and keeps its started/stopped state in rundir until
// `tripleo-ipsec pacemaker apply` removes it.
const retiredMarker = (p: Params) => `${p.rundir}/retired-${p.tunnel}`;
function retired(action: 'start' | 'stop' | 'monitor', p: Params): OcfCode {
  const marker = retiredMarker(p);
  if (action === 'start') {
    placeLink(p, '/dev/null', marker);
    log.warn(`role=fallback is no longer used (peers keep their VIP tunnel without Pacemaker); run tripleo-ipsec pacemaker apply to remove this resource`);
    return OCF.SUCCESS;
  }
  if (action === 'stop') {
    rmSync(marker, { force: true });
    return OCF.SUCCESS;
  }
  try {
    lstatSync(marker);
    return OCF.SUCCESS;
  } catch {
    return OCF.NOT_RUNNING;
  }
}

// ---- monitor -------------------------------------------------------------

export function monitor(ctx: Context): OcfCode {
  const { params: p, pluto } = ctx;
  if (p.role === 'retired') return retired('monitor', p);
  if (!linked(p)) return OCF.NOT_RUNNING;
  if (!libreswanInstalled()) throw new OcfExit(OCF.ERR_INSTALLED, 'libreswan is not installed');
  if (!isLocalAddress(p.vip)) throw new OcfExit(OCF.ERR_GENERIC, `the VIP's tunnel is started here but VIP ${p.vip} is not on this node`);
  // What start loaded, from its small record (a start of an earlier version: the holder file).
  const rec = startedRecord(p.rundir, instanceName());
  // pluto loses loaded conns only by ending: the same pluto process start loaded the ends into still
  // has them (two small reads, no whack). Ends deleted by hand are for the deep check, every minute.
  if (ctx.checkLevel < 10 && rec?.pluto !== undefined && rec.ctlsocket === p.ctlsocket && plutoIdentity(p.ctlsocket) === rec.pluto) return OCF.SUCCESS;
  const conns = rec?.conns ?? connNamesIn(holderFiles(p).file);
  // The first and the last end: pluto lost them if it restarted without rundir (each query ~2 ms, whatever pluto holds).
  for (const name of new Set([conns[0], conns[conns.length - 1]])) {
    const loaded = pluto.connLoaded(name);
    if (loaded === 'no-pluto') throw new OcfExit(OCF.ERR_GENERIC, `pluto is not running (no answer on ${p.ctlsocket})`);
    if (loaded === 'no') throw new OcfExit(OCF.ERR_GENERIC, `conn ${name} is not loaded (pluto restarted without ${p.rundir} in ipsec.conf?)`);
  }
  if (ctx.checkLevel >= 10) {
    const states = ikeStatesByConn(pluto.showStates());
    const none = conns.filter((c) => !states.has(c));
    if (none.length) throw new OcfExit(OCF.ERR_GENERIC, `no IKE SA, not even a negotiating one, for ${none.length} of ${conns.length} peer(s): ${none.slice(0, 3).join(', ')}`);
  }
  return OCF.SUCCESS;
}

// ---- start / stop ----------------------------------------------------------

/**
 * Where the VIP is: the node's own end cleared of the previous holder's SA,
 * the instance's record and the link written (a pluto restarting from here
 * on starts the ends itself), then one addconn loads every end and one whack
 * initiates them all (their connalias): three round trips to pluto whatever
 * the number of peers, so a pluto busy with its own start-up load costs three
 * waits, not one per peer.
 */
export function start(ctx: Context): OcfCode {
  const { params: p, pluto } = ctx;
  if (p.role === 'retired') return retired('start', p);
  const { file } = holderFiles(p);
  const { conns, alias } = holderConns(file);
  if (!isLocalAddress(p.vip)) {
    throw new OcfExit(OCF.ERR_GENERIC, `VIP ${p.vip} is not on this node; order this resource after the VIP and colocate it with it`);
  }
  if (!libreswanInstalled()) throw new OcfExit(OCF.ERR_INSTALLED, 'libreswan is not installed');
  if (!pluto.socketPresent()) throw new OcfExit(OCF.ERR_GENERIC, `pluto is not running (no answer on ${p.ctlsocket})`);
  const release = lockInstance(p.rundir, instanceName(), ctx.deadline.at, true);
  try {
    const wasLinked = linked(p);
    // This node's own end may still carry the previous holder's SA, whose policy
    // would send this node's traffic for its own VIP away to that node.
    if (pluto.terminate(p.tunnel) === 'absent') pluto.addConns(confFileDefining(p.confdir, p.tunnel), [p.tunnel]);
    recordStart(p.rundir, instanceName(), { tunnel: p.tunnel, vip: p.vip, ctlsocket: p.ctlsocket, file, conns, pluto: plutoIdentity(p.ctlsocket) });
    link(p);
    if (!wasLinked) {
      // The usual start: nothing of this VIP's loaded here.
      pluto.addConns(file, conns);
      if (alias) pluto.initiateAlias(connNames.vipHolderAlias(p.tunnel));
      else pluto.initiateAllAsync(conns);
      log.info(`VIP ${p.vip}: ${conns.length} peer(s), ${conns.length} initiated`);
      return OCF.SUCCESS;
    }
    // Linked already: a pluto restarted with the link (it loads and starts the ends itself), or a second start.
    const first = pluto.connLoaded(conns[0]) === 'yes';
    const last = pluto.connLoaded(conns[conns.length - 1]) === 'yes';
    if (!first || !last) pluto.addConns(file, conns.filter((c) => pluto.connLoaded(c) !== 'yes'));
    // One initiator per conn: a conn pluto already started is left to finish.
    const states = ikeStatesByConn(pluto.showStates());
    const toStart = conns.filter((c) => !states.has(c));
    pluto.initiateAllAsync(toStart);
    log.info(`VIP ${p.vip}: ${conns.length} peer(s), ${toStart.length} initiated, ${conns.length - toStart.length} already negotiating or up`);
    return OCF.SUCCESS;
  } finally {
    release();
  }
}

/**
 * Whatever the parameters say now (an operator may have changed them, or
 * made them invalid), stop deletes what this instance's start recorded,
 * while the VIP is still here (the resource stops before the VIP), so every
 * peer receives an IKE Delete. Nothing on a read-only rundir can fail it: a
 * link or record that cannot be removed is a warning, since the node is safe
 * once the ends are gone (a failed stop would get it fenced).
 */
export function stop(ctx: StopContext): OcfCode {
  const { params: p } = ctx;
  if (p?.role === 'retired') return retired('stop', p);
  const rundir = ctx.rundir;
  const instance = instanceName();
  const release = lockInstance(rundir, instance, ctx.deadline.at, false);
  try {
    const rec = startedRecord(rundir, instance);
    // The pluto start talked to.
    const pluto = rec && rec.ctlsocket !== ctx.pluto.ctlsocket ? new PlutoCtl(rec.ctlsocket, ctx.deadline) : ctx.pluto;
    let started: { tunnel: string; conns: string[]; alias: boolean } | undefined;
    if (rec) started = { tunnel: rec.tunnel, conns: rec.conns, alias: true };
    else if (p) {
      // A start of an earlier version, which kept no record: what its link names. No record and no link:
      // nothing was started here (a start that failed before loading anything), and pluto is not asked
      // (a hung pluto must not turn a stop with nothing to do into a failure, and the node into a fenced one).
      const { link } = holderFiles(p);
      let target: string | undefined;
      try {
        target = readlinkSync(link);
      } catch {
        target = undefined;
      }
      if (target) {
        try {
          started = { tunnel: p.tunnel, ...holderConns(target) };
        } catch (e) {
          // No holder file: nothing of ours can have been loaded from it.
          if (!(e instanceof OcfExit && e.code === OCF.ERR_CONFIGURED)) throw e;
        }
      }
    }
    if (!started) {
      if (ctx.invalid) log.warn(`stop with invalid parameters (${ctx.invalid}) and no record of a start here: nothing to stop`);
      return OCF.SUCCESS;
    }
    // Unlinked first: a pluto restarting from here on does not start the ends again.
    removeLink(join(rundir, `${started.tunnel}.conf`));
    if (libreswanInstalled() && pluto.socketPresent()) {
      // One whack for all the ends. None carrying the alias: ends an earlier version loaded (from a
      // holder file without it, or loaded before an upgrade added it), deleted one by one.
      // (pluto answers an alias no loaded conn carries as it answers a deleted one: the first and last end tell.)
      if (started.alias) pluto.deleteAlias(connNames.vipHolderAlias(started.tunnel));
      const left = [...new Set([started.conns[0], started.conns[started.conns.length - 1]])].some((c) => pluto.connLoaded(c) === 'yes');
      if (!started.alias || left) for (const c of started.conns) pluto.deleteConn(c);
      log.info(`VIP ${rec?.vip ?? p?.vip ?? '?'}: deleted ${started.conns.length} end(s) towards peers`);
    }
    forgetStart(rundir, instance);
    return OCF.SUCCESS;
  } finally {
    release();
  }
}

function removeLink(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch (e) {
    log.warn(`could not remove ${path}: ${(e as NodeJS.ErrnoException).code}: a pluto restarted here would start the VIP's ends again`);
  }
}
