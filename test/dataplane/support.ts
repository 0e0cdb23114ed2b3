// Small pieces the data-plane tests share: bounded concurrency, the byte
// counters of `whack --trafficstatus`, and measurements brought back to the
// host (the guest's read-write share) for the benchmark report.
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
