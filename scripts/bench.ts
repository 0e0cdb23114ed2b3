// One benchmark report (Markdown and JSON in bench-results/): the agent
// against the shell agent, generation at 50-1,000 nodes, and with --e2e the
// failover times of the end-to-end cluster test.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAgentBench } from './bench-agent.js';
import { runGenerateBench } from './bench-generate.js';

const ROOT = join(__dirname, '..', '..');
const OUT = join(ROOT, 'bench-results');

function e2eTimings(): Record<string, number> {
  const file = join(OUT, '.e2e-timings.json');
  rmSync(file, { force: true });
  const r = spawnSync('npx', ['vitest', 'run', 'test/e2e'], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, TI_E2E_TIMINGS: file } });
  if (r.status !== 0) throw new Error('the e2e test failed: no failover times');
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>;
}

function main() {
  mkdirSync(OUT, { recursive: true });
  const withE2e = process.argv.includes('--e2e');
  const agent = runAgentBench();
  const gen = runGenerateBench();
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
    ...(e2e
      ? ['', '## failover (test/e2e/cluster: command to last peer re-authenticated)', '', '| case | seconds |', '|---|---:|', ...Object.entries(e2e).map(([k, v]) => `| ${k} | ${v.toFixed(1)} |`)]
      : ['', '(failover times: npm run bench -- --e2e)']),
    '',
  ].join('\n');
  writeFileSync(join(OUT, 'report.md'), md);
  writeFileSync(join(OUT, 'report.json'), JSON.stringify({ agent: agent.rows, generate: { baselineMs: gen.baselineMs, rows: gen.rows }, e2e }, null, 2));
  console.log(md);
}

main();
