// A generated overcloud on a kernel with ESP (the data-plane guest): one
// namespace and one pluto per node on a shared bridge, the VIPs on their
// holders with the real ocf:tripleo:ipsec agent doing what Pacemaker makes it
// do, and the facts the operator checks: per node the guide's two SA lines
// against the tunnels the plan gives that node.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { generate, type GenerateResult } from '../../src/generate.js';
import { writeOutputTreeSync } from '../../src/output/outputTree.js';
import { checkEsp } from '../../src/libreswan/algparse.js';
import { parsePlutoStatus, type PlutoStatus } from '../../src/libreswan/whackStatus.js';
import { connNames, fileNames, nodePaths } from '../../src/model/names.js';
import { IPTABLES_JUMPS } from '../../src/render/firewall.js';
import type { Overcloud } from '../../src/model/types.js';
import { inSubnet, parseAddress, parseCidr } from '../../src/model/addresses.js';
import { runAgentAsync } from './agent.js';
import { Lab, sh, shAsync } from './netns.js';
import { prefixOf, type NodeLab } from './overcloudLab.js';
import { alive, DeadPluto, plutoDeath, plutoLog, startPluto, stopPluto, waitFor, waitStartupLoad, whack } from './pluto.js';
import { TEST_PSK } from './inputs.js';

export const SAMPLE = join(__dirname, '..', '..', 'examples', 'sample-overcloud');

/** The sample's VIPs on two controllers (one IPv6 VIP among them), as the data-plane tests place them. */
export const SAMPLE_VIP_HOLDERS = { internal_api: 'overcloud-controller-0', redis: 'overcloud-controller-0', storage: 'overcloud-controller-1', storage_mgmt: 'overcloud-controller-1' };

/**
 * What to run. `variant` rewrites the generated files to measure a cause:
 * 'shipped' as generated; 'both-initiate' every node-to-node conn auto=start
 * at both ends (the configuration before the fix) with uniqueids=yes;
 * 'both-initiate-uniqueids-no' the same with uniqueids=no, as it shipped.
 */
export interface DataplaneOptions {
  inventoryPath?: string;
  networkDataPath?: string;
  vars?: Record<string, unknown>;
  /** VIP name -> node holding it. */
  holders: Record<string, string>;
  variant?: 'shipped' | 'both-initiate' | 'both-initiate-uniqueids-no';
  caCreate?: boolean;
}

/** `source`: ping from this address (a VIP the node holds, say) instead of the node's own on that network. */
export interface PingOptions {
  count?: number;
  size?: number;
  df?: boolean;
  source?: string;
}

export interface SaLine {
  ike: { total: number; halfOpen: number; open: number; authenticated: number };
  ipsec: { total: number; authenticated: number };
}

export class DataplaneOvercloud {
  readonly lab = new Lab('dp');
  result: GenerateResult;
  readonly o: Overcloud;
  readonly nodes = new Map<string, NodeLab>();
  readonly outDir: string;
  plutoStartedAt = 0;
  private captures: { proc: ChildProcess; file: string }[] = [];

  constructor(
    readonly dir: string,
    readonly opts: DataplaneOptions,
  ) {
    this.outDir = join(dir, 'out');
    this.result = this.generateTrees({});
    this.o = this.result.overcloud;
    if (opts.variant && opts.variant !== 'shipped') this.rewriteBothInitiate();
    this.o.nodes.forEach((n, i) => {
      const ns = this.lab.addHost(`n${i}`);
      for (const [net, addr] of Object.entries(n.addresses)) this.lab.addAddress(ns, `${addr}/${prefixOf(this.o, net, addr)}`);
      this.nodes.set(n.name, { name: n.name, ns, ipsecdir: join(this.outDir, n.name, 'etc', 'ipsec.d') });
    });
    for (const v of this.o.vips) {
      const h = opts.holders[v.name];
      if (!h || !this.nodes.has(h)) throw new Error(`test setup: VIP ${v.name} needs a holder (have ${Object.keys(opts.holders).join(', ')})`);
      this.lab.addAddress(this.nodes.get(h)!.ns, `${v.address}/${prefixOf(this.o, v.network, v.address)}`);
    }
  }

  /** Generate every host's tree with these IpsecVars over the defaults, where the plutos read them. */
  private generateTrees(vars: Record<string, unknown>): GenerateResult {
    const env = join(this.dir, 'env.yaml');
    writeFileSync(env, stringify({ parameter_defaults: { IpsecVars: { ipsec_psk: TEST_PSK, ...this.opts.vars, ...vars } } }));
    const r = generate({
      inventoryPath: this.opts.inventoryPath ?? join(SAMPLE, 'inventory.yaml'),
      networkDataPath: this.opts.networkDataPath ?? join(SAMPLE, 'network_data.yaml'),
      envPaths: [env],
      sets: [],
      outDir: this.outDir,
      hosts: [],
      checkAlgorithm: checkEsp,
      ...(this.opts.caCreate ? { caCreate: true } : {}),
    });
    writeOutputTreeSync(this.outDir, r.files);
    return r;
  }

  /** The same overcloud generated again with other IpsecVars (a rotated PSK), over the trees the running plutos read. */
  regenerate(vars: Record<string, unknown>): GenerateResult {
    this.result = this.generateTrees(vars);
    return this.result;
  }

  private rewriteBothInitiate() {
    for (const n of this.o.nodes) {
      const d = join(this.outDir, n.name, 'etc', 'ipsec.d');
      for (const f of readdirSync(d).filter((x) => /^overcloud-[a-z0-9_]+\.conf$/.test(x) && !x.includes('-vip'))) {
        const p = join(d, f);
        writeFileSync(p, readFileSync(p, 'utf8').replace(/\tauto=route/g, '\tauto=start').replace(/\tdpdaction=clear/g, '\tdpdaction=restart'));
      }
    }
  }

  /**
   * What apply installs on every node: the generated chains (iptables-restore
   * --noflush) and their jumps from INPUT and OUTPUT; the OUTPUT one holds the
   * ipsec_policy private guard that drops VIP traffic no IPsec policy covers.
   */
  installFirewall(only?: string) {
    for (const n of this.o.nodes.filter((x) => !only || x.name === only)) {
      for (const family of [4, 6] as const) {
        const tool = family === 4 ? 'iptables' : 'ip6tables';
        let text: string;
        try {
          text = readFileSync(join(this.outDir, n.name, nodePaths.firewallDir, fileNames.iptables(family)), 'utf8');
        } catch {
          continue;
        }
        const ns = this.nodes.get(n.name)!.ns;
        sh('ip', ['netns', 'exec', ns, `${tool}-restore`, '--noflush'], { input: text });
        for (const j of IPTABLES_JUMPS) sh('ip', ['netns', 'exec', ns, tool, '-I', j.from, '-j', j.chain]);
      }
    }
  }

  /** Start every pluto at once (deploy step 1 runs on all nodes together). */
  /** config setup lines for every pluto of this run. */
  private get plutoSetup(): string {
    return this.opts.variant === 'both-initiate-uniqueids-no' ? '\tuniqueids=no\n' : '';
  }

  startPlutos() {
    if (this.o.vars.ipsec_auth === 'cert') {
      // What apply --cert-bundle does on each node: the generated import script fills pluto's NSS database.
      for (const n of this.nodes.values()) {
        const nss = join(this.dir, 'pluto', n.name, 'nss');
        mkdirSync(nss, { recursive: true });
        sh('bash', [join(this.outDir, n.name, 'var/lib/tripleo-ipsec/import-certs.sh'), nss], { timeoutMs: 120_000 });
      }
    }
    this.plutoStartedAt = Date.now();
    for (const n of this.nodes.values()) n.pluto = startPluto(this.lab, n.ns, join(this.dir, 'pluto', n.name), n.ipsecdir, this.plutoSetup);
  }

  /**
   * Start a node's pluto again after it was killed: its stale pid file and
   * socket go first. The kernel keeps the dead pluto's SAs and policies here;
   * ipsec.service would flush them (_stackmanager start, "in case pluto
   * crashed"), and with that flush an initiator's crash ended in crossing
   * duplicates after both ends' liveness probes (README, known limits).
   */
  restartPluto(name: string) {
    const n = this.nodes.get(name)!;
    if (alive(n.pluto!.pid)) throw new Error(`pluto of ${name} is still running`);
    for (const f of ['pluto.pid', 'pluto.ctl']) rmSync(join(n.pluto!.dir, 'run', f), { force: true });
    n.pluto = startPluto(this.lab, n.ns, n.pluto!.dir, n.ipsecdir, this.plutoSetup);
  }

  /**
   * What Pacemaker does: the agent's start where each VIP is (nothing runs on
   * the other nodes). The first start, as at deploy step 3, comes after step
   * 1's node-to-node tunnels are up: on hardware they take well under a
   * second; under TCG a mesh still negotiating kept a holder's pluto from
   * answering its agent's whacks for 7-15 s each, and CI's start ran out of
   * its 60 s. A VIP move (`only`) happens whatever the mesh is doing.
   */
  async startVipTunnels(only?: string): Promise<void> {
    if (!only) await this.waitNodeMesh(300_000);
    const runs: Promise<void>[] = [];
    for (const v of this.o.vips) {
      const holder = this.opts.holders[v.name];
      if (!holder || (only && holder !== only)) continue;
      const n = this.nodes.get(holder)!;
      const params = this.agentParams(v.name, holder);
      runs.push(
        (async () => {
          // As at deploy step 3: pluto has long finished loading what step 1 gave it.
          await waitStartupLoad(this.lab, n.pluto!, params.tunnel);
          console.log(`${holder}: pluto's start-up load done ${((Date.now() - this.plutoStartedAt) / 1000).toFixed(1)} s after the plutos started; agent start of ${params.tunnel}`);
          const r = await runAgentAsync(n.ns, 'start', params, { OCF_RESKEY_CRM_meta_timeout: '60000' });
          if (r.code !== 0) throw new Error(`agent start ${params.tunnel} on ${holder}: ${r.code} ${r.reason ?? r.stderr}`);
        })(),
      );
    }
    await Promise.all(runs);
  }

  /** The agent's parameters for `vip`'s tunnel on `holder`, as the generated resource sets them. */
  agentParams(vip: string, holder = this.opts.holders[vip]): Record<string, string> {
    const v = this.o.vips.find((x) => x.name === vip)!;
    const n = this.nodes.get(holder)!;
    return { tunnel: connNames.vipTunnel(v.name), vip: v.address, confdir: n.ipsecdir, rundir: n.pluto!.agentRun, ctlsocket: n.pluto!.ctl };
  }

  /** What a reboot loses, and what ipsec.service's start flushes "in case pluto crashed": the kernel's IPsec state and policies. */
  flushKernel(name: string) {
    const ns = this.nodes.get(name)!.ns;
    sh('ip', ['netns', 'exec', ns, 'ip', 'xfrm', 'state', 'flush']);
    sh('ip', ['netns', 'exec', ns, 'ip', 'xfrm', 'policy', 'flush']);
  }

  /** What a reboot loses: every firewall rule (only ours exist in the lab's namespaces). */
  flushFirewall(name: string) {
    const ns = this.nodes.get(name)!.ns;
    for (const tool of ['iptables', 'ip6tables']) for (const a of ['-F', '-X']) sh('ip', ['netns', 'exec', ns, tool, a]);
  }

  /** The node's own addresses on its networks (not the VIPs it holds): gone while it is down, back when its network comes up. */
  setAddresses(name: string, up: boolean) {
    const node = this.o.nodes.find((n) => n.name === name)!;
    const ns = this.nodes.get(name)!.ns;
    for (const [net, addr] of Object.entries(node.addresses)) {
      const cidr = `${addr}/${prefixOf(this.o, net, addr)}`;
      if (up) this.lab.addAddress(ns, cidr);
      else this.lab.delAddress(ns, cidr);
    }
  }

  /** A VIP moved as Pacemaker moves it: IPaddr2's stop and start (address, unsolicited ARP), then the agent's start on the new holder. */
  async moveVip(vip: string, to: string): Promise<void> {
    const v = this.o.vips.find((x) => x.name === vip)!;
    const from = this.opts.holders[vip];
    const cidr = `${v.address}/${prefixOf(this.o, v.network, v.address)}`;
    if (from && this.nodes.has(from)) sh('ip', ['-n', this.nodes.get(from)!.ns, 'addr', 'del', cidr, 'dev', 'eth0'], { allowFail: true });
    this.lab.addAddress(this.nodes.get(to)!.ns, cidr);
    if (v.address.includes('.')) this.lab.announce(this.nodes.get(to)!.ns, v.address, this.dir);
    this.opts.holders[vip] = to;
    const r = await runAgentAsync(this.nodes.get(to)!.ns, 'start', this.agentParams(vip, to), { OCF_RESKEY_CRM_meta_timeout: '60000' });
    if (r.code !== 0) throw new Error(`agent start ${vip} on ${to}: ${r.code} ${r.reason ?? r.stderr}`);
  }

  /** What Pacemaker's stop does where `vip` is: the holder's ends deleted (IKE Deletes), the link gone. */
  async stopVipTunnel(vip: string): Promise<void> {
    const n = this.nodes.get(this.opts.holders[vip])!;
    const r = await runAgentAsync(n.ns, 'stop', this.agentParams(vip));
    if (r.code !== 0) throw new Error(`agent stop ${vip}: ${r.code} ${r.reason ?? r.stderr}`);
  }

  status(name: string): PlutoStatus {
    const n = this.nodes.get(name)!;
    const r = whack(this.lab, n.pluto!, ['--status'], 30_000);
    return parsePlutoStatus(r.stdout);
  }

  /** pluto's state list on a node, for a failure message. */
  showStates(name: string): string {
    return whack(this.lab, this.nodes.get(name)!.pluto!, ['--showstates'], 30_000).stdout;
  }

  /** Tunnels the plan gives a node: its node-to-node conns, and per VIP on its networks one (peer) or one per other node (holder). */
  expectedTunnels(name: string): number {
    const plan = this.result.plans.find((p) => p.node.name === name)!;
    let n = this.nodeTunnels(name);
    for (const v of this.o.vips) {
      // opportunistic mode has no VIP tunnels (src/plan/tunnels.ts)
      if (!plan.node.addresses[v.network] || this.o.vars.use_opportunistic_ipsec) continue;
      n += this.opts.holders[v.name] === name ? this.o.nodes.filter((x) => x.name !== name && x.addresses[v.network]).length : 1;
    }
    return n;
  }

  saLine(name: string): SaLine {
    const s = this.status(name);
    return {
      ike: { total: s.ikeSas.total, halfOpen: s.ikeSas.halfOpen ?? 0, open: s.ikeSas.open ?? 0, authenticated: s.ikeSas.authenticated },
      ipsec: { total: s.ipsecSas.total, authenticated: s.ipsecSas.authenticated },
    };
  }

  /** The node's SA counts are exactly what the guide wants for its tunnels. */
  settled(name: string): boolean {
    const want = this.expectedTunnels(name);
    const l = this.saLine(name);
    return l.ike.total === want && l.ike.authenticated === want && l.ike.halfOpen === 0 && l.ike.open === 0 && l.ipsec.total === want && l.ipsec.authenticated === want;
  }

  table(): string {
    return [...this.nodes.keys()]
      .map((name) => {
        let l: SaLine;
        try {
          l = this.saLine(name);
        } catch (e) {
          return `${name.padEnd(26)} status unreadable (pluto ${alive(this.nodes.get(name)!.pluto!.pid) ? 'running' : 'DEAD'}): ${(e as Error).message}`;
        }
        return `${name.padEnd(26)} tunnels ${String(this.expectedTunnels(name)).padStart(2)}  IKE SAs: total(${l.ike.total}), half-open(${l.ike.halfOpen}), open(${l.ike.open}), authenticated(${l.ike.authenticated})  IPsec SAs: total(${l.ipsec.total}), authenticated(${l.ipsec.authenticated})`;
      })
      .join('\n');
  }

  /** The node-to-node part of `expectedTunnels`: the plan's conns outside the VIP files. */
  nodeTunnels(name: string): number {
    const plan = this.result.plans.find((p) => p.node.name === name)!;
    return plan.files.filter((f) => !f.confName.includes('-vip')).reduce((k, f) => k + f.conns.filter((c) => !c.name.startsWith('overcloud-clear-')).length, 0);
  }

  /** Whether a node holds exactly one established IKE SA and one Child SA per node-to-node tunnel, and nothing half-done on them. */
  nodeMeshSettled(name: string): boolean {
    const want = this.nodeTunnels(name);
    const mesh = this.status(name).states.filter((s) => !s.conn.includes('-vip'));
    const count = (kind: 'ike' | 'child') => mesh.filter((s) => s.kind === kind && s.established).length;
    return count('ike') === want && count('child') === want && mesh.every((s) => s.established || s.kind === 'other');
  }

  /** Milliseconds from pluto start until every node's node-to-node tunnels are up (deploy step 1 done). */
  async waitNodeMesh(timeoutMs: number): Promise<number> {
    const settledOrDead = () => {
      if (this.deadPlutos().length) throw new DeadPluto('a pluto died while the node-to-node tunnels came up');
      return [...this.nodes.keys()].every((n) => this.nodeMeshSettled(n));
    };
    await waitFor("every node's node-to-node tunnels", settledOrDead, timeoutMs, 1000, (e) => e instanceof DeadPluto).catch((e) => {
      throw new Error(`${(e as Error).message}\n${this.table()}\ndead plutos: ${this.deadPlutos().join(', ') || 'none'}`);
    });
    const ms = Date.now() - this.plutoStartedAt;
    console.log(`node-to-node tunnels up on every node ${(ms / 1000).toFixed(1)} s after the plutos started`);
    return ms;
  }

  /** Milliseconds from pluto start until every node is settled. */
  async waitSettled(timeoutMs: number): Promise<number> {
    // A dead pluto never settles: say so at once rather than at the deadline.
    const settledOrDead = () => {
      if (this.deadPlutos().length) throw new DeadPluto('a pluto died while waiting for every node to settle');
      return [...this.nodes.keys()].every((n) => this.settled(n));
    };
    await waitFor('every node to settle', settledOrDead, timeoutMs, 1000, (e) => e instanceof DeadPluto).catch((e) => {
      const unsettled = [...this.nodes.keys()].find((n) => {
        try {
          return !this.settled(n);
        } catch {
          return true;
        }
      });
      const look = this.deadPlutos()[0] ?? unsettled;
      const deaths = this.deadPlutos().map((n) => `${n}: ${plutoDeath(this.nodes.get(n)!.pluto!)}`);
      throw new Error(`${(e as Error).message}\n${deaths.join('\n')}${deaths.length ? '\n' : ''}${this.table()}\ndead plutos: ${this.deadPlutos().join(', ') || 'none'}; failures: ${this.plutoFailures().join('; ') || 'none'}\n${look ? this.diagnose(look, 80) : ''}`);
    });
    return Date.now() - this.plutoStartedAt;
  }

  /** Lines no pluto may ever log. */
  plutoFailures(): string[] {
    const out: string[] = [];
    for (const n of this.nodes.values()) {
      for (const l of plutoLog(n.pluto!).split('\n')) if (/ASSERTION FAILED|EXPECTATION FAILED/.test(l)) out.push(`${n.name}: ${l}`);
    }
    return out;
  }

  /**
   * For a failure message: every IKE state that is not established, on every
   * node, and the last lines of `name`'s pluto log (the guest's files are gone
   * after the run).
   */
  diagnose(name: string, lines = 120): string {
    const states = [...this.nodes.keys()].flatMap((n) => {
      try {
        return this.status(n).states.filter((x) => x.kind === 'ike' && !x.established).map((x) => `${n}: #${x.serial} ${x.conn}${x.peer ? ` ${x.peer}` : ''} ${x.state}`);
      } catch (e) {
        return [`${n}: ${(e as Error).message}`];
      }
    });
    const log = plutoLog(this.nodes.get(name)!.pluto!).split('\n').slice(-lines);
    return `not established:\n${states.join('\n') || '(none)'}\nlast ${lines} lines of ${name}'s pluto log:\n${log.join('\n')}`;
  }

  /** Nodes whose pluto is not running. */
  deadPlutos(): string[] {
    return [...this.nodes.values()].filter((n) => !alive(n.pluto!.pid)).map((n) => n.name);
  }

  /** tcpdump on the bridge (every frame between nodes crosses it). */
  startCapture(file: string): void {
    const proc = spawn('ip', ['netns', 'exec', this.lab.switchNs, 'tcpdump', '-i', 'br0', '-n', '-U', '-s', '128', '-w', file], { stdio: 'ignore' });
    this.captures.push({ proc, file });
    this.lab.onCleanup(() => proc.kill('SIGKILL'));
    // tcpdump needs a moment before it sees packets.
    waitForFile(file);
  }

  async stopCapture(): Promise<void> {
    for (const c of this.captures.splice(0)) {
      const done = new Promise((r) => c.proc.once('exit', r));
      c.proc.kill('SIGINT');
      await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
    }
  }

  /**
   * ping from the node's own address on the network of `to` (never from a VIP
   * it holds: IPv6 source selection may pick the VIP, whose tunnel then
   * carries the packet instead of the node-to-node one).
   */
  private pingArgs(fromNode: string, to: string, opts: PingOptions): string[] {
    const node = this.o.nodes.find((n) => n.name === fromNode)!;
    const p = parseAddress(to)!;
    const net = this.o.networks.find((n) => n.subnets.some((c) => inSubnet(p, parseCidr(c)!)));
    const src = opts.source ?? (net ? node.addresses[net.name] : undefined);
    const args = ['-n', '-q', '-c', String(opts.count ?? 2), '-i', '0.2', '-W', '3', ...(src ? ['-I', src] : [])];
    if (opts.size !== undefined) args.push('-s', String(opts.size));
    if (opts.df) args.push('-M', 'do');
    return [...args, to];
  }

  ping(fromNode: string, to: string, opts: PingOptions = {}) {
    const n = this.nodes.get(fromNode)!;
    return this.lab.exec(n.ns, 'ping', this.pingArgs(fromNode, to, opts), { allowFail: true, timeoutMs: 30_000 });
  }

  /** The same ping without blocking the event loop (several run at once). */
  async pingAsync(fromNode: string, to: string, opts: PingOptions = {}): Promise<{ status: number | null; stdout: string }> {
    const n = this.nodes.get(fromNode)!;
    const r = await shAsync('ip', ['netns', 'exec', n.ns, 'ping', ...this.pingArgs(fromNode, to, opts)]);
    return { status: r.status, stdout: r.stdout + r.stderr };
  }

  /** One ping per node pair on every network (from the name that sorts first) and from every node but the holder to every VIP, with the conn that must carry it. */
  pingPlan(): { from: string; to: string; conn: string; what: string }[] {
    const jobs: { from: string; to: string; conn: string; what: string }[] = [];
    for (const net of this.o.networks) {
      const on = this.o.nodes.filter((n) => n.addresses[net.name]);
      for (const a of on) for (const b of on) {
        if (a.name < b.name) jobs.push({ from: a.name, to: b.addresses[net.name], conn: connNames.nodeToNode(net.name, b.name), what: `${a.name} -> ${b.name} on ${net.name}` });
      }
    }
    for (const v of this.o.vips) {
      for (const n of this.o.nodes.filter((x) => x.addresses[v.network] && x.name !== this.opts.holders[v.name])) {
        jobs.push({ from: n.name, to: v.address, conn: connNames.vipTunnel(v.name), what: `${n.name} -> VIP ${v.name} ${v.address}` });
      }
    }
    return jobs;
  }

  stopAll() {
    for (const n of this.nodes.values()) if (n.pluto) stopPluto(n.pluto);
    // DATAPLANE_LOG_DIR (the guest's share, with DATAPLANE_KEEP_LOGS=1): every pluto's log, to read after the run.
    const keep = process.env.DATAPLANE_LOG_DIR;
    if (keep) {
      mkdirSync(keep, { recursive: true });
      for (const n of this.nodes.values()) if (n.pluto) writeFileSync(join(keep, `${n.name}.pluto.log`), plutoLog(n.pluto));
    }
    this.lab.cleanup();
  }
}

function waitForFile(file: string) {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      readFileSync(file);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`tcpdump did not start writing ${file}`);
    }
    sh('sleep', ['0.1']);
  }
  sh('sleep', ['0.5']);
}

export interface CapturedPacket {
  line: string;
  src: string;
  dst: string;
  /** 'ike', 'esp', 'nd' (ICMPv6 neighbour discovery), 'arp' or 'other' */
  kind: 'ike' | 'esp' | 'nd' | 'arp' | 'other';
}

/** tcpdump's "addr.port" (IPv4: a fifth dotted part; IPv6: the part after the last dot). */
function hostPort(s: string): [string, string | undefined] {
  if (s.includes(':')) {
    const i = s.lastIndexOf('.');
    return i > 0 ? [s.slice(0, i), s.slice(i + 1)] : [s, undefined];
  }
  const parts = s.split('.');
  return parts.length === 5 ? [parts.slice(0, 4).join('.'), parts[4]] : [s, undefined];
}

/** Read a capture with tcpdump -nn: one classified record per packet. */
export function readCapture(file: string): CapturedPacket[] {
  const out = sh('tcpdump', ['-nn', '-r', file], { timeoutMs: 60_000, allowFail: true }).stdout;
  const pkts: CapturedPacket[] = [];
  for (const line of out.split('\n')) {
    if (!line.trim()) continue;
    if (/ ARP, /.test(line)) {
      pkts.push({ line, src: '', dst: '', kind: 'arp' });
      continue;
    }
    const m = / (IP6?) (\S+) > (\S+): (.*)$/.exec(line);
    if (!m) {
      pkts.push({ line, src: '', dst: '', kind: 'other' });
      continue;
    }
    const [src, sport] = hostPort(m[2]);
    const [dst, dport] = hostPort(m[3]);
    const rest = m[4];
    let kind: CapturedPacket['kind'] = 'other';
    if (/^ESP\(/.test(rest)) kind = 'esp';
    else if (['500', '4500'].includes(sport ?? '') && ['500', '4500'].includes(dport ?? '')) kind = 'ike';
    else if (/^ICMP6, (neighbor (solicitation|advertisement)|router (solicitation|advertisement)|multicast listener)/.test(rest)) kind = 'nd';
    pkts.push({ line, src, dst, kind });
  }
  return pkts;
}

/**
 * The sample overcloud cut to 2 controllers, 1 compute and 1 Ceph node (every
 * network, every VIP, the IPv6 one included): for the modes and the DPD and
 * MTU tests, where the full sample would only cost time.
 */
export function smallSampleInventory(dir: string): string {
  const inv = parse(readFileSync(join(SAMPLE, 'inventory.yaml'), 'utf8'));
  delete inv.Controller.hosts['overcloud-controller-2'];
  delete inv.Compute.hosts['overcloud-novacompute-1'];
  const p = join(dir, 'inventory-small.yaml');
  writeFileSync(p, stringify(inv));
  return p;
}
