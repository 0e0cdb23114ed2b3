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
import { makeDirs } from '../output/makeDirs.js';
import { ikeStatesByConn } from '../libreswan/whackStatus.js';
import { isLocalAddress } from './localnet.js';
import { OCF, OcfExit, log, type OcfCode } from './ocf.js';
import { connNamesIn, confFileDefining, holderFiles, type Params } from './params.js';
import { libreswanInstalled } from '../libreswan/whack.js';
import { PlutoCtl } from './plutoctl.js';

export interface Context {
  params: Params;
  pluto: PlutoCtl;
  /** interval 0: a probe (Pacemaker asking what runs where). */
  probe: boolean;
  checkLevel: number;
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

function unlink(p: Params) {
  rmSync(holderFiles(p).link, { force: true });
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
  const conns = connNamesIn(holderFiles(p).file);
  // The first and the last conn: pluto lost them if it restarted without rundir (each query ~2 ms).
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

/** Whether the node's own end is loaded; fails when libreswan or pluto is missing (one whack call answers both). */
function requirePluto(ctx: Context): 'yes' | 'no' {
  if (!libreswanInstalled()) throw new OcfExit(OCF.ERR_INSTALLED, 'libreswan is not installed');
  const loaded = ctx.pluto.connLoaded(ctx.params.tunnel);
  if (loaded === 'no-pluto') throw new OcfExit(OCF.ERR_GENERIC, `pluto is not running (no answer on ${ctx.params.ctlsocket})`);
  return loaded;
}

export function start(ctx: Context): OcfCode {
  const { params: p, pluto } = ctx;
  if (p.role === 'retired') return retired('start', p);
  const { file } = holderFiles(p);
  const conns = connNamesIn(file);
  if (!isLocalAddress(p.vip)) {
    throw new OcfExit(OCF.ERR_GENERIC, `VIP ${p.vip} is not on this node; order this resource after the VIP and colocate it with it`);
  }
  // This node's own end may still carry the previous holder's SA, whose policy
  // would send this node's traffic for its own VIP away to that node.
  if (requirePluto(ctx) === 'yes') pluto.terminate(p.tunnel);
  else pluto.addConns(confFileDefining(p.confdir, p.tunnel), [p.tunnel]);
  // Linked before anything starts: a pluto that restarts from here on starts the ends itself.
  link(p);
  // They are loaded and deleted together; the first and the last tell which case this is.
  const first = pluto.connLoaded(conns[0]) === 'yes';
  const last = pluto.connLoaded(conns[conns.length - 1]) === 'yes';
  if (!first && !last) {
    // The usual start: none loaded. One addconn loads them, then all are initiated at once.
    pluto.addAndStartAll(file, conns);
    log.info(`VIP ${p.vip}: ${conns.length} peer(s), ${conns.length} initiated`);
    return OCF.SUCCESS;
  }
  // Some or all loaded (pluto restarted with the link, a second start, a conn deleted by hand).
  if (!first || !last) pluto.addConns(file, conns.filter((c) => pluto.connLoaded(c) !== 'yes'));
  // One initiator per conn: a conn pluto already started is left to finish.
  const states = ikeStatesByConn(pluto.showStates());
  const toStart = conns.filter((c) => !states.has(c));
  pluto.initiateAllAsync(toStart);
  log.info(`VIP ${p.vip}: ${conns.length} peer(s), ${toStart.length} initiated, ${conns.length - toStart.length} already negotiating or up`);
  return OCF.SUCCESS;
}

export function stop(ctx: Context): OcfCode {
  const { params: p, pluto } = ctx;
  if (p.role === 'retired') return retired('stop', p);
  // What start loaded is what the link names, whatever the parameters say now.
  const { file, link } = holderFiles(p);
  let started = file;
  try {
    started = readlinkSync(link);
  } catch {
    /* not linked: the parameters' file */
  }
  // Unlinked first: a pluto restarting from here on does not start the ends again.
  unlink(p);
  if (!libreswanInstalled() || !pluto.socketPresent()) return OCF.SUCCESS;
  let conns: string[];
  try {
    conns = connNamesIn(started);
  } catch (e) {
    // No holder file: nothing of ours can have been loaded from it.
    if (e instanceof OcfExit && e.code === OCF.ERR_CONFIGURED) return OCF.SUCCESS;
    throw e;
  }
  // Deleted while the VIP is still here (the resource stops before the VIP): every peer gets an IKE Delete.
  // One whack call each (an absent conn is fine): a busy pluto answers every round trip late.
  for (const c of conns) pluto.deleteConn(c);
  log.info(`VIP ${p.vip}: deleted ${conns.length} end(s) towards peers`);
  return OCF.SUCCESS;
}
