// npm run bench:apply: `apply` on the controller of an N-node overcloud (the
// synthetic one of bench:generate: 3 controllers, computes, a tenth Ceph, 5
// networks), against a real pluto in the node's own namespace with nothing
// else to do (no peer answers: the conns are loaded, not negotiated, so the
// figure is apply's own and pluto's status dump, not IKE). The first run
// (every file written, every conn loaded), then runs with nothing to do,
// each beside `node -e 0` and one `whack --status` (the dump every apply
// reads) measured in the same run. BENCH_APPLY_SIZES (default 500,1000),
// BENCH_ROUNDS (5).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Lab } from '../test/helpers/netns.js';
import { SshNodes } from '../test/helpers/sshNodes.js';
import { scratchDir } from '../test/helpers/inputs.js';
import { syntheticOvercloud, toStaticYaml } from '../test/helpers/synthetic.js';
import { median } from './bench-generate.js';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'tripleo-ipsec');
const SIZES = (process.env.BENCH_APPLY_SIZES ?? '500,1000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const HOST = 'overcloud-controller-0';
const CLEAN_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };

interface Row { n: number; conns: number; firstMs: number; againMs: number[]; nodeMs: number[]; statusMs: number[]; statusBytes: number }

function timed(nodes: SshNodes, cmd: string, args: string[]): { ms: number; stdout: string; status: number | null } {
  const t = process.hrtime.bigint();
  const r = spawnSync('nsenter', ['-t', String(nodes.get(HOST).pid), '-m', '-n', '-u', 'env', '-i', `PATH=${CLEAN_ENV.PATH}`, cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 600_000 });
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, stdout: r.stdout ?? '', status: r.status };
}

function benchAt(n: number, dir: string): Row {
  const ceph = Math.max(1, Math.round(n / 10));
  const { inventory, networkData } = syntheticOvercloud({ controllers: 3, computes: n - 3 - ceph, ceph, extraNetworks: 1 });
  const inputs = join(dir, `n${n}`);
  mkdirSync(inputs, { recursive: true });
  writeFileSync(join(inputs, 'inventory.yaml'), toStaticYaml(inventory));
  writeFileSync(join(inputs, 'network_data.yaml'), stringify(networkData));
  writeFileSync(join(inputs, 'env.yaml'), stringify({ parameter_defaults: { IpsecVars: { ipsec_psk: 'bench-psk-0123456789abcdefghijklmnopqrstuvwxyz' } } }), { mode: 0o600 });
  // The undercloud's side: only this host's tree is needed.
  const out = join(inputs, 'out');
  const g = spawnSync(process.execPath, [CLI, 'generate', '-i', join(inputs, 'inventory.yaml'), '-n', join(inputs, 'network_data.yaml'), '-e', join(inputs, 'env.yaml'), '--host', HOST, '--out', out], { encoding: 'utf8' });
  if (g.status !== 0) throw new Error(`generate: ${g.stderr}`);
  const lab = new Lab('ba');
  const nodesDir = join(dir, `nodes-${n}`);
  mkdirSync(nodesDir);
  const nodes = new SshNodes(lab, nodesDir);
  try {
    nodes.add(HOST, lab.addHost('c0'), ['203.0.113.10/24']);
    nodes.startPluto(HOST);
    for (let i = 0; i < 100 && timed(nodes, '/usr/libexec/ipsec/whack', ['--briefstatus']).status !== 0; i++) spawnSync('sleep', ['0.1']);
    const apply = () => timed(nodes, process.execPath, [CLI, 'apply', '--tree', join(out, HOST), '--host', HOST, '--no-pacemaker']);
    const first = apply();
    if (first.status !== 0) throw new Error(`first apply exited ${first.status}`);
    const row: Row = { n, conns: 0, firstMs: first.ms, againMs: [], nodeMs: [], statusMs: [], statusBytes: 0 };
    for (let r = 0; r < ROUNDS; r++) {
      row.nodeMs.push(timed(nodes, process.execPath, ['-e', '0']).ms);
      const st = timed(nodes, '/usr/libexec/ipsec/whack', ['--status']);
      row.statusMs.push(st.ms);
      row.statusBytes = st.stdout.length;
      row.conns = new Set(st.stdout.match(/^000 "[^"]+"/gm) ?? []).size;
      const a = apply();
      if (a.stdout !== 'no change\n') throw new Error(`apply again: ${a.stdout}`);
      row.againMs.push(a.ms);
    }
    return row;
  } finally {
    lab.cleanup();
  }
}

const s = scratchDir('tripleo-ipsec-bench-apply-');
try {
  const rows = SIZES.map((n) => {
    console.error(`[bench-apply] N=${n}`);
    return benchAt(n, s.dir);
  });
  const md = [
    `apply on ${HOST} of an N-node overcloud (5 networks), a quiet pluto in the node's namespace; medians of ${ROUNDS} interleaved runs; env -i`,
    '',
    '| N | conns loaded | first run | nothing to do | `node -e 0` | `whack --status` (bytes) | nothing to do / node -e 0 |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.n} | ${r.conns} | ${(r.firstMs / 1000).toFixed(2)} s | ${median(r.againMs).toFixed(0)} ms | ${median(r.nodeMs).toFixed(0)} ms | ${median(r.statusMs).toFixed(0)} ms (${(r.statusBytes / 2 ** 20).toFixed(1)} MiB) | ${(median(r.againMs) / median(r.nodeMs)).toFixed(1)} |`),
  ].join('\n');
  console.log(md);
  mkdirSync(join(ROOT, 'bench-results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench-results', 'apply.md'), md + '\n');
  writeFileSync(join(ROOT, 'bench-results', 'apply.json'), JSON.stringify({ rounds: ROUNDS, rows }, null, 2));
} finally {
  s.cleanup();
}
