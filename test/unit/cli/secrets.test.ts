// No secret in any output: every input that carries a key (IpsecVars in an
// environment, --set, the PSK file generate keeps, a heat-env file, a node
// tree's secrets files, the CA key), through every failure path the CLI has
// for it (a wrong shape, a YAML error, an unknown or misspelt variable, a
// weak or short key, a bad other value, an edited tree, a missing pluto),
// with and without --debug: stdout and stderr never hold the key.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir, small, writeInputs } from '../../helpers/inputs.js';

const CLI = join(__dirname, '..', '..', '..', 'bin', 'tripleo-ipsec');
// A key that looks like what operators paste: long, and with words a YAML excerpt would show.
const KEY = 'Operator-Chosen-Master-Key-7f3a9c1e5b2d8046aa11';

function run(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, all: `${r.stdout}\n${r.stderr}`, stderr: r.stderr };
}

describe('no secret in any output', () => {
  const s = scratchDir();
  let inv: string;
  let nd: string;
  const file = (name: string, text: string) => {
    const p = join(s.dir, name);
    writeFileSync(p, text, { mode: 0o600 });
    return p;
  };
  beforeAll(() => {
    const o = writeInputs(s.dir, small());
    inv = o.inventoryPath;
    nd = o.networkDataPath!;
  });
  afterAll(() => s.cleanup());

  // Environments that carry KEY, each wrong in its own way.
  const environments: [string, string][] = [
    ['IpsecVars as a list', `parameter_defaults:\n  IpsecVars:\n    - ipsec_psk: ${KEY}\n`],
    ['IpsecVars as a string', `parameter_defaults:\n  IpsecVars: "ipsec_psk=${KEY}"\n`],
    ['parameter_defaults as a list', `parameter_defaults:\n  - IpsecVars: {ipsec_psk: ${KEY}}\n`],
    ['the environment as a list', `- parameter_defaults: {IpsecVars: {ipsec_psk: ${KEY}}}\n`],
    ['a YAML syntax error after the key', `parameter_defaults:\n  IpsecVars:\n    ipsec_psk: ${KEY}\n   broken: [\n`],
    ['a YAML syntax error on the key line', `parameter_defaults:\n  IpsecVars:\n    ipsec_psk: "${KEY}\n`],
    ['a misspelt variable holding the key', `parameter_defaults:\n  IpsecVars:\n    ipsec_pks: ${KEY}\n`],
    ['an unknown variable holding the key in a mapping', `parameter_defaults:\n  IpsecVars:\n    extra: {nested: ${KEY}}\n`],
    ['the key in another variable, beside itself', `parameter_defaults:\n  IpsecVars:\n    ipsec_psk: ${KEY}\n    ipsec_algorithm: ${KEY}\n`],
    ['the key with a quote in it', `parameter_defaults:\n  IpsecVars:\n    ipsec_psk: '${KEY}"x'\n`],
    ['a valid key and a bad network', `parameter_defaults:\n  IpsecVars:\n    ipsec_psk: ${KEY}\n    ipsec_skip_networks: [Not-A-Network]\n`],
    ['a valid key and __proto__', `parameter_defaults:\n  IpsecVars:\n    ipsec_psk: ${KEY}\n    __proto__: {ipsec_psk: ${KEY}}\n`],
  ];

  for (const [what, text] of environments) {
    it(`generate, apply and heat-env with ${what}, with and without --debug`, () => {
      const env = file(`env-${what.replace(/\W+/g, '-')}.yaml`, text);
      for (const debug of [[], ['--debug']]) {
        for (const args of [
          ['generate', '-i', inv, '-n', nd, '-e', env, '--out', join(s.dir, 'out-x')],
          ['apply', '-i', inv, '-n', nd, '-e', env, '--host', 'overcloud-controller-0', '--root', join(s.dir, 'root-x'), '--ctlsocket', join(s.dir, 'none.ctl')],
          ['heat-env', '-e', env, '-o', join(s.dir, 'heat-x.yaml')],
          ['status', '-i', inv, '-n', nd, '-e', env],
        ]) {
          const r = run([...args, ...debug]);
          expect(r.code, `${args[0]} ${debug}: ${r.stderr}`).not.toBe(0);
          expect(r.all, `${args[0]} ${debug}`).not.toContain(KEY);
          expect(r.all).not.toContain(KEY.slice(0, 24));
        }
      }
    });
  }

  it('--set ipsec_psk with a short, weak, quoted or whitespace key, and beside a bad variable', () => {
    for (const key of [KEY.slice(0, 20), 'a'.repeat(40), `${KEY}"`, ' '.repeat(40), 'abab'.repeat(10)]) {
      for (const extra of [[], ['--set', 'ipsec_policy=nope']]) {
        const r = run(['generate', '-i', inv, '--set', `ipsec_psk=${key}`, ...extra, '--out', join(s.dir, 'out-set'), '--debug']);
        expect(r.code).toBe(2);
        if (key.trim()) expect(r.all).not.toContain(key);
      }
    }
    const r = run(['generate', '-i', inv, '--set', `ipsec_psk=${KEY}`, '--set', 'ipsec_policy=nope', '--out', join(s.dir, 'out-set'), '--debug']);
    expect(r.code).toBe(2);
    expect(r.all).not.toContain(KEY);
  });

  it('the PSK file generate keeps, damaged, and rotate-psk on it', () => {
    const out = join(s.dir, 'kept');
    expect(run(['generate', '-i', inv, '-n', nd, '--out', out]).code).toBe(0);
    const psk = /ipsec_psk: (\S+)/.exec(readFileSync(join(out, 'ipsec-psk.yaml'), 'utf8'))![1];
    for (const damaged of [`parameter_defaults:\n  IpsecVars:\n    ipsec_psk: ${psk}\n  x: [\n`, `parameter_defaults:\n  IpsecVars: [${psk}]\n`, `parameter_defaults:\n  IpsecVars:\n    ipsec_psk: "${psk.slice(0, 20)}"\n`]) {
      writeFileSync(join(out, 'ipsec-psk.yaml'), damaged, { mode: 0o600 });
      for (const args of [['generate', '-i', inv, '-n', nd, '--out', out, '--debug'], ['rotate-psk', '-o', out, '--debug']]) {
        const r = run(args);
        expect(r.code, args[0]).not.toBe(0);
        expect(r.all).not.toContain(psk);
        expect(r.all).not.toContain(psk.slice(0, 20));
      }
    }
  });

  it('a heat-env file that holds a key, rewritten with a bad variable', () => {
    const heat = join(s.dir, 'heat.yaml');
    expect(run(['heat-env', '--set', `ipsec_psk=${KEY}`, '-o', heat]).code).toBe(0);
    const r = run(['heat-env', '-e', heat, '--set', 'ipsec_policy=nope', '-o', heat, '--debug']);
    expect(r.code).toBe(2);
    expect(r.all).not.toContain(KEY);
    const again = run(['heat-env', '--set', 'ipsec_algorithm=null-none', '-o', heat, '--debug']);
    expect(again.code).toBe(2);
    expect(again.all).not.toContain(KEY);
  });

  it("a node tree's secrets: an edited tree, another host's tree, and an apply that cannot reach pluto's firewall", () => {
    const out = join(s.dir, 'trees');
    const env = file('good-env.yaml', `parameter_defaults:\n  IpsecVars:\n    ipsec_psk: ${KEY}\n`);
    expect(run(['generate', '-i', inv, '-n', nd, '-e', env, '--out', out]).code).toBe(0);
    const host = 'overcloud-novacompute-0';
    const secrets = join(out, host, 'etc/ipsec.d/overcloud-internal_api.secrets');
    const keys = [...readFileSync(secrets, 'utf8').matchAll(/PSK "([^"]+)"/g)].map((m) => m[1]);
    expect(keys.length).toBeGreaterThan(0);
    // An edited secrets file (its key changed by hand): refused, the new key unshown too.
    const copy = join(s.dir, 'tree-copy');
    mkdirSync(join(copy, 'etc/ipsec.d'), { recursive: true });
    for (const args of [
      ['apply', '--tree', join(out, host), '--host', 'overcloud-controller-0', '--root', join(s.dir, 'r1'), '--ctlsocket', join(s.dir, 'none.ctl'), '--debug'],
      ['apply', '--tree', join(out, host), '--host', host, '--root', '/proc/no-such-root', '--ctlsocket', join(s.dir, 'none.ctl'), '--debug'],
    ]) {
      const r = run(args);
      expect(r.code).not.toBe(0);
      for (const k of [KEY, ...keys]) expect(r.all).not.toContain(k);
    }
    copyFileSync(secrets, join(copy, 'x'));
    writeFileSync(secrets, readFileSync(secrets, 'utf8').replace(keys[0], `${keys[0]}X`), { mode: 0o600 });
    const r = run(['apply', '--tree', join(out, host), '--host', host, '--root', join(s.dir, 'r2'), '--ctlsocket', join(s.dir, 'none.ctl'), '--debug']);
    expect(r.code).toBe(2);
    for (const k of [KEY, keys[0]]) expect(r.all).not.toContain(k);
  });

  it('the CA key given to a cert-mode run that fails', () => {
    const out = join(s.dir, 'ca');
    expect(run(['generate', '-i', inv, '-n', nd, '--set', `ipsec_psk=${KEY}`, '--set', 'ipsec_auth=cert', '--ca-create', '--out', out]).code).toBe(0);
    const caKey = readFileSync(join(out, 'ca/ca.key'), 'utf8');
    const body = caKey.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
    const r = run(['generate', '-i', inv, '-n', nd, '--set', `ipsec_psk=${KEY}`, '--set', 'ipsec_auth=cert', '--set', 'ipsec_policy=nope', '--ca-cert', join(out, 'ca/ca.crt'), '--ca-key', join(out, 'ca/ca.key'), '--out', out, '--debug']);
    expect(r.code).toBe(2);
    expect(r.all).not.toContain(body.slice(10, 60));
    expect(r.all).not.toContain(KEY);
  });
});
