// The installed agent as Pacemaker's own tools see it: ocf-tester (inside a
// namespace with a real pluto holding the VIPs), crm_resource --validate,
// pcs resource describe and pcs -f resource create.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../../src/generate.js';
import { writeOutputTreeSync } from '../../../src/output/outputTree.js';
import { Lab } from '../../helpers/netns.js';
import { alive, startPluto, type Pluto } from '../../helpers/pluto.js';
import { AGENT, runAgent } from '../../helpers/agent.js';
import { scratchDir, TEST_PSK } from '../../helpers/inputs.js';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

const SAMPLE = join(__dirname, '..', '..', '..', 'examples', 'sample-overcloud');
const INSTALLED = '/usr/lib/ocf/resource.d/tripleo/ipsec';
const RNG = join(__dirname, '..', '..', 'fixtures', 'ocf', 'ra-api-1.1.rng');
const HOLDER = 'overcloud-controller-0';

function run(cmd: string, args: string[], input?: string) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, input });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

describe('OCF conformance of agents/ipsec', () => {
  const scratch = scratchDir();
  const lab = new Lab('o');
  let ns: string;
  let pluto: Pluto;
  let confdir: string;
  let backup: string | undefined;

  beforeAll(() => {
    const env = join(scratch.dir, 'env.yaml');
    writeFileSync(env, stringify({ parameter_defaults: { IpsecVars: { ipsec_psk: TEST_PSK } } }));
    const out = join(scratch.dir, 'out');
    const r = generate({ inventoryPath: join(SAMPLE, 'inventory.yaml'), networkDataPath: join(SAMPLE, 'network_data.yaml'), envPaths: [env], sets: [], outDir: out, hosts: [HOLDER] });
    writeOutputTreeSync(out, r.files);
    confdir = join(out, HOLDER, 'etc', 'ipsec.d');
    ns = lab.addHost('c0');
    const node = r.overcloud.nodes.find((n) => n.name === HOLDER)!;
    for (const [net, a] of Object.entries(node.addresses)) lab.addAddress(ns, `${a}/${r.overcloud.networks.find((n) => n.name === net)!.subnets[0].split('/')[1]}`);
    for (const v of r.overcloud.vips) lab.addAddress(ns, `${v.address}/${v.address.includes(':') ? 64 : 24}`);
    pluto = startPluto(lab, ns, join(scratch.dir, 'pluto'), confdir);
    // The real install path, as install-agent writes it; an existing agent is put back afterwards.
    if (existsSync(INSTALLED)) {
      backup = join(scratch.dir, 'ipsec.orig');
      copyFileSync(INSTALLED, backup);
    }
    mkdirSync('/usr/lib/ocf/resource.d/tripleo', { recursive: true });
    expect(run(process.execPath, [join(__dirname, '..', '..', '..', 'bin', 'tripleo-ipsec'), 'install-agent']).code).toBe(0);
  }, 60_000);

  afterAll(() => {
    if (backup) renameSync(backup, INSTALLED);
    else rmSync(INSTALLED, { force: true });
    lab.cleanup();
    scratch.cleanup();
  });

  it('is one executable file that needs only Node (no node_modules next to it)', () => {
    const head = readFileSync(AGENT, 'utf8');
    expect(head.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(head).not.toMatch(/require\("(?!node:|child_process|fs|os|net|path|url)[^"]+"\)/);
    expect(readFileSync(INSTALLED)).toEqual(readFileSync(AGENT));
  });

  it('meta-data validates against the 1.0 DTD (as ocf-tester checks it) and the OCF 1.1 RelaxNG', () => {
    const md = runAgent(undefined, 'meta-data', {}).stdout;
    const dtd = spawnSync('xmllint', ['--noout', '--valid', '-'], { input: md, cwd: '/usr/share/resource-agents', encoding: 'utf8' });
    expect(dtd.stderr).toBe('');
    expect(dtd.status).toBe(0);
    const rng = spawnSync('xmllint', ['--noout', '--relaxng', RNG, '-'], { input: md, encoding: 'utf8' });
    expect(rng.status, rng.stderr).toBe(0);
    // and the validator does reject broken meta-data
    expect(spawnSync('xmllint', ['--noout', '--relaxng', RNG, '-'], { input: md.replace('<version>1.1</version>', ''), encoding: 'utf8' }).status).not.toBe(0);
  });

  for (const [label, tunnel, vip, fallback] of [
    ['IPv4 VIP', 'overcloud-internal_api-vip-tunnel', '192.0.2.100', 'overcloud-internal_api-node-to-vip-tunnel'],
    ['IPv6 VIP', 'overcloud-storage_mgmt-vip-tunnel', '2001:db8:30::100', 'overcloud-storage_mgmt-node-to-vip-tunnel'],
  ]) {
    it(`ocf-tester passes (${label})`, () => {
      const r = run('ip', ['netns', 'exec', ns, 'ocf-tester', '-n', 'tripleo-ipsec-test', '-o', `tunnel=${tunnel}`, '-o', `vip=${vip}`,
        '-o', `confdir=${confdir}`, '-o', `ctlsocket=${pluto.ctl}`, '-o', `fallbacktunnel=${fallback}`, INSTALLED]);
      expect(r.out).toContain(`${INSTALLED} passed all tests`);
      expect(r.code, r.out).toBe(0);
      expect(alive(pluto.pid)).toBe(true);
    }, 60_000);
  }

  it('crm_resource --validate runs validate-all with no cluster', () => {
    const ok = run('crm_resource', ['--validate', '--class', 'ocf', '--provider', 'tripleo', '--agent', 'ipsec',
      '--option', 'tunnel=overcloud-internal_api-vip-tunnel', '--option', 'vip=192.0.2.100', '--option', `confdir=${confdir}`]);
    expect(ok.code, ok.out).toBe(0);
    const bad = run('crm_resource', ['--validate', '--class', 'ocf', '--provider', 'tripleo', '--agent', 'ipsec',
      '--option', 'tunnel=overcloud-nope', '--option', 'vip=192.0.2.100', '--option', `confdir=${confdir}`]);
    expect(bad.code).toBe(6);
    expect(bad.out).toMatch(/no \*\.conf file in .* defines conn overcloud-nope/);
  });

  it('pcs resource describe shows its parameters', () => {
    const r = run('pcs', ['resource', 'describe', 'ocf:tripleo:ipsec']);
    expect(r.code, r.out).toBe(0);
    for (const p of ['tunnel (required)', 'vip (required)', 'confdir', 'fallbacktunnel', 'ctlsocket', 'role']) expect(r.out).toContain(p);
  });

  it('pcs -f CIB resource create accepts good parameters and refuses missing or unknown ones', () => {
    const cib = join(scratch.dir, 'cib.xml');
    writeFileSync(cib, run('cibadmin', ['--empty']).out);
    const good = run('pcs', ['-f', cib, 'resource', 'create', 'tripleo-ipsec-internal_api', 'ocf:tripleo:ipsec',
      'tunnel=overcloud-internal_api-vip-tunnel', 'vip=192.0.2.100', 'fallbacktunnel=overcloud-internal_api-node-to-vip-tunnel']);
    expect(good.code, good.out).toBe(0);
    expect(readFileSync(cib, 'utf8')).toContain('type="ipsec"');
    const missing = run('pcs', ['-f', cib, 'resource', 'create', 'x1', 'ocf:tripleo:ipsec', 'vip=192.0.2.100']);
    expect(missing.code).not.toBe(0);
    expect(missing.out).toMatch(/required resource option 'tunnel' is missing/);
    const unknown = run('pcs', ['-f', cib, 'resource', 'create', 'x2', 'ocf:tripleo:ipsec', 'tunnel=a', 'vip=192.0.2.1', 'bogus=1']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.out).toMatch(/invalid resource option 'bogus'/);
  }, 30_000);
});
