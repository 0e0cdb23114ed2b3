// ocf:tripleo:ipsec against real plutos in network namespaces: every action
// and exit code; the VIP moving between two nodes by hand, its holder's pluto
// killed and restarted: each time every peer ends with exactly one IKE SA,
// with the VIP's current holder.
import { existsSync, lstatSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../../src/generate.js';
import { writeOutputTreeSync } from '../../../src/output/outputTree.js';
import { connsWithIkeSa, parsePlutoStatus } from '../../../src/libreswan/whackStatus.js';
import { Lab } from '../../helpers/netns.js';
import { alive, plutoLog, startPluto, stopPluto, waitFor, whack, type Pluto } from '../../helpers/pluto.js';
import { instanceFor, runAgent, runAgentAsync } from '../../helpers/agent.js';
import { setTimeout as delay } from 'node:timers/promises';
import { Deadline, PlutoCtl } from '../../../src/agent/plutoctl.js';
import { spawnSync } from 'node:child_process';
import { scratchDir, writeInputs } from '../../helpers/inputs.js';

const VIP = '192.0.2.100';
const TUNNEL = 'overcloud-internal_api-vip-tunnel';

const inventory = {
  Controller: {
    hosts: {
      'overcloud-controller-0': { internal_api_ip: '192.0.2.10' },
      'overcloud-controller-1': { internal_api_ip: '192.0.2.11' },
    },
    vars: { tripleo_role_name: 'Controller', tripleo_role_networks: ['ctlplane', 'internal_api'] },
  },
  Compute: {
    hosts: { 'overcloud-novacompute-0': { internal_api_ip: '192.0.2.20' } },
    vars: { tripleo_role_name: 'Compute', tripleo_role_networks: ['ctlplane', 'internal_api'] },
  },
  overcloud: { children: { Controller: {}, Compute: {} }, vars: { internal_api_vip: VIP } },
  pacemaker: { children: { Controller: {} } },
};
const networkData = [{ name: 'InternalApi', name_lower: 'internal_api', vip: true, ip_subnet: '192.0.2.0/24' }];

describe('ocf:tripleo:ipsec against real pluto', () => {
  const scratch = scratchDir();
  const lab = new Lab('a');
  const ns: Record<string, string> = {};
  const pluto: Record<string, Pluto> = {};
  const addr: Record<string, string> = {};
  const confdir = (h: string) => join(scratch.dir, 'out', h, 'etc', 'ipsec.d');
  const params = (h: string, extra: Record<string, string> = {}) => ({
    tunnel: TUNNEL, vip: VIP, confdir: confdir(h), rundir: pluto[h].agentRun, ctlsocket: pluto[h].ctl, ...extra,
  });
  const c0 = 'overcloud-controller-0';
  const c1 = 'overcloud-controller-1';
  const cmp = 'overcloud-novacompute-0';
  const status = (h: string) => parsePlutoStatus(whack(lab, pluto[h], ['--status']).stdout);
  const loaded = (h: string, conn: string) => status(h).conns.has(conn);
  const end = (peer: string) => `${TUNNEL}-to-${peer}`;
  /** The peers of `h` whose own end (the template) has an established IKE SA with `h`. */
  const holderOf = (peer: string) => {
    const sas = status(peer).states.filter((x) => x.conn === TUNNEL && x.kind === 'ike');
    return sas.length === 1 && sas[0].established ? sas[0].peer : sas.length === 0 ? undefined : `${sas.length} SAs`;
  };
  const linked = (h: string) => {
    try {
      return lstatSync(join(pluto[h].agentRun, `${TUNNEL}.conf`)).isSymbolicLink();
    } catch {
      return false;
    }
  };
  const monitor = (h: string, level = '0') => runAgent(ns[h], 'monitor', params(h), { OCF_RESKEY_CRM_meta_interval: '10000', OCF_CHECK_LEVEL: level });
  function assertPlutosFine() {
    for (const h of [c0, c1, cmp]) {
      expect(alive(pluto[h].pid), h).toBe(true);
      expect(plutoLog(pluto[h]), h).not.toMatch(/ASSERTION FAILED|EXPECTATION FAILED|authentication failed|AUTHENTICATION_FAILED/);
    }
  }

  beforeAll(() => {
    const opts = writeInputs(scratch.dir, { inventory, networkData });
    writeOutputTreeSync(opts.outDir, generate(opts).files);
    Object.assign(addr, { [c0]: '192.0.2.10', [c1]: '192.0.2.11', [cmp]: '192.0.2.20' });
    for (const [i, h] of [c0, c1, cmp].entries()) {
      ns[h] = lab.addHost(`n${i}`);
      lab.addAddress(ns[h], `${addr[h]}/24`);
    }
    for (const h of [c0, c1, cmp]) pluto[h] = startPluto(lab, ns[h], join(scratch.dir, 'pluto', h), confdir(h));
  }, 60_000);

  afterAll(() => {
    lab.cleanup();
    scratch.cleanup();
  });

  it('validate-all accepts good parameters', () => {
    const r = runAgent(ns[c0], 'validate-all', params(c0));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('validate-all refuses, with OCF_ERR_CONFIGURED and a reason, what cannot work', () => {
    const marker = join(scratch.dir, 'pwned');
    const cases: [Record<string, string>, RegExp][] = [
      [{ tunnel: 'overcloud-nope-vip-tunnel' }, /no \*\.conf file in .* defines conn overcloud-nope-vip-tunnel/],
      [{ tunnel: `x; touch ${marker}` }, /is not a plain libreswan conn name/],
      [{ tunnel: '$(touch /tmp/x)' }, /is not a plain libreswan conn name/],
      [{ tunnel: '' }, /parameter tunnel is required/],
      [{ vip: '192.0.2.300' }, /is not an IPv4 or IPv6 address/],
      [{ vip: '' }, /parameter vip is required/],
      [{ confdir: 'relative/dir' }, /not an absolute path/],
      [{ confdir: join(scratch.dir, 'absent') }, /does not exist/],
      [{ rundir: 'run' }, /rundir "run" is not an absolute path/],
      [{ role: 'primary' }, /neither tunnel nor fallback/],
    ];
    for (const [override, reason] of cases) {
      const r = runAgent(ns[c0], 'validate-all', params(c0, override));
      expect(r.code, JSON.stringify(override)).toBe(6);
      expect(r.reason, JSON.stringify(override)).toMatch(reason);
    }
    // a compute has no ends for the VIP: it can never hold it
    const c = runAgent(ns[cmp], 'validate-all', params(cmp));
    expect(c.code).toBe(6);
    expect(c.reason).toMatch(/overcloud-vip-holder\/overcloud-internal_api-vip-tunnel\.conf does not exist: this node has no ends for the VIP/);
    expect(existsSync(marker)).toBe(false);
  });

  it('a probe returns 7 where nothing runs: no link, no pluto, no VIP', () => {
    expect(runAgent(ns[c1], 'monitor', params(c1)).code).toBe(7);
    expect(runAgent(ns[cmp], 'monitor', params(cmp, { ctlsocket: join(scratch.dir, 'no-such', 'pluto.ctl') })).code).toBe(7);
    expect(runAgent(ns[c0], 'monitor', params(c0)).code).toBe(7);
  });

  it('start refuses a node without the VIP, with a reason, and links nothing', () => {
    const r = runAgent(ns[c1], 'start', params(c1));
    expect(r.code).toBe(1);
    expect(r.reason).toMatch(/VIP 192\.0\.2\.100 is not on this node/);
    expect(linked(c1)).toBe(false);
    expect(loaded(c1, end(cmp))).toBe(false);
  });

  it('start on the VIP holder links the holder file, loads and initiates its end towards each peer; every peer authenticates; start is idempotent', async () => {
    lab.addAddress(ns[c0], `${VIP}/24`);
    lab.announce(ns[c0], VIP, scratch.dir);
    const r = runAgent(ns[c0], 'start', params(c0));
    expect(r.reason).toBeUndefined();
    expect(r.stderr).toMatch(/VIP 192\.0\.2\.100: 2 peer\(s\), 2 initiated\n/);
    expect(r.code).toBe(0);
    expect(linked(c0)).toBe(true);
    await waitFor('both peers authenticated with controller-0', () => holderOf(cmp) === addr[c0] && holderOf(c1) === addr[c0], 15_000);
    expect([...connsWithIkeSa(status(c0))].filter((c) => c.startsWith(TUNNEL)).sort()).toEqual([end(c1), end(cmp)].sort());
    const again = runAgent(ns[c0], 'start', params(c0));
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/2 peer\(s\), 0 initiated, 2 already negotiating or up/);
    expect(monitor(c0).code).toBe(0);
    expect(monitor(c0, '10').code).toBe(0);
    // exactly one IKE SA per peer on its end (holderOf), none half-open
    for (const h of [c1, cmp]) expect(status(h).ikeSas.halfOpen, h).toBe(0);
    assertPlutosFine();
  });

  it('monitor: an end deleted behind its back is an error at depth 10, and at depth 0 once pluto is not the one start loaded into (start repairs it); a vanished VIP is an error', async () => {
    whack(lab, pluto[c0], ['--name', end(cmp), '--delete']);
    // Depth 0 asks pluto nothing while the pluto process start loaded the ends into is running.
    expect(monitor(c0).code).toBe(0);
    const deep = monitor(c0, '10');
    expect(deep.code).toBe(1);
    expect(deep.reason).toMatch(/conn overcloud-internal_api-vip-tunnel-to-overcloud-novacompute-0 is not loaded/);
    // Another pluto (as after a restart: the record names the one start used): depth 0 asks it.
    const record = join(pluto[c0].agentRun, `.started.${instanceFor(params(c0))}.json`);
    const real = readFileSync(record, 'utf8');
    const rec = JSON.parse(real) as { pluto?: string };
    expect(rec.pluto).toMatch(/^\d+@\d+$/);
    writeFileSync(record, JSON.stringify({ ...rec, pluto: '1@0' }));
    const m = monitor(c0);
    expect(m.code).toBe(1);
    expect(m.reason).toMatch(/conn overcloud-internal_api-vip-tunnel-to-overcloud-novacompute-0 is not loaded/);
    const r = runAgent(ns[c0], 'start', params(c0));
    expect(r.stderr).toMatch(/1 initiated, 1 already/);
    await waitFor('the compute re-authenticated', () => holderOf(cmp) === addr[c0], 15_000);
    lab.delAddress(ns[c0], `${VIP}/24`);
    const gone = monitor(c0);
    expect(gone.code).toBe(1);
    expect(gone.reason).toMatch(/VIP 192\.0\.2\.100 is not on this node/);
    lab.addAddress(ns[c0], `${VIP}/24`);
    expect(monitor(c0).code).toBe(0);
  });

  it('the VIP moves by hand: stop (peers get an IKE Delete), VIP moves, start on the new holder: every peer, the old holder too, authenticates there', async () => {
    const s = runAgent(ns[c0], 'stop', params(c0));
    expect(s.code).toBe(0);
    expect(s.stderr).toMatch(/deleted 2 end\(s\) towards peers/);
    expect(linked(c0)).toBe(false);
    expect(loaded(c0, end(cmp))).toBe(false);
    expect(loaded(c0, TUNNEL)).toBe(true); // its own end stays: it answers the next holder
    expect(runAgent(ns[c0], 'monitor', params(c0)).code).toBe(7);
    expect(runAgent(ns[c0], 'stop', params(c0)).code).toBe(0);
    await waitFor('the compute to drop its SA with the old holder (IKE Delete)', () => holderOf(cmp) === undefined, 5_000);
    lab.delAddress(ns[c0], `${VIP}/24`);
    lab.addAddress(ns[c1], `${VIP}/24`);
    lab.announce(ns[c1], VIP, scratch.dir);
    const t0 = Date.now();
    expect(runAgent(ns[c1], 'start', params(c1)).code).toBe(0);
    await waitFor('every peer authenticated with controller-1', () => holderOf(cmp) === addr[c1] && holderOf(c0) === addr[c1], 15_000, 20);
    console.log(`agent test: VIP moved by hand, every peer authenticated ${Date.now() - t0} ms after start began`);
    assertPlutosFine();
  }, 60_000);

  it('the holder\'s pluto killed (no Delete) and the VIP started elsewhere: the new holder\'s SA replaces the dead one on every peer', async () => {
    process.kill(pluto[c1].pid, 'SIGKILL');
    lab.delAddress(ns[c1], `${VIP}/24`);
    lab.addAddress(ns[c0], `${VIP}/24`);
    lab.announce(ns[c0], VIP, scratch.dir);
    // the compute still holds its SA with the dead holder
    expect(holderOf(cmp)).toBe(addr[c1]);
    const t0 = Date.now();
    expect(runAgent(ns[c0], 'start', params(c0)).code).toBe(0);
    await waitFor('the compute authenticated with controller-0, and only with it', () => holderOf(cmp) === addr[c0], 15_000, 20);
    console.log(`agent test: holder's pluto killed, compute re-authenticated ${Date.now() - t0} ms after start began`);
    expect(status(cmp).ikeSas.halfOpen).toBe(0);
    // c0's own end no longer carries the dead holder's SA (start terminated it)
    expect(holderOf(c0)).toBeUndefined();
    // controller-1 comes back (a fresh pluto); the holder's end, retransmitting, reaches it
    pluto[c1] = startPluto(lab, ns[c1], join(scratch.dir, 'pluto', c1), confdir(c1));
    await waitFor('controller-1 authenticated with controller-0', () => holderOf(c1) === addr[c0], 40_000);
    assertPlutosFine();
  }, 90_000);

  it('the holder\'s pluto restarted: it starts the VIP\'s ends itself from the link, at once', async () => {
    const p = pluto[c0];
    const shut = whack(lab, p, ['--shutdown']);
    expect(shut.status).toBe(0);
    await waitFor('pluto on controller-0 to exit', () => !alive(p.pid), 10_000, 20);
    // pluto 4.10's shutdown sends no Delete: the peers keep the old SA until the new one replaces it
    pluto[c0] = startPluto(lab, ns[c0], join(scratch.dir, 'pluto', c0), confdir(c0));
    const t0 = Date.now();
    await waitFor('every peer authenticated with the restarted holder', () => holderOf(cmp) === addr[c0] && holderOf(c1) === addr[c0], 10_000, 20);
    const ms = Date.now() - t0;
    console.log(`agent test: holder's pluto restarted, every peer authenticated ${ms} ms after pluto answered`);
    expect(ms).toBeLessThan(2000);
    expect(monitor(c0).code).toBe(0);
    assertPlutosFine();
  }, 60_000);

  it('a start while pluto is stalled (stopped for 3 s, as a pluto busy with its boot load): start waits for it inside its timeout and every peer authenticates, no operator', async () => {
    expect(runAgent(ns[c0], 'stop', params(c0)).code).toBe(0);
    await waitFor('the peers to drop their SAs with controller-0 (IKE Delete)', () => holderOf(cmp) === undefined && holderOf(c1) === undefined, 5_000);
    process.kill(pluto[c0].pid, 'SIGSTOP');
    let resumed = false;
    try {
      const t0 = Date.now();
      const starting = runAgentAsync(ns[c0], 'start', params(c0), { OCF_RESKEY_CRM_meta_timeout: '20000' });
      await delay(3000);
      process.kill(pluto[c0].pid, 'SIGCONT');
      resumed = true;
      const r = await starting;
      expect(r.code, r.stderr).toBe(0);
      expect(r.ms).toBeGreaterThan(2500);
      expect(r.ms).toBeLessThan(20_000);
      await waitFor('every peer authenticated with controller-0', () => holderOf(cmp) === addr[c0] && holderOf(c1) === addr[c0], 15_000, 20);
      console.log(`agent test: start against a pluto stalled 3 s returned after ${r.ms.toFixed(0)} ms; every peer authenticated ${Date.now() - t0} ms after it began`);
      expect(monitor(c0, '10').code).toBe(0);
    } finally {
      if (!resumed) process.kill(pluto[c0].pid, 'SIGCONT');
    }
    assertPlutosFine();
  }, 60_000);

  it('the retired fallback role does nothing and keeps its state, so Pacemaker sees it start and stop', () => {
    const p = params(c1, { role: 'fallback', tunnel: 'overcloud-internal_api-node-to-vip-tunnel', fallbacktunnel: 'x' });
    expect(runAgent(ns[c1], 'monitor', p).code).toBe(7);
    const st = runAgent(ns[c1], 'start', p);
    expect(st.code).toBe(0);
    expect(st.stderr).toMatch(/role=fallback is no longer used/);
    expect(runAgent(ns[c1], 'monitor', p, { OCF_RESKEY_CRM_meta_interval: '10000' }).code).toBe(0);
    expect(runAgent(ns[c1], 'stop', p).code).toBe(0);
    expect(runAgent(ns[c1], 'monitor', p).code).toBe(7);
    expect(loaded(c1, TUNNEL)).toBe(true);
  });

  it('stop succeeds when pluto is not running; start then fails with a reason; a probe says 7', () => {
    const p = params(c1);
    stopPluto(pluto[c1]);
    expect(runAgent(ns[c1], 'stop', p).code).toBe(0);
    expect(runAgent(ns[c1], 'monitor', p, { OCF_RESKEY_CRM_meta_interval: '10000' }).code).toBe(7);
    lab.addAddress(ns[c1], '192.0.2.101/24');
    const st = runAgent(ns[c1], 'start', params(c1, { vip: '192.0.2.101' }));
    expect(st.code).toBe(1);
    expect(st.reason).toMatch(/pluto is not running/);
    pluto[c1] = startPluto(lab, ns[c1], join(scratch.dir, 'pluto', c1), confdir(c1));
  });

  it('stop with a hostile tunnel value does nothing and succeeds (nothing of that name can run)', () => {
    const r = runAgent(ns[c1], 'stop', params(c1, { tunnel: 'a;reboot' }));
    expect(r.code).toBe(0);
    expect(loaded(c1, TUNNEL)).toBe(true);
  });

  it('answers unknown actions with 3 and usage with 0', () => {
    expect(runAgent(ns[c0], 'promote', params(c0)).code).toBe(3);
    expect(runAgent(ns[c0], 'usage', {}).code).toBe(0);
    expect(runAgent(ns[c0], 'methods', {}).stdout).toContain('validate-all');
  });

  it('every external command obeys the action timeout (a hung pluto socket)', () => {
    // A socket that accepts and never answers stands in for a hung pluto.
    const hung = join(scratch.dir, 'hung.ctl');
    const server = `const s=require('net').createServer(()=>{}).listen(${JSON.stringify(hung)});setTimeout(()=>s.close(),20000);`;
    writeFileSync(join(scratch.dir, 'hung.js'), server);
    const { spawn } = require('node:child_process') as typeof import('node:child_process');
    const child = spawn(process.execPath, [join(scratch.dir, 'hung.js')], { stdio: 'ignore' });
    try {
      const t0 = Date.now();
      while (!existsSync(hung) && Date.now() - t0 < 5000) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      const r = runAgent(ns[c0], 'monitor', params(c0, { ctlsocket: hung }), { OCF_RESKEY_CRM_meta_timeout: '2000', OCF_RESKEY_CRM_meta_interval: '10000' });
      expect(r.ms).toBeLessThan(2000);
      expect(r.code).toBe(1);
      expect(r.reason).toMatch(/did not answer within/);
      // The concurrent initiates of a start: bounded, and none left behind.
      const ctl = new PlutoCtl(hung, new Deadline(1500));
      const t1 = Date.now();
      expect(() => ctl.initiateAllAsync(['overcloud-a', 'overcloud-b', 'overcloud-c'])).toThrow();
      expect(Date.now() - t1).toBeLessThan(1500);
      const left = () => spawnSync('pgrep', ['-f', `whack --ctlsocket ${hung}`], { encoding: 'utf8' }).stdout.trim();
      const t2 = Date.now();
      while (left() && Date.now() - t2 < 1000) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      expect(left()).toBe('');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
