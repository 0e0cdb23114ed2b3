// npm run bench:scale: the runtime paths at production size, in the scale
// lab (test/helpers/scaleLab.ts): one controller holding five VIPs, N
// computes as one pluto answering on each compute's own addresses. Each
// figure beside a floor measured in the same run, the same exchanges
// started by the cheapest means pluto offers:
//   - a VIP move: the agent's start until every peer is authenticated (1 VIP,
//     and 5 VIPs moving at once); floor: one addconn + one whack --initiate of
//     the ends' connalias, per VIP;
//   - a node's boot: pluto's start until all 5 x N tunnels it initiates are
//     authenticated (its own start-up load: no floor below it; the target is
//     absolute);
//   - the agent's monitor with 5 x N conns loaded, against `node -e 0` and
//     resource-agents' shell agent;
//   - apply on the controller: a first run (5 x N conns loaded) and one with
//     nothing to do.
// BENCH_SCALE_SIZES (default 100,250,500), BENCH_ROUNDS (3), BENCH_OLD_AGENT
// (another build of the agent, measured the same way, for a before/after),
// BENCH_SCALE_FIXED=1 (also the computes' VIP ends with a fixed right=, to
// tell the lab's one-pluto-many-templates cost apart). Both ends share this
// machine's two cores.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOLDER, ScaleLab } from '../test/helpers/scaleLab.js';
import { AGENT } from '../test/helpers/agent.js';
import { median } from './bench-generate.js';
import { connNames } from '../src/model/names.js';

const ROOT = join(__dirname, '..', '..');
const SIZES = (process.env.BENCH_SCALE_SIZES ?? '100,250,500').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const OLD_AGENT = process.env.BENCH_OLD_AGENT;
const ADDCONN = '/usr/libexec/ipsec/addconn';
const WHACK = '/usr/libexec/ipsec/whack';
const CTL = '/run/pluto/pluto.ctl';
/** Which parts run (BENCH_SCALE_PARTS=vip,monitor,boot; default all). */
const PARTS = new Set((process.env.BENCH_SCALE_PARTS ?? 'vip,monitor,boot').split(','));

interface Row { n: number; what: string; ms: number[]; floor?: number[]; extra?: string }
const rows: Row[] = [];
const log = (s: string) => console.error(`[bench-scale ${new Date().toISOString().slice(11, 19)}] ${s}`);

function holderFile(tunnel: string) {
  return `/etc/ipsec.d/overcloud-vip-holder/${tunnel}.conf`;
}

/** The floor of a VIP move: its ends loaded by one addconn and initiated by one whack of their alias, for each VIP at once. */
async function floorMove(lab: ScaleLab, vips: ScaleLab['vips'], n: number): Promise<number> {
  const holderPid = String(lab.nodes.get(HOLDER).pid);
  const t0 = Date.now();
  await Promise.all(vips.map((v) => new Promise<void>((resolve, reject) => {
    const names = Array.from({ length: n }, (_, i) => connNames.vipToPeer(v.name, `overcloud-novacompute-${i}`));
    const script = `"$1" --ctlsocket "$2" --config "$3" "\${@:5}" && "$4" --ctlsocket "$2" --name "${connNames.vipHolderAlias(v.tunnel)}" --initiate --asynchronous`;
    const r = spawnSync('nsenter', ['-t', holderPid, '-m', '-n', 'bash', '-c', script, 'floor', ADDCONN, CTL, holderFile(v.tunnel), WHACK, ...names], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) reject(new Error(`floor: ${r.stderr}`));
    else resolve();
  })));
  await lab.until('every peer authenticated (floor)', () => allUp(lab, MESH(n) + vips.length * n), 300_000);
  const ms = Date.now() - t0;
  for (const v of vips) lab.holderWhack(['--name', connNames.vipHolderAlias(v.tunnel), '--delete']);
  // The holder's side: a Delete the lab's one peer namespace drops in a burst leaves a stale instance there, which the next holder's IKE_AUTH replaces (uniqueids).
  await lab.until('the ends gone from the holder', () => allUp(lab, MESH(n)), 120_000, 100);
  return ms;
}

/** Exactly `want` IKE SAs on the holder, all authenticated, none half-open or open. */
function allUp(lab: ScaleLab, want: number): boolean {
  const c = lab.holderCounts();
  return c.ikeAuthenticated === want && c.ikeTotal === want && c.halfOpen === 0 && c.open === 0;
}

/** A VIP move: the agent's start on `vips` at once, until every peer is authenticated; then stop. */
async function agentMove(lab: ScaleLab, vips: ScaleLab['vips'], n: number, agent: string): Promise<{ all: number; returned: number }> {
  const t0 = Date.now();
  const started = lab.startAgents(vips, agent);
  const all = await lab.until('every peer authenticated with the holder', () => allUp(lab, MESH(n) + vips.length * n), 300_000);
  const results = await started;
  for (const r of results) if (r.code !== 0) throw new Error(`agent start ${r.vip}: ${r.code} ${r.stderr}`);
  const returned = Math.max(...results.map((r) => r.ms));
  for (const v of vips) {
    const s = lab.stopAgent(v, agent);
    if (s.status !== 0) throw new Error(`agent stop ${v.name}: ${s.stderr}`);
  }
  // The holder's side: a Delete the lab's one peer namespace drops in a burst leaves a stale instance there, which the next holder's IKE_AUTH replaces (uniqueids).
  await lab.until('the ends gone from the holder', () => allUp(lab, MESH(n)), 120_000, 100);
  void t0;
  return { all, returned };
}

/** The holder's node-to-node tunnels with the computes, up before any VIP moves (deploy step 1 before step 3). */
const MESH = (n: number) => 5 * n;

async function vipMoves(n: number, peerEnds: 'template' | 'fixed') {
  const lab = new ScaleLab({ tag: 'bv', computes: n, peerConns: { vip: true, nodeToNode: true }, peerEnds });
  try {
    const setup = lab.setUp();
    await lab.until('the mesh settled', () => allUp(lab, MESH(n)), 600_000, 200);
    log(`N=${n} (${peerEnds}): lab up (generate ${setup.generateMs} ms, apply ${setup.applyMs} ms)`);
    for (const [label, vips] of PARTS.has('vip') ? ([['1 VIP', lab.vips.slice(0, 1)], ['5 VIPs at once', lab.vips]] as const) : []) {
      const agent: number[] = [];
      const returned: number[] = [];
      const floor: number[] = [];
      const old: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        floor.push(await floorMove(lab, vips, n));
        const a = await agentMove(lab, vips, n, AGENT);
        agent.push(a.all);
        returned.push(a.returned);
        if (OLD_AGENT) old.push((await agentMove(lab, vips, n, OLD_AGENT)).all);
        log(`N=${n} ${label}: floor ${floor.at(-1)} ms, agent ${a.all} ms (returned ${a.returned} ms)${OLD_AGENT ? `, old agent ${old.at(-1)} ms` : ''}`);
      }
      const tag = peerEnds === 'fixed' ? ' (peers\' ends with a fixed right=)' : '';
      rows.push({ n, what: `VIP move, ${label}${tag}: agent start -> every peer authenticated`, ms: agent, floor, extra: `start returned after ${median(returned)} ms` });
      if (OLD_AGENT) rows.push({ n, what: `VIP move, ${label}${tag}: the agent before this round`, ms: old, floor });
    }
    if (peerEnds === 'template' && PARTS.has('monitor')) await monitor(lab, n);
  } finally {
    lab.cleanup();
  }
}

/** A node's boot: the holder's pluto started with 5 x N tunnels it initiates; the monitor; apply. */
async function boot(n: number) {
  const lab = new ScaleLab({ tag: 'bb', computes: n, peerConns: { vip: false, nodeToNode: true } });
  try {
    const setup = lab.setUp();
    const want = 5 * n;
    await lab.until('the first settle after apply', () => allUp(lab, want), 600_000, 200);
    rows.push({ n, what: `apply on the controller, first run (${want} conns loaded)`, ms: [setup.applyMs] });
    const again: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = Date.now();
      const a = lab.applyHolder();
      again.push(Date.now() - t0);
      if (a.stdout !== 'no change\n') throw new Error(`apply again: ${a.stdout} ${a.stderr}`);
    }
    rows.push({ n, what: 'apply on the controller, nothing to do', ms: again });
    const boots: number[] = [];
    const retransmits: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // Down, then every compute without an SA with it (stale ones are another matter: issue 23).
      lab.stopHolderPluto();
      lab.restartPeers();
      const logBefore = lab.holderLog().length;
      const t0 = Date.now();
      lab.startHolderPluto();
      await lab.until(`all ${want} tunnels authenticated after pluto's start`, () => allUp(lab, want), 600_000, 100);
      boots.push(Date.now() - t0);
      retransmits.push((lab.holderLog().slice(logBefore).match(/retransmission; will wait/g) ?? []).length);
      log(`N=${n} boot: ${boots.at(-1)} ms, ${retransmits.at(-1)} retransmissions in the holder's log`);
    }
    rows.push({ n, what: `node boot: pluto start -> all ${want} tunnels it initiates authenticated`, ms: boots, extra: `retransmissions logged: ${retransmits.join(', ')}` });
  } finally {
    lab.cleanup();
  }
}

function timeIt(argv: string[], env: Record<string, string>): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { env, stdio: 'ignore', timeout: 60_000 });
  if (r.status !== 0 && r.status !== 7) throw new Error(`${argv.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/** The monitor with 5 x N conns loaded, every VIP end loaded and a VIP's N ends up, beside `node -e 0` and the shell agent, interleaved. */
async function monitor(lab: ScaleLab, n: number) {
  const v = lab.vips[0];
  const a = lab.agentArgs(v, 'start');
  const started = spawnSync(a.argv[0], a.argv.slice(1), { env: a.env, encoding: 'utf8' });
  if (started.status !== 0) throw new Error(`agent start for the monitor: ${started.stderr}`);
  // Quiet: the mesh and the VIP's ends all up before anything is timed.
  await lab.until('the VIP up for the monitor', () => allUp(lab, MESH(n) + n), 300_000);
  const pid = String(lab.nodes.get(HOLDER).pid);
  const inNode = (argv: string[]) => ['nsenter', '-t', pid, '-m', '-n', '-u', ...argv];
  const ours = lab.agentArgs(v, 'monitor');
  const env: Record<string, string> = { ...ours.env, OCF_RESKEY_CRM_meta_interval: '10000' };
  const shell = '/usr/lib/ocf/resource.d/heartbeat/ipsec';
  const samples = { ours: [] as number[], node: [] as number[], shell: [] as number[] };
  for (let r = 0; r < 30; r++) {
    samples.node.push(timeIt(inNode([process.execPath, '-e', '0']), { PATH: env.PATH }));
    samples.ours.push(timeIt(inNode([AGENT, 'monitor']), env));
    samples.shell.push(timeIt(inNode([shell, 'monitor']), env));
  }
  const loaded = lab.holderLoaded();
  rows.push({ n, what: `agent monitor, ${loaded} conns loaded (ms; baseline node -e 0)`, ms: samples.ours, floor: samples.node, extra: `shell agent ${median(samples.shell).toFixed(1)} ms: ours/shell ${(median(samples.ours) / median(samples.shell)).toFixed(2)}` });
}

function table(): string {
  const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
  const lines = [
    `scale lab: one controller, N computes on 5 networks (IPv6), a VIP on each; medians of ${ROUNDS} runs (the monitor: 30); both ends on this machine's ${require('node:os').cpus().length} cores; IKE only (no ESP on this kernel)`,
    '',
    '| N | what | measured | runs | floor (same run) | ratio | note |',
    '|---:|---|---:|---|---:|---:|---|',
  ];
  for (const r of rows) {
    const m = median(r.ms);
    const f = r.floor ? median(r.floor) : undefined;
    lines.push(`| ${r.n} | ${r.what} | ${fmt(m)} | ${r.ms.map(fmt).join(', ')} | ${f !== undefined ? fmt(f) : ''} | ${f ? (m / f).toFixed(2) : ''} | ${r.extra ?? ''} |`);
  }
  return lines.join('\n');
}

async function mainBench() {
  for (const n of SIZES) {
    if (PARTS.has('vip') || PARTS.has('monitor')) {
      log(`N=${n}: ${[...PARTS].filter((x) => x !== 'boot').join(', ')}`);
      await vipMoves(n, 'template');
      if (process.env.BENCH_SCALE_FIXED) await vipMoves(n, 'fixed');
    }
    if (PARTS.has('boot')) {
      log(`N=${n}: boot, apply`);
      await boot(n);
    }
    console.log(table());
  }
  const md = table();
  mkdirSync(join(ROOT, 'bench-results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench-results', 'scale.md'), md + '\n');
  writeFileSync(join(ROOT, 'bench-results', 'scale.json'), JSON.stringify({ rounds: ROUNDS, rows }, null, 2));
  console.log(md);
}

mainBench().catch((e) => {
  console.error(e);
  process.exit(1);
});
