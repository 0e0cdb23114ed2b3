// Small pieces the data-plane tests share: bounded concurrency, the byte
// counters of `whack --trafficstatus`, and measurements brought back to the
// host (the guest's read-write share) for the benchmark report.
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataplaneOvercloud } from '../helpers/dataplane.js';
import { whack } from '../helpers/pluto.js';

export async function forEachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** conn name -> outBytes summed over its Child SAs (instances included). */
export function trafficBytes(oc: DataplaneOvercloud, node: string): Map<string, number> {
  const n = oc.nodes.get(node)!;
  const out = whack(oc.lab, n.pluto!, ['--trafficstatus']).stdout;
  const m = new Map<string, number>();
  for (const line of out.split('\n')) {
    const r = /#\d+: "([^"]+)"(?:\[\d+\])?[^,]*, type=ESP, .*outBytes=(\d+)/.exec(line);
    if (r) m.set(r[1], (m.get(r[1]) ?? 0) + Number(r[2]));
  }
  return m;
}

function shareDir(): string | undefined {
  try {
    return /(?:^| )guestrw=(\S+)/.exec(readFileSync('/proc/cmdline', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** One JSON line per measurement in the share (measurements.jsonl), for npm run bench. */
export function recordMeasurement(name: string, value: unknown) {
  const d = shareDir();
  if (d) appendFileSync(join(d, 'measurements.jsonl'), JSON.stringify({ name, at: new Date().toISOString(), value }) + '\n');
}

export interface PingRecord {
  what: string;
  transmitted: number;
  /** Requests without a reply, leaving out the last few (still in flight when the pinger stopped). */
  lost: number[];
  /** The longest run of consecutive lost requests, in seconds of the ping interval. */
  longestGapS: number;
}

const PING_INTERVAL_S = 0.2;

/**
 * A ping every 200 ms from `from` to `to` until stopped: which requests got
 * no reply, whenever the reply came (ping -O marks the unanswered ones; a
 * late reply still counts as received).
 */
export function startPinger(oc: DataplaneOvercloud, what: string, from: string, to: string, source?: string): { stop: () => Promise<PingRecord> } {
  const node = oc.o.nodes.find((n) => n.name === from)!;
  // From the node's own address on the network of `to` (a peer's address or a VIP), as oc.ping does.
  const net = oc.o.networks.find((n) => oc.o.nodes.some((p) => p.addresses[n.name] === to) || oc.o.vips.some((v) => v.address === to && v.network === n.name));
  const src = source ?? (net ? node.addresses[net.name] : undefined);
  const proc = spawn('ip', ['netns', 'exec', oc.nodes.get(from)!.ns, 'ping', '-n', '-O', '-i', String(PING_INTERVAL_S), ...(src ? ['-I', src] : []), to], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  oc.lab.onCleanup(() => proc.kill('SIGKILL'));
  return {
    stop: async () => {
      const done = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGINT');
      await Promise.race([done, new Promise((r) => setTimeout(r, 20_000))]);
      const replied = new Set([...out.matchAll(/icmp_seq=(\d+) ttl=/g)].map((m) => Number(m[1])));
      // Twice in the guest (2026-12-07, both during the compute's events) ping printed no summary, even
      // 20 s after SIGINT: then what it sent is known up to its last reply (a gap before that still counts).
      const summary = Number(/(\d+) packets transmitted/.exec(out)?.[1] ?? NaN);
      const transmitted = Number.isFinite(summary) ? summary : Math.max(0, ...replied) + 3;
      if (replied.size === 0 && !Number.isFinite(summary)) throw new Error(`pinger ${what}: no reply and no summary from ping: ${out.slice(-500)}`);
      // ping's sequence numbers start at 1; the last 3 may still have been in flight
      const lost: number[] = [];
      for (let s = 1; s <= transmitted - 3; s++) if (!replied.has(s)) lost.push(s);
      let longest = 0;
      let run = 0;
      for (let i = 0; i < lost.length; i++) {
        run = i > 0 && lost[i] === lost[i - 1] + 1 ? run + 1 : 1;
        longest = Math.max(longest, run);
      }
      return { what, transmitted, lost, longestGapS: Math.round(longest * PING_INTERVAL_S * 10) / 10 };
    },
  };
}
