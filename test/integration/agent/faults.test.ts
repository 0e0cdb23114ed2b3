// Faults the agent must survive against a real pluto: two instances at once,
// pluto killed in the middle of start, the VIP vanishing during start, a hung
// pluto, an unreadable or hostile confdir. Every run must end with an OCF
// code Pacemaker can act on and, when it fails, a reason; stop never fails
// while the tunnel can be removed.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../../src/generate.js';
import { writeOutputTreeSync } from '../../../src/output/outputTree.js';
import { parsePlutoStatus } from '../../../src/libreswan/whackStatus.js';
import { Lab, sh } from '../../helpers/netns.js';
import { alive, startPluto, stopPluto, whack, type Pluto } from '../../helpers/pluto.js';
import { AGENT, CLEAN_PATH, instanceFor, runAgent } from '../../helpers/agent.js';
import { scratchDir, TEST_PSK } from '../../helpers/inputs.js';
import { stringify } from 'yaml';

const SAMPLE = join(__dirname, '..', '..', '..', 'examples', 'sample-overcloud');
const HOST = 'overcloud-controller-0';
const VIPS = { internal_api: '192.0.2.100', storage: '198.51.100.100' } as const;

/** The agent run asynchronously, so faults can be injected while it works. */
function agentAsync(ns: string, action: string, params: Record<string, string>, extra: Record<string, string> = {}) {
  const env: Record<string, string> = { PATH: CLEAN_PATH, OCF_ROOT: '/usr/lib/ocf', OCF_RESOURCE_INSTANCE: instanceFor(params), ...extra };
  for (const [k, v] of Object.entries(params)) env[`OCF_RESKEY_${k}`] = v;
  const t0 = Date.now();
  return new Promise<{ code: number | null; reason?: string; ms: number }>((resolve) => {
    const c = spawn('ip', ['netns', 'exec', ns, AGENT, action], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code) => {
      const reason = err.split('\n').filter((l) => l.startsWith('ocf-exit-reason:')).at(-1)?.slice('ocf-exit-reason:'.length);
      resolve({ code, reason, ms: Date.now() - t0 });
    });
  });
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ocf:tripleo:ipsec under faults', () => {
  const s = scratchDir();
  const lab = new Lab('f');
  let ns: string;
  let pluto: Pluto;
  let confdir: string;
  const params = (vip: keyof typeof VIPS, extra: Record<string, string> = {}) => ({
    tunnel: `overcloud-${vip}-vip-tunnel`, vip: VIPS[vip], confdir, rundir: pluto.agentRun, ctlsocket: pluto.ctl, ...extra,
  });
  const conns = () => parsePlutoStatus(whack(lab, pluto, ['--status']).stdout).conns;
  /** The VIP's ends towards peers that pluto has loaded (only the holder has them). */
  const ends = (vip: string) => [...conns().keys()].filter((k) => k.startsWith(`overcloud-${vip}-vip-tunnel-to-`));
  const restartPluto = () => {
    stopPluto(pluto);
    for (const f of ['pluto.ctl', 'pluto.pid']) rmSync(join(pluto.dir, 'run', f), { force: true });
    pluto = startPluto(lab, ns, pluto.dir, confdir);
  };

  beforeAll(() => {
    const env = join(s.dir, 'env.yaml');
    writeFileSync(env, stringify({ parameter_defaults: { IpsecVars: { ipsec_psk: TEST_PSK } } }));
    const out = join(s.dir, 'out');
    writeOutputTreeSync(out, generate({ inventoryPath: join(SAMPLE, 'inventory.yaml'), networkDataPath: join(SAMPLE, 'network_data.yaml'), envPaths: [env], sets: [], outDir: out, hosts: [HOST] }).eachFile());
    confdir = join(out, HOST, 'etc', 'ipsec.d');
    ns = lab.addHost('c0');
    lab.addAddress(ns, '192.0.2.10/24');
    lab.addAddress(ns, '198.51.100.10/24');
    for (const a of Object.values(VIPS)) lab.addAddress(ns, `${a}/24`);
    pluto = startPluto(lab, ns, join(s.dir, 'pluto'), confdir);
  }, 60_000);

  afterAll(() => {
    lab.cleanup();
    s.cleanup();
  });

  it('two instances start and stop different tunnels at the same time', async () => {
    const [a, b] = await Promise.all([agentAsync(ns, 'start', params('internal_api')), agentAsync(ns, 'start', params('storage'))]);
    expect([a.code, b.code, a.reason, b.reason]).toEqual([0, 0, undefined, undefined]);
    expect(ends('internal_api').length).toBeGreaterThan(0);
    expect(ends('storage').length).toBeGreaterThan(0);
    const [x, y] = await Promise.all([agentAsync(ns, 'stop', params('internal_api')), agentAsync(ns, 'stop', params('storage'))]);
    expect([x.code, y.code]).toEqual([0, 0]);
    expect([...ends('internal_api'), ...ends('storage')]).toEqual([]);
  });

  it('pluto killed in the middle of start: 0 if start finished first, else 1 with a reason; stop then succeeds', async () => {
    const outcomes: string[] = [];
    for (const ms of [0, 10, 25, 40, 48, 56, 64, 72, 80, 100, 150]) {
      const run = agentAsync(ns, 'start', params('internal_api'), { OCF_RESKEY_CRM_meta_timeout: '10000' });
      await delay(ms);
      process.kill(pluto.pid, 'SIGKILL');
      const r = await run;
      outcomes.push(`${ms}ms:${r.code}`);
      expect(r.ms).toBeLessThan(10_000);
      expect([0, 1]).toContain(r.code);
      if (r.code === 1) expect(r.reason).toMatch(/pluto|failed|timed out/);
      const stop = runAgent(ns, 'stop', params('internal_api'));
      expect(stop.code, `stop after kill at ${ms} ms`).toBe(0);
      expect(runAgent(ns, 'monitor', params('internal_api')).code).toBe(7);
      restartPluto();
    }
    console.log(`pluto killed during start: ${outcomes.join(' ')}`);
  }, 120_000);

  it('the VIP vanishing during start: 0 or 1 with a reason; monitor then never says running; stop succeeds', async () => {
    for (const ms of [0, 5, 10, 20, 40]) {
      const run = agentAsync(ns, 'start', params('storage'));
      await delay(ms);
      lab.delAddress(ns, `${VIPS.storage}/24`);
      const r = await run;
      expect([0, 1]).toContain(r.code);
      if (r.code === 1) expect(r.reason).toMatch(/VIP|listen|timed out/);
      const m = runAgent(ns, 'monitor', params('storage'), { OCF_RESKEY_CRM_meta_interval: '10000' });
      expect(m.code, `monitor after VIP loss at ${ms} ms`).not.toBe(0);
      if (m.code === 1) expect(m.reason).toMatch(/VIP 198\.51\.100\.100 is not on this node/);
      expect(runAgent(ns, 'stop', params('storage')).code).toBe(0);
      expect(ends('storage')).toEqual([]);
      lab.addAddress(ns, `${VIPS.storage}/24`);
    }
  }, 60_000);

  it('a hung pluto: start, stop and monitor answer inside the action timeout with a reason', async () => {
    const hung = join(s.dir, 'hung.ctl');
    const server = spawn(process.execPath, ['-e', `require('net').createServer(()=>{}).listen(${JSON.stringify(hung)});setTimeout(()=>{},60000)`], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 100 && !existsSync(hung); i++) await delay(20);
      // started for real first, so monitor and stop have something to ask the hung pluto about
      expect(runAgent(ns, 'start', params('internal_api')).code).toBe(0);
      for (const action of ['monitor', 'start']) {
        const r = await agentAsync(ns, action, params('internal_api', { ctlsocket: hung }), { OCF_RESKEY_CRM_meta_timeout: '3000', OCF_RESKEY_CRM_meta_interval: action === 'monitor' ? '10000' : '0' });
        expect(r.ms, action).toBeLessThan(3000);
        expect(r.code, action).toBe(1);
        expect(r.reason, action).toMatch(/did not answer within \d+ ms/);
      }
      // stop stops what start recorded, on the pluto start talked to, whatever ctlsocket says now
      const asked = await agentAsync(ns, 'stop', params('internal_api', { ctlsocket: hung }), { OCF_RESKEY_CRM_meta_timeout: '3000' });
      expect(asked.ms).toBeLessThan(3000);
      expect(asked.code).toBe(0);
      expect(ends('internal_api')).toEqual([]);
      // a stop whose recorded pluto hangs answers in time too, with its reason
      expect(runAgent(ns, 'start', params('internal_api')).code).toBe(0);
      const record = join(pluto.agentRun, `.started.${instanceFor(params('internal_api'))}.json`);
      const real = readFileSync(record, 'utf8');
      writeFileSync(record, real.replace(JSON.stringify(pluto.ctl), JSON.stringify(hung)));
      const r = await agentAsync(ns, 'stop', params('internal_api'), { OCF_RESKEY_CRM_meta_timeout: '3000' });
      expect(r.ms).toBeLessThan(3000);
      expect(r.code).toBe(1);
      expect(r.reason).toMatch(/did not answer within \d+ ms/);
      writeFileSync(record, real);
    } finally {
      server.kill('SIGKILL');
    }
    // the real stop still deletes what start loaded
    expect(runAgent(ns, 'stop', params('internal_api')).code).toBe(0);
    expect(ends('internal_api')).toEqual([]);
  });

  it('an unreadable or hostile confdir: validate-all says why; a FIFO never blocks; the running tunnel is unaffected', async () => {
    expect(runAgent(ns, 'start', params('internal_api')).code).toBe(0);
    const broken = join(s.dir, 'broken');
    mkdirSync(broken);
    symlinkSync(join(s.dir, 'nowhere.conf'), join(broken, 'overcloud-broken.conf'));
    const v = runAgent(ns, 'validate-all', params('internal_api', { confdir: broken }));
    expect(v.code).toBe(4);
    expect(v.reason).toMatch(/cannot read .*overcloud-broken\.conf: ENOENT/);
    sh('mkfifo', [join(confdir, 'overcloud-aaa-fifo.conf')]);
    try {
      const f = await agentAsync(ns, 'validate-all', params('internal_api'));
      expect(f.ms).toBeLessThan(5000);
      expect(f.code).toBe(0);
    } finally {
      rmSync(join(confdir, 'overcloud-aaa-fifo.conf'));
    }
    const notDir = runAgent(ns, 'validate-all', params('internal_api', { confdir: join(confdir, 'overcloud-internal_api-vip.conf') }));
    expect(notDir.code).toBe(6);
    expect(notDir.reason).toMatch(/is not a directory/);
    // the running tunnel is unaffected; stop deletes what start loaded (the link says what), whatever confdir says now
    expect(runAgent(ns, 'monitor', params('internal_api'), { OCF_RESKEY_CRM_meta_interval: '10000' }).code).toBe(0);
    expect(runAgent(ns, 'stop', params('internal_api', { confdir: broken })).code).toBe(0);
    expect(ends('internal_api')).toEqual([]);
    expect(alive(pluto.pid)).toBe(true);
  });
});
