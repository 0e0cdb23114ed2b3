// Two stacks deployed side by side from one undercloud (tripleo-common's
// overcloud and cell1 inventories): the service template's undercloud part,
// run by the real ansible-playbook as config-download lays it out, keeps one
// state directory per stack (PSK, trees), named from the stack, wherever the
// playbooks are written; a state that stacks shared before (config-download's
// --output-dir) goes with the stack it was generated for. The nodes' part is
// the same per stack and is run over SSH in tripleoDeploy.test.ts; here the
// plays are limited to the undercloud (`--limit undercloud`, as an operator
// runs one part of config-download).
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeConfigDownload } from '../../helpers/configDownload.js';
import { scratchDir } from '../../helpers/inputs.js';
import { shAsync } from '../../helpers/netns.js';

const REPO = join(__dirname, '..', '..', '..');
const INVENTORIES = join(__dirname, '..', '..', 'fixtures', 'tripleo-samples', 'inventory');
const STACKS = ['overcloud', 'cell1'] as const;
type Stack = (typeof STACKS)[number];

describe('two stacks from one undercloud: one state directory per stack, named from it, wherever the playbooks are', () => {
  const s = scratchDir();
  const bin = join(s.dir, 'bin');

  beforeAll(() => {
    mkdirSync(bin, { recursive: true });
    // The undercloud's tripleo-ipsec, as the RPM installs it.
    writeFileSync(join(bin, 'tripleo-ipsec'), `#!/bin/sh\nexec ${process.execPath} ${REPO}/bin/tripleo-ipsec "$@"\n`, { mode: 0o755 });
  });
  afterAll(() => s.cleanup());

  /** `openstack overcloud deploy --stack STACK [--output-dir X]`, the undercloud's part: its playbooks written, then run. */
  async function deploy(home: string, stack: Stack, outputDir?: string, params: Record<string, string> = {}, expectFailure = false) {
    const playbooks = writeConfigDownload(join(home, 'overcloud-deploy', stack), stack, params, { outputDir });
    const r = await shAsync(
      'env',
      [
        `PATH=${bin}:${process.env.PATH}`,
        `HOME=${home}`,
        `ANSIBLE_LOCAL_TEMP=${join(home, '.ansible-tmp')}`,
        'ANSIBLE_NOCOLOR=1',
        'ANSIBLE_RETRY_FILES_ENABLED=False',
        'ansible-playbook',
        '-i',
        join(INVENTORIES, `${stack}_static.yaml`),
        '--limit',
        'undercloud',
        // tripleo-common's fixture names python2 for the undercloud.
        '-e',
        'ansible_python_interpreter=/usr/bin/python3',
        playbooks.deploy,
      ],
      { timeoutMs: 300_000 },
    );
    if (expectFailure) expect(r.status, `${stack}: ${r.stdout.slice(-3000)}`).not.toBe(0);
    else expect(r.status, `${stack}: ${r.stdout.slice(-3000)}\n${r.stderr}`).toBe(0);
    return r.stdout;
  }
  /** The generate task's result in a run's output. */
  const generated = (out: string) => /TASK \[Generate every host's tree[^\n]*\n(ok|changed): \[undercloud\]/.exec(out)?.[1];
  const psk = (state: string) => readFileSync(join(state, 'out', 'ipsec-psk.yaml'), 'utf8');
  const record = (state: string) => JSON.parse(readFileSync(join(state, 'out', 'tripleo-ipsec-output.json'), 'utf8')) as { stack?: string; files: string[] };
  /** What the earlier template's default left in X/../tripleo-ipsec: overcloud's deploy with that directory as its state. */
  async function sharedStateFromBefore(name: string) {
    const home = join(s.dir, name);
    const x = join(home, 'config-download');
    const shared = join(home, 'tripleo-ipsec');
    expect(generated(await deploy(home, 'overcloud', x, { IpsecStateDir: shared }))).toBe('changed');
    return { home, x, shared };
  }
  const trees = (state: string) => readdirSync(join(state, 'out'), { withFileTypes: true }).filter((e) => e.isDirectory() && e.name !== 'cluster').map((e) => e.name).sort();

  it('the default layout (~/overcloud-deploy/<stack>/config-download/<stack>): each stack in its own working directory, tripleo-ipsec there, as before', async () => {
    const home = join(s.dir, 'default');
    for (const stack of STACKS) {
      expect(generated(await deploy(home, stack))).toBe('changed');
      const state = join(home, 'overcloud-deploy', stack, 'tripleo-ipsec');
      expect(record(state).stack).toBe(stack);
      expect(statSync(state).mode & 0o777).toBe(0o700);
    }
    expect(trees(join(home, 'overcloud-deploy', 'cell1', 'tripleo-ipsec'))).toEqual(['cell1-cellcontrol-0', 'cell1-compute-0']);
  }, 300_000);

  it('--output-dir X for both: X/tripleo-ipsec-<stack> each, its own PSK and only its hosts; nothing shared; a second deploy of each changes nothing', async () => {
    const home = join(s.dir, 'outdir');
    const x = join(home, 'config-download');
    for (const stack of STACKS) expect(generated(await deploy(home, stack, x))).toBe('changed');
    const state = (stack: Stack) => join(x, `tripleo-ipsec-${stack}`);
    expect(existsSync(join(home, 'tripleo-ipsec'))).toBe(false);
    expect(STACKS.map((st) => record(state(st)).stack)).toEqual([...STACKS]);
    expect(trees(state('overcloud'))).toEqual(['overcloud-controller-0', 'overcloud-novacompute-0']);
    expect(trees(state('cell1'))).toEqual(['cell1-cellcontrol-0', 'cell1-compute-0']);
    expect(psk(state('overcloud'))).not.toBe(psk(state('cell1')));
    const before = STACKS.map((st) => psk(state(st)));
    for (const stack of STACKS) expect(generated(await deploy(home, stack, x)), stack).toBe('ok');
    expect(STACKS.map((st) => psk(state(st)))).toEqual(before);
  }, 300_000);

  it('a state the stacks shared before (X/../tripleo-ipsec, generated for overcloud): cell1 leaves it and makes its own; overcloud moves it to its own directory and keeps its PSK (no re-key)', async () => {
    const { home, x, shared } = await sharedStateFromBefore('migrate');
    const oldPsk = psk(shared);
    const oldFiles = record(shared).files;

    const cell = await deploy(home, 'cell1', x);
    expect(cell).toMatch(/TASK \[Move this stack's state out of the directory stacks used to share\][^\n]*\nskipping: \[undercloud\]/);
    expect(psk(shared)).toBe(oldPsk);
    expect(record(join(x, 'tripleo-ipsec-cell1')).stack).toBe('cell1');
    expect(psk(join(x, 'tripleo-ipsec-cell1'))).not.toBe(oldPsk);

    const oc = await deploy(home, 'overcloud', x);
    expect(oc).toMatch(/TASK \[Move this stack's state out of the directory stacks used to share\][^\n]*\nchanged: \[undercloud\]/);
    expect(existsSync(shared)).toBe(false);
    const mine = join(x, 'tripleo-ipsec-overcloud');
    expect(psk(mine)).toBe(oldPsk);
    // Moved, then generated from the same PSK and inventory: nothing of it changed.
    expect(generated(oc)).toBe('ok');
    expect(record(mine).files).toEqual(oldFiles);
  }, 300_000);

  it("a shared state from before the output recorded its stack: the deploy stops, naming it and both ways out, and takes or makes nothing (no silent new PSK)", async () => {
    const { home, x, shared } = await sharedStateFromBefore('unrecorded');
    // What an output of an earlier version holds: no stack.
    const rec = join(shared, 'out', 'tripleo-ipsec-output.json');
    const older = JSON.parse(readFileSync(rec, 'utf8')) as Record<string, unknown>;
    delete older.stack;
    writeFileSync(rec, JSON.stringify(older, null, 1) + '\n');
    const oldPsk = psk(shared);
    const out = await deploy(home, 'overcloud', x, {}, true);
    expect(out).toMatch(/TASK \[A state in the directory stacks used to share that records no stack is not taken or left silently\][^\n]*\nfatal: \[undercloud\]/);
    expect(out).toContain(`${shared} holds the state (PSK, CA, trees) of an earlier tripleo-ipsec deploy that does not record its stack`);
    expect(out).toContain(`mv ${shared} ${join(x, 'tripleo-ipsec-overcloud')}`);
    expect(existsSync(join(x, 'tripleo-ipsec-overcloud'))).toBe(false);
    expect(psk(shared)).toBe(oldPsk);
  }, 300_000);
});
