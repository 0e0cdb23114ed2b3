// The everyday events of a node, on a kernel with ESP: a reboot, a pluto
// crash restarted as ipsec.service restarts it, and `ipsec restart`, each on
// a node of every kind (the lowest address, which initiates all its pairs;
// the highest, which answers all of them; the VIP holder; a compute that is
// a VIP peer). Through each event: a capture on the bridge (nothing in clear
// between the nodes' addresses, ever), pings between two other nodes (no
// loss), to and from the node (its downtime plus one exchange); after it,
// every node shows the guide's lines with exactly its tunnel count, and still
// does a while later. tidy runs as its timer does on every node.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataplaneOvercloud, readCapture, smallSampleInventory } from '../helpers/dataplane.js';
import { scratchDir } from '../helpers/inputs.js';
import { runAgentAsync } from '../helpers/agent.js';
import { sh, shAsync } from '../helpers/netns.js';
import { alive, waitFor } from '../helpers/pluto.js';
import { recordMeasurement, startPinger, type PingRecord } from './support.js';

const CLI = join(__dirname, '..', '..', 'bin', 'tripleo-ipsec');
const C0 = 'overcloud-controller-0';
const C1 = 'overcloud-controller-1';
const COMPUTE = 'overcloud-novacompute-0';
const CEPH = 'overcloud-cephstorage-0';
/** Every VIP on one controller, so the lowest-address node holds none and each kind is one node. */
const HOLDERS = { internal_api: C1, redis: C1, storage: C1, storage_mgmt: C1 };
const KIND: Record<string, string> = {
  [C0]: 'lowest address, initiates all its pairs',
  [C1]: 'VIP holder',
  [COMPUTE]: 'compute, a VIP peer',
  [CEPH]: 'highest address, answers all its pairs',
};
/** How long a rebooted node is away (addresses gone) in the lab; a real one is away for minutes. */
const DOWN_S = 10;
/**
 * The restarted pluto's start to every node exact, tidy rounds included. Measured in the guest (TCG,
 * 2026-12-07): crashes 71-109 s and reboots 60-75 s (the peers' liveness probes take 65 s), set with
 * room; `ipsec restart` 23-238 s: its Deletes make the peers initiate while it is down, its own start
 * crosses with them, and a peer's answer to the negotiation it dropped stays half-open until pluto
 * 4.10's fixed 200 s discard (nothing deletes it sooner: --deletestate refuses a half-open IKE SA).
 */
const EXACT_BOUND_S: Record<Event, number> = { crash: 240, reboot: 240, 'ipsec restart': 300 };
/** Still exact this long after (and 2 minutes after the last event). */
const HOLD_S = 20;

type Event = 'crash' | 'ipsec restart' | 'reboot';
// CI runs the two events that stress the most: the crash of the node that initiates all its pairs,
// with ipsec.service's flush (every node exact 71-79 s after in the guest; 144-419 s before the VIP
// holder's ends cleared instead of restarting every conn with the peer), and the VIP holder's reboot
// (its VIPs move; every node exact about a minute after its pluto starts).
// DATAPLANE_REBOOT_MATRIX=full runs all twelve, every event on every kind.
const CI_EVENTS: [Event, string][] = [['crash', C0], ['reboot', C1]];
const FULL_EVENTS: [Event, string][] = [
  ...(['crash', 'ipsec restart'] as Event[]).flatMap((e) => [C0, C1, COMPUTE, CEPH].map((n): [Event, string] => [e, n])),
  ['reboot', CEPH],
  ['reboot', COMPUTE],
  ['reboot', C0],
  ['reboot', C1],
];
/** DATAPLANE_REBOOT_EVENTS=crash@overcloud-controller-0,restart@... runs just those (to study one event). */
const chosenEvents = (spec: string): [Event, string][] =>
  spec.split(',').map((e) => {
    const [what, node] = e.split('@');
    const event = (what === 'restart' ? 'ipsec restart' : what) as Event;
    if (!['crash', 'ipsec restart', 'reboot'].includes(event) || !KIND[node]) throw new Error(`DATAPLANE_REBOOT_EVENTS: ${JSON.stringify(e)} is not EVENT@NODE (crash, restart or reboot at one of ${Object.keys(KIND).join(', ')})`);
    return [event, node];
  });
const EVENTS = process.env.DATAPLANE_REBOOT_EVENTS ? chosenEvents(process.env.DATAPLANE_REBOOT_EVENTS) : process.env.DATAPLANE_REBOOT_MATRIX === 'full' ? FULL_EVENTS : CI_EVENTS;

describe('reboots, crashes and restarts: exactly its tunnels after each, nothing in clear during any', () => {
  const scratch = scratchDir();
  let oc: DataplaneOvercloud;
  const table: Record<string, unknown>[] = [];

  const everyNode = () => [...oc.nodes.keys()];
  const unsettled = () => everyNode().filter((n) => !oc.settled(n));
  /** Every address of a node or a VIP: a packet between two of them must be IKE, ESP, ARP or neighbour discovery. */
  const isolated = () => new Set([...oc.o.nodes.flatMap((n) => Object.entries(n.addresses).filter(([net]) => oc.o.networks.some((x) => x.name === net)).map(([, a]) => a)), ...oc.o.vips.map((v) => v.address)]);
  const sharedNetwork = (a: string, b: string) => oc.o.networks.find((net) => oc.o.nodes.find((n) => n.name === a)!.addresses[net.name] && oc.o.nodes.find((n) => n.name === b)!.addresses[net.name]);
  const addressOn = (node: string, net: string) => oc.o.nodes.find((n) => n.name === node)!.addresses[net];
  const holdersOf = (node: string) => Object.entries(oc.opts.holders).filter(([, h]) => h === node).map(([v]) => v);

  /**
   * tidy on every node, as tripleo-ipsec-tidy.timer runs it (every minute there; every 20 s here, to
   * keep the suite short), until every node is exact or `deadline`. Some leftovers are only for tidy
   * once the peers' liveness probes have cleared what the restarted node forgot (60 s).
   */
  async function tidyUntilExact(deadline: number): Promise<{ deleted: number; rounds: number }> {
    let deleted = 0;
    let rounds = 0;
    while (unsettled().length && Date.now() < deadline) {
      rounds++;
      for (const name of everyNode()) {
        const n = oc.nodes.get(name)!;
        const r = await shAsync('ip', ['netns', 'exec', n.ns, process.execPath, CLI, 'tidy', '--ctlsocket', n.pluto!.ctl, '--ipsecdir', n.ipsecdir, '--rundir', n.pluto!.agentRun], { timeoutMs: 150_000 });
        expect(r.stderr, name).toBe('');
        expect(r.status, name).toBe(0);
        const lines = r.stdout.split('\n').filter((l) => /^deleted stale (IKE|Child) SA #/.test(l));
        const initiated = r.stdout.split('\n').filter((l) => /^(initiated|rekeyed) /.test(l));
        if (lines.length + initiated.length) console.log(`tidy on ${name}: ${[...lines, ...initiated].join('; ')}`);
        deleted += lines.length;
      }
      await waitFor('every node exact after tidy', () => unsettled().length === 0, 20_000, 1000).catch(() => undefined);
    }
    return { deleted, rounds };
  }

  /**
   * One ping a second from `node` to each of its peers on every network it
   * shares with them, whatever the node's state (a shell loop: a ping whose
   * source address is gone ends, the next one starts when it is back).
   */
  function startOwnTraffic(node: string): { stop: () => void } {
    const me = oc.o.nodes.find((n) => n.name === node)!;
    const targets = oc.o.networks.flatMap((net) => (me.addresses[net.name] ? oc.o.nodes.filter((p) => p !== me && p.addresses[net.name]).map((p) => `${me.addresses[net.name]} ${p.addresses[net.name]}`) : []));
    // One long-lived ping per peer (process starts are dear under TCG), started again when it ends.
    const script = `${targets.map((t) => `(while :; do ping -n -q -i 1 -I ${t} >/dev/null 2>&1; sleep 1; done) &`).join('\n')}\nwait`;
    const proc = spawn('ip', ['netns', 'exec', oc.nodes.get(node)!.ns, 'sh', '-c', script], { stdio: 'ignore', detached: true });
    const kill = () => {
      try {
        process.kill(-proc.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    };
    oc.lab.onCleanup(kill);
    return { stop: kill };
  }

  /** ipsec.service's stop: pluto's shutdown (it sends every peer a Delete), then the flush of what it left in the kernel. */
  async function stopGracefully(name: string) {
    const n = oc.nodes.get(name)!;
    spawnSync('ip', ['netns', 'exec', n.ns, '/usr/libexec/ipsec/whack', '--ctlsocket', n.pluto!.ctl, '--shutdown'], { timeout: 60_000 });
    await waitFor(`${name}'s pluto to shut down`, () => !alive(n.pluto!.pid), 60_000, 100);
  }

  beforeAll(async () => {
    oc = new DataplaneOvercloud(scratch.dir, { inventoryPath: smallSampleInventory(scratch.dir), holders: { ...HOLDERS } });
    expect(oc.o.vars.ipsec_policy).toBe('private');
    // What apply installs on every node, the peer guard included (tripleo-ipsec-firewall.service puts it back at boot).
    oc.installFirewall();
    oc.startPlutos();
    await oc.startVipTunnels();
    await oc.waitSettled(300_000);
  }, 420_000);

  afterAll(() => {
    if (table.length) console.log(`reboot matrix (guest, TCG):\n${table.map((r) => JSON.stringify(r)).join('\n')}`);
    oc?.stopAll();
    scratch.cleanup();
  });

  for (const [event, node] of EVENTS) {
    it(`${event} of ${node} (${KIND[node]}): every node exact within ${EXACT_BOUND_S[event]} s and still so ${HOLD_S} s later; nothing in clear; no loss between others`, async () => {
      // What the previous event left is tidied as the timer would, first.
      await tidyUntilExact(Date.now() + 180_000);
      expect(unsettled(), `not exact before the event\n${oc.table()}`).toEqual([]);
      const holdsVips = holdersOf(node);
      const others = everyNode().filter((n) => n !== node);
      // Two other nodes on one network; a peer of the node; a node away from the holder pinging a VIP.
      const [a, b] = others.flatMap((x) => others.filter((y) => y > x && sharedNetwork(x, y)).map((y) => [x, y]))[0];
      const peer = others.find((x) => x !== C1 && sharedNetwork(x, node)) ?? others.find((x) => sharedNetwork(x, node))!;
      const vip = oc.o.vips.find((v) => v.name === 'internal_api')!;
      // Not a controller: one may be given the VIP by this very event (its own VIP is local, no tunnel to measure).
      const vipPinger = others.find((x) => !oc.o.nodes.find((n) => n.name === x)!.pacemaker && addressOn(x, vip.network));
      const capture = join(scratch.dir, `${event.replace(' ', '-')}-${node}.pcap`);
      oc.startCapture(capture);
      const betweenOthers = startPinger(oc, `between others (${a} -> ${b})`, a, addressOn(b, sharedNetwork(a, b)!.name));
      const toNode = startPinger(oc, `to the node (${peer} -> ${node})`, peer, addressOn(node, sharedNetwork(peer, node)!.name));
      const toVip = vipPinger ? startPinger(oc, `to the ${vip.name} VIP (${vipPinger})`, vipPinger, vip.address) : undefined;
      // The node's own traffic to every peer, as its services send it whatever state it is in: where a leak would come from.
      const ownTraffic = startOwnTraffic(node);
      await new Promise((r) => setTimeout(r, 2000));

      const n = oc.nodes.get(node)!;
      const t0 = Date.now();
      const say = (what: string) => console.log(`${event} of ${node}: +${((Date.now() - t0) / 1000).toFixed(1)} s ${what}`);
      if (event === 'ipsec restart') {
        await stopGracefully(node);
        oc.flushKernel(node);
      } else {
        process.kill(n.pluto!.pid, 'SIGKILL');
        await waitFor('the killed pluto to be gone', () => !alive(n.pluto!.pid), 10_000, 50);
      }
      if (event === 'reboot') {
        // Pacemaker fences the node and starts its VIPs elsewhere; the node loses its addresses, kernel state, firewall and /run.
        const next = oc.o.nodes.find((x) => x.pacemaker && x.name !== node)?.name;
        await Promise.all(holdsVips.map((v) => oc.moveVip(v, next!)));
        oc.setAddresses(node, false);
        oc.flushKernel(node);
        oc.flushFirewall(node);
        sh('sh', ['-c', `rm -rf ${n.pluto!.agentRun}/*`]);
        await new Promise((r) => setTimeout(r, DOWN_S * 1000));
        // Boot: tripleo-ipsec-firewall.service (before network-pre.target), the network, then ipsec.service (its start
        // flushes, then pluto). With the addresses first, its own pings and an ICMP port unreachable for IKE left in clear.
        oc.installFirewall(node);
        oc.setAddresses(node, true);
        oc.flushKernel(node);
      } else if (event === 'crash') {
        // systemd's Restart=on-failure runs ipsec.service's start again: its flush "in case pluto crashed", then pluto.
        oc.flushKernel(node);
      }
      oc.restartPluto(node);
      const up = Date.now();
      say('pluto started');
      // A holder's ends come back from the rundir link (pluto includes it): Pacemaker's next monitor finds them loaded.
      if (event !== 'reboot') {
        for (const v of holdsVips) {
          const m = await runAgentAsync(n.ns, 'monitor', oc.agentParams(v), { OCF_CHECK_LEVEL: '0' });
          expect(m.code, `monitor of ${v} on ${node}: ${m.reason ?? m.stderr}`).toBe(0);
        }
      }

      await waitFor('traffic to and from the node', () => oc.ping(peer, addressOn(node, sharedNetwork(peer, node)!.name), { count: 1 }).status === 0, 120_000, 500);
      say('traffic to the node flows');
      const tidy = await tidyUntilExact(up + (EXACT_BOUND_S[event] - 20) * 1000);
      say(`every node exact after ${tidy.rounds} round(s) of tidy, ${tidy.deleted} stale SA(s) deleted`);
      const exactS = (Date.now() - up) / 1000;
      if (unsettled().length) console.log(`NOT EXACT after ${exactS} s:\n${oc.table()}\n${unsettled().map((x) => `${x}:\n${oc.showStates(x)}`).join('\n')}\n${oc.diagnose(node, 60)}`);
      expect(unsettled(), `not exact after ${tidy.rounds} rounds of tidy\n${oc.table()}\n${oc.diagnose(node, 60)}`).toEqual([]);
      await new Promise((r) => setTimeout(r, HOLD_S * 1000));
      expect(unsettled(), `not exact ${HOLD_S} s later\n${oc.table()}`).toEqual([]);

      const pings: PingRecord[] = [await betweenOthers.stop(), await toNode.stop(), ...(toVip ? [await toVip.stop()] : [])];
      ownTraffic.stop();
      await oc.stopCapture();
      const pkts = readCapture(capture);
      const addrs = isolated();
      const clear = pkts.filter((p) => !['ike', 'esp', 'arp', 'nd'].includes(p.kind) && addrs.has(p.src) && addrs.has(p.dst));
      const esp = pkts.filter((p) => p.kind === 'esp').length;
      const row = {
        event,
        node,
        kind: KIND[node],
        downS: (up - t0) / 1000,
        exactAfterS: exactS,
        tidy,
        lossS: Object.fromEntries(pings.map((p) => [p.what, Math.round(p.lost.length * 2) / 10])),
        longestGapS: Object.fromEntries(pings.map((p) => [p.what, p.longestGapS])),
        clear: clear.length,
        esp,
      };
      table.push(row);
      console.log(`${event} of ${node}: ${JSON.stringify(row)}\n${oc.table()}`);
      recordMeasurement(`${event} ${node}`, row);

      expect(clear.map((p) => p.line).slice(0, 5), 'packets in clear between isolated addresses').toEqual([]);
      expect(esp, 'the capture saw the tunnels').toBeGreaterThan(20);
      expect(exactS).toBeLessThan(EXACT_BOUND_S[event]);
      expect(pings[0].lost, pings[0].what).toEqual([]);
      // A VIP on another node is not touched by this node's event.
      if (pings[2] && !holdsVips.includes('internal_api')) expect(pings[2].lost, pings[2].what).toEqual([]);
      expect(oc.plutoFailures()).toEqual([]);
      expect(oc.deadPlutos()).toEqual([]);
    }, (EXACT_BOUND_S[event] + HOLD_S + DOWN_S + 360) * 1000);
  }

  it('two minutes after the last event, every node still shows exactly its tunnels', async () => {
    await new Promise((r) => setTimeout(r, 120_000));
    expect(unsettled(), oc.table()).toEqual([]);
  }, 180_000);

  it('control: with the peer guard taken out, a node whose kernel lost its policies does send in clear (the capture sees a leak when there is one)', async () => {
    const node = CEPH;
    const peer = oc.o.nodes.find((n) => n.name !== node && sharedNetwork(n.name, node))!.name;
    const to = addressOn(peer, sharedNetwork(peer, node)!.name);
    const ns = oc.nodes.get(node)!.ns;
    for (const tool of ['iptables', 'ip6tables']) sh('ip', ['netns', 'exec', ns, tool, '-D', 'OUTPUT', '-j', 'TRIPLEO-IPSEC-OUT']);
    const capture = join(scratch.dir, 'control.pcap');
    oc.startCapture(capture);
    // What ipsec.service's flush does to a running node's kernel; pluto does not put the policies back by itself.
    oc.flushKernel(node);
    const r = oc.ping(node, to, { count: 3 });
    await oc.stopCapture();
    const clear = readCapture(capture).filter((p) => p.kind === 'other' && / ICMP /.test(p.line) && [p.src, p.dst].includes(to));
    console.log(`control: ping ${node} -> ${to} exit ${r.status}; ${clear.length} ICMP packets in clear on the bridge`);
    expect(clear.length).toBeGreaterThanOrEqual(3);
  }, 60_000);
});
