// `status --inventory` benchmark: 10, 50 and 100 overcloud nodes collected
// over real SSH and checked against the plan, with --forks 20 (BENCH_FORKS). One real sshd
// (key authentication, a fresh session and key exchange per node, as for
// real nodes) listens on every node's ctlplane address in one namespace and
// runs each node's status command, the product's own (whack --status thinned
// on the node), with whack answering a saved status made from that node's
// plan, every tunnel up, in pluto 4.10's format and at its real size (every
// conn's full description), and `crm_mon` with the VIPs on controller-0.
// Both key exchange orders are timed, interleaved: as shipped (the site's
// cheap one first) and ssh's own. Baselines from the same run: the CLI's
// bare start-up, one SSH round trip, and the compare alone (load, plan,
// parse, check; no SSH).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { loadInputs } from '../src/inputs/load.js';
import { buildOvercloud } from '../src/model/overcloud.js';
import { planPacemaker } from '../src/plan/pacemaker.js';
import { planHost } from '../src/plan/tunnels.js';
import { WHACK } from '../src/libreswan/whack.js';
import { parsePlutoStatus } from '../src/libreswan/whackStatus.js';
import { STATUS_COMMAND } from '../src/status/statusCommand.js';
import { kexFromSshConfig, preferCheapKex } from '../src/status/sshCollect.js';
import { checkNode, expectedTunnels } from '../src/status/tunnelCheck.js';
import { scratchDir } from '../test/helpers/inputs.js';
import { Lab, sh } from '../test/helpers/netns.js';
import { alive, sleep } from '../test/helpers/pluto.js';
import { syntheticOvercloud, toStaticYaml } from '../test/helpers/synthetic.js';
import { median } from './bench-generate.js';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.cjs');
const SIZES = (process.env.BENCH_SIZES ?? '10,50,100').split(',').map(Number);
// 5: this machine's run-to-run spread at 100 nodes is about 20%.
const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
// The issue's figure for 500 nodes is with --forks 50 (BENCH_FORKS=50).
const FORKS = Number(process.env.BENCH_FORKS ?? 20);
const UC = '2001:db8:ff::1';


/** One conn's block in `whack --status` as pluto 4.10 prints it (test/fixtures/libreswan), for size and shape. */
function connBlock(name: string, left: string, right: string, serials?: { ike: number; child: number }): string[] {
  const q = `000 "${name}":`;
  return [
    `${q} ${left}...${right}; ${serials ? 'routed-tunnel' : 'unrouted'}; eroute owner: #${serials?.child ?? 0}`,
    `${q}     oriented; my_ip=unset; their_ip=unset; my_updown=ipsec _updown;`,
    `${q}   xauth us:none, xauth them:none,  my_username=[any]; their_username=[any]`,
    `${q}   our auth:secret, their auth:secret, our autheap:none, their autheap:none;`,
    `${q}   modecfg info: us:none, them:none, modecfg policy:push, dns:unset, domains:unset, cat:unset;`,
    `${q}   sec_label:unset;`,
    `${q}   ike_life: 28800s; ipsec_life: 28800s; ipsec_max_bytes: 2^63B; ipsec_max_packets: 2^63; replay_window: 128; rekey_margin: 540s; rekey_fuzz: 100%; keyingtries: 0;`,
    `${q}   retransmit-interval: 500ms; retransmit-timeout: 60s; iketcp:no; iketcp-port:4500;`,
    `${q}   initial-contact:no; cisco-unity:no; fake-strongswan:no; send-vendorid:no; send-no-esp-tfc:no;`,
    `${q}   policy: IKEv2+PSK+ENCRYPT+TUNNEL+PFS+UP+IKE_FRAG_ALLOW+ESN_NO+ESN_YES;`,
    `${q}   v2-auth-hash-policy: none;`,
    `${q}   conn_prio: 32,32; interface: eth0; metric: 0; mtu: unset; sa_prio:auto; sa_tfc:none;`,
    `${q}   nflog-group: unset; mark: unset; vti-iface:unset; vti-routing:no; vti-shared:no; nic-offload:auto;`,
    `${q}   our idtype: ID_IPV4_ADDR; our id=${left}; their idtype: ID_IPV4_ADDR; their id=${right}`,
    `${q}   liveness: active; dpdaction:restart; dpddelay:5s; retransmit-timeout:60s`,
    `${q}   nat-traversal: encaps:auto; keepalive:20s`,
    `${q}   newest IKE SA: #${serials?.ike ?? 0}; newest IPsec SA: #${serials?.child ?? 0}; conn serial: $1;`,
    ...(serials ? [`${q}   IKEv2 algorithm newest: AES_GCM_16_256-HMAC_SHA2_512-DH19`] : []),
    `${q}   ESP algorithms: AES_GCM_16_256-NONE`,
  ];
}

interface Sized {
  dir: string;
  inv: string;
  nd: string;
  /** ctlplane address -> node name */
  hosts: Map<string, string>;
  statusBytes: number;
  /** What the nodes send: the status thinned by the product's command. */
  thinBytes: number;
  tunnels: number;
}

/** The inputs of an n-node overcloud and every node's saved all-up status and crm_mon, where the sshd's answer script reads them. */
function prepare(base: string, n: number, key: string): Sized {
  const ceph = Math.max(1, Math.round(n / 10));
  const { inventory, networkData } = syntheticOvercloud({ controllers: 3, computes: n - 3 - ceph, ceph });
  const hosts = new Map<string, string>();
  for (const role of Object.values(inventory) as { hosts?: Record<string, Record<string, string>> }[]) {
    for (const [h, v] of Object.entries(role.hosts ?? {})) {
      Object.assign(v, { ansible_host: v.ctlplane_ip, ansible_user: 'root', ansible_ssh_private_key_file: key });
      hosts.set(v.ctlplane_ip, h);
    }
  }
  const dir = join(base, `n${n}`);
  mkdirSync(join(dir, 'status'), { recursive: true });
  mkdirSync(join(dir, 'thin'), { recursive: true });
  const inv = join(dir, 'inventory.yaml');
  const nd = join(dir, 'network_data.yaml');
  writeFileSync(inv, toStaticYaml(inventory));
  writeFileSync(nd, stringify(networkData));
  const inputs = loadInputs({ inventoryPath: inv, networkDataPath: nd, envPaths: [], sets: [] });
  const o = buildOvercloud(inputs, [])!;
  const holder = o.nodes.find((x) => x.pacemaker)!.name;
  const holders = new Map(o.vips.map((v) => [v.name, holder]));
  const ctlplaneOf = new Map([...hosts].map(([a, h]) => [h, a]));
  let statusBytes = 0;
  let thinBytes = 0;
  let tunnels = 0;
  for (const node of o.nodes) {
    const plan = planHost(o, node);
    const up = new Set(expectedTunnels(plan, holders).map((t) => t.conn));
    tunnels += up.size;
    const lines = ['000 using kernel interface: xfrm', '000 ', '000 Connection list:', '000 '];
    const states: string[] = [];
    let serial = 1;
    let conns = 0;
    for (const c of plan.files.flatMap((f) => f.conns)) {
      // The holder's ends are loaded only where the VIP is.
      if (c.kind === 'vip-holder' && !up.has(c.name)) continue;
      conns++;
      const left = node.addresses[c.network] ?? '%any';
      const right = c.peer ? (o.nodes.find((x) => x.name === c.peer)?.addresses[c.network] ?? '%any') : '%any';
      if (up.has(c.name)) {
        const s = { ike: serial++, child: serial++ };
        lines.push(...connBlock(c.name, left, right, s));
        states.push(`000 #${s.ike}: "${c.name}":500 STATE_V2_ESTABLISHED_IKE_SA (established IKE SA); REKEY in 28506s; REPLACE in 28776s; newest; idle;`);
        states.push(`000 #${s.child}: "${c.name}":500 STATE_V2_ESTABLISHED_CHILD_SA (established Child SA); REKEY in 28506s; REPLACE in 28776s; newest; eroute owner; IKE SA #${s.ike}; idle;`);
      } else lines.push(...connBlock(c.name, left, right));
    }
    lines.push('000 ', `000 Total IPsec connections: loaded ${conns}, active ${up.size}`, '000 ', '000 State Information: DDoS cookies not required, Accepting new IKE connections');
    lines.push(`000 IKE SAs: total(${up.size}), half-open(0), open(0), authenticated(${up.size}), anonymous(0)`, `000 IPsec SAs: total(${up.size}), authenticated(${up.size}), anonymous(0)`, '000 ', ...states, '000 ', '000 Bare Shunt list:', '000 ');
    const text = lines.join('\n') + '\n';
    // A saved status must say what the plan says: the bench measures the all-up path.
    if (checkNode(node.name, expectedTunnels(plan, holders), parsePlutoStatus(text), new Set(plan.files.flatMap((f) => f.conns.map((c) => c.name)))).problems.length) {
      throw new Error(`bench setup: the saved status of ${node.name} is not all up`);
    }
    statusBytes += text.length;
    const file = join(dir, 'status', ctlplaneOf.get(node.name)!);
    writeFileSync(file, text);
    // What the node sends: the product's command thinning it (for the compare baseline and the size column).
    const thin = spawnSync('sh', ['-c', STATUS_COMMAND.replace(`${WHACK} --status`, `cat ${file}`)], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (thin.status !== 0) throw new Error(`bench setup: thinning ${file}: ${thin.stderr}`);
    thinBytes += thin.stdout.length;
    writeFileSync(join(dir, 'thin', ctlplaneOf.get(node.name)!), thin.stdout);
  }
  const pcmk = planPacemaker(o);
  const cluster = o.nodes.filter((x) => x.pacemaker).map((x) => x.name);
  writeFileSync(
    join(dir, 'crm_mon.xml'),
    `<pacemaker-result api-version="2.30" request="crm_mon --output-as=xml"><nodes>${cluster.map((c) => `<node name="${c}" online="true" standby="false"/>`).join('')}</nodes><resources>` +
      Object.values(pcmk.vipResources).map((r) => `<resource id="${r}" resource_agent="ocf:heartbeat:IPaddr2" role="Started" active="true" failed="false" nodes_running_on="1"><node name="${holder}" id="1" cached="true"/></resource>`).join('') +
      '</resources></pacemaker-result>\n',
  );
  return { dir, inv, nd, hosts, statusBytes, thinBytes, tunnels };
}

export function runStatusBench() {
  const s = scratchDir('tripleo-ipsec-bench-status-');
  const lab = new Lab('bs');
  let sshd: number | undefined;
  try {
    const key = join(s.dir, 'id_ed25519');
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(s.dir, 'host_key')]);
    writeFileSync(join(s.dir, 'authorized_keys'), readFileSync(`${key}.pub`));
    const sized = SIZES.map((n) => prepare(s.dir, n, key));
    // Each session runs the product's own commands, as a node's shell would; only pluto and Pacemaker
    // are stand-ins, in sshd's mount namespace: whack answers with the node's saved status (chosen by the
    // address the session came in on), crm_mon with the saved cluster.
    const fakes = join(s.dir, 'fakes');
    mkdirSync(fakes);
    writeFileSync(join(fakes, 'whack'), `#!/bin/sh\nset -- $SSH_CONNECTION\nexec cat "${s.dir}/current/status/$3"\n`, { mode: 0o755 });
    writeFileSync(join(fakes, 'crm_mon'), `#!/bin/sh\nexec cat "${s.dir}/current/crm_mon.xml"\n`, { mode: 0o755 });
    const nodesNs = lab.addHost('nodes');
    const uc = lab.addHost('uc');
    lab.addAddress(uc, `${UC}/64`);
    const all = new Set(sized.flatMap((z) => [...z.hosts.keys()]));
    for (const a of all) lab.addAddress(nodesNs, `${a}/64`);
    writeFileSync(
      join(s.dir, 'sshd_config'),
      [
        'ListenAddress ::',
        `HostKey ${join(s.dir, 'host_key')}`,
        'PidFile none',
        'UsePAM no',
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        `AuthorizedKeysFile ${join(s.dir, 'authorized_keys')}`,
        'StrictModes no',
        // --forks sessions at once must not be refused as a flood.
        'MaxStartups 200',
        '',
      ].join('\n'),
    );
    mkdirSync('/run/sshd', { recursive: true });
    const out = openSync(join(s.dir, 'sshd.log'), 'a');
    // A stock node's root home (sshd runs each command through bash, which reads ~/.bashrc): an empty tmpfs over /root.
    const stage = [
      'mount -t tmpfs -o mode=0700 bench-root /root',
      `mount -t tmpfs bench-whack ${dirname(WHACK)} && cp ${fakes}/whack ${WHACK}`,
      `mount -t tmpfs bench-bin /usr/local/bin && cp ${fakes}/crm_mon /usr/local/bin/crm_mon`,
      `exec /usr/sbin/sshd -D -e -f ${join(s.dir, 'sshd_config')}`,
    ].join(' && ');
    const child = spawn('ip', ['netns', 'exec', nodesNs, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', stage], { stdio: ['ignore', out, out], detached: true });
    closeSync(out);
    sshd = child.pid!;
    const deadline = Date.now() + 15_000;
    while (!readFileSync(join(s.dir, 'sshd.log'), 'utf8').includes('Server listening')) {
      if (!alive(sshd) || Date.now() > deadline) throw new Error(`sshd did not start: ${readFileSync(join(s.dir, 'sshd.log'), 'utf8')}`);
      sleep(50);
    }
    const sshOpts = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR'];
    const cli = (args: string[]) => {
      const t = process.hrtime.bigint();
      const r = spawnSync('ip', ['netns', 'exec', uc, process.execPath, CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
      return { ms: Number(process.hrtime.bigint() - t) / 1e6, r };
    };
    const startup = median(Array.from({ length: REPEAT }, () => cli(['--help']).ms));
    // Baseline: ssh's own key exchange order (OpenSSH 9's sntrup761 hybrid first), pinned so status keeps it.
    const sshDefaultKex = kexFromSshConfig(spawnSync('ip', ['netns', 'exec', uc, 'ssh', '-G', 'root@192.0.2.1'], { encoding: 'utf8' }).stdout);
    const cheapKex = preferCheapKex(sshDefaultKex) ?? sshDefaultKex;
    const rows = [];
    for (const z of sized) {
      sh('ln', ['-sfn', z.dir, join(s.dir, 'current')]);
      const first = [...z.hosts.keys()][0];
      const rtt = (kex: string[]) =>
        median(
          Array.from({ length: REPEAT }, () => {
            const t = process.hrtime.bigint();
            const r = spawnSync('ip', ['netns', 'exec', uc, 'ssh', ...sshOpts, '-o', `KexAlgorithms=${kex.join(',')}`, '-i', key, '-o', 'BatchMode=yes', `root@${first}`, STATUS_COMMAND], { encoding: 'utf8', maxBuffer: 1 << 26 });
            if (r.status !== 0) throw new Error(`ssh to ${first}: ${r.stderr}`);
            return Number(process.hrtime.bigint() - t) / 1e6;
          }),
        );
      const rttDefault = rtt(sshDefaultKex);
      const rttCheap = rtt(cheapKex);
      const compare = median(
        Array.from({ length: REPEAT }, () => {
          const t = process.hrtime.bigint();
          const inputs = loadInputs({ inventoryPath: z.inv, networkDataPath: z.nd, envPaths: [], sets: [] });
          const o = buildOvercloud(inputs, [])!;
          const holders = new Map(o.vips.map((v) => [v.name, o.nodes.find((x) => x.pacemaker)!.name]));
          for (const [addr, h] of z.hosts) {
            const node = o.nodes.find((x) => x.name === h)!;
            const plan = planHost(o, node);
            checkNode(h, expectedTunnels(plan, holders), parsePlutoStatus(readFileSync(join(z.dir, 'thin', addr), 'utf8')), new Set(plan.files.flatMap((f) => f.conns.map((c) => c.name))));
          }
          return Number(process.hrtime.bigint() - t) / 1e6;
        }),
      );
      const statusRun = (extra: string[]) => {
        const { ms, r } = cli(['status', '-i', z.inv, '-n', z.nd, '--forks', String(FORKS), '--timeout', '30', '--json', ...[...sshOpts.filter((x) => x !== '-o'), ...extra].flatMap((x) => ['--ssh-option', x])]);
        const j = JSON.parse(r.stdout || '{}');
        // Only the all-up answer counts: every node read, every tunnel up, exit 0.
        if (r.status !== 0 || !j.ok || j.summary.nodesOk !== z.hosts.size || j.summary.tunnelsUp !== z.tunnels) {
          throw new Error(`status on ${z.hosts.size} nodes: exit ${r.status}, ${JSON.stringify(j.summary)}, ${(j.problems ?? []).slice(0, 3).join('; ')} ${r.stderr.slice(0, 500)}`);
        }
        return ms;
      };
      // The floor: the same fresh sessions, --forks at a time, each running `true`, no tool around them (xargs -P).
      const bareRound = () => {
        const t = process.hrtime.bigint();
        const r = spawnSync('ip', ['netns', 'exec', uc, 'xargs', '-P', String(FORKS), '-I{}', 'ssh', ...sshOpts, '-o', `KexAlgorithms=${cheapKex.join(',')}`, '-i', key, '-o', 'BatchMode=yes', 'root@{}', 'true'], { input: [...z.hosts.keys()].join('\n') + '\n', encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`the bare ssh round: ${r.stderr.slice(0, 500)}`);
        return Number(process.hrtime.bigint() - t) / 1e6;
      };
      // As shipped (the site's cheap key exchange first), with ssh's own order pinned, and the floor, interleaved so the machine's drift hits all three.
      const runs: number[] = [];
      const defaultKexRuns: number[] = [];
      const floorRuns: number[] = [];
      for (let i = 0; i < REPEAT; i++) {
        runs.push(statusRun([]));
        defaultKexRuns.push(statusRun([`KexAlgorithms=${sshDefaultKex.join(',')}`]));
        floorRuns.push(bareRound());
      }
      const floor = median(floorRuns);
      rows.push({ nodes: z.hosts.size, tunnels: z.tunnels, statusKiB: z.statusBytes / z.hosts.size / 1024, sentKiB: z.thinBytes / z.hosts.size / 1024, ms: median(runs), runs, defaultKexMs: median(defaultKexRuns), defaultKexRuns, sshRttMs: rttCheap, sshRttDefaultKexMs: rttDefault, floorMs: floor, floorRuns, compareMs: compare });
    }
    const md = [
      `status --inventory benchmark: median of ${REPEAT} runs, --forks ${FORKS}, one real sshd (a session and key exchange per node) answering saved all-up statuses, both ends on this machine's cores. "as shipped": the site's cheap key exchange first (${cheapKex[0]}); "ssh default": ssh's own order pinned (${sshDefaultKex[0]} first). Baselines in the same run: the bare ssh round (the same sessions, ${FORKS} at a time, each running \`true\`, from xargs: what any SSH-based tool pays here), interleaved with the two; the CLI's start-up (\`--help\`, ${startup.toFixed(0)} ms); one SSH round trip with each; the compare alone (load, plan, parse, check; no SSH).`,
      '',
      '| nodes | tunnels | status KiB/node (sent) | wall ms, as shipped | runs ms | wall ms, ssh default | runs ms | shipped / default | bare ssh round ms | shipped / bare round | x start-up | one ssh ms (shipped / default) | compare ms |',
      '|---:|---:|---:|---:|---|---:|---|---:|---:|---:|---:|---:|---:|',
      ...rows.map((r) => `| ${r.nodes} | ${r.tunnels} | ${r.statusKiB.toFixed(0)} (${r.sentKiB.toFixed(0)}) | ${r.ms.toFixed(0)} | ${r.runs.map((x) => x.toFixed(0)).join(', ')} | ${r.defaultKexMs.toFixed(0)} | ${r.defaultKexRuns.map((x) => x.toFixed(0)).join(', ')} | ${(r.ms / r.defaultKexMs).toFixed(2)} | ${r.floorMs.toFixed(0)} | ${(r.ms / r.floorMs).toFixed(2)} | ${(r.ms / startup).toFixed(1)} | ${r.sshRttMs.toFixed(0)} / ${r.sshRttDefaultKexMs.toFixed(0)} | ${r.compareMs.toFixed(0)} |`),
    ].join('\n');
    return { startupMs: startup, rows, md };
  } finally {
    if (sshd && alive(sshd)) process.kill(sshd, 'SIGKILL');
    lab.cleanup();
    s.cleanup();
  }
}

if (/bench-status\.cjs$/.test(process.argv[1] ?? '')) {
  const r = runStatusBench();
  console.log(r.md);
  mkdirSync(join(ROOT, 'bench-results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench-results', 'status.json'), JSON.stringify({ startupMs: r.startupMs, rows: r.rows }, null, 2));
  writeFileSync(join(ROOT, 'bench-results', 'status.md'), r.md + '\n');
}
