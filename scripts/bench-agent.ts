// Benchmark of ocf:tripleo:ipsec against resource-agents' shell agent
// (heartbeat/ipsec), alternately, against the same pluto, with 10 and 2,500
// conns loaded, under `env -i PATH=...` (no NODE_EXTRA_CA_CERTS).
// Reports medians and ratios against baselines measured in the same run.
// Each agent runs its own layout: ours a holder file (one end, as a VIP with
// one peer; bench:scale has VIPs with hundreds), the shell agent the single
// VIP conn the Ansible role wrote. The other conns are loaded, not initiated.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../test/helpers/netns.js';
import { startPluto, whack } from '../test/helpers/pluto.js';
import { scratchDir } from '../test/helpers/inputs.js';
import { median } from './bench-generate.js';

const ROOT = join(__dirname, '..', '..');
const OURS = join(ROOT, 'agents', 'ipsec');
const THEIRS = '/usr/lib/ocf/resource.d/heartbeat/ipsec';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
const VIP = '192.0.2.100';
const TUNNEL = 'overcloud-internal_api-vip-tunnel';
const PSK = 'bench-psk-0123456789abcdefghijklmnopqrstuvwxyz';


function time(argv: string[], env: Record<string, string>): { ms: number; code: number | null } {
  const t = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { env, stdio: 'ignore', timeout: 60_000 });
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, code: r.status };
}

// As generate writes them: the VIP's conn in a file of its own, the mesh in others.
const VIP_CONF = `conn ${TUNNEL}\n\tleft=${VIP}\n\tleftid=@internal_apivip\n\tright=%any\n\trightid=@overcloudinternal_apicluster\n\tauthby=secret\n\tikev2=insist\n\tauto=ignore\n`;

// Ours: the VIP's ends as generate writes them (one here, to a peer that never answers).
const HOLDER_CONF = `conn ${TUNNEL}-to-bench-peer\n\tleft=192.0.2.10\n\tleftid=@internal_apivip\n\tleftsubnet=${VIP}/32\n\tright=198.51.100.250\n\trightid=@bench-peer.internal_apivip\n\tconnalias=${TUNNEL}.ends\n\tauthby=secret\n\tikev2=insist\n\tauto=add\n`;

function meshWith(n: number): string {
  const lines: string[] = [];
  // n - 2 more loaded conns to peers that never answer (auto=add: loaded, not initiated)
  for (let i = 2; i < n; i++) {
    const a = 10 + (i % 200);
    const b = Math.floor(i / 200);
    lines.push(`conn overcloud-bench-${i}\n\tleft=192.0.2.10\n\tright=198.51.${100 + b}.${a}\n\tauthby=secret\n\tikev2=insist\n\tauto=add\n`);
  }
  return lines.join('\n');
}

export interface Row { conns: number; action: string; ours: number; theirs: number; ratio: number }

function benchAt(conns: number, scratch: string): Row[] {
  const lab = new Lab('b');
  try {
    const ns = lab.addHost('h');
    lab.addAddress(ns, '192.0.2.10/24');
    lab.addAddress(ns, `${VIP}/24`);
    const dir = join(scratch, `n${conns}`);
    const confdir = join(dir, 'ipsec.d');
    mkdirSync(confdir, { recursive: true });
    writeFileSync(join(confdir, 'overcloud-internal_api-vip.conf'), VIP_CONF);
    mkdirSync(join(confdir, 'overcloud-vip-holder'));
    writeFileSync(join(confdir, 'overcloud-vip-holder', `${TUNNEL}.conf`), HOLDER_CONF);
    writeFileSync(join(confdir, 'overcloud-bench.conf'), meshWith(conns));
    writeFileSync(join(confdir, 'overcloud-bench.secrets'), `@internal_apivip @overcloudinternal_apicluster : PSK "${PSK}"\n`, { mode: 0o600 });
    const p = startPluto(lab, ns, join(dir, 'pluto'), confdir);
    const rundir = join(dir, 'pluto', 'run');
    const loaded = () => whack(lab, p, ['--briefstatus']).stdout;
    for (let i = 0; i < 300 && !/Total IPsec connections: loaded/.test(loaded()); i++) spawnSync('sleep', ['0.1']);
    const base = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', OCF_ROOT: '/usr/lib/ocf', OCF_RESOURCE_INSTANCE: 'bench' };
    const ourRun = join(dir, 'agent-run');
    mkdirSync(ourRun);
    const oursEnv = { ...base, OCF_RESKEY_tunnel: TUNNEL, OCF_RESKEY_vip: VIP, OCF_RESKEY_confdir: confdir, OCF_RESKEY_rundir: ourRun, OCF_RESKEY_ctlsocket: p.ctl, OCF_RESKEY_CRM_meta_interval: '10000' };
    // The shell agent knows no ctlsocket: the ipsec wrapper finds this pluto through IPSEC_RUNDIR, and its config through IPSEC_CONF.
    const theirsEnv = { ...base, OCF_RESKEY_tunnel: TUNNEL, OCF_RESKEY_vip: VIP, OCF_RESKEY_confdir: confdir, IPSEC_RUNDIR: rundir, IPSEC_CONF: p.conf, OCF_RESKEY_CRM_meta_interval: '10000' };
    const inNs = (agent: string, action: string) => ['ip', 'netns', 'exec', ns, agent, action];
    // both agents manage the same conn: load it once, check each agent sees it running
    if (time(inNs(OURS, 'start'), oursEnv).code !== 0) throw new Error('our start failed');
    const check = { ours: time(inNs(OURS, 'monitor'), oursEnv).code, theirs: time(inNs(THEIRS, 'monitor'), theirsEnv).code };
    if (check.ours !== 0 || check.theirs !== 0) throw new Error(`monitor before bench: ${JSON.stringify(check)}`);
    const samples: Record<string, { ours: number[]; theirs: number[] }> = {};
    const rec = (action: string, who: 'ours' | 'theirs', ms: number) => {
      samples[action] ??= { ours: [], theirs: [] };
      samples[action][who].push(ms);
    };
    const baselines: Record<string, number[]> = { 'sh -c :': [], 'node -e 0': [] };
    for (let i = 0; i < ROUNDS; i++) {
      baselines['sh -c :'].push(time(['ip', 'netns', 'exec', ns, 'sh', '-c', ':'], base).ms);
      baselines['node -e 0'].push(time(['ip', 'netns', 'exec', ns, process.execPath, '-e', '0'], base).ms);
      for (const [who, agent, env] of [['ours', OURS, oursEnv], ['theirs', THEIRS, theirsEnv]] as const) {
        const m = time(inNs(agent, 'monitor'), env);
        if (m.code !== 0) throw new Error(`${who} monitor exited ${m.code}`);
        rec('monitor', who, m.ms);
        rec('meta-data', who, time(inNs(agent, 'meta-data'), env).ms);
      }
      for (const [who, agent, env] of [['ours', OURS, oursEnv], ['theirs', THEIRS, theirsEnv]] as const) {
        const stop = time(inNs(agent, 'stop'), env);
        const start = time(inNs(agent, 'start'), env);
        if (stop.code !== 0 || start.code !== 0) throw new Error(`${who} stop/start exited ${stop.code}/${start.code}`);
        rec('stop+start', who, stop.ms + start.ms);
      }
    }
    const rows: Row[] = Object.entries(samples).map(([action, s]) => ({ conns, action, ours: median(s.ours), theirs: median(s.theirs), ratio: median(s.ours) / median(s.theirs) }));
    for (const [name, xs] of Object.entries(baselines)) rows.push({ conns, action: `baseline: ${name}`, ours: median(xs), theirs: NaN, ratio: NaN });
    return rows;
  } finally {
    lab.cleanup();
  }
}

export function runAgentBench(): { rows: Row[]; md: string } {
  const s = scratchDir('tripleo-ipsec-bench-');
  try {
    const rows = [...benchAt(10, s.dir), ...benchAt(2500, s.dir)];
    const fmt = (x: number) => (Number.isNaN(x) ? '' : x.toFixed(1));
    const md = [
      `agent benchmark: ${ROUNDS} rounds, medians in ms, alternating runs against the same pluto, env -i PATH=...`,
      '',
      '| conns | action | ocf:tripleo:ipsec | heartbeat/ipsec (shell) | ratio ours/shell |',
      '|---:|---|---:|---:|---:|',
      ...rows.map((r) => `| ${r.conns} | ${r.action} | ${fmt(r.ours)} | ${fmt(r.theirs)} | ${Number.isNaN(r.ratio) ? '' : r.ratio.toFixed(2)} |`),
    ].join('\n');
    return { rows, md };
  } finally {
    s.cleanup();
  }
}

if (/bench-agent\.cjs$/.test(process.argv[1] ?? '')) {
  const { rows, md } = runAgentBench();
  console.log(md);
  mkdirSync(join(ROOT, 'bench-results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench-results', 'agent.json'), JSON.stringify({ rounds: ROUNDS, rows }, null, 2));
  writeFileSync(join(ROOT, 'bench-results', 'agent.md'), md + '\n');
}
