// Reaching every node the way Ansible would (the OpenSSH client, the
// inventory's ansible_* variables, key authentication only), running one
// read-only command on each with bounded concurrency and a per-node
// deadline. A node that cannot be reached is a result, never a hang.
import { spawn } from 'node:child_process';
import { ValidationError, type Problem } from '../model/errors.js';
import { effectiveVars, type Inventory } from '../model/inventory.js';

export interface SshTarget {
  host: string;
  address: string;
  user?: string;
  port?: number;
  key?: string;
}

const ADDRESS = /^[A-Za-z0-9][A-Za-z0-9.:-]*$/;
const USER = /^[a-z_][a-z0-9_.-]*$/i;
const PATH = /^[^\0\n]+$/;

/** Each host's SSH target from its inventory variables, every bad value reported at once. */
export function sshTargets(inv: Inventory, hosts: string[]): SshTarget[] {
  const problems: Problem[] = [];
  const out: SshTarget[] = [];
  for (const host of hosts) {
    const v = effectiveVars(inv, host);
    const str = (field: string, re: RegExp, why: string): string | undefined => {
      const x = v[field];
      if (x === undefined || x === null || x === '') return undefined;
      if (typeof x !== 'string' && typeof x !== 'number') {
        problems.push({ host, field, value: JSON.stringify(x), message: why });
        return undefined;
      }
      if (!re.test(String(x))) problems.push({ host, field, value: String(x), message: why });
      return String(x);
    };
    const address = str('ansible_host', ADDRESS, 'not an address or host name') ?? host;
    const user = str('ansible_user', USER, 'not a user name') ?? str('ansible_ssh_user', USER, 'not a user name');
    const portText = str('ansible_port', /^\d{1,5}$/, 'not a port number') ?? str('ansible_ssh_port', /^\d{1,5}$/, 'not a port number');
    const key = str('ansible_ssh_private_key_file', PATH, 'not a file path');
    out.push({ host, address, ...(user ? { user } : {}), ...(portText ? { port: Number(portText) } : {}), ...(key ? { key } : {}) });
  }
  if (problems.length) throw new ValidationError(problems);
  return out;
}

export interface CollectOptions {
  forks: number;
  timeoutMs: number;
  /** Extra `-o key=value` options for ssh. */
  sshOptions: string[];
  onProgress?: (done: number, total: number) => void;
}

export interface Collected {
  host: string;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

/** ssh's argv for one target and one remote command (a fixed string of ours: never built from inventory values). */
export function sshArgv(t: SshTarget, remote: string, o: Pick<CollectOptions, 'timeoutMs' | 'sshOptions'>): string[] {
  const argv = ['ssh', '-o', 'BatchMode=yes', '-o', `ConnectTimeout=${Math.max(1, Math.floor(o.timeoutMs / 1000))}`];
  if (t.port) argv.push('-p', String(t.port));
  if (t.key) argv.push('-i', t.key);
  for (const opt of o.sshOptions) argv.push('-o', opt);
  // sudo only when the user is not root; -n: never a password prompt.
  const asRoot = t.user && t.user !== 'root' ? `sudo -n ${remote}` : remote;
  argv.push(t.user ? `${t.user}@${t.address}` : t.address, '--', asRoot);
  return argv;
}

function runOne(t: SshTarget, remote: string, o: CollectOptions): Promise<Collected> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const [cmd, ...args] = sshArgv(t, remote, o);
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      p.kill('SIGKILL');
    }, o.timeoutMs);
    p.on('error', (e) => {
      clearTimeout(timer);
      resolve({ host: t.host, exitCode: null, stdout, stderr: `${stderr}${e.message}`, timedOut, ms: Date.now() - t0 });
    });
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ host: t.host, exitCode: code, stdout, stderr, timedOut, ms: Date.now() - t0 });
    });
  });
}

/** The command on every target, at most `forks` at a time; results in the targets' order. */
export async function collectOverSsh(targets: SshTarget[], remote: (t: SshTarget) => string, o: CollectOptions): Promise<Collected[]> {
  const results: Collected[] = new Array(targets.length);
  let next = 0;
  let done = 0;
  o.onProgress?.(0, targets.length);
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= targets.length) return;
      results[i] = await runOne(targets[i], remote(targets[i]), o);
      o.onProgress?.(++done, targets.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.forks, targets.length)) }, worker));
  return results;
}
