// The agent's stop never fails a node that can be left safe (a failed stop
// gets the node fenced): it deletes the ends its start recorded, whatever the
// parameters say now, before anything a read-only file system can refuse;
// and one instance's actions never run at once. Real plutos in namespaces,
// two VIPs held by one controller.
import { existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../../src/generate.js';
import { writeOutputTreeSync } from '../../../src/output/outputTree.js';
import { parsePlutoStatus } from '../../../src/libreswan/whackStatus.js';
import { Lab } from '../../helpers/netns.js';
import { alive, plutoLog, startPluto, waitFor, whack, type Pluto } from '../../helpers/pluto.js';
import { AGENT, CLEAN_PATH, runAgent } from '../../helpers/agent.js';
import { scratchDir, writeInputs } from '../../helpers/inputs.js';
import { spawnSync } from 'node:child_process';

const VIPS = { internal_api: '192.0.2.100', storage: '198.51.100.100' } as const;
const tunnel = (v: string) => `overcloud-${v}-vip-tunnel`;

const inventory = {
  Controller: {
    hosts: { 'overcloud-controller-0': { internal_api_ip: '192.0.2.10', storage_ip: '198.51.100.10' } },
    vars: { tripleo_role_name: 'Controller', tripleo_role_networks: ['ctlplane', 'internal_api', 'storage'] },
  },
  Compute: {
    hosts: { 'overcloud-novacompute-0': { internal_api_ip: '192.0.2.20', storage_ip: '198.51.100.20' } },
    vars: { tripleo_role_name: 'Compute', tripleo_role_networks: ['ctlplane', 'internal_api', 'storage'] },
  },
  overcloud: { children: { Controller: {}, Compute: {} }, vars: { internal_api_vip: VIPS.internal_api, storage_vip: VIPS.storage } },
  pacemaker: { children: { Controller: {} } },
};
const networkData = [
  { name: 'InternalApi', name_lower: 'internal_api', vip: true, ip_subnet: '192.0.2.0/24' },
  { name: 'Storage', name_lower: 'storage', vip: true, ip_subnet: '198.51.100.0/24' },
];

describe('ocf:tripleo:ipsec stop: always leaves the node safe', () => {
  const scratch = scratchDir();
  const lab = new Lab('s');
  let c0: string;
  let cmp: string;
  let holder: Pluto;
  let peer: Pluto;
  const C0 = 'overcloud-controller-0';
  const CMP = 'overcloud-novacompute-0';
  const confdir = (h: string) => join(scratch.dir, 'out', h, 'etc', 'ipsec.d');
  const params = (v: keyof typeof VIPS, extra: Record<string, string> = {}) => ({ tunnel: tunnel(v), vip: VIPS[v], confdir: confdir(C0), rundir: holder.agentRun, ctlsocket: holder.ctl, ...extra });
  const instance = (v: string) => ({ OCF_RESOURCE_INSTANCE: `tripleo-ipsec-${v}`, OCF_RESKEY_CRM_meta_timeout: '20000' });
  const loadedEnds = (v: string) => [...parsePlutoStatus(whack(lab, holder, ['--status']).stdout).conns.keys()].filter((c) => c.startsWith(`${tunnel(v)}-to-`));
  const peerUp = (v: string) => parsePlutoStatus(whack(lab, peer, ['--status']).stdout).states.some((s) => s.conn === tunnel(v) && s.kind === 'ike' && s.established);

  async function started(v: keyof typeof VIPS) {
    const r = runAgent(c0, 'start', params(v), instance(v));
    expect(r.reason).toBeUndefined();
    expect(r.code).toBe(0);
    await waitFor(`the compute's ${v} VIP tunnel`, () => peerUp(v), 15_000);
  }

  beforeAll(() => {
    const opts = writeInputs(scratch.dir, { inventory, networkData });
    writeOutputTreeSync(opts.outDir, generate(opts).files);
    c0 = lab.addHost('c0');
    cmp = lab.addHost('cmp');
    for (const a of ['192.0.2.10/24', '198.51.100.10/24', `${VIPS.internal_api}/24`, `${VIPS.storage}/24`]) lab.addAddress(c0, a);
    for (const a of ['192.0.2.20/24', '198.51.100.20/24']) lab.addAddress(cmp, a);
    holder = startPluto(lab, c0, join(scratch.dir, 'pluto', C0), confdir(C0));
    peer = startPluto(lab, cmp, join(scratch.dir, 'pluto', CMP), confdir(CMP));
  }, 60_000);

  afterAll(() => {
    for (const p of [holder, peer]) expect(plutoLog(p)).not.toMatch(/ASSERTION FAILED|EXPECTATION FAILED/);
    lab.cleanup();
    scratch.cleanup();
  });

  it('with rundir read-only: deletes the ends (every peer gets its Delete), warns about the link, exits 0', async () => {
    await started('internal_api');
    // Pacemaker's view of the node, with rundir made read-only under the agent.
    const env = { PATH: CLEAN_PATH, OCF_ROOT: '/usr/lib/ocf', ...instance('internal_api'), ...Object.fromEntries(Object.entries(params('internal_api')).map(([k, v]) => [`OCF_RESKEY_${k}`, v])) };
    const script = `mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && exec "$2" stop`;
    const r = spawnSync('ip', ['netns', 'exec', c0, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', holder.agentRun, AGENT], { encoding: 'utf8', env, timeout: 30_000 });
    expect(r.stderr).toMatch(/WARNING: could not remove .*overcloud-internal_api-vip-tunnel\.conf: EROFS/);
    expect(r.status).toBe(0);
    expect(loadedEnds('internal_api')).toEqual([]);
    await waitFor("the compute's SA with the VIP gone (IKE Delete)", () => !peerUp('internal_api'), 5_000);
    // The next stop (writable again) clears the link and the record.
    expect(runAgent(c0, 'stop', params('internal_api'), instance('internal_api')).code).toBe(0);
    expect(readdirSync(holder.agentRun).filter((f) => f.includes('internal_api'))).toEqual([]);
  });

  it('with its vip made invalid since start: still deletes what start loaded', async () => {
    await started('internal_api');
    const r = runAgent(c0, 'stop', params('internal_api', { vip: 'not-an-address' }), instance('internal_api'));
    expect(r.code).toBe(0);
    expect(loadedEnds('internal_api')).toEqual([]);
    await waitFor("the compute's SA with the VIP gone", () => !peerUp('internal_api'), 5_000);
  });

  it("with another resource's tunnel named since start: deletes its own ends, never the other VIP's", async () => {
    await started('internal_api');
    await started('storage');
    const r = runAgent(c0, 'stop', params('internal_api', { tunnel: tunnel('storage') }), instance('internal_api'));
    expect(r.code).toBe(0);
    expect(loadedEnds('internal_api')).toEqual([]);
    expect(loadedEnds('storage')).toEqual([`${tunnel('storage')}-to-${CMP}`]);
    expect(peerUp('storage')).toBe(true);
    expect(runAgent(c0, 'monitor', params('storage'), { ...instance('storage'), OCF_RESKEY_CRM_meta_interval: '10000' }).code).toBe(0);
    expect(runAgent(c0, 'stop', params('storage'), instance('storage')).code).toBe(0);
  });

  it("one instance's actions run one at a time: a stop waits while another action holds the lock, and takes over a dead holder's", async () => {
    await started('internal_api');
    const lock = join(holder.agentRun, '.lock.tripleo-ipsec-internal_api');
    const sleeper = spawn('sleep', ['2'], { stdio: 'ignore' });
    writeFileSync(lock, String(sleeper.pid));
    const t0 = Date.now();
    const r = runAgent(c0, 'stop', params('internal_api'), instance('internal_api'));
    const waited = Date.now() - t0;
    expect(r.code).toBe(0);
    expect(waited).toBeGreaterThanOrEqual(1500);
    expect(loadedEnds('internal_api')).toEqual([]);
    expect(alive(sleeper.pid!)).toBe(false);
    // A lock whose holder is gone (killed by Pacemaker's timeout) does not hold the next action up.
    writeFileSync(lock, '4194305');
    const t1 = Date.now();
    await started('internal_api');
    expect(Date.now() - t1).toBeLessThan(10_000);
    expect(existsSync(lock)).toBe(false);
    expect(runAgent(c0, 'stop', params('internal_api'), instance('internal_api')).code).toBe(0);
  });

  it('ends an earlier version started (loaded without their alias, no record), stopped by this one: every end deleted', async () => {
    // What the earlier agent did: the ends loaded from the holder file as it was then, and the link.
    const holderFile = join(confdir(C0), 'overcloud-vip-holder', `${tunnel('internal_api')}.conf`);
    const old = join(scratch.dir, 'holder-before-alias.conf');
    writeFileSync(old, readFileSync(holderFile, 'utf8').replace(/^\s+connalias=.*\n/gm, ''));
    const ends = [`${tunnel('internal_api')}-to-${CMP}`];
    expect(spawnSync('ip', ['netns', 'exec', c0, '/usr/libexec/ipsec/addconn', '--ctlsocket', holder.ctl, '--config', old, ...ends]).status).toBe(0);
    whack(lab, holder, ['--name', ends[0], '--initiate', '--asynchronous']);
    symlinkSync(holderFile, join(holder.agentRun, `${tunnel('internal_api')}.conf`));
    await waitFor("the compute's VIP tunnel", () => peerUp('internal_api'), 15_000);
    const r = runAgent(c0, 'stop', params('internal_api'), instance('internal_api'));
    expect(r.code).toBe(0);
    expect(loadedEnds('internal_api')).toEqual([]);
    await waitFor("the compute's SA with the VIP gone", () => !peerUp('internal_api'), 5_000);
  });

  it('nothing started here (a start that failed before it loaded anything) and a hung pluto: stop answers 0 at once, asking pluto nothing', () => {
    const hung = join(scratch.dir, 'hung.ctl');
    const server = spawn(process.execPath, ['-e', `require('net').createServer(()=>{}).listen(${JSON.stringify(hung)});setTimeout(()=>{},30000)`], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 100 && !existsSync(hung); i++) spawnSync('sleep', ['0.02']);
      const t0 = Date.now();
      const r = runAgent(c0, 'stop', params('storage', { ctlsocket: hung }), { ...instance('never-started'), OCF_RESKEY_CRM_meta_timeout: '10000' });
      expect(r.code).toBe(0);
      expect(Date.now() - t0).toBeLessThan(2000);
    } finally {
      server.kill('SIGKILL');
    }
  });
});
