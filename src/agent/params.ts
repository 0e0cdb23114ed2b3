// The agent's parameters: read from OCF_RESKEY_*, checked before any use.
// No parameter ever reaches a shell; they are argv elements at most, and
// only after passing these patterns.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, isAbsolute } from 'node:path';
import { CONN_NAME } from '../model/names.js';
import { OCF, OcfExit } from './ocf.js';

export type Role = 'tunnel' | 'fallback';

export interface Params {
  tunnel: string;
  vip: string;
  confdir: string;
  fallbacktunnel?: string;
  ctlsocket: string;
  role: Role;
}

export const DEFAULTS = {
  confdir: '/etc/ipsec.d',
  ctlsocket: '/run/pluto/pluto.ctl',
  role: 'tunnel' as Role,
};

const PATH = /^\/[A-Za-z0-9_.+\/-]*$/;

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
  const ctlsocket = env.OCF_RESKEY_ctlsocket || DEFAULTS.ctlsocket;
  const fallbacktunnel = env.OCF_RESKEY_fallbacktunnel || undefined;
  const role = (env.OCF_RESKEY_role || DEFAULTS.role) as Role;
  const bad = (reason: string) => new OcfExit(OCF.ERR_CONFIGURED, reason);
  if (!tunnel) throw bad('parameter tunnel is required');
  if (!CONN_NAME.test(tunnel)) throw bad(`tunnel ${JSON.stringify(tunnel)} is not a plain libreswan conn name`);
  if (!vipRaw) throw bad('parameter vip is required');
  const vip = canonicalAddress(vipRaw);
  if (!vip) throw bad(`vip ${JSON.stringify(vipRaw)} is not an IPv4 or IPv6 address`);
  if (!PATH.test(confdir) || !isAbsolute(confdir)) throw bad(`confdir ${JSON.stringify(confdir)} is not an absolute path`);
  if (!PATH.test(ctlsocket)) throw bad(`ctlsocket ${JSON.stringify(ctlsocket)} is not an absolute path`);
  if (fallbacktunnel !== undefined && !CONN_NAME.test(fallbacktunnel)) {
    throw bad(`fallbacktunnel ${JSON.stringify(fallbacktunnel)} is not a plain libreswan conn name`);
  }
  if (fallbacktunnel === tunnel) throw bad('fallbacktunnel must differ from tunnel');
  if (role !== 'tunnel' && role !== 'fallback') throw bad(`role ${JSON.stringify(role)} is neither tunnel nor fallback`);
  return { tunnel, vip, confdir, fallbacktunnel, ctlsocket, role };
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

export function libreswanInstalled(): boolean {
  return existsSync('/usr/libexec/ipsec/whack') && existsSync('/usr/libexec/ipsec/addconn');
}
