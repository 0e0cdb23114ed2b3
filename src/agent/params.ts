// The agent's parameters: read from OCF_RESKEY_*, checked before any use.
// No parameter ever reaches a shell; they are argv elements at most, and
// only after passing these patterns.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, isAbsolute } from 'node:path';
import { CONN_NAME, nodePaths, RUN_DIR, VIP_HOLDER_DIR } from '../model/names.js';
import { DEFAULT_CTLSOCKET } from '../libreswan/whack.js';
import { OCF, OcfExit } from './ocf.js';

/** "retired": a resource of the clone earlier versions ran (role=fallback); it does nothing now. */
export type Role = 'tunnel' | 'retired';

export interface Params {
  /** This node's end of the VIP's tunnel (the template every node answers with). */
  tunnel: string;
  vip: string;
  confdir: string;
  /** Where the holder file is linked while this node holds the VIP (ipsec.conf includes it). */
  rundir: string;
  ctlsocket: string;
  role: Role;
}

export const DEFAULTS = {
  confdir: `/${nodePaths.ipsecD}`,
  rundir: RUN_DIR,
  ctlsocket: DEFAULT_CTLSOCKET,
};

/** The file of the VIP's ends towards its peers, and its link while this node holds the VIP. */
export function holderFiles(p: Params): { file: string; link: string } {
  return { file: join(p.confdir, VIP_HOLDER_DIR, `${p.tunnel}.conf`), link: join(p.rundir, `${p.tunnel}.conf`) };
}

const PATH = /^\/[A-Za-z0-9_.+\/-]*$/;

/** An absolute path of the plain characters parameters may use. */
export function isAbsolutePath(p: string): boolean {
  return PATH.test(p) && isAbsolute(p) && !p.split('/').includes('..');
}

/** Canonical text of an address (IPv6 per RFC 5952), or undefined when it is not one. */
export function canonicalAddress(text: string): string | undefined {
  // The WHATWG URL parser (always loaded) is the address parser here: node:net
  // would cost ~3 ms of module loading on every monitor.
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(text)) {
    try {
      // Canonical IPv4 is exactly what was written: rejects 256+, and leading zeros (octal to some parsers).
      return new URL(`http://${text}/`).hostname === text ? text : undefined;
    } catch {
      return undefined;
    }
  }
  if (!text.includes(':') || /[^0-9A-Fa-f:.]/.test(text)) return undefined;
  try {
    // IPv6 hosts serialize in RFC 5952 form, as getifaddrs reports them.
    return new URL(`http://[${text}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}

/** Syntactic checks of every parameter (OCF_ERR_CONFIGURED on failure). */
export function readParams(env: NodeJS.ProcessEnv = process.env): Params {
  const tunnel = env.OCF_RESKEY_tunnel ?? '';
  const vipRaw = env.OCF_RESKEY_vip ?? '';
  const confdir = env.OCF_RESKEY_confdir || DEFAULTS.confdir;
  const rundir = env.OCF_RESKEY_rundir || DEFAULTS.rundir;
  const ctlsocket = env.OCF_RESKEY_ctlsocket || DEFAULTS.ctlsocket;
  // role and fallbacktunnel are what earlier versions' resources pass; `pacemaker apply` removes those resources.
  const roleRaw = env.OCF_RESKEY_role || 'tunnel';
  const bad = (reason: string) => new OcfExit(OCF.ERR_CONFIGURED, reason);
  if (!tunnel) throw bad('parameter tunnel is required');
  if (!CONN_NAME.test(tunnel)) throw bad(`tunnel ${JSON.stringify(tunnel)} is not a plain libreswan conn name`);
  if (!vipRaw) throw bad('parameter vip is required');
  const vip = canonicalAddress(vipRaw);
  if (!vip) throw bad(`vip ${JSON.stringify(vipRaw)} is not an IPv4 or IPv6 address`);
  if (!PATH.test(confdir) || !isAbsolute(confdir)) throw bad(`confdir ${JSON.stringify(confdir)} is not an absolute path`);
  if (!PATH.test(rundir) || !isAbsolute(rundir)) throw bad(`rundir ${JSON.stringify(rundir)} is not an absolute path`);
  if (!PATH.test(ctlsocket)) throw bad(`ctlsocket ${JSON.stringify(ctlsocket)} is not an absolute path`);
  if (roleRaw !== 'tunnel' && roleRaw !== 'fallback') throw bad(`role ${JSON.stringify(roleRaw)} is neither tunnel nor fallback`);
  return { tunnel, vip, confdir, rundir, ctlsocket, role: roleRaw === 'fallback' ? 'retired' : 'tunnel' };
}

/**
 * The *.conf file in confdir that defines `conn <name>`, or an OcfExit:
 * ERR_CONFIGURED when none does, ERR_PERM when confdir cannot be read.
 */
export function confFileDefining(confdir: string, name: string): string {
  let entries: string[];
  try {
    if (!statSync(confdir).isDirectory()) throw new OcfExit(OCF.ERR_CONFIGURED, `confdir ${confdir} is not a directory`);
    entries = readdirSync(confdir);
  } catch (e) {
    if (e instanceof OcfExit) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new OcfExit(OCF.ERR_CONFIGURED, `confdir ${confdir} does not exist`);
    throw new OcfExit(OCF.ERR_PERM, `cannot read confdir ${confdir}: ${code}`);
  }
  const line = new RegExp(`^conn[ \\t]+${name.replace(/[.]/g, '\\.')}[ \\t]*$`, 'm');
  for (const entry of entries.filter((e) => e.endsWith('.conf')).sort()) {
    const file = join(confdir, entry);
    let text: string;
    try {
      // Regular files only: reading a FIFO would block until Pacemaker's timeout.
      if (!statSync(file).isFile()) continue;
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new OcfExit(OCF.ERR_PERM, `cannot read ${file}: ${(e as NodeJS.ErrnoException).code}`);
    }
    if (line.test(text)) return file;
  }
  throw new OcfExit(OCF.ERR_CONFIGURED, `no *.conf file in ${confdir} defines conn ${name}`);
}

/** The conn names a holder file defines, in order, and whether they carry the alias start and stop use (ERR_CONFIGURED when it is missing or defines none). */
export function holderConns(file: string): { conns: string[]; alias: boolean } {
  let text: string;
  try {
    // Regular files only: reading a FIFO would block until Pacemaker's timeout.
    if (!statSync(file).isFile()) throw new OcfExit(OCF.ERR_CONFIGURED, `${file} is not a regular file`);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof OcfExit) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new OcfExit(OCF.ERR_CONFIGURED, `${file} does not exist: this node has no ends for the VIP (not a cluster node of this overcloud, or apply has not run)`);
    throw new OcfExit(OCF.ERR_PERM, `cannot read ${file}: ${code}`);
  }
  const conns = [...text.matchAll(/^conn[ \t]+(\S+)[ \t]*$/gm)].map((m) => m[1]).filter((n) => n !== '%default' && CONN_NAME.test(n));
  if (!conns.length) throw new OcfExit(OCF.ERR_CONFIGURED, `${file} defines no conn`);
  // Holder files of earlier versions carry no connalias: their ends are initiated and deleted one by one.
  return { conns, alias: /^[ \t]+connalias=/m.test(text) };
}

/** The conn names a holder file defines, in order. */
export function connNamesIn(file: string): string[] {
  return holderConns(file).conns;
}
