// A real Pacemaker cluster of N nodes on one machine: one network namespace
// plus a private mount and UTS namespace per node (node-holder.sh), corosync
// and pacemakerd per node, and a pluto per node with its default /run/pluto.
// Everything is stopped by PID, namespaces deleted, even after a failure.
// A real fence device (test/e2e/fence_tripleo_lab, installed for the test
// run) powers a node off: it kills every process in the node's namespace and
// flushes its addresses.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, sh } from './netns.js';
import { alive, sleep } from './pluto.js';

const HOLDER = join(__dirname, '..', 'e2e', 'node-holder.sh');
const FENCE_AGENT = join(__dirname, '..', 'e2e', 'fence_tripleo_lab');
export const FENCE_AGENT_INSTALLED = '/usr/sbin/fence_tripleo_lab';
const SEED_CIB = `<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"/>
        <nvpair id="cib-bootstrap-options-dc-deadtime" name="dc-deadtime" value="2s"/>
      </cluster_property_set>
    </crm_config>
    <nodes/>
    <resources/>
    <constraints/>
  </configuration>
  <status/>
</cib>
`;

export interface ClusterNode {
  name: string;
  ns: string;
  dir: string;
  address: string;
  holderPid: number;
  corosyncPid?: number;
  pacemakerdPid?: number;
  plutoPid?: number;
}

function uid(name: string): number {
  return Number(spawnSync('id', ['-u', name], { encoding: 'utf8' }).stdout.trim());
}
function gid(name: string): number {
  return Number(spawnSync('getent', ['group', name], { encoding: 'utf8' }).stdout.split(':')[2]);
}

function bg(argv: string[], logFile: string): number {
  const fd = openSync(logFile, 'a');
  const c = spawn(argv[0], argv.slice(1), { stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  c.unref();
  return c.pid!;
}

function stopPid(pid: number | undefined, signal: NodeJS.Signals = 'SIGTERM', waitMs = 30_000) {
  if (!pid || !alive(pid)) return;
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + waitMs;
  while (alive(pid) && Date.now() < deadline) sleep(100);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

/** SIGTERM a daemon and the process group it leads (spawned detached), then SIGKILL what is left. */
function stopGroup(pid: number | undefined) {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    /* gone */
  }
  const deadline = Date.now() + 20_000;
  while (alive(pid) && Date.now() < deadline) sleep(100);
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

export class Cluster {
  readonly nodes: ClusterNode[] = [];

  constructor(
    readonly lab: Lab,
    readonly dir: string,
  ) {}

  /** argv run inside a node's network, mount and UTS namespaces. */
  on(node: ClusterNode, argv: string[], opts: { timeoutMs?: number; allowFail?: boolean; input?: string } = {}) {
    return sh('nsenter', ['-t', String(node.holderPid), '-m', '-u', '-n', '--', ...argv], { timeoutMs: opts.timeoutMs ?? 120_000, allowFail: opts.allowFail, input: opts.input });
  }

  /**
   * Create the nodes (name -> ring/ipsec address /24 on the lab bridge) with
   * their generated etc/ipsec.d trees, then corosync and pacemaker.
   */
  async up(nodes: { name: string; address: string; ipsecd: string }[]) {
    mkdirSync(this.dir, { recursive: true });
    const corosyncConf = join(this.dir, 'corosync.conf');
    const args = nodes.flatMap((n) => [n.name, `addr=${n.address}`]);
    sh('pcs', ['cluster', 'setup', 'e2e', ...args, 'transport', 'knet', 'crypto', 'cipher=none', 'hash=none', '--corosync_conf', corosyncConf, '--no-cluster-uuid', '--overwrite']);
    const hacluster = uid('hacluster');
    const haclient = gid('haclient');
    for (const [i, n] of nodes.entries()) {
      const dir = join(this.dir, n.name);
      for (const d of ['etc-corosync', 'var-lib-corosync', 'log-pacemaker', 'log-corosync', 'var-lib-pacemaker/cib', 'var-lib-pacemaker/pengine', 'var-lib-pacemaker/blackbox', 'var-lib-pacemaker/cores', 'pluto/nss']) {
        mkdirSync(join(dir, d), { recursive: true });
      }
      cpSync(n.ipsecd, join(dir, 'ipsec.d'), { recursive: true });
      copyFileSync(corosyncConf, join(dir, 'etc-corosync', 'corosync.conf'));
      writeFileSync(join(dir, 'var-lib-pacemaker', 'cib', 'cib.xml'), SEED_CIB, { mode: 0o600 });
      for (const d of ['var-lib-pacemaker', 'var-lib-pacemaker/cib', 'var-lib-pacemaker/pengine', 'var-lib-pacemaker/blackbox', 'var-lib-pacemaker/cores', 'var-lib-pacemaker/cib/cib.xml', 'log-pacemaker']) {
        chownSync(join(dir, d), hacluster, haclient);
      }
      const ns = this.lab.addHost(`c${i}`);
      this.lab.addAddress(ns, `${n.address}/24`);
      const holderPid = bg(['ip', 'netns', 'exec', ns, 'unshare', '--mount', '--uts', '--propagation', 'private', HOLDER, n.name, dir], join(dir, 'holder.out'));
      const node: ClusterNode = { name: n.name, ns, dir, address: n.address, holderPid };
      this.nodes.push(node);
      this.lab.onCleanup(() => this.stopNode(node));
    }
    for (const n of this.nodes) await this.until(join(n.dir, 'holder.ready'), () => existsSync(join(n.dir, 'holder.ready')), 20_000, 200, () => this.tails(n, ['holder.out']));
    writeFileSync(this.fenceMap, this.nodes.map((n) => `${n.name} ${n.holderPid}\n`).join(''));
    for (const n of this.nodes) n.corosyncPid = bg(['nsenter', '-t', String(n.holderPid), '-m', '-u', '-n', '--', 'corosync', '-f'], join(n.dir, 'corosync.out'));
    for (const n of this.nodes) await this.until(`corosync on ${n.name}`, () => this.on(n, ['corosync-cfgtool', '-s'], { allowFail: true }).status === 0, 45_000, 200, () => this.tails(n, ['corosync.out']));
    for (const n of this.nodes) n.pacemakerdPid = bg(['nsenter', '-t', String(n.holderPid), '-m', '-u', '-n', '--', '/usr/sbin/pacemakerd'], join(n.dir, 'pacemakerd.out'));
    const want = `Online: [ ${this.nodes.map((n) => n.name).sort().join(' ')} ]`;
    await this.until('all nodes online', () => this.on(this.nodes[0], ['crm_mon', '-1'], { allowFail: true }).stdout.includes(want), 120_000, 200,
      () => [this.on(this.nodes[0], ['crm_mon', '-1'], { allowFail: true }).stdout, ...this.nodes.map((n) => this.tails(n, ['corosync.out', 'pacemakerd.out']))].join('\n'));
  }

  /** The fence agent's map of node name to the PID that keeps its namespaces. */
  get fenceMap() {
    return join(this.dir, 'fence-map');
  }

  /** Install the lab fence agent where pacemaker-fenced looks for agents; removed at cleanup. */
  installFenceAgent() {
    // One left by a run that was killed before its cleanup is ours, byte for byte: taken over. Anything else is not.
    if (existsSync(FENCE_AGENT_INSTALLED) && !readFileSync(FENCE_AGENT_INSTALLED).equals(readFileSync(FENCE_AGENT))) {
      throw new Error(`${FENCE_AGENT_INSTALLED} exists and is not this test's fence agent: refusing to replace it`);
    }
    copyFileSync(FENCE_AGENT, FENCE_AGENT_INSTALLED);
    chmodSync(FENCE_AGENT_INSTALLED, 0o755);
    this.lab.onCleanup(() => rmSync(FENCE_AGENT_INSTALLED, { force: true }));
  }

  /** pluto in the node's namespaces, default /run/pluto, the node's /etc/ipsec.d; its ipsec.conf as apply writes it. */
  async startPluto(n: ClusterNode) {
    const d = join(n.dir, 'pluto');
    writeFileSync(join(d, 'ipsec.conf'), 'config setup\n\tplutodebug=none\ninclude /etc/ipsec.d/*.conf\ninclude /run/tripleo-ipsec/*.conf\n');
    writeFileSync(join(d, 'ipsec.secrets'), 'include /etc/ipsec.d/*.secrets\n');
    if (!existsSync(join(d, 'nss', 'cert9.db'))) sh('ipsec', ['initnss', '--nssdir', join(d, 'nss')]);
    n.plutoPid = bg(['nsenter', '-t', String(n.holderPid), '-m', '-u', '-n', '--', '/usr/libexec/ipsec/pluto', '--config', join(d, 'ipsec.conf'),
      '--secretsfile', join(d, 'ipsec.secrets'), '--ipsecdir', '/etc/ipsec.d', '--nssdir', join(d, 'nss'), '--logfile', join(d, 'pluto.log'), '--nofork'], join(d, 'pluto.out'));
    await this.until(`pluto on ${n.name}`, () => this.on(n, ['test', '-S', '/run/pluto/pluto.ctl'], { allowFail: true }).status === 0, 30_000, 200, () => this.tails(n, ['pluto/pluto.out', 'pluto/pluto.log']));
  }

  plutoLog(n: ClusterNode): string {
    const p = join(n.dir, 'pluto', 'pluto.log');
    return existsSync(p) ? readFileSync(p, 'utf8') : '';
  }

  /**
   * Poll without blocking the event loop (vitest's worker must keep answering
   * its RPC). On a timeout, `explain` adds what the daemons said, so a failure
   * on a CI machine can be read from its output alone.
   */
  async until(what: string, ok: () => boolean, ms: number, every = 200, explain?: () => string) {
    const deadline = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${explain ? `\n${explain()}` : ''}`);
      await new Promise((r) => setTimeout(r, every));
    }
  }

  /** The last lines of a node's daemon outputs (corosync, pacemakerd, pluto). */
  tails(n: ClusterNode, files = ['corosync.out', 'pacemakerd.out', 'pluto/pluto.out', 'pluto/pluto.log'], lines = 12): string {
    return files
      .map((f) => join(n.dir, f))
      .filter((p) => existsSync(p))
      .map((p) => `--- ${p} (last ${lines} lines)\n${readFileSync(p, 'utf8').split('\n').slice(-lines - 1).join('\n')}`)
      .join('\n');
  }

  /** pluto's graceful stop (what `systemctl stop ipsec` does), waiting until it has exited. */
  async stopPluto(n: ClusterNode) {
    if (!n.plutoPid || !alive(n.plutoPid)) return;
    this.on(n, ['/usr/libexec/ipsec/whack', '--shutdown'], { allowFail: true, timeoutMs: 10_000 });
    await this.until(`pluto on ${n.name} to exit`, () => !alive(n.plutoPid!), 10_000, 20);
  }

  /** `pcs cluster stop` without systemd: pacemakerd (which stops every resource here first), then corosync. */
  async stopStack(n: ClusterNode) {
    for (const pid of [n.pacemakerdPid, n.corosyncPid]) {
      if (!pid || !alive(pid)) continue;
      process.kill(pid, 'SIGTERM');
      await this.until(`${pid} on ${n.name} to exit`, () => !alive(pid), 90_000, 100);
    }
  }

  /** A fenced node boots again: its address back, then pluto, then the cluster stack. */
  async boot(n: ClusterNode) {
    this.on(n, ['ip', 'addr', 'add', `${n.address}/24`, 'dev', 'eth0']);
    // tmpfs /run survived in the namespace: a real reboot would have emptied it
    this.on(n, ['sh', '-c', 'rm -f /run/tripleo-ipsec/* /run/pluto/pluto.ctl /run/pluto/pluto.pid']);
    await this.startPluto(n);
    await this.rejoin(n);
  }

  async sleepAsync(ms: number) {
    await new Promise((r) => setTimeout(r, ms));
  }

  /**
   * Start the whole cluster's stacks again: corosync everywhere first, then
   * pacemakerd, so no node reaches quorum while another is still unseen
   * (with fencing on, Pacemaker would fence it at start-up).
   */
  async startAll() {
    for (const n of this.nodes) n.corosyncPid = bg(['nsenter', '-t', String(n.holderPid), '-m', '-u', '-n', '--', 'corosync', '-f'], join(n.dir, 'corosync.out'));
    for (const n of this.nodes) await this.until(`corosync on ${n.name}`, () => this.on(n, ['corosync-cfgtool', '-s'], { allowFail: true }).status === 0, 45_000, 200, () => this.tails(n, ['corosync.out']));
    for (const n of this.nodes) n.pacemakerdPid = bg(['nsenter', '-t', String(n.holderPid), '-m', '-u', '-n', '--', '/usr/sbin/pacemakerd'], join(n.dir, 'pacemakerd.out'));
  }

  /** Start corosync and pacemakerd again on a node whose cluster stack died or was stopped (its namespaces stay). */
  async rejoin(n: ClusterNode) {
    stopGroup(n.pacemakerdPid);
    stopGroup(n.corosyncPid);
    n.corosyncPid = bg(['nsenter', '-t', String(n.holderPid), '-m', '-u', '-n', '--', 'corosync', '-f'], join(n.dir, 'corosync.out'));
    await this.until(`corosync on ${n.name}`, () => this.on(n, ['corosync-cfgtool', '-s'], { allowFail: true }).status === 0, 20_000);
    n.pacemakerdPid = bg(['nsenter', '-t', String(n.holderPid), '-m', '-u', '-n', '--', '/usr/sbin/pacemakerd'], join(n.dir, 'pacemakerd.out'));
  }

  /** Stop every node's daemons by PID without blocking the event loop: plutos, then pacemaker, corosync, holders. */
  async stopAll() {
    const gone = (pids: (number | undefined)[], ms: number) => this.until('daemons to exit', () => pids.every((p) => !p || !alive(p)), ms, 100).catch(() => undefined);
    for (const n of this.nodes) if (n.plutoPid && alive(n.plutoPid)) spawnSync('nsenter', ['-t', String(n.holderPid), '-m', '-u', '-n', '--', '/usr/libexec/ipsec/whack', '--shutdown'], { timeout: 5000 });
    await gone(this.nodes.map((n) => n.plutoPid), 5000);
    for (const key of ['pacemakerdPid', 'corosyncPid', 'holderPid'] as const) {
      for (const n of this.nodes) if (n[key] && alive(n[key]!)) process.kill(n[key]!, 'SIGTERM');
      await gone(this.nodes.map((n) => n[key]), key === 'pacemakerdPid' ? 60_000 : 20_000);
    }
    // whatever is left is killed by stopNode in the lab's cleanup
  }

  stopNode(n: ClusterNode) {
    if (n.plutoPid && alive(n.plutoPid)) {
      spawnSync('nsenter', ['-t', String(n.holderPid), '-m', '-u', '-n', '--', '/usr/libexec/ipsec/whack', '--shutdown'], { timeout: 5000 });
      stopPid(n.plutoPid, 'SIGTERM', 5000);
    }
    stopPid(n.pacemakerdPid, 'SIGTERM', 60_000);
    stopPid(n.corosyncPid, 'SIGTERM', 20_000);
    stopPid(n.holderPid, 'SIGTERM', 5000);
  }
}
