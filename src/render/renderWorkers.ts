// Rendering hosts' files on worker threads. A 500-node mesh is over a
// million conn ends, each planned, rendered and digested (HMAC key, key id,
// definition digest) on one core: generate took 14 s of which writing the
// files is about 1.5 s. Workers render whole hosts, in order of request, and
// hand back each file's bytes (transferred, not copied); the calling thread
// writes them in the hosts' order, so the output and its record are the same
// as a run on one thread. At most AHEAD hosts are rendered ahead of the
// writer: memory stays bounded by a few hosts' files.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { OutputFile } from '../model/types.js';
import { EnvironmentError, InputError, TripleoIpsecError } from '../model/errors.js';
import type { HostSummary } from '../plan/summary.js';
import { renderHost, type RenderJob } from './renderJob.js';

/** What marks a worker thread started for rendering (workerData). */
const ROLE = 'tripleo-ipsec render worker';

interface Request {
  index: number;
  host: string;
}
type Reply = { index: number; files: { path: string; mode: number; bytes: Uint8Array }[]; summary: HostSummary } | { index: number; error: { kind: string; message: string } };

/** Whether this thread is a render worker: it then serves requests instead of running the CLI. */
export function isRenderWorker(): boolean {
  return !isMainThread && (workerData as { role?: string } | null)?.role === ROLE;
}

/** The worker's side: render each requested host and post its files back. */
export function serveRenderRequests(): void {
  const job = (workerData as { job: RenderJob }).job;
  const byName = new Map(job.overcloud.nodes.map((n) => [n.name, n]));
  const encoder = new TextEncoder();
  parentPort!.on('message', (r: Request) => {
    try {
      const node = byName.get(r.host);
      if (!node) throw new Error(`bug: no host ${r.host} in the render job`);
      // Each file its own buffer (TextEncoder's never come from Buffer's shared pool): transferable.
      const host = renderHost(job, node);
      const files = host.files.map((f) => ({ path: f.path, mode: f.mode, bytes: f.bytes ? new Uint8Array(f.bytes) : encoder.encode(f.content) }));
      parentPort!.postMessage({ index: r.index, files, summary: host.summary } satisfies Reply, files.map((f) => f.bytes.buffer as ArrayBuffer));
    } catch (e) {
      const kind = e instanceof TripleoIpsecError ? e.kind : 'bug';
      parentPort!.postMessage({ index: r.index, error: { kind, message: e instanceof Error ? e.message : String(e) } } satisfies Reply);
    }
  });
}

/** Each worker's young generation, in MiB (resourceLimits.maxYoungGenerationSizeMb). */
const YOUNG_GENERATION_MB = 96;

/** How many hosts may be rendered ahead of the writer, per worker. */
const AHEAD_PER_WORKER = 3;

/**
 * The files of `hosts`, in order, rendered by `threads` workers running
 * `script` (a file whose entry point calls serveRenderRequests in a render
 * worker: the bundled CLI); each host's summary is handed to `summarized`.
 */
export async function* renderInWorkers(job: RenderJob, hosts: readonly string[], script: string, threads: number, summarized: (s: HostSummary) => void = () => {}): AsyncGenerator<OutputFile> {
  // A young generation larger than V8's default: a host's render makes a great many short-lived strings.
  const workers = Array.from({ length: Math.max(1, Math.min(threads, hosts.length)) }, () => new Worker(script, { workerData: { role: ROLE, job }, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } }));
  const arrived = new Map<number, Reply>();
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  for (const w of workers) {
    w.on('message', (r: Reply) => {
      arrived.set(r.index, r);
      wake?.();
    });
    w.on('error', (e) => {
      failure ??= e;
      wake?.();
    });
    w.on('exit', (code) => {
      if (code !== 0) failure ??= new EnvironmentError(`a render worker exited with code ${code}`);
      wake?.();
    });
  }
  let requested = 0;
  const request = (upTo: number) => {
    for (; requested < Math.min(upTo, hosts.length); requested++) workers[requested % workers.length].postMessage({ index: requested, host: hosts[requested] } satisfies Request);
  };
  try {
    for (let i = 0; i < hosts.length; i++) {
      request(i + AHEAD_PER_WORKER * workers.length);
      while (!arrived.has(i)) {
        if (failure) throw failure;
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
      const r = arrived.get(i)!;
      arrived.delete(i);
      if ('error' in r) throw r.error.kind === 'input' ? new InputError(r.error.message) : new Error(`rendering ${hosts[i]}: ${r.error.message}`);
      summarized(r.summary);
      for (const f of r.files) yield { path: f.path, mode: f.mode, content: '', bytes: Buffer.from(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength) };
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
