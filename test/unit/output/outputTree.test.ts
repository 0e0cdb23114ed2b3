// generate's output directory never loses what it did not write: the built
// CLI against directories an operator could hand it (a home directory, a
// file, a directory of an earlier run with extra files in it, an output of
// an earlier version that kept no record), and what a failed or killed run
// leaves behind (nothing).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
// The record of what generate wrote (src/output/outputTree.ts), by the name an operator sees.
const OWNERSHIP_FILE = 'tripleo-ipsec-output.json';
import { scratchDir, TEST_PSK, writeInputs } from '../../helpers/inputs.js';
import { syntheticOvercloud } from '../../helpers/synthetic.js';
import { generate } from '../../../src/generate.js';
import { InputError } from '../../../src/model/errors.js';
import { writeOutputTreeSync } from '../../../src/output/outputTree.js';
import type { RenderJob } from '../../../src/render/renderJob.js';
import { renderInWorkers } from '../../../src/render/renderWorkers.js';

const CLI = join(__dirname, '..', '..', '..', 'bin', 'tripleo-ipsec');

function run(args: string[], cwd?: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every file under dir (relative path -> content), staging and all. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p);
      else out[p] = readFileSync(join(dir, p), 'utf8');
    }
  };
  walk('');
  return out;
}

describe('generate --out: only files it wrote are replaced or removed', () => {
  const s = scratchDir();
  afterAll(() => s.cleanup());

  it('refuses a non-empty directory that holds no output of ours (a home directory), touching nothing', () => {
    const home = join(s.dir, 'home');
    mkdirSync(join(home, '.ssh'), { recursive: true });
    writeFileSync(join(home, '.ssh', 'id_ed25519'), 'the operator key\n', { mode: 0o600 });
    writeFileSync(join(home, 'notes.txt'), 'mine\n');
    const before = tree(home);
    const r = run(['generate', '--example', '--out', '.'], home);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      `tripleo-ipsec: --out ${home} is not empty and holds no output of tripleo-ipsec generate (no ${OWNERSHIP_FILE}; it has .ssh/id_ed25519, notes.txt): name a new or empty directory; nothing was written`,
    ]);
    expect(tree(home)).toEqual(before);
    expect(readdirSync(s.dir).filter((e) => e.startsWith('.home'))).toEqual([]);
  });

  it('refuses a path that is a file (the inventory), which stays as it was', () => {
    const inv = join(s.dir, 'inventory.yaml');
    writeFileSync(inv, 'Controller: {}\n');
    const r = run(['generate', '--example', '--out', inv]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`tripleo-ipsec: --out ${inv} is not a directory: generate writes a directory of files; name a new or empty one; nothing was written\n`);
    expect(readFileSync(inv, 'utf8')).toBe('Controller: {}\n');
  });

  it("keeps the operator's files in its own output, and its kept PSK and CA when the next run is given its keys with -e", () => {
    const out = join(s.dir, 'out');
    expect(run(['generate', '--example', '--set', 'ipsec_auth=cert', '--ca-create', '--out', out]).code).toBe(0);
    const psk = readFileSync(join(out, 'ipsec-psk.yaml'), 'utf8');
    const caKey = readFileSync(join(out, 'ca/ca.key'), 'utf8');
    writeFileSync(join(out, 'README.operator'), 'do not delete\n');
    writeFileSync(join(out, 'overcloud-controller-0', 'notes'), 'mine too\n');
    const env = join(s.dir, 'env.yaml');
    writeFileSync(env, stringify({ parameter_defaults: { IpsecVars: { ipsec_psk: TEST_PSK, ipsec_auth: 'cert' } } }), { mode: 0o600 });
    const ca = join(s.dir, 'ca-copy');
    mkdirSync(ca);
    writeFileSync(join(ca, 'ca.crt'), readFileSync(join(out, 'ca/ca.crt')));
    writeFileSync(join(ca, 'ca.key'), caKey, { mode: 0o600 });
    const r = run(['generate', '--example', '-e', env, '--ca-cert', join(ca, 'ca.crt'), '--ca-key', join(ca, 'ca.key'), '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, 'README.operator'), 'utf8')).toBe('do not delete\n');
    expect(readFileSync(join(out, 'overcloud-controller-0', 'notes'), 'utf8')).toBe('mine too\n');
    expect(readFileSync(join(out, 'ipsec-psk.yaml'), 'utf8')).toBe(psk);
    expect(readFileSync(join(out, 'ca/ca.key'), 'utf8')).toBe(caKey);
    expect(statSync(join(out, 'ca/ca.key')).mode & 0o777).toBe(0o600);
  });

  it('removes the trees of hosts that left the inventory, and nothing else', () => {
    const d = join(s.dir, 'shrink');
    mkdirSync(d);
    const big = writeInputs(d, syntheticOvercloud({ controllers: 3, computes: 3 }));
    const out = join(s.dir, 'shrink-out');
    expect(run(['generate', '-i', big.inventoryPath, '-n', big.networkDataPath!, '-e', big.envPaths[0], '--out', out]).code).toBe(0);
    writeFileSync(join(out, 'overcloud-novacompute-2', 'operator.txt'), 'x\n');
    const smaller = writeInputs(join(d), syntheticOvercloud({ controllers: 3, computes: 2 }));
    const r = run(['generate', '-i', smaller.inventoryPath, '-n', smaller.networkDataPath!, '-e', smaller.envPaths[0], '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/: \d+ changed, [1-9]\d* removed\n$/);
    expect(tree(join(out, 'overcloud-novacompute-2'))).toEqual({ 'operator.txt': 'x\n' });
    expect(existsSync(join(out, 'overcloud-novacompute-1', 'etc/ipsec.d/overcloud-internal_api.conf'))).toBe(true);
  });

  it('refuses to take over a file it would write but did not (a tree an operator put there), and changes nothing', () => {
    const out = join(s.dir, 'taken');
    expect(run(['generate', '--example', '--host', 'overcloud-controller-0', '--out', out]).code).toBe(0);
    mkdirSync(join(out, 'overcloud-novacompute-0/etc/ipsec.d'), { recursive: true });
    writeFileSync(join(out, 'overcloud-novacompute-0/etc/ipsec.d/overcloud-internal_api.conf'), 'hand-made\n');
    const before = tree(out);
    const r = run(['generate', '--example', '-e', join(out, 'ipsec-psk.yaml'), '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/overcloud-novacompute-0\/etc\/ipsec.d\/overcloud-internal_api.conf exist\(s\) there and were not written by tripleo-ipsec generate: move them away or name another directory; nothing was written/);
    expect(tree(out)).toEqual(before);
  });

  it('with --host, leaves the other hosts\' trees as they are', () => {
    const out = join(s.dir, 'scoped');
    expect(run(['generate', '--example', '--out', out]).code).toBe(0);
    const other = tree(join(out, 'overcloud-novacompute-1'));
    expect(run(['generate', '--example', '--host', 'overcloud-controller-0', '-e', join(out, 'ipsec-psk.yaml'), '--out', out]).code).toBe(0);
    expect(tree(join(out, 'overcloud-novacompute-1'))).toEqual(other);
  });

  it('adopts the output of an earlier version (no record): replaces its own files, keeps the rest', () => {
    const out = join(s.dir, 'earlier');
    expect(run(['generate', '--example', '--out', out]).code).toBe(0);
    rmSync(join(out, OWNERSHIP_FILE));
    writeFileSync(join(out, 'overcloud-controller-0/etc/ipsec.d/overcloud-internal_api.conf'), 'stale\n');
    writeFileSync(join(out, 'mine.txt'), 'keep\n');
    writeFileSync(join(out, 'overcloud-controller-0/etc/ipsec.d/operator-own.conf'), 'keep\n');
    const r = run(['generate', '--example', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, 'overcloud-controller-0/etc/ipsec.d/overcloud-internal_api.conf'), 'utf8')).toMatch(/^# Generated by tripleo-ipsec/);
    expect(readFileSync(join(out, 'mine.txt'), 'utf8')).toBe('keep\n');
    expect(readFileSync(join(out, 'overcloud-controller-0/etc/ipsec.d/operator-own.conf'), 'utf8')).toBe('keep\n');
    expect(JSON.parse(readFileSync(join(out, OWNERSHIP_FILE), 'utf8')).files).not.toContain('mine.txt');
  });

  it('a second identical run changes no file (mtimes kept) and says so', () => {
    const out = join(s.dir, 'again');
    expect(run(['generate', '--example', '--out', out]).code).toBe(0);
    const mtimes = () => Object.keys(tree(out)).map((p) => [p, statSync(join(out, p)).mtimeMs]);
    const before = mtimes();
    const r = run(['generate', '--example', '--out', out]);
    expect(r.stdout).toMatch(/: 0 changed, 0 removed\n$/);
    expect(mtimes()).toEqual(before);
  });

  it('sweeps what killed runs left: its own staging of a dead process, and the sibling copies earlier versions made', () => {
    const out = join(s.dir, 'swept');
    expect(run(['generate', '--example', '--out', out]).code).toBe(0);
    // A pid no process has (above pid_max of a default kernel).
    mkdirSync(join(out, '.tripleo-ipsec-staging.4194305.1'), { recursive: true });
    writeFileSync(join(out, '.tripleo-ipsec-staging.4194305.1', 'ipsec-psk.yaml'), 'a key\n');
    mkdirSync(join(s.dir, '.swept.new-Ab12Cd'));
    writeFileSync(join(s.dir, '.swept.new-Ab12Cd', 'ipsec-psk.yaml'), 'a key\n');
    expect(run(['generate', '--example', '--out', out]).code).toBe(0);
    expect(readdirSync(out).filter((e) => e.startsWith('.'))).toEqual([]);
    expect(existsSync(join(s.dir, '.swept.new-Ab12Cd'))).toBe(false);
  });

  it("refuses another stack's output (two stacks given one state directory would remove each other's trees and share a PSK); records the stack of an output that had none", () => {
    const sample = readFileSync(join(__dirname, '..', '..', '..', 'examples', 'sample-overcloud', 'inventory.yaml'), 'utf8');
    const invOf = (plan: string) => {
      const p = join(s.dir, `inventory-${plan}.yaml`);
      writeFileSync(p, sample.replace('Undercloud:\n  hosts:\n    undercloud:\n      ansible_connection: local\n', `Undercloud:\n  hosts:\n    undercloud:\n      ansible_connection: local\n  vars:\n    plan: ${plan}\n`));
      return p;
    };
    const out = join(s.dir, 'two-stacks');
    expect(run(['generate', '--example', '-i', invOf('overcloud'), '--out', out]).code).toBe(0);
    const record = () => JSON.parse(readFileSync(join(out, OWNERSHIP_FILE), 'utf8')) as { stack?: string };
    expect(record().stack).toBe('overcloud');
    const before = tree(out);
    const other = run(['generate', '--example', '-i', invOf('dcn1'), '--out', out]);
    expect(other.code).toBe(2);
    expect(other.stderr.trim().split('\n')).toEqual([
      `tripleo-ipsec: --out ${out} holds the output of stack overcloud, and this inventory's stack is dcn1: give each stack a directory of its own (IpsecStateDir in its heat environment, or another --out); nothing was written`,
    ]);
    expect(tree(out)).toEqual(before);
    // An output of an earlier version (no stack recorded): the next run of the same inputs records it, changing no file.
    writeFileSync(join(out, OWNERSHIP_FILE), JSON.stringify({ ...record(), stack: undefined }));
    const again = run(['generate', '--example', '-i', invOf('overcloud'), '--out', out]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(' 0 changed, 0 removed');
    expect(record().stack).toBe('overcloud');
  });

});

describe('generate on worker threads', () => {
  const s = scratchDir();
  afterAll(() => s.cleanup());

  it("writes the same bytes as one thread: the built CLI (its workers render the hosts) against generate's files in this process", () => {
    // 60 nodes: above the size from which the CLI renders on workers; with certificates out (they are issued anew each run).
    const opts = writeInputs(s.dir, syntheticOvercloud({ controllers: 3, computes: 50, ceph: 7 }));
    const viaWorkers = join(s.dir, 'workers');
    const r = run(['generate', '-i', opts.inventoryPath, '-n', opts.networkDataPath!, '-e', opts.envPaths[0], '--out', viaWorkers]);
    expect(r.code, r.stderr).toBe(0);
    const oneThread = join(s.dir, 'one-thread');
    writeOutputTreeSync(oneThread, generate({ ...opts, outDir: oneThread }).eachFile());
    const a = tree(viaWorkers);
    const b = tree(oneThread);
    expect(Object.keys(a).length).toBeGreaterThan(60 * 5);
    expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
    for (const p of Object.keys(a)) if (p !== OWNERSHIP_FILE) expect(a[p], p).toBe(b[p]);
    expect(JSON.parse(a[OWNERSHIP_FILE]).files).toEqual(JSON.parse(b[OWNERSHIP_FILE]).files);
  }, 60_000);

  it("a host that cannot be rendered: the worker's InputError reaches the caller as an InputError, and the workers stop", async () => {
    mkdirSync(join(s.dir, 'bad'));
    const { overcloud } = generate({ ...writeInputs(join(s.dir, 'bad'), syntheticOvercloud({ controllers: 3, computes: 3 })), outDir: join(s.dir, 'bad', 'out') });
    // A phase2alg that would end a line in a file pluto reads as root.
    const job: RenderJob = { overcloud: { ...overcloud, vars: { ...overcloud.vars, ipsec_algorithm: 'aes_gcm128\nleftupdown=/tmp/x' } }, firewall: true, certificates: {}, cluster: { hosts: [], plan: { resources: [], constraints: [] } as unknown as RenderJob['cluster']['plan'] }, uninstall: false, upgrade: false };
    const files: string[] = [];
    const err = await (async () => {
      for await (const f of renderInWorkers(job, overcloud.nodes.map((n) => n.name), join(__dirname, '..', '..', '..', 'dist', 'cli.cjs'), 2)) files.push(f.path);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/refusing to render value of phase2alg/);
    expect(files).toEqual([]);
  }, 60_000);
});

describe('generate interrupted', () => {
  const s = scratchDir();
  let inputs: ReturnType<typeof writeInputs>;
  beforeAll(() => {
    inputs = writeInputs(s.dir, syntheticOvercloud({ controllers: 3, computes: 150 }));
  });
  afterAll(() => s.cleanup());

  it('by Ctrl-C while staging: exits 130 and leaves no staging (it holds keys)', async () => {
    const out = join(s.dir, 'out');
    mkdirSync(out);
    const child = spawn(process.execPath, [CLI, 'generate', '-i', inputs.inventoryPath, '-n', inputs.networkDataPath!, '-e', inputs.envPaths[0], '--out', out], { stdio: 'ignore' });
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    const deadline = Date.now() + 60_000;
    let staged = false;
    while (!staged && Date.now() < deadline) {
      staged = readdirSync(out).some((e) => e.startsWith('.tripleo-ipsec-staging.') && readdirSync(join(out, e)).length > 0);
      if (!staged) await new Promise((r) => setTimeout(r, 20));
    }
    expect(staged).toBe(true);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(readdirSync(out)).toEqual([]);
  }, 90_000);
});
