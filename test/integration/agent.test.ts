// ocf:tripleo:ipsec against real plutos in network namespaces: every action
// and exit code, the VIP moving between two nodes by hand, and the
// fallback role reaching the new holder.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../src/generate.js';
import { writeTreeAtomically } from '../../src/output/atomicTree.js';
import { connsWithIkeSa, parsePlutoStatus } from '../../src/libreswan/status.js';
import { Lab } from '../helpers/netns.js';
import { alive, plutoLog, startPluto, stopPluto, waitFor, whack, type Pluto } from '../helpers/pluto.js';
import { runAgent } from '../helpers/agent.js';
import { scratchDir, writeInputs } from '../helpers/inputs.js';

const VIP = '192.0.2.100';
const TUNNEL = 'overcloud-internal_api-vip-tunnel';
const FALLBACK = 'overcloud-internal_api-node-to-vip-tunnel';

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
  const confdir = (h: string) => join(scratch.dir, 'out', h, 'etc', 'ipsec.d');
  const params = (h: string, extra: Record<string, string> = {}) => ({
    tunnel: TUNNEL, vip: VIP, confdir: confdir(h), fallbacktunnel: FALLBACK, ctlsocket: pluto[h].ctl, ...extra,
  });
  const fallbackParams = (h: string) => ({ tunnel: FALLBACK, vip: VIP, confdir: confdir(h), ctlsocket: pluto[h].ctl, role: 'fallback' });
  const c0 = 'overcloud-controller-0';
  const c1 = 'overcloud-controller-1';
  const cmp = 'overcloud-novacompute-0';
  const status = (h: string) => parsePlutoStatus(whack(lab, pluto[h], ['--status']).stdout);
  const loaded = (h: string, conn: string) => status(h).conns.has(conn);

  beforeAll(() => {
    const opts = writeInputs(scratch.dir, { inventory, networkData });
    writeTreeAtomically(opts.outDir, generate(opts).files);
    const addr: Record<string, string> = { [c0]: '192.0.2.10', [c1]: '192.0.2.11', [cmp]: '192.0.2.20' };
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
      [{ fallbacktunnel: TUNNEL }, /must differ/],
      [{ role: 'primary' }, /neither tunnel nor fallback/],
    ];
    for (const [override, reason] of cases) {
      const r = runAgent(ns[c0], 'validate-all', params(c0, override));
      expect(r.code, JSON.stringify(override)).toBe(6);
      expect(r.reason, JSON.stringify(override)).toMatch(reason);
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('a probe returns 7 where nothing runs: no conn, no pluto, no VIP', () => {
    expect(runAgent(ns[c1], 'monitor', params(c1)).code).toBe(7);
    expect(runAgent(ns[cmp], 'monitor', params(cmp, { ctlsocket: join(scratch.dir, 'no-such', 'pluto.ctl') })).code).toBe(7);
    expect(runAgent(ns[c0], 'monitor', params(c0)).code).toBe(7);
  });

  it('start refuses a node without the VIP, with a reason', () => {
    const r = runAgent(ns[c1], 'start', params(c1));
    expect(r.code).toBe(1);
    expect(r.reason).toMatch(/VIP 192\.0\.2\.100 is not on this node/);
    expect(loaded(c1, TUNNEL)).toBe(false);
  });

  it('start on the VIP holder removes its fallback conn, loads and orients the tunnel; start is idempotent', () => {
    // Before the VIP arrives, this node's fallback conn is loaded and negotiating with nobody:
    // the state in which pluto 4.10 aborts when it starts listening on the VIP (FACTS.md).
    expect(runAgent(ns[c0], 'start', fallbackParams(c0)).code).toBe(0);
    expect(loaded(c0, FALLBACK)).toBe(true);
    lab.addAddress(ns[c0], `${VIP}/24`);
    lab.announce(ns[c0], VIP, scratch.dir);
    const refused = runAgent(ns[c0], 'start', fallbackParams(c0));
    expect(refused.code).toBe(1); // the fallback role refuses the VIP holder
    expect(refused.reason).toMatch(/is on this node; the fallback runs only where the VIP is not/);
    const r = runAgent(ns[c0], 'start', params(c0));
    expect(r.stderr).toMatch(/conn overcloud-internal_api-vip-tunnel loaded and oriented/);
    expect(r.code).toBe(0);
    expect(status(c0).conns.get(TUNNEL)?.oriented).toBe(true);
    expect(loaded(c0, FALLBACK)).toBe(false);
    expect(runAgent(ns[c0], 'start', params(c0)).code).toBe(0);
    expect(runAgent(ns[c0], 'monitor', params(c0), { OCF_RESKEY_CRM_meta_interval: '10000' }).code).toBe(0);
    expect(runAgent(ns[c0], 'monitor', params(c0), { OCF_CHECK_LEVEL: '10', OCF_RESKEY_CRM_meta_interval: '60000' }).code).toBe(0);
    expect(alive(pluto[c0].pid)).toBe(true);
    expect(plutoLog(pluto[c0])).not.toMatch(/ASSERTION FAILED/);
  });

  it('a compute\'s node-to-VIP tunnel authenticates with the holder', async () => {
    await waitFor('compute to authenticate to the VIP', () => connsWithIkeSa(status(cmp)).has(FALLBACK), 30_000);
    await waitFor('holder to see the compute', () => status(c0).states.some((s) => s.conn === TUNNEL && s.peer === '192.0.2.20' && s.established), 10_000);
  });

  it('the fallback role on the other controller reaches the holder; monitor 0 at depth 0 and 10', async () => {
    const r = runAgent(ns[c1], 'start', fallbackParams(c1));
    expect(r.reason).toBeUndefined();
    expect(r.code).toBe(0);
    expect(runAgent(ns[c1], 'monitor', fallbackParams(c1), { OCF_RESKEY_CRM_meta_interval: '10000' }).code).toBe(0);
    await waitFor('controller-1 fallback IKE SA', () => connsWithIkeSa(status(c1)).has(FALLBACK), 30_000);
    expect(runAgent(ns[c1], 'monitor', fallbackParams(c1), { OCF_CHECK_LEVEL: '10', OCF_RESKEY_CRM_meta_interval: '60000' }).code).toBe(0);
  });

  it('monitor reports a conn deleted behind its back as stopped (7), a vanished VIP as an error', () => {
    whack(lab, pluto[c0], ['--name', TUNNEL, '--delete']);
    expect(runAgent(ns[c0], 'monitor', params(c0), { OCF_RESKEY_CRM_meta_interval: '10000' }).code).toBe(7);
    expect(runAgent(ns[c0], 'start', params(c0)).code).toBe(0);
    lab.delAddress(ns[c0], `${VIP}/24`);
    const r = runAgent(ns[c0], 'monitor', params(c0), { OCF_RESKEY_CRM_meta_interval: '10000' });
    expect(r.code).toBe(1);
    expect(r.reason).toMatch(/VIP 192\.0\.2\.100 is not on this node/);
    lab.addAddress(ns[c0], `${VIP}/24`);
    expect(runAgent(ns[c0], 'start', params(c0)).code).toBe(0);
    expect(runAgent(ns[c0], 'monitor', params(c0)).code).toBe(0);
  });

  it('the VIP moves by hand: stop (peers get an IKE Delete), VIP moves, start on the new holder, fallback on the old', async () => {
    // stop the fallback clone instance where the VIP goes, then the tunnel where it was
    expect(runAgent(ns[c1], 'stop', fallbackParams(c1)).code).toBe(0);
    const s = runAgent(ns[c0], 'stop', params(c0));
    expect(s.code).toBe(0);
    expect(loaded(c0, TUNNEL)).toBe(false);
    expect(runAgent(ns[c0], 'monitor', params(c0)).code).toBe(7);
    expect(runAgent(ns[c0], 'stop', params(c0)).code).toBe(0);
    // the compute heard the Delete and lost its SA to the VIP at once
    await waitFor('compute to drop its SA to the old holder', () => !connsWithIkeSa(status(cmp)).has(FALLBACK), 5_000);
    lab.delAddress(ns[c0], `${VIP}/24`);
    lab.addAddress(ns[c1], `${VIP}/24`);
    lab.announce(ns[c1], VIP, scratch.dir);
    expect(runAgent(ns[c1], 'start', params(c1)).code).toBe(0);
    expect(runAgent(ns[c0], 'start', fallbackParams(c0)).code).toBe(0);
    await waitFor('old holder to reach the new holder through its fallback', () => connsWithIkeSa(status(c0)).has(FALLBACK), 30_000);
    await waitFor('compute to re-authenticate to the new holder', () => connsWithIkeSa(status(cmp)).has(FALLBACK), 60_000).catch((e) => {
      throw new Error(`${e.message}\nCMP:\n${plutoLog(pluto[cmp]).split("\n").slice(-25).join("\n")}\nC0:\n${plutoLog(pluto[c0]).split("\n").slice(-60).join("\n")}\nC1:\n${plutoLog(pluto[c1]).split("\n").slice(-30).join("\n")}`);
    });
    await waitFor('new holder to see both peers', () => new Set(status(c1).states.filter((x) => x.conn === TUNNEL && x.established).map((x) => x.peer)).size === 2, 10_000);
    for (const h of [c0, c1, cmp]) {
      expect(alive(pluto[h].pid), h).toBe(true);
      expect(plutoLog(pluto[h]), h).not.toMatch(/ASSERTION FAILED/);
    }
  }, 90_000);

  it('stop succeeds when pluto is not running; start then fails with a reason; a probe says 7', () => {
    stopPluto(pluto[cmp]);
    const p = params(cmp);
    expect(runAgent(ns[cmp], 'stop', p).code).toBe(0);
    const r = runAgent(ns[cmp], 'monitor', p, { OCF_RESKEY_CRM_meta_interval: '10000' });
    expect(r.code).toBe(7);
    lab.addAddress(ns[cmp], '192.0.2.101/24');
    const st = runAgent(ns[cmp], 'start', params(cmp, { vip: '192.0.2.101', tunnel: FALLBACK, fallbacktunnel: '' }));
    expect(st.code).toBe(1);
    expect(st.reason).toMatch(/pluto is not running/);
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
      const r = runAgent(ns[c1], 'monitor', params(c1, { ctlsocket: hung }), { OCF_RESKEY_CRM_meta_timeout: '2000', OCF_RESKEY_CRM_meta_interval: '10000' });
      expect(r.ms).toBeLessThan(2000);
      expect(r.code).toBe(1);
      expect(r.reason).toMatch(/did not answer within/);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
