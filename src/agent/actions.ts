// What each OCF action does. Every path ends in an OCF code; every failure
// carries one reason an operator can act on.
import { parsePlutoStatus } from '../libreswan/status.js';
import { isLocalAddress, udpListening } from './localnet.js';
import { OCF, OcfExit, log, type OcfCode } from './ocf.js';
import { confFileDefining, libreswanInstalled, type Params } from './params.js';
import { PlutoCtl } from './plutoctl.js';

export interface Context {
  params: Params;
  pluto: PlutoCtl;
  /** interval 0: a probe (Pacemaker asking what runs where). */
  probe: boolean;
  checkLevel: number;
}

function sleepMs(ms: number) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.max(0, ms));
}

const POLL_MS = 50;

/** validate-all: the parameters (already checked), the conn's definition, the tools. */
export function validateAll(p: Params): OcfCode {
  if (!libreswanInstalled()) throw new OcfExit(OCF.ERR_INSTALLED, 'libreswan is not installed (no /usr/libexec/ipsec/whack)');
  confFileDefining(p.confdir, p.tunnel);
  if (p.role === 'tunnel' && p.fallbacktunnel) confFileDefining(p.confdir, p.fallbacktunnel);
  return OCF.SUCCESS;
}

// ---- monitor -------------------------------------------------------------

export function monitor(ctx: Context): OcfCode {
  const { params: p, pluto } = ctx;
  if (!libreswanInstalled()) {
    if (ctx.probe) return OCF.NOT_RUNNING;
    throw new OcfExit(OCF.ERR_INSTALLED, 'libreswan is not installed');
  }
  const loaded = pluto.connLoaded(p.tunnel);
  if (loaded !== 'yes') {
    log.debug(`conn ${p.tunnel}: ${loaded === 'no-pluto' ? 'pluto is not running' : 'not loaded'}`);
    return OCF.NOT_RUNNING;
  }
  const vipHere = isLocalAddress(p.vip);
  if (p.role === 'fallback') {
    if (vipHere) throw new OcfExit(OCF.ERR_GENERIC, `fallback conn ${p.tunnel} is loaded on the node that holds ${p.vip}`);
    if (ctx.checkLevel >= 10) requireIkeSa(ctx);
    return OCF.SUCCESS;
  }
  if (!vipHere) throw new OcfExit(OCF.ERR_GENERIC, `conn ${p.tunnel} is loaded but VIP ${p.vip} is not on this node`);
  if (!udpListening(p.vip)) throw new OcfExit(OCF.ERR_GENERIC, `conn ${p.tunnel} is not oriented: pluto is not listening on ${p.vip}`);
  if (ctx.checkLevel >= 10) {
    const s = parsePlutoStatus(pluto.status());
    if (!s.conns.get(p.tunnel)?.oriented) throw new OcfExit(OCF.ERR_GENERIC, `pluto reports conn ${p.tunnel} unoriented`);
  }
  return OCF.SUCCESS;
}

function requireIkeSa(ctx: Context) {
  const s = parsePlutoStatus(ctx.pluto.status());
  const ok = s.states.some((x) => x.conn === ctx.params.tunnel && x.kind === 'ike' && x.established);
  if (!ok) throw new OcfExit(OCF.ERR_GENERIC, `conn ${ctx.params.tunnel} has no established IKE SA with ${ctx.params.vip}`);
}

// ---- start / stop: tunnel role (on the VIP holder) ------------------------

/** Whether the conn is loaded; fails when libreswan or pluto is missing (one whack call answers both). */
function requirePluto(ctx: Context): 'yes' | 'no' {
  if (!libreswanInstalled()) throw new OcfExit(OCF.ERR_INSTALLED, 'libreswan is not installed');
  const loaded = ctx.pluto.connLoaded(ctx.params.tunnel);
  if (loaded === 'no-pluto') throw new OcfExit(OCF.ERR_GENERIC, `pluto is not running (no answer on ${ctx.params.ctlsocket})`);
  return loaded;
}

function waitUntil(ctx: Context, what: string, ok: () => boolean) {
  for (;;) {
    if (ok()) return;
    if (ctx.pluto.deadline.remaining() < POLL_MS) throw new OcfExit(OCF.ERR_GENERIC, `timed out waiting for ${what}`);
    sleepMs(POLL_MS);
  }
}

function startTunnel(ctx: Context): OcfCode {
  const { params: p, pluto } = ctx;
  const file = confFileDefining(p.confdir, p.tunnel);
  if (!isLocalAddress(p.vip)) {
    throw new OcfExit(OCF.ERR_GENERIC, `VIP ${p.vip} is not on this node; order this resource after the VIP and colocate it with it`);
  }
  const loaded = requirePluto(ctx);
  // pluto 4.10 aborts if it starts listening on the VIP while its own conn to the VIP negotiates.
  if (p.fallbacktunnel) pluto.deleteConn(p.fallbacktunnel);
  if (loaded === 'no') pluto.addConn(file, p.tunnel);
  if (!udpListening(p.vip)) pluto.listen();
  waitUntil(ctx, `pluto to listen on ${p.vip} with conn ${p.tunnel} loaded`, () => udpListening(p.vip) && pluto.connLoaded(p.tunnel) === 'yes');
  log.info(`conn ${p.tunnel} loaded and oriented on ${p.vip}`);
  return OCF.SUCCESS;
}

function stopTunnel(ctx: Context): OcfCode {
  const { params: p, pluto } = ctx;
  if (!libreswanInstalled() || pluto.connLoaded(p.tunnel) !== 'yes') return OCF.SUCCESS;
  // Deleted while the VIP is still here: the IKE Delete reaches every peer.
  pluto.deleteConn(p.tunnel);
  waitUntil(ctx, `conn ${p.tunnel} to be deleted`, () => pluto.connLoaded(p.tunnel) !== 'yes');
  log.info(`conn ${p.tunnel} deleted`);
  return OCF.SUCCESS;
}

// ---- start / stop: fallback role (everywhere but the VIP holder) ----------

function startFallback(ctx: Context): OcfCode {
  const { params: p, pluto } = ctx;
  const file = confFileDefining(p.confdir, p.tunnel);
  if (isLocalAddress(p.vip)) {
    throw new OcfExit(OCF.ERR_GENERIC, `VIP ${p.vip} is on this node; the fallback runs only where the VIP is not (anti-colocate it)`);
  }
  const loaded = requirePluto(ctx);
  // Forget the VIP if pluto still listens on it from when it was ours; else the initiation fails at once.
  if (udpListening(p.vip)) pluto.listen();
  if (loaded === 'no') pluto.addConn(file, p.tunnel);
  pluto.initiateAsync(p.tunnel);
  log.info(`conn ${p.tunnel} loaded and initiating to ${p.vip}`);
  return OCF.SUCCESS;
}

const stopFallback = stopTunnel;

export function start(ctx: Context): OcfCode {
  return ctx.params.role === 'fallback' ? startFallback(ctx) : startTunnel(ctx);
}

export function stop(ctx: Context): OcfCode {
  return ctx.params.role === 'fallback' ? stopFallback(ctx) : stopTunnel(ctx);
}
