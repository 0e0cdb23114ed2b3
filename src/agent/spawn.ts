// Running a program synchronously with a deadline, as cheaply as Node can.
//
// Why not just child_process.spawnSync: loading node:child_process (which
// pulls in node:net and the stream machinery) costs about 4 ms, more than
// the spawn itself, on every monitor of every tunnel of every controller.
// spawnSync is a thin layer over the `spawn_sync` binding, which Node still
// exposes through process.binding (DEP0111, documentation-only). We call it
// when it answers with the shape we know, and fall back to child_process
// otherwise; test/unit/agent/spawn.test.ts checks both give the same answers.

export interface SpawnResult {
  /** Exit status, or null when killed or not started. */
  status: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** errno name when the program could not be run (ENOENT, EACCES, ...). */
  error?: string;
}

interface BindingResult {
  status?: number | null;
  signal?: string | null;
  error?: number;
  output?: (Uint8Array | null)[] | null;
}

interface SpawnSyncBinding {
  spawn(options: Record<string, unknown>): BindingResult;
}

const SIGKILL = 9;
const MAX_BUFFER = 4 << 20;
const ETIMEDOUT = -110;

let binding: SpawnSyncBinding | null | undefined;

function spawnBinding(): SpawnSyncBinding | null {
  if (binding !== undefined) return binding;
  try {
    const b = (process as unknown as { binding(name: string): unknown }).binding('spawn_sync') as SpawnSyncBinding;
    binding = typeof b?.spawn === 'function' ? b : null;
  } catch {
    binding = null;
  }
  return binding;
}

function errnoName(code: number): string {
  const { errno } = require('node:os').constants as { errno: Record<string, number> };
  return Object.keys(errno).find((k) => errno[k] === -code) ?? `errno ${code}`;
}

function viaBinding(b: SpawnSyncBinding, file: string, args: string[], timeoutMs: number, capture: boolean): SpawnResult | undefined {
  const out = capture ? { type: 'pipe', readable: false, writable: true } : { type: 'ignore' };
  const r = b.spawn({
    file,
    args: [file, ...args],
    envPairs: Object.entries(process.env).map(([k, v]) => `${k}=${v}`),
    stdio: [{ type: 'ignore' }, out, { ...out }],
    detached: false,
    windowsHide: false,
    windowsVerbatimArguments: false,
    killSignal: SIGKILL,
    timeout: Math.max(1, Math.floor(timeoutMs)),
    maxBuffer: MAX_BUFFER,
  });
  // Anything but the shape we know: let child_process do it.
  if (typeof r !== 'object' || r === null || !('status' in r || 'error' in r)) return undefined;
  const text = (i: number) => (r.output?.[i] ? Buffer.from(r.output[i] as Uint8Array).toString('utf8') : '');
  if (r.error === ETIMEDOUT) return { status: null, stdout: text(1), stderr: text(2), timedOut: true };
  if (typeof r.error === 'number' && r.error < 0 && r.status == null) {
    return { status: null, stdout: '', stderr: '', timedOut: false, error: errnoName(r.error) };
  }
  return { status: r.status ?? null, stdout: text(1), stderr: text(2), timedOut: false };
}

export function viaChildProcess(file: string, args: string[], timeoutMs: number, capture: boolean): SpawnResult {
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const r = spawnSync(file, args, {
    encoding: 'utf8',
    timeout: Math.max(1, Math.floor(timeoutMs)),
    killSignal: 'SIGKILL',
    maxBuffer: MAX_BUFFER,
    stdio: ['ignore', capture ? 'pipe' : 'ignore', capture ? 'pipe' : 'ignore'],
  });
  const code = (r.error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ETIMEDOUT') return { status: null, stdout: r.stdout ?? '', stderr: r.stderr ?? '', timedOut: true };
  if (code) return { status: null, stdout: '', stderr: '', timedOut: false, error: code };
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', timedOut: false };
}

/** Run `file args` (no shell), killed with SIGKILL after timeoutMs. */
export function spawnQuick(file: string, args: string[], timeoutMs: number, capture = true): SpawnResult {
  const b = spawnBinding();
  return (b && viaBinding(b, file, args, timeoutMs, capture)) || viaChildProcess(file, args, timeoutMs, capture);
}
