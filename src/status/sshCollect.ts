// Reaching every node the way Ansible would (the OpenSSH client, the
// inventory's ansible_* variables, key authentication only), running one
// read-only command on each with bounded concurrency and a per-node
// deadline. A node that cannot be reached is a result, never a hang.
import { ValidationError, type Problem } from '../model/errors.js';
import { effectiveVars, type Inventory } from '../model/inventory.js';
import { runCommandOrTimeout } from '../system/command.js';

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

async function runOne(t: SshTarget, remote: string, o: CollectOptions): Promise<Collected> {
  const t0 = Date.now();
  try {
    const r = await runCommandOrTimeout({ what: `ssh to ${t.host}`, argv: sshArgv(t, remote, o), timeoutMs: o.timeoutMs });
    return { host: t.host, exitCode: r.timedOut ? null : r.exitCode, stdout: r.stdout, stderr: r.stderr, timedOut: r.timedOut, ms: Date.now() - t0 };
  } catch (e) {
    // ssh itself could not run: this node is unreachable, and so, likely, is every other.
    return { host: t.host, exitCode: null, stdout: '', stderr: (e as Error).message, timedOut: false, ms: Date.now() - t0 };
  }
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
