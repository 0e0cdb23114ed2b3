// Real pluto daemons for tests: one per namespace, each with its own
// config, NSS database and run directory; stopped by PID.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, sh } from './netns.js';

export const PLUTO = '/usr/libexec/ipsec/pluto';
export const WHACK = '/usr/libexec/ipsec/whack';

export interface Pluto {
  ns: string;
  dir: string;
  ctl: string;
  conf: string;
  log: string;
  pid: number;
  ipsecdir: string;
  /** The agent's rundir for this pluto (its ipsec.conf includes rundir/*.conf, as apply writes it). */
  agentRun: string;
  /** How pluto ended, once it has: its exit code or the signal that killed it. */
  exit?: { code: number | null; signal: NodeJS.Signals | null };
}

export function sleep(ms: number) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Poll fn every `everyMs` until it returns a truthy value or `timeoutMs` passes; an error `isFatal` accepts ends the wait at once. */
export async function waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs: number, everyMs = 200, isFatal: (e: unknown) => boolean = () => false): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = fn();
      if (v) return v;
    } catch (e) {
      if (isFatal(e)) throw e;
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Start pluto in `ns` with a config that includes `ipsecdir`/*.conf and
 * *.secrets (the generated tree's etc/ipsec.d), and the agent's rundir.
 */
export function startPluto(lab: Lab, ns: string, dir: string, ipsecdir: string, extraSetup = ''): Pluto {
  mkdirSync(join(dir, 'nss'), { recursive: true });
  mkdirSync(join(dir, 'run'), { recursive: true });
  const agentRun = join(dir, 'tripleo-run');
  mkdirSync(agentRun, { recursive: true, mode: 0o700 });
  const conf = join(dir, 'ipsec.conf');
  const secrets = join(dir, 'ipsec.secrets');
  writeFileSync(conf, `config setup\n\tplutodebug=none\n${extraSetup}include ${ipsecdir}/*.conf\ninclude ${agentRun}/*.conf\n`);
  writeFileSync(secrets, `include ${ipsecdir}/*.secrets\n`);
  // A restarted pluto keeps its NSS database (initnss refuses an existing one).
  if (!existsSync(join(dir, 'nss', 'cert9.db'))) sh('ipsec', ['initnss', '--nssdir', join(dir, 'nss')]);
  const log = join(dir, 'pluto.log');
  const out = openSync(join(dir, 'pluto.stdout'), 'a');
  const child = spawn('ip', ['netns', 'exec', ns, PLUTO, '--config', conf, '--secretsfile', secrets, '--ipsecdir', ipsecdir,
    '--nssdir', join(dir, 'nss'), '--rundir', join(dir, 'run'), '--dumpdir', join(dir, 'run'), '--logfile', log, '--nofork'],
  { stdio: ['ignore', out, out], detached: true });
  closeSync(out);
  child.unref();
  const pid = child.pid!;
  const ctl = join(dir, 'run', 'pluto.ctl');
  const p: Pluto = { ns, dir, ctl, conf, log, pid, ipsecdir, agentRun };
  // `ip netns exec` execs pluto, so this is pluto's own exit status.
  child.once('exit', (code, signal) => (p.exit = { code, signal }));
  lab.onCleanup(() => stopPluto(p));
  const deadline = Date.now() + 10_000;
  while (!existsSync(ctl)) {
    if (Date.now() > deadline) throw new Error(`pluto in ${ns} did not create ${ctl} within 10 s: ${safeRead(log)}`);
    if (!alive(pid)) throw new Error(`pluto in ${ns} exited at start: ${safeRead(join(dir, 'pluto.stdout'))} ${safeRead(log)}`);
    sleep(50);
  }
  return p;
}

/** Running, and not a zombie waiting for our (possibly blocked) event loop to reap it. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function safeRead(p: string) {
  try {
    return readFileSync(p, 'utf8').slice(-2000);
  } catch {
    return '';
  }
}

export function stopPluto(p: Pluto) {
  if (!alive(p.pid)) return;
  spawnSync('ip', ['netns', 'exec', p.ns, WHACK, '--ctlsocket', p.ctl, '--shutdown'], { timeout: 5000 });
  const deadline = Date.now() + 5000;
  while (alive(p.pid) && Date.now() < deadline) sleep(50);
  if (process.env.TI_DEBUG) console.error(`stopPluto ${p.ns}: ${5000 - (deadline - Date.now())} ms, alive=${alive(p.pid)}`);
  if (alive(p.pid)) process.kill(p.pid, 'SIGKILL');
}

/** `ipsec <args>` against this pluto (its own control socket), inside its namespace. */
export function ipsec(lab: Lab, p: Pluto, args: string[], timeoutMs = 15_000) {
  return lab.exec(p.ns, 'ipsec', args, { allowFail: true, timeoutMs, env: { IPSEC_RUNDIR: join(p.dir, 'run') } });
}

export function whack(lab: Lab, p: Pluto, args: string[], timeoutMs = 15_000) {
  return lab.exec(p.ns, WHACK, ['--ctlsocket', p.ctl, ...args], { allowFail: true, timeoutMs });
}

/** A pluto died while a test waited on it: no point waiting out the deadline. */
export class DeadPluto extends Error {}

/** Whether `pid` has a child named `comm`: /proc/PID/task/PID/children, one read (the /proc scan costs seconds under the guest's emulation). */
function hasChildNamed(pid: number, comm: string): boolean {
  let children: string[];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean);
  } catch {
    return false;
  }
  return children.some((c) => {
    try {
      return readFileSync(`/proc/${c}/comm`, 'utf8').trim() === comm;
    } catch {
      return false;
    }
  });
}

/**
 * Until pluto has finished its own start-up load: pluto 4.10 runs
 * `addconn --autoall` as a child when it starts, and while that child adds,
 * listens and initiates, pluto answers other whacks late (15 s for the first
 * query of an agent's start in the guest). Apply's step 1 does this load
 * long before Pacemaker starts anything at step 3; a test that starts the
 * agent right after pluto waits for it the same way. Done when `probeConn`
 * (a conn of the node's ipsec.d) is loaded and no addconn child is left.
 */
export async function waitStartupLoad(lab: Lab, p: Pluto, probeConn: string, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    `pluto in ${p.ns} to finish its start-up addconn`,
    () => {
      if (!alive(p.pid)) throw new DeadPluto(plutoDeath(p));
      return !hasChildNamed(p.pid, 'addconn') && whack(lab, p, ['--name', probeConn, '--debug', 'none'], 60_000).status === 0;
    },
    timeoutMs,
    1000,
    (e) => e instanceof DeadPluto,
  );
}

/**
 * Why a pluto that should be running is not, in one line: its exit status,
 * the last thing it wrote to stderr (glibc and NSS aborts land there, not in
 * the log), its last log line, and what the kernel said (a segfault).
 */
export function plutoDeath(p: Pluto): string {
  const how = p.exit ? (p.exit.signal ? `killed by ${p.exit.signal}` : `exited with ${p.exit.code}`) : 'gone (exit status not yet reaped)';
  const stderr = safeRead(join(p.dir, 'pluto.stdout')).trim().split('\n').slice(-3).join(' | ');
  const lastLog = safeRead(p.log).trim().split('\n').pop() ?? '';
  const kernel = spawnSync('dmesg', [], { encoding: 'utf8', timeout: 5000 }).stdout?.split('\n').filter((l) => /pluto|segfault|traps:/.test(l)).slice(-3).join(' | ');
  return `pluto pid ${p.pid} ${how}; stderr: ${stderr || '(nothing)'}; last log line: ${lastLog}; kernel: ${kernel || '(nothing)'}`;
}

export function plutoLog(p: Pluto): string {
  return safeRead(p.log) && readFileSync(p.log, 'utf8');
}
