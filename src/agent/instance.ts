// What one resource instance started, kept by the instance's name (not by
// its parameters, which an operator may change between start and stop), and
// the lock that serialises the instance's start and stop. Both live in
// rundir (tmpfs: gone after a reboot, as is everything started).
import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { makeDirs } from '../output/makeDirs.js';
import { log, OCF, OcfExit } from './ocf.js';
import { CONN_NAME } from '../model/names.js';

/** What start loaded: enough for stop to delete exactly that. */
export interface StartedRecord {
  tunnel: string;
  vip: string;
  /** pluto's control socket start talked to. */
  ctlsocket: string;
  /** The holder file start linked, and the conns it loaded from it. */
  file: string;
  conns: string[];
  /** The pluto start loaded them into (plutoIdentity), when known. */
  pluto?: string;
}

/**
 * Which pluto process answers on `ctlsocket`: its pid (the pid file pluto
 * keeps beside its control socket) and its start time (/proc, so a reused
 * pid is another pluto). Undefined when either cannot be read. Two reads of
 * small files: the monitor's way to tell, without a whack, that the pluto
 * holding the ends is the one start loaded them into.
 */
export function plutoIdentity(ctlsocket: string): string | undefined {
  try {
    const pid = Number.parseInt(readFileSync(join(dirname(ctlsocket), 'pluto.pid'), 'utf8'), 10);
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces): state is the 3rd field, starttime the 22nd.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
    return `${pid}@${rest[19]}`;
  } catch {
    return undefined;
  }
}

/** The resource instance, as Pacemaker names it (`tripleo-ipsec-internal_api`, or `x:0` for a clone). */
export function instanceName(env: NodeJS.ProcessEnv = process.env): string {
  return (env.OCF_RESOURCE_INSTANCE || 'ipsec').replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 200);
}

const recordPath = (rundir: string, instance: string) => join(rundir, `.started.${instance.replace(/:/g, '_')}.json`);
const lockPath = (rundir: string, instance: string) => join(rundir, `.lock.${instance.replace(/:/g, '_')}`);

/** Record what start is about to load, before it loads anything (atomically). */
export function recordStart(rundir: string, instance: string, r: StartedRecord): void {
  makeDirs(rundir, 0o700);
  const path = recordPath(rundir, instance);
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(r));
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** What this instance's start recorded, or undefined (never started here, or a version that kept no record). */
export function startedRecord(rundir: string, instance: string): StartedRecord | undefined {
  let r: Partial<StartedRecord>;
  try {
    r = JSON.parse(readFileSync(recordPath(rundir, instance), 'utf8')) as Partial<StartedRecord>;
  } catch {
    return undefined;
  }
  if (typeof r.tunnel !== 'string' || !CONN_NAME.test(r.tunnel) || typeof r.ctlsocket !== 'string' || !r.ctlsocket.startsWith('/') || typeof r.file !== 'string' || !Array.isArray(r.conns) || !r.conns.every((c) => typeof c === 'string' && CONN_NAME.test(c))) return undefined;
  if (r.pluto !== undefined && typeof r.pluto !== 'string') return undefined;
  return r as StartedRecord;
}

/** Forget it (stop). A read-only rundir is a warning: the ends are deleted, which is what leaves the node safe. */
export function forgetStart(rundir: string, instance: string): void {
  try {
    rmSync(recordPath(rundir, instance), { force: true });
  } catch (e) {
    log.warn(`could not remove ${recordPath(rundir, instance)}: ${(e as NodeJS.ErrnoException).code}`);
  }
}

function holderAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Take the instance's lock, waiting while another live action holds it (a
 * lock whose holder is gone is taken over). Returns the release function.
 * `required: false` (stop): when rundir cannot hold a lock (read-only), go
 * on without one rather than fail the stop.
 */
export function lockInstance(rundir: string, instance: string, deadlineAt: number, required: boolean): () => void {
  const path = lockPath(rundir, instance);
  for (;;) {
    try {
      makeDirs(rundir, 0o700);
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, String(process.pid));
      } finally {
        closeSync(fd);
      }
      return () => rmSync(path, { force: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e instanceof OcfExit ? 'EIO' : undefined);
      if (code !== 'EEXIST') {
        if (required) throw new OcfExit(OCF.ERR_PERM, `cannot lock ${path}: ${code ?? (e as Error).message}`);
        log.warn(`no lock (${path}: ${code ?? (e as Error).message}): stopping without one`);
        return () => {};
      }
    }
    let holder = NaN;
    try {
      holder = Number(readFileSync(path, 'utf8'));
    } catch {
      /* released meanwhile */
    }
    if (!holderAlive(holder)) {
      // The holder is gone (killed by a timeout): its lock goes with it.
      try {
        rmSync(path, { force: true });
      } catch {
        /* retried below */
      }
      continue;
    }
    if (Date.now() > deadlineAt) throw new OcfExit(OCF.ERR_GENERIC, `another action of this resource (pid ${holder}) still runs`);
    sleepMs(50);
  }
}
