// One benchmark report (Markdown and JSON in bench-results/): the agent
// against the shell agent, generation at 50-1,000 nodes, the data plane in
// the guest (pluto start to a settled mesh; --no-dataplane leaves it out),
// and with --e2e the failover times of the end-to-end cluster test.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAgentBench } from './bench-agent.js';
import { runGenerateBench } from './bench-generate.js';
import { runStatusBench } from './bench-status.js';

const ROOT = join(__dirname, '..', '..');
const OUT = join(ROOT, 'bench-results');

interface E2eTimings {
  /** transition -> seconds, one per round (three rounds) */
  timings: Record<string, number[]>;
  bounds: Record<string, string>;
}

function e2eTimings(): E2eTimings {
  const file = join(OUT, '.e2e-timings.json');
  rmSync(file, { force: true });
  const r = spawnSync('npx', ['vitest', 'run', 'test/e2e'], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, TI_E2E_TIMINGS: file } });
  if (r.status !== 0) throw new Error('the e2e test failed: no failover times');
  return JSON.parse(readFileSync(file, 'utf8')) as E2eTimings;
}

/** The guest's figures (scripts/bench-dataplane.ts writes bench-results/dataplane.*). */
function dataplane(): { md: string; json: unknown } {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/run-ts.mjs'), 'scripts/bench-dataplane.ts'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('the data-plane benchmark failed');
  return { md: readFileSync(join(OUT, 'dataplane.md'), 'utf8'), json: JSON.parse(readFileSync(join(OUT, 'dataplane.json'), 'utf8')) };
}

function main() {
  mkdirSync(OUT, { recursive: true });
  const withE2e = process.argv.includes('--e2e');
  const agent = runAgentBench();
  const gen = runGenerateBench();
  const status = runStatusBench();
  const dp = process.argv.includes('--no-dataplane') ? undefined : dataplane();
  const e2e = withE2e ? e2eTimings() : undefined;
  const md = [
    `# tripleo-ipsec benchmark report (${new Date().toISOString()}, node ${process.version})`,
    '',
    '## ocf:tripleo:ipsec vs heartbeat/ipsec',
    '',
    agent.md,
    '',
    '## generate',
    '',
    gen.md,
    '',
    '## status --inventory',
    '',
    status.md,
    '',
    ...(dp ? [dp.md.replace(/^# /, '## ')] : ['(data plane: npm run bench without --no-dataplane)']),
    ...(e2e
      ? ['', '## VIP continuity (test/e2e/cluster: VIP up on the new holder to the last node authenticated there; three rounds)', '', '| transition | median (s) | runs (s) | bounded by |', '|---|---:|---|---|',
          ...Object.entries(e2e.timings).map(([k, v]) => `| ${k} | ${[...v].sort((a, b) => a - b)[Math.floor(v.length / 2)].toFixed(3)} | ${v.map((x) => x.toFixed(3)).join(', ')} | ${e2e.bounds[k]} |`)]
      : ['', '(failover times: npm run bench -- --e2e)']),
    '',
  ].join('\n');
  writeFileSync(join(OUT, 'report.md'), md);
  writeFileSync(join(OUT, 'report.json'), JSON.stringify({ agent: agent.rows, generate: { baselineMs: gen.baselineMs, rows: gen.rows }, status: { startupMs: status.startupMs, rows: status.rows }, dataplane: dp?.json, e2e }, null, 2));
  console.log(md);
}

main();
