// apply's decisions with no node: from a node plan and an observation (what
// observe.ts would have read), the changes, the journal recorded before the
// first of them, and the manifest after the last. The executor is covered by
// the integration tests on real nodes.
import { describe, expect, it } from 'vitest';
import { decideApply, decideFirewallRestore, decideUninstall, type ApplyChoices, type Change } from '../../../src/apply/decide.js';
import type { Observation } from '../../../src/apply/observe.js';
import type { Manifest } from '../../../src/apply/manifest.js';
import type { PlutoStatus } from '../../../src/libreswan/whackStatus.js';
import { generateFrom, small } from '../../helpers/inputs.js';

const HOST = 'overcloud-novacompute-0';
const desired = generateFrom(small()).hostTree(HOST);
const choices: ApplyChoices = { host: HOST, live: true, steps: [1, 3], upgrade: false, pacemaker: true };
const emptyPluto = (): PlutoStatus => ({ conns: new Map(), states: [], ikeSas: { total: 0, authenticated: 0, anonymous: 0 }, ipsecSas: { total: 0, authenticated: 0, anonymous: 0 } });
const bare = (o: Partial<Observation> = {}): Observation => ({ files: new Map(), strangers: [], firewall: new Map([[4, { chains: false, jumps: false }], [6, { chains: false, jumps: false }]]), pluto: emptyPluto(), ...o });
const kinds = (cs: Change[]) => [...new Set(cs.map((c) => c.do))];
const bytes = (f: { content: string; bytes?: Buffer }) => f.bytes ?? Buffer.from(f.content);

/** The node as a finished first run leaves it: every file in place, every conn loaded, the firewall in. */
function afterFirstRun(): Observation {
  const first = decideApply(desired, bare(), choices);
  const files = new Map(desired.files.map((f) => [f.path, { bytes: bytes(f), mode: f.mode }]));
  const conns = new Map(desired.nodePlan.conns.filter((c) => !c.agentOnly).map((c) => [c.name, { name: c.name, oriented: true, instances: 0, routing: c.auto === 'route' ? 'prospective erouted' : 'unrouted' }]));
  const edit = (p: string) => first.changes.find((c): c is Extract<Change, { do: 'edit' }> => c.do === 'edit' && c.path === p)!;
  return bare({
    manifest: first.final,
    files,
    pluto: { ...emptyPluto(), conns },
    conf: { bytes: Buffer.from(edit('etc/ipsec.conf').text), mode: 0o644 },
    secrets: { bytes: Buffer.from(edit('etc/ipsec.secrets').text), mode: 0o600 },
    firewall: new Map([[4, { chains: true, jumps: true }], [6, { chains: true, jumps: true }]]),
  });
}

describe('decideApply', () => {
  it('a first run: every file, the include lines, the keys read, every conn added and started, the firewall; a journal listing all of it first', () => {
    const d = decideApply(desired, bare(), choices);
    expect(kinds(d.changes)).toEqual(['write', 'make-run-dir', 'edit', 'reread-secrets', 'pluto', 'listen-if-unoriented', 'install-firewall']);
    expect(d.changes.filter((c) => c.do === 'write').map((c) => (c as { path: string }).path).sort()).toEqual(desired.files.map((f) => f.path).sort());
    const edits = d.changes.filter((c): c is Extract<Change, { do: 'edit' }> => c.do === 'edit');
    expect(edits.map((e) => e.text.split('\n').filter((l) => l.includes('# tripleo-ipsec')))).toEqual([
      ['include /etc/ipsec.d/*.conf # tripleo-ipsec', 'include /run/tripleo-ipsec/*.conf # tripleo-ipsec'],
      ['include /etc/ipsec.d/*.secrets # tripleo-ipsec'],
    ]);
    expect(d.journal.complete).toBe(false);
    expect(Object.keys(d.journal.files).sort()).toEqual(Object.keys(d.final!.files).sort());
    // A compute is on IPv4 networks only here: one family.
    expect(d.journal.firewall).toEqual([4]);
    expect(d.final!.complete).toBe(true);
  });

  it('a first run loads each file with one addconn and starts (or routes) each network\'s tunnels with one whack of their alias', () => {
    const d = decideApply(desired, bare(), choices);
    const pluto = d.changes.filter((c): c is Extract<Change, { do: 'pluto' }> => c.do === 'pluto');
    const files = new Set(desired.nodePlan.conns.filter((c) => !c.agentOnly).map((c) => c.file));
    expect(pluto.filter((c) => c.op === 'add').map((c) => (c as { file: string }).file).sort()).toEqual([...files].sort());
    const starts = pluto.filter((c) => c.op === 'initiate' || c.op === 'route');
    expect(starts.length).toBeGreaterThan(0);
    for (const c of starts) expect((c as { alias?: string }).alias).toMatch(/^overcloud-[a-z_]+\.(initiated|answered)$/);
  });

  it('a repair starts only the conns pluto lost, by name (the alias would start the others again)', () => {
    // The storage network: compute-0 initiates its tunnels with both computes above it there.
    const o = afterFirstRun();
    const initiated = desired.nodePlan.conns.filter((c) => c.auto === 'start' && c.alias === 'overcloud-storage.initiated').map((c) => c.name);
    expect(initiated.length).toBeGreaterThan(1);
    o.pluto!.conns.delete(initiated[0]);
    const d = decideApply(desired, o, choices);
    expect(d.changes.filter((c) => c.do === 'pluto')).toEqual([
      { do: 'pluto', op: 'add', file: 'etc/ipsec.d/overcloud-storage.conf', names: [initiated[0]] },
      { do: 'pluto', op: 'initiate', names: [initiated[0]] },
    ]);
  });

  it('a second run, with everything in place: no change at all', () => {
    expect(decideApply(desired, afterFirstRun(), choices).changes.map((c) => c.do)).toEqual(['make-run-dir']);
  });

  it('a file of ours edited by hand is written back; a missing chain is installed again; nothing else', () => {
    const o = afterFirstRun();
    const conf = 'etc/ipsec.d/overcloud-internal_api.conf';
    o.files.set(conf, { bytes: Buffer.from('edited\n'), mode: 0o640 });
    o.firewall.set(4, { chains: true, jumps: false });
    const d = decideApply(desired, o, choices);
    expect(d.changes.filter((c) => c.do !== 'make-run-dir')).toEqual([
      { do: 'write', path: conf, content: desired.files.find((f) => f.path === conf)!.content, mode: 0o640, existed: true },
      expect.objectContaining({ do: 'install-firewall', family: 4 }),
    ]);
  });

  it("refuses an overcloud- file that is not ours, unless upgrading; then an earlier installation's leftovers go too", () => {
    const o = bare({ files: new Map([['etc/ipsec.d/overcloud-internal_api.conf', { bytes: Buffer.from('# the role\n'), mode: 0o644 }]]), strangers: ['etc/ipsec.d/overcloud-internal_api-node-to-node-tunnels.conf'] });
    expect(() => decideApply(desired, o, choices)).toThrow(/etc\/ipsec.d\/overcloud-internal_api.conf exist\(s\) and was not written by tripleo-ipsec; rerun with --upgrade/);
    const d = decideApply(desired, o, { ...choices, upgrade: true });
    expect(d.changes).toContainEqual({ do: 'remove', path: 'etc/ipsec.d/overcloud-internal_api-node-to-node-tunnels.conf' });
  });

  it("refuses to leave an earlier installation's overcloud- files (the Ansible role's names) for pluto to load beside ours, unless upgrading, which removes them", () => {
    const role = ['etc/ipsec.d/overcloud-internal_api-node-to-node-private-or-clear-tunnels.conf', 'etc/ipsec.d/overcloud-internal_api-vip-tunnels.secrets'];
    const o = bare({ strangers: role });
    expect(() => decideApply(desired, o, choices)).toThrow(
      'etc/ipsec.d/overcloud-internal_api-node-to-node-private-or-clear-tunnels.conf, etc/ipsec.d/overcloud-internal_api-vip-tunnels.secrets exist(s), was not written by tripleo-ipsec and would be loaded beside its conns',
    );
    const d = decideApply(desired, o, { ...choices, upgrade: true });
    for (const p of role) expect(d.changes).toContainEqual({ do: 'remove', path: p });
    // A backup pluto does not load (ipsec.conf includes *.conf and *.secrets): left alone, removed only when upgrading.
    const backup = 'etc/ipsec.d/overcloud-internal_api.conf.rpmsave';
    expect(decideApply(desired, bare({ strangers: [backup] }), choices).changes).not.toContainEqual({ do: 'remove', path: backup });
    expect(decideApply(desired, bare({ strangers: [backup] }), { ...choices, upgrade: true }).changes).toContainEqual({ do: 'remove', path: backup });
  });

  it('an image being built (--root): files only, no pluto, no firewall, no cluster; nothing recorded as installed there', () => {
    const d = decideApply(desired, bare({ pluto: undefined }), { ...choices, live: false });
    expect(kinds(d.changes)).toEqual(['write', 'make-run-dir', 'edit']);
    expect(d.final!.firewall).toEqual([]);
  });

  it('after a run that was interrupted, the next run still replaces what that run recorded but did not load', () => {
    const o = afterFirstRun();
    const conn = 'overcloud-internal_api-to-overcloud-controller-0';
    // The journal of an interrupted run that changed the algorithm: the conn's new digest never reached pluto.
    const changed = generateFrom(small(), { sets: ['ipsec_algorithm=aes_gcm256-null'] }).hostTree(HOST);
    const interrupted = decideApply(changed, o, choices);
    const journal: Manifest = interrupted.journal;
    expect(journal.conns![conn]).toBe(o.manifest!.conns![conn]);
    const next = decideApply(changed, { ...o, manifest: journal, files: new Map(changed.files.map((f) => [f.path, { bytes: bytes(f), mode: f.mode }])) }, choices);
    expect(next.changes).toContainEqual({ do: 'pluto', op: 'replace', file: 'etc/ipsec.d/overcloud-internal_api.conf', names: expect.arrayContaining([conn]) });
  });
});

describe('decideUninstall', () => {
  it('from a journal (an interrupted run): every file it lists that is there, our conns, the include lines, the chains; then the directories', () => {
    const d = decideApply(desired, bare(), choices);
    const present = new Map([...Object.keys(d.journal.files).slice(0, 3)].map((p) => [p, { bytes: Buffer.from('x'), mode: 0o600 }]));
    const conf = Buffer.from(`config setup\ninclude /etc/ipsec.d/*.conf # tripleo-ipsec\n`);
    const loaded = new Map([['overcloud-internal_api-to-overcloud-controller-0', { name: 'x', oriented: true, instances: 0 }], ['operator-own', { name: 'operator-own', oriented: true, instances: 0 }]]);
    const u = decideUninstall(bare({ manifest: { ...d.journal, createdConf: false }, files: present, conf: { bytes: conf, mode: 0o644 }, pluto: { ...emptyPluto(), conns: loaded } }), { live: true, pacemaker: true })!;
    expect(u.changes.filter((c) => c.do === 'remove').map((c) => (c as { path: string }).path).sort()).toEqual([...present.keys()].sort());
    expect(u.changes).toContainEqual({ do: 'pluto', op: 'delete', names: ['overcloud-internal_api-to-overcloud-controller-0'] });
    expect(u.changes).toContainEqual({ do: 'restore', path: 'etc/ipsec.conf', text: 'config setup\n', mode: 0o644 });
    expect(u.changes.filter((c) => c.do === 'remove-firewall')).toEqual([{ do: 'remove-firewall', family: 4 }]);
    expect(u.final).toBeUndefined();
  });

  it('nothing recorded: nothing to do', () => {
    expect(decideUninstall(bare(), { live: true, pacemaker: true })).toBeUndefined();
  });
});


describe('decideFirewallRestore', () => {
  it('after a boot: the families the manifest lists whose chains or jumps are gone, from the installed fragments; nothing when they are there; the manifest kept', () => {
    const node = afterFirstRun();
    expect(decideFirewallRestore(node)!.changes).toEqual([]);
    const booted = { ...node, firewall: new Map([[4, { chains: false, jumps: false }]]) } as Observation;
    const d = decideFirewallRestore(booted)!;
    const fragment = desired.files.find((f) => f.path === 'etc/tripleo-ipsec/ipsec.iptables')!;
    expect(d.changes).toEqual([{ do: 'install-firewall', family: 4, fragment: bytes(fragment).toString('utf8') }]);
    expect(d.final).toEqual(node.manifest);
    // Jumps gone, chains there (a service that flushed INPUT and OUTPUT only): restored too.
    expect(decideFirewallRestore({ ...node, firewall: new Map([[4, { chains: true, jumps: false }]]) } as Observation)!.changes).toHaveLength(1);
  });

  it('a fragment the manifest lists but that is gone: one error naming it; no manifest: nothing to do', () => {
    const node = afterFirstRun();
    const files = new Map(node.files);
    files.delete('etc/tripleo-ipsec/ipsec.iptables');
    expect(() => decideFirewallRestore({ ...node, files, firewall: new Map([[4, { chains: false, jumps: false }]]) } as Observation)).toThrow('/etc/tripleo-ipsec/ipsec.iptables: the manifest says apply installed it, but it is not there: run apply');
    expect(decideFirewallRestore(bare())).toBeUndefined();
  });
});
