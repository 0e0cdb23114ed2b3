// The one way the CLI runs another program (the agent keeps its own lean
// spawn, src/agent/spawn.ts): argv only, never a shell; every call says what
// it does, for the error message, and how long it may take. A program that
// is missing or runs out of time is an EnvironmentError naming both; what a
// non-zero exit means is the caller's (whack's 21 is an answer, not a failure).
import { execa, execaSync } from 'execa';
import { EnvironmentError } from '../model/errors.js';
import { oneLine } from '../text/printable.js';

export interface Command {
  /** What the call does, as an operator would say it: "iptables-restore of our chains". */
  what: string;
  argv: string[];
  timeoutMs: number;
  input?: string | Buffer;
  cwd?: string;
  /** Extra environment variables for the program. */
  env?: Record<string, string>;
}

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

function options(c: Command) {
  return { reject: false, timeout: c.timeoutMs, input: c.input, cwd: c.cwd, ...(c.env ? { env: c.env } : {}) } as const;
}

function resultOf(c: Command, r: { exitCode?: number; stdout?: unknown; stderr?: unknown; timedOut?: boolean; failed?: boolean; code?: string; originalMessage?: string; signal?: string }): CommandResult {
  if (r.timedOut) throw new EnvironmentError(`${c.what}: ${c.argv[0]} did not finish within ${c.timeoutMs / 1000} s`);
  if (r.exitCode === undefined) {
    const why = r.code === 'ENOENT' ? 'not installed (not found)' : r.signal ? `killed by ${r.signal}` : r.originalMessage ?? 'could not run';
    throw new EnvironmentError(`${c.what}: ${c.argv[0]} ${why}`);
  }
  return { exitCode: r.exitCode, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/**
 * Run; running out of time is an answer, not an error: for calls whose
 * silence is what the caller reports (a node that does not answer). The
 * child runs in a process group of its own, and the whole group is killed
 * at once (SIGKILL) when time is up, since its silence is already known:
 * what ssh started (a ProxyCommand) must not outlive it.
 */
export async function runCommandOrTimeout(c: Command): Promise<(CommandResult & { timedOut: false }) | { timedOut: true; stdout: string; stderr: string }> {
  const child = execa(c.argv[0], c.argv.slice(1), { reject: false, input: c.input, cwd: c.cwd, detached: true, stdin: c.input === undefined ? 'ignore' : 'pipe' });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* the group is gone already */
    }
  }, c.timeoutMs);
  const r = (await child.finally(() => clearTimeout(timer))) as never as { stdout?: unknown; stderr?: unknown };
  if (timedOut) return { timedOut: true, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
  return { ...resultOf(c, r), timedOut: false };
}

/** Run; any exit code is returned. */
export async function runCommand(c: Command): Promise<CommandResult> {
  return resultOf(c, (await execa(c.argv[0], c.argv.slice(1), options(c))) as never);
}

export function runCommandSync(c: Command): CommandResult {
  return resultOf(c, execaSync(c.argv[0], c.argv.slice(1), options(c)) as never);
}

/** The error for a call that exited non-zero: what, the exit code, and the tool's own words in one line. */
export function commandFailed(c: Command, r: CommandResult): EnvironmentError {
  const said = oneLine(r.stderr || r.stdout);
  return new EnvironmentError(`${c.what} failed (${c.argv[0]} exit ${r.exitCode})${said ? `: ${said}` : ''}`);
}

/** Run; a non-zero exit is an EnvironmentError. */
export async function runChecked(c: Command): Promise<CommandResult> {
  const r = await runCommand(c);
  if (r.exitCode !== 0) throw commandFailed(c, r);
  return r;
}

