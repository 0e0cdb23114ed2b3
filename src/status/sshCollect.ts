// Reaching every node the way Ansible would (the OpenSSH client, the
// inventory's ansible_* variables, key authentication only), running one
// read-only command on each with bounded concurrency and a per-node
// deadline. A node that cannot be reached is a result, never a hang.
import { ValidationError } from '../model/errors.js';
import type { Problem } from '../model/problems.js';
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

/** ssh's options for one target, before its destination. */
function sshOptionArgs(t: SshTarget, o: Pick<CollectOptions, 'timeoutMs' | 'sshOptions'>, extra: string[]): string[] {
  const argv = ['-o', 'BatchMode=yes', '-o', `ConnectTimeout=${Math.max(1, Math.floor(o.timeoutMs / 1000))}`];
  if (t.port) argv.push('-p', String(t.port));
  if (t.key) argv.push('-i', t.key);
  for (const opt of [...o.sshOptions, ...extra]) argv.push('-o', opt);
  return argv;
}

const destination = (t: SshTarget) => (t.user ? `${t.user}@${t.address}` : t.address);

/** ssh's argv for one target and one remote command (a fixed string of ours: never built from inventory values). */
export function sshArgv(t: SshTarget, remote: string, o: Pick<CollectOptions, 'timeoutMs' | 'sshOptions'>, extra: string[] = []): string[] {
  // sudo only when the user is not root; -n: never a password prompt.
  const asRoot = t.user && t.user !== 'root' ? `sudo -n ${remote}` : remote;
  return ['ssh', ...sshOptionArgs(t, o, extra), destination(t), '--', asRoot];
}

/**
 * Key exchanges that cost the client least, best first. OpenSSH 9's default,
 * the sntrup761x25519 hybrid, costs the client about 105 ms more CPU a
 * session than curve25519 (docs/FACTS.md): at 100 nodes that is most of the
 * wall time. nistp256 is the cheap one FIPS mode allows.
 */
const CHEAP_KEX = ['curve25519-sha256', 'curve25519-sha256@libssh.org', 'ecdh-sha2-nistp256'];

/**
 * The site's own key exchange list, as ssh resolved it (ssh_config, its
 * includes, a crypto policy), with its cheap members moved to the front:
 * nothing added, nothing removed, so a policy that forbids one keeps it out.
 * undefined when the list already starts with a cheap one or has none.
 */
export function preferCheapKex(effective: string[]): string[] | undefined {
  const cheap = CHEAP_KEX.filter((k) => effective.includes(k));
  if (cheap.length === 0 || CHEAP_KEX.includes(effective[0])) return undefined;
  return [...cheap, ...effective.filter((k) => !cheap.includes(k))];
}

/** The `kexalgorithms` line of `ssh -G` output. */
export function kexFromSshConfig(dump: string): string[] {
  const line = dump.split('\n').find((l) => l.startsWith('kexalgorithms '));
  return line ? line.slice('kexalgorithms '.length).trim().split(',').filter(Boolean) : [];
}

const pinsKex = (sshOptions: string[]) => sshOptions.some((x) => /^\s*kexalgorithms\s*[= ]/i.test(x));

/**
 * The KexAlgorithms option for a target: empty when the operator pinned one
 * or nothing is to move. `ssh -G` costs about as much CPU as the session's
 * own key exchange, so it is asked once per user, port, key and options, for
 * the first such node: a KexAlgorithms set in a Host block for only some
 * nodes is not seen for the others (pin one with --ssh-option).
 */
function kexResolver(o: CollectOptions): (t: SshTarget, timeoutMs: number) => Promise<string[]> {
  const resolved = new Map<string, Promise<string[]>>();
  return (t, timeoutMs) => {
    if (pinsKex(o.sshOptions)) return Promise.resolve([]);
    const args = sshOptionArgs(t, o, []);
    const key = JSON.stringify([t.user ?? '', args]);
    let p = resolved.get(key);
    if (!p) {
      p = (async () => {
        try {
          // -G resolves the configuration for this destination and exits: no connection.
          const r = await runCommandOrTimeout({ what: `ssh -G for ${t.host}`, argv: ['ssh', '-G', ...args, destination(t)], timeoutMs });
          const preferred = !r.timedOut && r.exitCode === 0 ? preferCheapKex(kexFromSshConfig(r.stdout)) : undefined;
          return preferred ? [`KexAlgorithms=${preferred.join(',')}`] : [];
        } catch {
          return [];
        }
      })();
      resolved.set(key, p);
    }
    return p;
  };
}

async function runOne(t: SshTarget, remote: string, o: CollectOptions, kexOption: ReturnType<typeof kexResolver>): Promise<Collected> {
  const t0 = Date.now();
  try {
    // One deadline for the node, both calls included.
    const argv = sshArgv(t, remote, o, await kexOption(t, o.timeoutMs));
    const left = Math.max(1, o.timeoutMs - (Date.now() - t0));
    const r = await runCommandOrTimeout({ what: `ssh to ${t.host}`, argv, timeoutMs: left });
    return { host: t.host, exitCode: r.timedOut ? null : r.exitCode, stdout: r.stdout, stderr: r.stderr, timedOut: r.timedOut, ms: Date.now() - t0 };
  } catch (e) {
    // ssh itself could not run: this node is unreachable, and so, likely, is every other.
    return { host: t.host, exitCode: null, stdout: '', stderr: (e as Error).message, timedOut: false, ms: Date.now() - t0 };
  }
}

/**
 * The command on every target, at most `forks` at a time, each answer
 * handed to `digest` as it arrives (so a big one is read while others are
 * still in flight, and its text need not be kept); results in the targets' order.
 */
export async function collectOverSsh<T = Collected>(targets: SshTarget[], remote: (t: SshTarget) => string, o: CollectOptions, digest: (c: Collected) => T = (c) => c as T): Promise<T[]> {
  const results: T[] = new Array(targets.length);
  let next = 0;
  let done = 0;
  const kexOption = kexResolver(o);
  o.onProgress?.(0, targets.length);
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= targets.length) return;
      results[i] = digest(await runOne(targets[i], remote(targets[i]), o, kexOption));
      o.onProgress?.(++done, targets.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.forks, targets.length)) }, worker));
  return results;
}
