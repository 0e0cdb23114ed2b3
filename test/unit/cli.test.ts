// The built CLI as an operator runs it: exit codes, stderr, untouched output on failure.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir, small, TEST_PSK, writeInputs } from '../helpers/inputs.js';

const CLI = join(__dirname, '..', '..', 'bin', 'tripleo-ipsec');

function run(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

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
