// Generated files, loaded by real plutos in network namespaces: every
// node-to-node pair and every VIP tunnel (the real agent on the holder)
// authenticates with PSK.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../../src/generate.js';
import { writeOutputTreeSync } from '../../../src/output/outputTree.js';
import { checkEsp } from '../../../src/libreswan/algparse.js';
import { parsePlutoStatus, connsWithIkeSa, type PlutoStatus } from '../../../src/libreswan/whackStatus.js';
import { connNames } from '../../../src/model/names.js';
import { Lab, kernelSupportsEsp, sh } from '../../helpers/netns.js';
import { alive, plutoLog, waitFor, whack } from '../../helpers/pluto.js';
import { runAgent } from '../../helpers/agent.js';
import { buildOvercloudLab, startPlutos, type NodeLab } from '../../helpers/overcloudLab.js';
import { scratchDir, TEST_PSK } from '../../helpers/inputs.js';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

const SAMPLE = join(__dirname, '..', '..', '..', 'examples', 'sample-overcloud');
const CLI = join(__dirname, '..', '..', '..', 'bin', 'tripleo-ipsec');

describe('generated sample overcloud against real pluto (6 nodes, 4 networks, one IPv6)', () => {
  const scratch = scratchDir();
  const lab = new Lab('g');
  let nodes: Map<string, NodeLab>;
  let r: ReturnType<typeof generate>;
  const holder = 'overcloud-controller-0';
  const esp = kernelSupportsEsp();

  beforeAll(() => {
    const env = join(scratch.dir, 'env.yaml');
    writeFileSync(env, stringify({ parameter_defaults: { IpsecVars: { ipsec_psk: TEST_PSK } } }));
    const outDir = join(scratch.dir, 'out');
    r = generate({ inventoryPath: join(SAMPLE, 'inventory.yaml'), networkDataPath: join(SAMPLE, 'network_data.yaml'), envPaths: [env], sets: [], outDir, hosts: [], checkAlgorithm: checkEsp });
    writeOutputTreeSync(outDir, r.files);
    nodes = buildOvercloudLab(lab, r.overcloud, outDir, holder);
    startPlutos(lab, nodes, scratch.dir);
    // The real agent starts every VIP's ends on the holder; every other node only answers.
    const h = nodes.get(holder)!;
    for (const v of r.overcloud.vips) {
      const res = runAgent(h.ns, 'start', { tunnel: connNames.vipTunnel(v.name), vip: v.address, confdir: h.ipsecdir, rundir: h.pluto!.agentRun, ctlsocket: h.pluto!.ctl });
      expect(res.code, res.stderr).toBe(0);
    }
  }, 60_000);

  afterAll(() => {
    lab.cleanup();
    scratch.cleanup();
  });

  function status(n: NodeLab): PlutoStatus {
    const s = whack(lab, n.pluto!, ['--status']);
    return parsePlutoStatus(s.stdout);
  }

  it('every conn of every node reaches an established IKE SA, authenticated by PSK', async () => {
    const expected = new Map<string, string[]>();
    for (const plan of r.plans) {
      const conns = plan.files.flatMap((f) => f.conns.map((c) => c.name));
      expected.set(plan.node.name, conns.filter((c) => {
        if (c.includes('-vip-tunnel-to-')) return plan.node.name === holder;
        if (c.endsWith('-vip-tunnel')) return plan.node.name !== holder;
        return true;
      }));
    }
    const missing = () => {
      const out: string[] = [];
      for (const [name, conns] of expected) {
        const have = connsWithIkeSa(status(nodes.get(name)!));
        for (const c of conns) if (!have.has(c)) out.push(`${name}: ${c}`);
      }
      return out;
    };
    await waitFor('every tunnel to authenticate', () => missing().length === 0, 60_000, 500).catch((e) => {
      throw new Error(`${(e as Error).message}\nnot established:\n${missing().join('\n')}`);
    });
    // Count what we proved: node-to-node conns and VIP tunnels.
    const total = [...expected.values()].reduce((n, c) => n + c.length, 0);
    expect(total).toBeGreaterThan(80);
    for (const n of nodes.values()) {
      const log = plutoLog(n.pluto!);
      expect(log, n.name).toMatch(/established IKE SA; authenticated peer using authby=secret/);
      expect(log, n.name).not.toMatch(/ASSERTION FAILED|authentication failed|AUTHENTICATION_FAILED/);
    }
  }, 90_000);

  it('every peer of each VIP network holds exactly one IKE SA on its end of the VIP tunnel, with the holder', () => {
    const holderAddress = (net: string) => r.overcloud.nodes.find((n) => n.name === holder)!.addresses[net];
    for (const v of r.overcloud.vips) {
      for (const n of r.overcloud.nodes.filter((x) => x.name !== holder && x.addresses[v.network])) {
        const sas = status(nodes.get(n.name)!).states.filter((x) => x.conn === connNames.vipTunnel(v.name) && x.kind === 'ike');
        expect(sas.map((x) => [x.peer, x.established]), `${n.name} ${v.name}`).toEqual([[holderAddress(v.network), true]]);
      }
    }
    const s = status(nodes.get(holder)!);
    expect(s.ikeSas.authenticated).toBe(s.ikeSas.total);
  });

  it('IPsec SAs are installed where the kernel supports ESP (detected, not assumed)', () => {
    for (const n of nodes.values()) {
      const s = status(n);
      if (esp) expect(s.ipsecSas.total, n.name).toBeGreaterThan(0);
      else expect(s.ipsecSas.total, n.name).toBe(0);
    }
  });

  it("tidy initiates again a held VIP's end that has no IKE SA (as after its liveness probe cleared it), and only once pluto and the files are a minute old", async () => {
    const h = nodes.get(holder)!;
    const v = r.overcloud.vips[0];
    const end = r.plans.find((p) => p.node.name === holder)!.files.flatMap((f) => f.conns).find((c) => c.kind === 'vip-holder' && c.vip === v.name)!.name;
    const tidy = () => sh('ip', ['netns', 'exec', h.ns, process.execPath, CLI, 'tidy', '--ctlsocket', h.pluto!.ctl, '--ipsecdir', h.ipsecdir, '--rundir', h.pluto!.agentRun], { timeoutMs: 120_000 });
    const ikeOf = () => status(h).states.filter((x) => x.conn === end && x.kind === 'ike');
    // The end loaded with no state and nothing to revive it: deleted (with its SAs) and added again as addconn
    // adds (auto= is not acted on), while its file still says auto=start.
    const holderFile = join(h.ipsecdir, 'overcloud-vip-holder', `${connNames.vipTunnel(v.name)}.conf`);
    whack(lab, h.pluto!, ['--delete', '--name', end]);
    const added = lab.exec(h.ns, '/usr/libexec/ipsec/addconn', ['--ctlsocket', h.pluto!.ctl, '--config', holderFile, end], { allowFail: true });
    expect(added.status, added.stderr).toBe(0);
    await waitFor(`${end} without an IKE SA`, () => ikeOf().length === 0, 20_000, 200);
    // A pluto and a holder file (and its link) written in the last minute: left to pluto and the agent.
    expect(tidy().stdout).not.toContain(`initiated ${end}`);
    const link = join(h.pluto!.agentRun, `${connNames.vipTunnel(v.name)}.conf`);
    for (const [p, flag] of [[h.pluto!.ctl, ''], [link, '-h'], [holderFile, '']]) {
      sh('touch', [...(flag ? [flag] : []), '-d', '-2 minutes', p]);
    }
    const out = tidy();
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toContain(`initiated ${end} (this node initiates it; it had no IKE SA)`);
    await waitFor(`${end} authenticated again`, () => ikeOf().some((x) => x.established), 30_000, 200);
  }, 90_000);

  it('no pluto crashed', () => {
    for (const n of nodes.values()) expect(alive(n.pluto!.pid), n.name).toBe(true);
  });
});
