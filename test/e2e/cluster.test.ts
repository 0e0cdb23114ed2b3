// End to end: a 3-node Pacemaker cluster in namespaces with a real fence
// device, a compute outside the cluster, a pluto per node, the real agent
// installed as ocf:tripleo:ipsec, an IPaddr2 VIP, the plan applied with
// tripleo-ipsec's own command. Every Pacemaker transition an operator puts a
// controller through is run three times; after each, every node of the
// network (the one in standby or with its cluster stack stopped included)
// must hold exactly one IKE SA on its end of the VIP tunnel, with the VIP's
// current holder. The time is measured from the VIP appearing on its new
// holder (`ip -ts monitor address` there) to the last peer's IKE SA in the
// holder's pluto log; both clocks are this machine's.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../src/generate.js';
import { writeOutputTreeSync } from '../../src/output/outputTree.js';
import { parsePlutoStatus, type PlutoStatus } from '../../src/libreswan/whackStatus.js';
import type { StatusReport } from '../../src/status/statusReport.js';
import { parseCrmMon } from '../../src/pacemaker/crmMon.js';
import { Lab, sh } from '../helpers/netns.js';
import { alive, startPluto, stopPluto, whack, type Pluto } from '../helpers/pluto.js';
import { Cluster, type ClusterNode } from '../helpers/cluster.js';
import { installAgentForTest } from '../helpers/installedAgent.js';
import { scratchDir, writeInputs } from '../helpers/inputs.js';

const VIP = '192.0.2.100';
const VIP_RSC = 'ip-192.0.2.100';
const TUNNEL_RSC = 'tripleo-ipsec-internal_api';
const TUNNEL = 'overcloud-internal_api-vip-tunnel';
const CLI = join(__dirname, '..', '..', 'bin', 'tripleo-ipsec');
const CONTROLLERS = [
  ['overcloud-controller-0', '192.0.2.10'],
  ['overcloud-controller-1', '192.0.2.11'],
  ['overcloud-controller-2', '192.0.2.12'],
];
const COMPUTE = ['overcloud-novacompute-0', '192.0.2.20'];
const ALL = [...CONTROLLERS.map(([h]) => h), COMPUTE[0]];
const ROUNDS = 3;

const inventory = {
  Controller: {
    hosts: Object.fromEntries(CONTROLLERS.map(([h, a]) => [h, { internal_api_ip: a }])),
    vars: { tripleo_role_name: 'Controller', tripleo_role_networks: ['ctlplane', 'internal_api'] },
  },
  Compute: { hosts: { [COMPUTE[0]]: { internal_api_ip: COMPUTE[1] } }, vars: { tripleo_role_name: 'Compute', tripleo_role_networks: ['ctlplane', 'internal_api'] } },
  overcloud: { children: { Controller: {}, Compute: {} }, vars: { internal_api_vip: VIP } },
  pacemaker: { children: { Controller: {} } },
};
const networkData = [{ name: 'InternalApi', name_lower: 'internal_api', vip: true, ip_subnet: '192.0.2.0/24' }];

/** transition -> seconds, one per round */
export const timings: Record<string, number[]> = {};
const bounds: Record<string, string> = {};
function record(label: string, seconds: number, bound: string) {
  (timings[label] ??= []).push(Math.round(seconds * 1000) / 1000);
  bounds[label] = bound;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** pluto's log time, "Dec  1 12:00:00.123456:" (local time, no year), as epoch ms. */
function plutoTime(line: string): number | undefined {
  const m = /^(\w{3}) +(\d+) (\d\d):(\d\d):(\d\d)\.(\d{6}):/.exec(line);
  if (!m) return undefined;
  return new Date(new Date().getFullYear(), MONTHS.indexOf(m[1]), +m[2], +m[3], +m[4], +m[5]).getTime() + +m[6] / 1000;
}

describe('e2e: every node keeps its tunnel with the VIP\'s holder through every Pacemaker transition (3 controllers, fencing, 1 compute)', () => {
  const scratch = scratchDir('tripleo-ipsec-e2e-');
  const lab = new Lab('e');
  const cluster = new Cluster(lab, join(scratch.dir, 'cluster'));
  let restoreAgent: () => void;
  let compute: { ns: string; pluto: Pluto; ipsecd: string; dir: string };
  let planFile: string;
  const watchers = new Map<string, { pid: number; file: string }>();

  const node = (name: string) => cluster.nodes.find((n) => n.name === name)!;
  const addressOf = (name: string) => (name === COMPUTE[0] ? COMPUTE[1] : CONTROLLERS.find(([h]) => h === name)![1]);
  /** A node whose whole stack runs (a crashed node's pacemakerd may outlive its corosync). */
  const anyUp = () => cluster.nodes.find((n) => n.pacemakerdPid && alive(n.pacemakerdPid) && n.corosyncPid && alive(n.corosyncPid)) ?? cluster.nodes[0];
  /** crm_mon's view from `from`, or undefined while Pacemaker there cannot answer yet. */
  const crmMon = (from: ClusterNode = anyUp()) => {
    try {
      return parseCrmMon(cluster.on(from, ['crm_mon', '-1', '--output-as=xml'], { allowFail: true }).stdout);
    } catch {
      return undefined;
    }
  };
  /** Every controller online, as crm_mon on a running node says (false while Pacemaker starts). */
  const allOnline = () => crmMon()?.nodes.every((n) => n.online) ?? false;
  /** The serial of the IKE SA on `name`'s end of the VIP tunnel (the same serial later: never re-authenticated). */
  const vipSaSerial = (name: string) => plutoOf(name)!.states.find((x) => x.conn === TUNNEL && x.kind === 'ike')!.serial;
  const pcs = (args: string[], on: ClusterNode = anyUp()) => cluster.on(on, ['pcs', ...args]);
  const plutoText = (name: string) =>
    name === COMPUTE[0] ? whack(lab, compute.pluto, ['--status']).stdout : cluster.on(node(name), ['/usr/libexec/ipsec/whack', '--status'], { allowFail: true }).stdout;
  const plutoOf = (name: string): PlutoStatus | undefined => {
    try {
      return parsePlutoStatus(plutoText(name));
    } catch {
      return undefined;
    }
  };
  const plutoAlive = (name: string) => (name === COMPUTE[0] ? alive(compute.pluto.pid) : !!node(name).plutoPid && alive(node(name).plutoPid!));
  const plutoLogOf = (name: string) => (name === COMPUTE[0] ? readFileSync(compute.pluto.log, 'utf8') : cluster.plutoLog(node(name)));

  /** Where the VIP's address is configured (the duplicate of an unfenced crash counts twice). */
  const vipHolders = () => cluster.nodes.filter((n) => cluster.on(n, ['ip', '-o', 'addr', 'show', 'dev', 'eth0'], { allowFail: true }).stdout.includes(` ${VIP}/`)).map((n) => n.name);
  function whereIs(rsc: string): string | undefined {
    const out = cluster.on(anyUp(), ['crm_resource', '--locate', '-r', rsc], { allowFail: true }).stdout;
    const on = [...out.matchAll(/running on: (\S+)/g)].map((m) => m[1]);
    return on.length === 1 ? on[0] : undefined;
  }

  /** The address `peer`'s end of the VIP tunnel holds its one IKE SA with, or why not. */
  function peerSees(peer: string): string {
    const s = plutoOf(peer);
    if (!s) return 'no pluto';
    const sas = s.states.filter((x) => x.conn === TUNNEL && x.kind === 'ike');
    if (sas.length !== 1) return `${sas.length} IKE SAs`;
    return sas[0].established ? sas[0].peer ?? '?' : 'not established';
  }
  /** Which of `peers` are not (yet) authenticated with `holder`, as seen from both ends. */
  function missing(holder: string, peers: string[]): string[] {
    const h = plutoOf(holder);
    const up = new Set(h?.states.filter((x) => x.kind === 'ike' && x.established).map((x) => x.conn) ?? []);
    return peers.filter((p) => p !== holder && (peerSees(p) !== addressOf(holder) || !up.has(`${TUNNEL}-to-${p}`)));
  }
  async function waitAllOn(holder: string, peers: string[], what: string, ms = 30_000) {
    await cluster.until(`${what}: every node authenticated with ${holder}`, () => missing(holder, peers).length === 0, ms, 50).catch((e) => {
      throw new Error(`${(e as Error).message}; missing: ${missing(holder, peers).map((p) => `${p} (${peerSees(p)})`).join(', ')}`);
    });
  }

  /**
   * What an operator checks, exactly: per peer one IKE SA with the holder and,
   * once a node-to-node initiator's retransmission to a restarted pluto has
   * been answered (bounded wait), none half-open; no pluto assertion anywhere.
   */
  async function assertSettled(holder: string, peers: string[]) {
    expect(missing(holder, peers), `not authenticated with ${holder}`).toEqual([]);
    const halfOpen = () => peers.filter((p) => p !== holder && plutoOf(p)?.ikeSas.halfOpen !== 0);
    await cluster.until('no half-open IKE SA', () => halfOpen().length === 0, 20_000, 100).catch(() => undefined);
    expect(halfOpen(), 'half-open IKE SAs').toEqual([]);
    expect(missing(holder, peers), `not authenticated with ${holder}`).toEqual([]);
    for (const n of ALL) expect(plutoLogOf(n), n).not.toMatch(/ASSERTION FAILED|EXPECTATION FAILED|ABORT|authentication failed|AUTHENTICATION_FAILED/);
  }

  /** When the VIP's address first appeared on `holder` at or after `since` (its `ip -ts monitor address`). */
  function vipUpAt(holder: string, since: number): number | undefined {
    const text = readFileSync(watchers.get(holder)!.file, 'utf8');
    for (const m of text.matchAll(/^\[(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{6})\] (Deleted )?\d+: \S+ +inet ([\d.]+)\//gm)) {
      if (m[9] !== VIP || m[8]) continue;
      const t = new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]).getTime() + +m[7] / 1000;
      if (t >= since) return t;
    }
    return undefined;
  }
  /** The last of `peers`' IKE SAs the holder's pluto logged at or after `since`. */
  function lastAuthAt(holder: string, peers: string[], since: number): number {
    const lines = plutoLogOf(holder).split('\n');
    let last = 0;
    for (const p of peers.filter((x) => x !== holder)) {
      const t = lines.filter((l) => l.includes(`"${TUNNEL}-to-${p}"`) && l.includes('established IKE SA')).map(plutoTime).find((x) => x !== undefined && x >= since);
      if (t === undefined) throw new Error(`${holder}'s pluto logged no IKE SA with ${p} after ${new Date(since).toISOString()}`);
      last = Math.max(last, t);
    }
    return last;
  }

  function watch(n: ClusterNode) {
    const file = join(n.dir, 'addr-monitor.txt');
    const fd = openSync(file, 'a');
    const c = spawn('nsenter', ['-t', String(n.holderPid), '-n', 'ip', '-ts', 'monitor', 'address'], { stdio: ['ignore', fd, fd], detached: true });
    closeSync(fd);
    c.unref();
    watchers.set(n.name, { pid: c.pid!, file });
    lab.onCleanup(() => {
      try {
        process.kill(c.pid!, 'SIGKILL');
      } catch {
        /* gone with its node (fenced) */
      }
    });
  }

  /** tripleo-ipsec status --json, fed with crm_mon and every running pluto's status. */
  function status(): { code: number; report: StatusReport } {
    const dir = join(scratch.dir, 'status');
    // a fresh directory each time: a kept copy must hold only what this call read
    sh('rm', ['-rf', dir]);
    sh('mkdir', ['-p', dir]);
    writeFileSync(join(dir, 'crm_mon.xml'), cluster.on(anyUp(), ['crm_mon', '-1', '--output-as=xml'], { allowFail: true }).stdout);
    const args = ['status', '--json', '--plan', planFile, '--crm-mon-xml', join(dir, 'crm_mon.xml')];
    for (const n of ALL) {
      if (!plutoAlive(n)) continue;
      writeFileSync(join(dir, `${n}.txt`), plutoText(n));
      args.push('--ipsec-status', `${n}=${join(dir, `${n}.txt`)}`);
    }
    // TI_E2E_KEEP=DIR keeps each step's inputs (real crm_mon XML and ipsec status) for offline tests.
    if (process.env.TI_E2E_KEEP) sh('cp', ['-r', dir, join(process.env.TI_E2E_KEEP, `step-${Date.now()}`)]);
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
    if ((r.status !== 0 && r.status !== 1) || !r.stdout) throw new Error(`status exited ${r.status}: ${r.stderr}`);
    return { code: r.status, report: JSON.parse(r.stdout) as StatusReport };
  }

  /** Wait for the VIP and its tunnel to run together on one node other than `old`. */
  async function newHolder(old: string | undefined, what: string): Promise<string> {
    let holder = '';
    await cluster.until(`${what}: VIP and tunnel together on a node other than ${old}`, () => {
      const v = whereIs(VIP_RSC);
      const t = whereIs(TUNNEL_RSC);
      if (v && v === t && v !== old) holder = v;
      return holder !== '';
    }, 120_000, 50);
    return holder;
  }

  /** A VIP handover: wait for the new holder, every peer there; record VIP-up -> last peer authenticated. */
  async function handover(label: string, old: string | undefined, since: number, peers: string[], bound: string): Promise<string> {
    const holder = await newHolder(old, label);
    await waitAllOn(holder, peers, label);
    const up = vipUpAt(holder, since);
    if (up === undefined) throw new Error(`${label}: no VIP appearance on ${holder} after ${new Date(since).toISOString()}`);
    record(label, (lastAuthAt(holder, peers, up) - up) / 1000, bound);
    await assertSettled(holder, peers);
    return holder;
  }

  /** Where the VIP is once the cluster has no action pending (a transition may still run after a test's wait). */
  const holderNow = () => {
    cluster.on(anyUp(), ['crm_resource', '--wait', '--timeout=60s'], { allowFail: true, timeoutMs: 70_000 });
    return whereIs(VIP_RSC)!;
  };
  /** When `name`'s pluto, started at or after `since`, was listening for IKE (its log). */
  function plutoReadyAt(name: string, since: number): number {
    const t = plutoLogOf(name).split('\n').filter((l) => l.includes('listening for IKE messages')).map(plutoTime).find((x) => x !== undefined && x >= since);
    if (t === undefined) throw new Error(`${name}'s pluto logged no start after ${new Date(since).toISOString()}`);
    return t;
  }
  const otherController = (not: string) => CONTROLLERS.map(([h]) => h).find((h) => h !== not)!;

  beforeAll(async () => {
    restoreAgent = installAgentForTest();
    const opts = writeInputs(scratch.dir, { inventory, networkData });
    const r = generate(opts);
    writeOutputTreeSync(opts.outDir, r.eachFile());
    // This machine's kernel cannot install ESP, and corosync runs on the tunnelled
    // network: the responder ends' trap policies (auto=route) would catch the
    // cluster's own traffic and hold it for Child SAs that can never be installed,
    // so the cluster could not form. Here the cluster and IKE are under test; the
    // trap policies and what the tunnels carry are the data-plane guest's
    // (test/dataplane, a kernel with ESP).
    for (const f of r.files.filter((x) => /\/etc\/ipsec\.d\/overcloud-[a-z_]+\.conf$/.test(x.path))) {
      writeFileSync(join(opts.outDir, f.path), f.content.replace(/\tauto=route\n/g, '\tauto=add\n'));
    }
    planFile = join(opts.outDir, 'cluster', 'pacemaker.json');
    await cluster.up(CONTROLLERS.map(([name, address]) => ({ name, address, ipsecd: join(opts.outDir, name, 'etc', 'ipsec.d') })));
    cluster.installFenceAgent();
    for (const n of cluster.nodes) {
      await cluster.startPluto(n);
      watch(n);
    }
    const ns = lab.addHost('cmp');
    lab.addAddress(ns, `${COMPUTE[1]}/24`);
    const ipsecd = join(opts.outDir, COMPUTE[0], 'etc', 'ipsec.d');
    const dir = join(scratch.dir, 'compute');
    compute = { ns, ipsecd, dir, pluto: startPluto(lab, ns, dir, ipsecd) };
    const n1 = cluster.nodes[0];
    pcs(['resource', 'defaults', 'update', 'resource-stickiness=100'], n1);
    // Fencing as production runs it: a device that really powers a node off.
    pcs(['stonith', 'create', 'fence-lab', 'fence_tripleo_lab', `labmap=${cluster.fenceMap}`, `pcmk_host_list=${CONTROLLERS.map(([h]) => h).join(' ')}`, 'pcmk_reboot_action=off', 'op', 'monitor', 'interval=60s'], n1);
    pcs(['property', 'set', 'stonith-enabled=true'], n1);
    pcs(['resource', 'create', VIP_RSC, 'ocf:heartbeat:IPaddr2', `ip=${VIP}`, 'cidr_netmask=24', 'nic=eth0', 'op', 'monitor', 'interval=10s'], n1);
    await cluster.until('VIP started', () => whereIs(VIP_RSC) !== undefined, 60_000);
    const applied = cluster.on(n1, [process.execPath, CLI, 'pacemaker', 'apply', '--plan', planFile]);
    expect(applied.stdout).toMatch(/pushed \d+ change\(s\) as one CIB update/);
    const again = cluster.on(n1, [process.execPath, CLI, 'pacemaker', 'apply', '--plan', planFile]);
    expect(again.stdout).toContain('no change');
    const holder = await newHolder(undefined, 'initial start');
    await waitAllOn(holder, ALL, 'initial start');
    await assertSettled(holder, ALL);
  }, 300_000);

  afterAll(async () => {
    await cluster.stopAll();
    lab.cleanup();
    restoreAgent?.();
    scratch.cleanup();
  }, 240_000);

  it('after start: status agrees, every node authenticated with the holder; pluto never listens for the VIP\'s tunnel on the VIP', () => {
    const { code, report } = status();
    expect(report.problems).toEqual([]);
    expect(code).toBe(0);
    const v = report.vips[0];
    expect(v).toMatchObject({ vip: 'internal_api', address: VIP, vipResource: VIP_RSC, tunnelResource: TUNNEL_RSC, agree: true });
    expect(v.peers.map((p) => [p.node, p.authenticated])).toEqual(ALL.filter((h) => h !== v.vipNode).map((h) => [h, true]));
    expect(pcs(['stonith', 'status']).stdout).toMatch(/fence-lab.*Started/);
  });

  it('pcs resource move (x3)', async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const old = holderNow();
      const target = otherController(old);
      const since = Date.now();
      pcs(['resource', 'move', VIP_RSC, target]);
      const holder = await handover('pcs resource move', old, since, ALL, 'IKE_SA_INIT + IKE_AUTH from the new holder to each peer, started by the agent\'s start');
      expect(holder).toBe(target);
      pcs(['resource', 'clear', VIP_RSC]);
    }
  }, 300_000);

  it('pcs node standby of the holder (x3): the node in standby is authenticated with the new holder too', async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const old = holderNow();
      const since = Date.now();
      pcs(['node', 'standby', old], node(otherController(old)));
      const holder = await handover('pcs node standby (holder)', old, since, ALL, 'as a move: the standby node answers with its own end, which Pacemaker never touches');
      expect(status().report.vips[0].peers.find((p) => p.node === old)?.authenticated).toBe(true);
      pcs(['node', 'unstandby', old], node(holder));
      await cluster.sleepAsync(2000);
      expect(holderNow()).toBe(holder);
      await assertSettled(holder, ALL);
    }
  }, 300_000);

  it('pcs node standby of a non-holder (x3): its tunnel with the holder is not touched at all', async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const holder = holderNow();
      const other = otherController(holder);
      const sa = vipSaSerial(other);
      pcs(['node', 'standby', other], node(holder));
      await cluster.until(`${other} in standby`, () => crmMon(node(holder))?.nodes.find((n) => n.name === other)?.standby === true, 30_000, 200);
      await cluster.sleepAsync(3000);
      expect(holderNow()).toBe(holder);
      await assertSettled(holder, ALL);
      expect(vipSaSerial(other)).toBe(sa);
      record('pcs node standby (non-holder)', 0, 'no re-authentication: the same IKE SA throughout');
      pcs(['node', 'unstandby', other], node(holder));
    }
  }, 300_000);

  it('cluster stack stopped gracefully on the holder, then started again (x3): the stopped node is authenticated with the new holder', async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const old = holderNow();
      const since = Date.now();
      await cluster.stopStack(node(old));
      const holder = await handover('cluster stop (holder)', old, since, ALL, 'as a move: Pacemaker stops the tunnel (IKE Deletes) and the VIP before it stops itself');
      await cluster.rejoin(node(old));
      await cluster.until(`${old} online again`, allOnline, 120_000, 500);
      expect(holderNow()).toBe(holder);
      await assertSettled(holder, ALL);
    }
  }, 600_000);

  it('cluster stack stopped gracefully on a non-holder, then started again (x3): its tunnel is not touched', async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const holder = holderNow();
      const other = otherController(holder);
      const sa = vipSaSerial(other);
      await cluster.stopStack(node(other));
      await cluster.sleepAsync(2000);
      await assertSettled(holder, ALL);
      await cluster.rejoin(node(other));
      await cluster.until(`${other} online again`, allOnline, 120_000, 500);
      expect(holderNow()).toBe(holder);
      await assertSettled(holder, ALL);
      expect(vipSaSerial(other)).toBe(sa);
      record('cluster stop + start (non-holder)', 0, 'no re-authentication: the same IKE SA throughout');
    }
  }, 600_000);

  it('holder crash with fencing (x3): the survivors fence it (its pluto dies with it), every peer re-authenticates with the new holder; status names the fenced node until it boots', async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const old = holderNow();
      const crashed = node(old);
      const since = Date.now();
      process.kill(crashed.corosyncPid!, 'SIGKILL');
      const survivors = ALL.filter((h) => h !== old);
      const holder = await handover('holder crash, fenced', old, since, survivors, 'fencing first (Pacemaker starts the VIP only once the node is off), then as a move; the dead holder sent no Delete: the new holder\'s IKE_AUTH replaces its SA on each peer (uniqueids)');
      expect(vipHolders()).toEqual([holder]);
      expect(plutoAlive(old)).toBe(false);
      const st = status();
      expect(st.code).toBe(1);
      expect(st.report.problems).toContain(`${old} holds no authenticated tunnel with the internal_api VIP ${VIP} on its holder ${holder}`);
      // The node boots: address, pluto, cluster stack. The holder's end towards it has been retransmitting.
      const booting = Date.now();
      await cluster.boot(crashed);
      watch(crashed); // its address monitor died with the rest of the node
      await waitAllOn(holder, ALL, 'fenced node back');
      const answered = plutoReadyAt(old, booting);
      record('fenced node booted: its pluto listening -> authenticated', (lastAuthAt(holder, [old], answered) - answered) / 1000, 'the holder\'s IKE_SA_INIT retransmission schedule (0.5 s doubling, up to 32 s) towards the node that was off');
      await cluster.until(`${old} online again`, allOnline, 120_000, 500);
      await assertSettled(holderNow(), ALL);
      // Nothing about the VIP is left. The node-to-node mesh is another matter on this
      // ESP-less kernel: a peer that initiates to the rebooted node keeps its stale SA
      // (no Child SA, so no DPD to notice; the data-plane guest measures DPD's 65 s).
      const after = status().report.problems;
      const mesh = after.filter((p) => /: tunnel overcloud-internal_api-to-overcloud-\S+ has no established IKE SA$/.test(p));
      if (mesh.length) console.log(`after the fenced node booted, mesh tunnels not yet re-established (no DPD without ESP): ${mesh.join('; ')}`);
      expect(after.filter((p) => !mesh.includes(p))).toEqual([]);
    }
  }, 900_000);

  it('holder crash without fencing (x3): the survivors take the VIP over; once the crashed node rejoins, one VIP and every node on it', async () => {
    pcs(['property', 'set', 'stonith-enabled=false']);
    try {
      for (let i = 0; i < ROUNDS; i++) {
        const old = holderNow();
        const crashed = node(old);
        const since = Date.now();
        process.kill(crashed.corosyncPid!, 'SIGKILL');
        // Unfenced, the crashed node keeps its VIP and its pluto (docs/FACTS.md): split brain, which is what fencing is for.
        const survivors = ALL.filter((h) => h !== old);
        await handover('holder crash, no fencing', old, since, survivors, 'as a move once the survivors start the VIP; the crashed node still holds the VIP as well (no fencing)');
        expect(plutoAlive(old)).toBe(true);
        const t1 = Date.now();
        await cluster.rejoin(crashed);
        // Pacemaker finds the VIP and the tunnel active twice, stops both everywhere, starts them once.
        let final = '';
        await cluster.until('one VIP, one tunnel, every node authenticated there', () => {
          const v = whereIs(VIP_RSC);
          if (!v || whereIs(TUNNEL_RSC) !== v || vipHolders().length !== 1) return false;
          final = v;
          return missing(v, ALL).length === 0;
        }, 180_000, 200);
        record('rejoin after an unfenced crash', (Date.now() - t1) / 1000, 'corosync/Pacemaker rejoin and the recovery of the doubly active VIP (stop both, start one), polled every 0.2 s');
        await assertSettled(final, ALL);
      }
    } finally {
      pcs(['property', 'set', 'stonith-enabled=true']);
    }
  }, 900_000);

  it('pluto restarted on the holder (x3): it starts the VIP\'s ends itself, without waiting for the agent\'s monitor', async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const holder = holderNow();
      await cluster.stopPluto(node(holder));
      const starting = Date.now();
      await cluster.startPluto(node(holder));
      await waitAllOn(holder, ALL, 'pluto restarted on the holder');
      const answered = plutoReadyAt(holder, starting);
      record('pluto restart (holder): listening -> last peer', (lastAuthAt(holder, ALL, answered) - answered) / 1000, 'pluto loading auto=start conns from the link in /run/tripleo-ipsec at its start');
      await assertSettled(holder, ALL);
    }
  }, 300_000);

  it('pluto restarted on a peer (x3): the holder re-initiates at once', async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const holder = holderNow();
      stopPluto(compute.pluto);
      const starting = Date.now();
      compute.pluto = startPluto(lab, compute.ns, compute.dir, compute.ipsecd);
      await waitAllOn(holder, ALL, 'pluto restarted on the compute');
      const answered = plutoReadyAt(COMPUTE[0], starting);
      record('pluto restart (compute): listening -> authenticated', (lastAuthAt(holder, [COMPUTE[0]], answered) - answered) / 1000, 'the holder\'s next IKE_SA_INIT retransmission (it re-initiated when the compute\'s pluto went away)');
      await assertSettled(holder, ALL);
    }
  }, 300_000);

  it('the whole cluster stopped and started (x3): every node authenticated with wherever the VIP starts', async () => {
    for (let i = 0; i < ROUNDS; i++) {
      await Promise.all(cluster.nodes.map((n) => cluster.stopStack(n)));
      expect(vipHolders()).toEqual([]);
      const since = Date.now();
      await cluster.startAll();
      await handover('whole cluster stop + start', undefined, since, ALL, 'as a move once Pacemaker starts the VIP (corosync and Pacemaker start-up not counted)');
    }
  }, 900_000);

  it('a start that runs out of time (the new holder\'s pluto hung): the VIP goes with its tunnel to a node where it starts, and comes back after failure-timeout, with no operator', async () => {
    const old = holderNow();
    const target = otherController(old);
        const t = node(target);
    const timeoutS = JSON.parse(readFileSync(planFile, 'utf8')).resources[0].startTimeout as number;
    process.kill(t.plutoPid!, 'SIGSTOP');
    let resumed = false;
    try {
      // Banned from the old holder and preferred on the target, constraints kept (as an operator's move, or a failed node).
      pcs(['resource', 'move-with-constraint', VIP_RSC, target]);
      // The VIP moves; the tunnel's start there answers at its timeout (less the agent's reserve) and fails.
      await cluster.until('the start on the hung pluto to fail', () => (crmMon()?.failures ?? []).some((x) => x.resource === TUNNEL_RSC && x.task === 'start'), (timeoutS + 30) * 1000, 500);
      const failedAt = Date.now();
      // Pluto answers again before the recovery's stop needs it (a stop a hung pluto never answers fails,
      // and a failed stop is fenced: Pacemaker's rule for a node whose state is unknown).
      process.kill(t.plutoPid!, 'SIGCONT');
      resumed = true;
      // The tunnel cannot start on the target now (its start failed), and the colocation draws the VIP
      // to where it can (its influence outweighs the move's preference): another controller.
      const elsewhere = () => {
        const v = whereIs(VIP_RSC);
        return v !== undefined && v !== target && whereIs(TUNNEL_RSC) === v ? v : undefined;
      };
      await cluster.until('the VIP and its tunnel together on another controller', () => elsewhere() !== undefined, 60_000, 500);
      await waitAllOn(elsewhere()!, ALL, 'after the failed start', 60_000);
      // No cleanup: failure-timeout (60 s) expires the failure, and the move's preference brings both back.
      await cluster.until('the VIP and its tunnel back on the target', () => whereIs(VIP_RSC) === target && whereIs(TUNNEL_RSC) === target, 150_000, 500);
      const after = (Date.now() - failedAt) / 1000;
      console.log(`e2e: the target took the VIP and its tunnel again ${after.toFixed(1)} s after the failed start (failure-timeout 60 s)`);
      expect(after).toBeGreaterThan(50);
      await waitAllOn(target, ALL, 'after the failure expired', 60_000);
      await assertSettled(target, ALL);
    } finally {
      if (!resumed) process.kill(t.plutoPid!, 'SIGCONT');
      pcs(['resource', 'clear', VIP_RSC]);
    }
  }, 400_000);

  it("the switch from the Ansible role in the running cluster: its resource (resource-agents' ocf:heartbeat:ipsec, made as its tasks made it) is refused without --upgrade and replaced, constraints and all, by --upgrade; the VIP stays where it is; every node authenticated with the holder", async () => {
    const holder = holderNow();
    const n1 = node(holder);
    const vipEvents = () => readFileSync(watchers.get(holder)!.file, 'utf8').split('\n').filter((l) => l.includes(` ${VIP}/`)).length;
    // A cluster the role deployed never had ours: taken out first.
    const removed = cluster.on(n1, [process.execPath, CLI, 'pacemaker', 'remove', '--plan', planFile]);
    expect(removed.status, removed.stderr).toBe(0);
    await cluster.until('our tunnel resource gone', () => !pcs(['resource', 'config'], n1).stdout.includes(TUNNEL_RSC), 60_000, 500);
    // As the role's tasks/resource-agent.yml made it (openstack-archive/tripleo-ipsec): its agent, a colocation, two orders.
    pcs(['resource', 'create', TUNNEL_RSC, 'ocf:heartbeat:ipsec', `tunnel=${TUNNEL}`, `vip=${VIP}`, 'fallbacktunnel=overcloud-internal_api-node-to-vip-tunnel', '--disabled'], n1);
    pcs(['constraint', 'colocation', 'add', TUNNEL_RSC, 'with', VIP_RSC], n1);
    pcs(['constraint', 'order', 'start', VIP_RSC, 'then', 'start', TUNNEL_RSC, 'symmetrical=false'], n1);
    pcs(['constraint', 'order', 'stop', VIP_RSC, 'then', 'stop', TUNNEL_RSC, 'symmetrical=false'], n1);
    pcs(['resource', 'enable', TUNNEL_RSC], n1);
    await cluster.until("the role's resource started with the VIP", () => whereIs(TUNNEL_RSC) === holder, 60_000, 500);
    const roleConstraints = pcs(['constraint', '--full'], n1).stdout.match(/\(id:[^)]+\)/g)!.filter((x) => x.includes('tripleo-ipsec'));
    expect(roleConstraints.length).toBe(3);
    const eventsBefore = vipEvents();

    const refused = cluster.on(n1, [process.execPath, CLI, 'pacemaker', 'apply', '--plan', planFile], { allowFail: true });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/exists with agent ocf:heartbeat:ipsec, not ocf:tripleo:ipsec: remove it first/);
    const up = cluster.on(n1, [process.execPath, CLI, 'pacemaker', 'apply', '--upgrade', '--plan', planFile]);
    expect(up.stdout).toMatch(/pushed \d+ change\(s\) as one CIB update/);
    await cluster.until('ours started with the VIP', () => whereIs(TUNNEL_RSC) === holder && pcs(['resource', 'config', TUNNEL_RSC], n1).stdout.includes('class=ocf provider=tripleo type=ipsec'), 60_000, 500);
    await waitAllOn(holder, ALL, 'after the switch from the role', 60_000);
    await assertSettled(holder, ALL);
    // The role's constraints went with its resource; the VIP never left its node (no address event there).
    const after = pcs(['constraint', '--full'], n1).stdout;
    for (const c of roleConstraints) expect(after).not.toContain(c);
    expect(whereIs(VIP_RSC)).toBe(holder);
    expect(vipEvents()).toBe(eventsBefore);
    expect(cluster.on(n1, [process.execPath, CLI, 'pacemaker', 'apply', '--upgrade', '--plan', planFile]).stdout).toContain('no change');
  }, 300_000);

  it('reports the timings (median of 3) and what bounds each', () => {
    const rows = Object.entries(timings).map(([k, v]) => `| ${k} | ${median(v).toFixed(3)} | ${v.map((x) => x.toFixed(3)).join(', ')} | ${bounds[k]} |`);
    console.log(['e2e VIP continuity (s; VIP up on the new holder -> last node authenticated there):', '| transition | median | runs | bounded by |', '|---|---:|---|---|', ...rows].join('\n'));
    // npm run bench -- --e2e collects them from here
    if (process.env.TI_E2E_TIMINGS) writeFileSync(process.env.TI_E2E_TIMINGS, JSON.stringify({ timings, bounds }, null, 2));
    for (const v of Object.values(timings)) expect(v).toHaveLength(ROUNDS);
    expect(existsSync(planFile)).toBe(true);
  });
});
