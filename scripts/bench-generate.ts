// Generation benchmark: the built CLI on synthetic overclouds of 50, 200,
// 500 (and 1,000) nodes on 5 networks. Wall time, peak memory, files and
// bytes written; the CLI's bare start-up (--help) measured in the same run
// is the baseline. BENCH_BEFORE_CLI=<an earlier build's dist/cli.cjs> runs it
// interleaved with this one, for before and after from the same run.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { syntheticOvercloud, toStaticYaml } from '../test/helpers/synthetic.js';
import { scratchDir } from '../test/helpers/inputs.js';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.cjs');
const PRELOAD = join(ROOT, 'scripts', 'maxrss-preload.cjs');
const SIZES = (process.env.BENCH_SIZES ?? '50,200,500,1000').split(',').map(Number);
/** Another build's CLI (an earlier commit's dist/cli.cjs), run interleaved with this one: before and after in one run. */
const BEFORE = process.env.BENCH_BEFORE_CLI;
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);

/** The median of the runs (the benchmarks' one statistic; each also prints every run). */
export function median(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function runCli(args: string[], cli = CLI) {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['-r', PRELOAD, cli, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, maxBuffer: 1 << 26 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`tripleo-ipsec ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const kb = Number(/maxrss_kb=(\d+)/.exec(r.stderr)?.[1] ?? NaN);
  return { ms, kb };
}

function treeSize(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else {
        files++;
        bytes += st.size;
      }
    }
  };
  walk(dir);
  return { files, bytes };
}

export function runGenerateBench() {
  const s = scratchDir('tripleo-ipsec-bench-gen-');
  try {
    const base = median(Array.from({ length: REPEAT }, () => runCli(['--help']).ms));
    const baseKb = runCli(['--help']).kb;
    const rows = [];
    for (const n of SIZES) {
      const ceph = Math.max(1, Math.round(n / 10));
      const { inventory, networkData } = syntheticOvercloud({ controllers: 3, computes: n - 3 - ceph, ceph, extraNetworks: 1 });
      const dir = join(s.dir, `n${n}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'inventory.yaml'), toStaticYaml(inventory));
      writeFileSync(join(dir, 'network_data.yaml'), stringify(networkData));
      writeFileSync(join(dir, 'env.yaml'), stringify({ parameter_defaults: { IpsecVars: { ipsec_psk: 'bench-psk-0123456789abcdefghijklmnopqrstuvwxyz' } } }));
      const args = (out: string) => ['generate', '-i', join(dir, 'inventory.yaml'), '-n', join(dir, 'network_data.yaml'), '-e', join(dir, 'env.yaml'), '--out', out];
      // Each first run into a directory of its own (a second run into the same one writes nothing: measured apart).
      const runs: { ms: number; kb: number }[] = [];
      const before: { ms: number; kb: number }[] = [];
      for (let i = 0; i < REPEAT; i++) {
        runs.push(runCli(args(join(dir, `out-${i}`))));
        if (BEFORE) {
          before.push(runCli(args(join(dir, `before-${i}`)), BEFORE));
          rmSync(join(dir, `before-${i}`), { recursive: true, force: true });
        }
      }
      const again = runCli(args(join(dir, 'out-0')));
      const { files, bytes } = treeSize(join(dir, 'out-0'));
      rows.push({ nodes: n, networks: networkData.length, ms: median(runs.map((r) => r.ms)), runsMs: runs.map((r) => Math.round(r.ms)), againMs: again.ms, peakMiB: Math.max(...runs.map((r) => r.kb)) / 1024, files, bytes, ...(BEFORE ? { beforeMs: median(before.map((r) => r.ms)), beforePeakMiB: Math.max(...before.map((r) => r.kb)) / 1024 } : {}) });
      for (let i = 0; i < REPEAT; i++) rmSync(join(dir, `out-${i}`), { recursive: true, force: true });
    }
    const md = [
      `generation benchmark: median of ${REPEAT} runs of the built CLI; baseline = \`tripleo-ipsec --help\` (${base.toFixed(0)} ms, ${(baseKb / 1024).toFixed(0)} MiB peak) in the same run`,
      '',
      '| nodes | networks | wall ms (first run) | runs | x baseline | again, nothing to write (ms) | peak MiB | files | MiB written |' + (BEFORE ? ' before: wall ms | after / before | before: peak MiB |' : ''),
      '|---:|---:|---:|---|---:|---:|---:|---:|---:|' + (BEFORE ? '---:|---:|---:|' : ''),
      ...rows.map((r) => `| ${r.nodes} | ${r.networks} | ${r.ms.toFixed(0)} | ${r.runsMs.join(', ')} | ${(r.ms / base).toFixed(1)} | ${r.againMs.toFixed(0)} | ${r.peakMiB.toFixed(0)} | ${r.files} | ${(r.bytes / 2 ** 20).toFixed(1)} |` + (r.beforeMs !== undefined ? ` ${r.beforeMs.toFixed(0)} | ${(r.ms / r.beforeMs).toFixed(2)} | ${r.beforePeakMiB!.toFixed(0)} |` : '')),
    ].join('\n');
    return { baselineMs: base, baselineKb: baseKb, rows, md };
  } finally {
    s.cleanup();
  }
}

if (/bench-generate\.cjs$/.test(process.argv[1] ?? '')) {
  const r = runGenerateBench();
  console.log(r.md);
  mkdirSync(join(ROOT, 'bench-results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench-results', 'generate.json'), JSON.stringify({ baselineMs: r.baselineMs, baselineKb: r.baselineKb, rows: r.rows }, null, 2));
  writeFileSync(join(ROOT, 'bench-results', 'generate.md'), r.md + '\n');
}
