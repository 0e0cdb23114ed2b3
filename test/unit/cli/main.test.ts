// The built CLI as an operator runs it: exit codes, stderr, untouched output on failure.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir, small, TEST_PSK, writeInputs } from '../../helpers/inputs.js';
import { pacemakerPlanFor } from '../../../src/plan/pacemaker.js';

const CLI = join(__dirname, '..', '..', '..', 'bin', 'tripleo-ipsec');

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lines = (text: string) => text.split('\n').filter(Boolean);

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out[p.slice(dir.length)] = `${(statSync(p).mode & 0o777).toString(8)} ${readFileSync(p, 'utf8')}`;
    }
  };
  walk(dir);
  return out;
}

describe('tripleo-ipsec generate (built CLI)', () => {
  const s = scratchDir();
  let opts: ReturnType<typeof writeInputs>;
  beforeAll(() => {
    opts = writeInputs(s.dir, small());
  });
  afterAll(() => s.cleanup());

  it('writes the tree and prints a summary without secrets', () => {
    const r = run(['generate', '-i', opts.inventoryPath, '-n', opts.networkDataPath!, '-e', opts.envPaths[0], '--out', opts.outDir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/overcloud: 6 hosts, 4 networks, 4 VIPs/);
    expect(r.stdout).toMatch(/wrote \d+ files/);
    expect(r.stdout).not.toContain(TEST_PSK);
    expect(statSync(join(opts.outDir, 'overcloud-controller-0/etc/ipsec.d/overcloud-storage.secrets')).mode & 0o777).toBe(0o600);
  });

  it('on bad input: one line per problem naming host, field and value, exit 2, previous output untouched', () => {
    const before = snapshot(opts.outDir);
    const inv = readFileSync(opts.inventoryPath, 'utf8').replace('internal_api_ip: 192.0.2.10', 'internal_api_ip: 192.0.2.400');
    const bad = join(s.dir, 'bad.yaml');
    writeFileSync(bad, inv);
    const r = run(['generate', '-i', bad, '-n', opts.networkDataPath!, '-e', opts.envPaths[0], '--out', opts.outDir]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('host overcloud-controller-0: internal_api_ip="192.0.2.400": not an IP address');
    expect(snapshot(opts.outDir)).toEqual(before);
    expect(readdirSync(s.dir).filter((e) => e.startsWith('.out.'))).toEqual([]);
  });

  it('never prints a bad PSK given with --set', () => {
    const r = run(['generate', '-i', opts.inventoryPath, '--set', 'ipsec_psk=tooshort-secret', '--out', join(s.dir, 'x')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('IpsecVars.ipsec_psk="<redacted, 15 bytes>": shorter than 32 bytes');
    expect(r.stderr).not.toContain('tooshort-secret');
  });

  it('reuses a PSK it generated into the same output directory', () => {
    const out = join(s.dir, 'gen');
    expect(run(['generate', '--example', '--out', out]).code).toBe(0);
    const first = snapshot(out);
    expect(run(['generate', '--example', '--out', out]).code).toBe(0);
    expect(snapshot(out)).toEqual(first);
  });

  it('has --help for every command', () => {
    for (const args of [['--help'], ['generate', '--help'], ['install-agent', '--help']]) {
      const r = run(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/tripleo-ipsec/);
    }
    expect(run(['generate', '--help']).stdout).toContain('ipsec_skip_networks');
  });

  it('refuses unknown options and missing inputs with exit 2', () => {
    expect(run(['generate', '--out', join(s.dir, 'y')]).code).toBe(2);
    expect(run(['generate', '--example', '--out', join(s.dir, 'y'), '--frobnicate']).code).toBe(2);
  });
});

describe('failures of any command (built CLI): one line each, the exit code of their kind', () => {
  const s = scratchDir();
  afterAll(() => s.cleanup());

  it('bad input (a missing inventory): one line, exit 2', () => {
    const r = run(['generate', '-i', join(s.dir, 'missing.yaml'), '--out', join(s.dir, 'out')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toEqual([`tripleo-ipsec: cannot read inventory ${join(s.dir, 'missing.yaml')}: ENOENT; nothing was written`]);
  });

  it('status --plan /dev/null: one line, exit 2', () => {
    const r = run(['status', '--plan', '/dev/null']);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^tripleo-ipsec: Pacemaker plan \/dev\/null is a device: give a regular file; nothing was written\n$/);
  });

  it('pacemaker apply of a plan naming a VIP resource the CIB lacks: one line, exit 1, the CIB untouched', () => {
    // The VIPs are checked before any pcs command; an empty PATH makes sure none runs.
    const cib = join(s.dir, 'cib.xml');
    const xml = '<cib epoch="1" num_updates="0" admin_epoch="0"><configuration><crm_config/><nodes/><resources/><constraints/></configuration><status/></cib>\n';
    writeFileSync(cib, xml);
    const plan = join(s.dir, 'pacemaker.json');
    writeFileSync(plan, JSON.stringify(pacemakerPlanFor([{ name: 'internal_api', address: '192.0.2.100', vipResource: 'ip-192.0.2.5', peers: [] }])));
    const empty = join(s.dir, 'no-tools');
    mkdirSync(empty);
    const r = run(['pacemaker', 'apply', '--plan', plan, '--cib-file', cib], { PATH: empty });
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual(['tripleo-ipsec: VIP resource ip-192.0.2.5 (internal_api) does not exist: create the VIPs first']);
    expect(readFileSync(cib, 'utf8')).toBe(xml);
  });

  it('heat-env with a bad variable: one line for the problem and its count, exit 2, no file', () => {
    const out = join(s.dir, 'env.yaml');
    const r = run(['heat-env', '-o', out, '--set', 'ipsec_policy=bogus']);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([`tripleo-ipsec: IpsecVars.ipsec_policy="bogus": expected 'private' or 'private-or-clear'`, 'tripleo-ipsec: 1 problem(s); nothing was written']);
    expect(() => statSync(out)).toThrow();
  });

  it('apply for a host the inventory lacks: one line and the count, exit 2, nothing under its root', () => {
    mkdirSync(join(s.dir, 'apply-in'));
    const inputs = writeInputs(join(s.dir, 'apply-in'), small());
    const root = join(s.dir, 'apply-root');
    const r = run(['apply', '-i', inputs.inventoryPath, '-e', inputs.envPaths[0], '--host', 'nope', '--root', root, '--ctlsocket', join(s.dir, 'no.ctl')]);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual(['tripleo-ipsec: host nope: --host="nope": no such overcloud host in the inventory', 'tripleo-ipsec: 1 problem(s); nothing was written']);
    expect(() => statSync(root)).toThrow();
  });

  it('an output the system refuses (under /proc): one line naming the path, exit 1, for generate, heat-env and install-agent alike', () => {
    // Node's own recursive mkdir never returns there: a timeout makes a hang fail the test.
    const opts = { timeout: 20_000 };
    for (const args of [['generate', '--example', '-o', '/proc/tripleo-ipsec-test/out'], ['heat-env', '-o', '/proc/tripleo-ipsec-test/env.yaml'], ['install-agent', '--ocf-root', '/proc/tripleo-ipsec-test']]) {
      const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', ...opts });
      expect(r.status, args.join(' ')).toBe(1);
      expect(lines(r.stderr), args.join(' ')).toEqual(['tripleo-ipsec: cannot create directory /proc/tripleo-ipsec-test: ENOENT']);
    }
  });

  it('status where crm_mon is not installed: one line naming what it was doing, exit 1', () => {
    const plan = join(s.dir, 'plan-ok.json');
    writeFileSync(plan, JSON.stringify({ resources: [], constraints: [], vipResources: {} }));
    const empty = join(s.dir, 'no-crm-mon');
    mkdirSync(empty);
    const r = run(['status', '--plan', plan], { PATH: empty });
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual(["tripleo-ipsec: reading the cluster's state (crm_mon): crm_mon not installed (not found)"]);
  });

  it('usage errors: one line, exit 2', () => {
    const r = run(['generate', '--example', '--out', join(s.dir, 'y'), '--frobnicate']);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual(["tripleo-ipsec: Unknown argument: frobnicate; run 'tripleo-ipsec --help' for usage"]);
    expect(lines(run([]).stderr)).toHaveLength(1);
  });

  it('mtu refuses what it cannot model with exit 2, like every other command', () => {
    const r = run(['mtu', '--link-mtu', '100']);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual(['tripleo-ipsec: link MTU 100 is not between 576 and 65535; nothing was written']);
  });

  it('--debug adds the stack trace (any command, before or after it)', () => {
    const notJson = join(s.dir, 'not-a-plan.json');
    writeFileSync(notJson, '{ not json');
    for (const args of [['--debug', 'status', '--plan', notJson], ['status', '--plan', notJson, '--debug']]) {
      const r = run(args);
      expect(r.code, args.join(' ')).toBe(2);
      const l = lines(r.stderr);
      expect(l[0]).toMatch(/^tripleo-ipsec: cannot read plan .*not-a-plan.json: /);
      expect(l[1]).toMatch(/^InputError: cannot read plan .*not-a-plan.json: /);
      expect(l.some((x) => /^ {4}at readPlan /.test(x))).toBe(true);
    }
  });

  it('a large report read through a pipe arrives whole (process.exit right after the write cut it at 128-440 KiB)', () => {
    const plan = join(s.dir, 'plan-empty.json');
    writeFileSync(plan, JSON.stringify({ resources: [], constraints: [], vipResources: {} }));
    const conns = Array.from({ length: 30_000 }, (_, i) => `000 "overcloud-tenant-to-node-${i}":  oriented; my_ip=unset; their_ip=unset;`);
    const status = join(s.dir, 'big-status.txt');
    writeFileSync(status, [...conns, '000 IKE SAs: total(0), half-open(0), open(0), authenticated(0), anonymous(0)', '000 IPsec SAs: total(0), authenticated(0), anonymous(0)', '000 Bare Shunt list:', ''].join('\n'));
    const mon = join(__dirname, '..', '..', 'fixtures', 'cluster', 'initial', 'crm_mon.xml');
    const r = spawnSync(process.execPath, [CLI, 'status', '--plan', plan, '--crm-mon-xml', mon, '--ipsec-status', `overcloud-controller-0=${status}`, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    expect(r.stdout.length).toBeGreaterThan(1 << 20);
    const report = JSON.parse(r.stdout) as { nodes: { node: string; down: string[] }[] };
    expect(report.nodes.find((n) => n.node === 'overcloud-controller-0')!.down).toHaveLength(30_000);
    expect(r.status).toBe(1);
  });

  it('--version prints the package version', () => {
    const r = run(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')).version}\n`);
  });

  it('prints no colour, even when FORCE_COLOR asks for it', () => {
    for (const args of [['--help'], ['generate', '--help'], ['status', '--plan', '/dev/null', '--debug'], ['nonsense']]) {
      const r = run(args, { FORCE_COLOR: '3' });
      expect(r.stdout + r.stderr, args.join(' ')).not.toMatch(/\x1b\[/);
    }
  });
});

describe('tripleo-ipsec rotate-psk', () => {
  const s = scratchDir();
  afterAll(() => s.cleanup());
  const pskIn = (dir: string) => /ipsec_psk: (\S+)/.exec(readFileSync(join(dir, 'ipsec-psk.yaml'), 'utf8'))![1];

  it('replaces the PSK generate keeps (0600), and the next generate uses the new one', () => {
    const out = join(s.dir, 'out');
    expect(run(['generate', '--example', '-o', out]).code).toBe(0);
    const before = pskIn(out);
    const r = run(['rotate-psk', '-o', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`wrote a new PSK into ${out}/ipsec-psk.yaml (mode 0600)`);
    expect(r.stdout).toContain('step 3 re-authenticates each tunnel once');
    const after = pskIn(out);
    expect(after).not.toBe(before);
    expect(r.stdout).not.toContain(after);
    expect(statSync(join(out, 'ipsec-psk.yaml')).mode & 0o777).toBe(0o600);
    expect(run(['generate', '--example', '-o', out]).code).toBe(0);
    expect(pskIn(out)).toBe(after);
  });

  it('an ipsec_psk given in IpsecVars wins over the kept one', () => {
    const out = join(s.dir, 'out-explicit');
    expect(run(['generate', '--example', '-o', out]).code).toBe(0);
    const env = join(s.dir, 'explicit.yaml');
    writeFileSync(env, `parameter_defaults:\n  IpsecVars:\n    ipsec_psk: ${TEST_PSK}\n`, { mode: 0o600 });
    const fresh = join(s.dir, 'out-fresh');
    expect(run(['generate', '--example', '-e', env, '-o', out]).code).toBe(0);
    expect(run(['generate', '--example', '-e', env, '-o', fresh]).code).toBe(0);
    const secrets = 'overcloud-controller-0/etc/ipsec.d/overcloud-internal_api.secrets';
    expect(readFileSync(join(out, secrets), 'utf8')).toBe(readFileSync(join(fresh, secrets), 'utf8'));
  });

  it('refuses a directory without a kept PSK, in one line, exit 2', () => {
    const r = run(['rotate-psk', '-o', join(s.dir, 'none')]);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([expect.stringMatching(/ipsec-psk\.yaml: no PSK that generate made is kept there; a PSK given in IpsecVars \(ipsec_psk\) is rotated by changing it there; nothing was written$/)]);
  });
});
