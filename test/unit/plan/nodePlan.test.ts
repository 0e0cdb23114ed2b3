// The node plan: what the undercloud ships each node beside its files, and
// what apply --tree trusts. It must list exactly the host's files with their
// digests and steps, carry no secret, and refuse anything it cannot vouch for.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { readNodeTree } from '../../../src/apply/nodeTree.js';
import { nodePaths } from '../../../src/model/names.js';
import { writeOutputTreeSync } from '../../../src/output/outputTree.js';
import { connDigest, parseNodePlan, serializeNodePlan, type NodePlan } from '../../../src/plan/nodePlan.js';
import type { Conn } from '../../../src/plan/tunnels.js';
import { sha256 } from '../../../src/text/sha256.js';
import { generateFrom, small, TEST_PSK } from '../../helpers/inputs.js';

describe('node plan', () => {
  const { inventory, networkData } = small();
  const r = generateFrom({ inventory, networkData });
  const planOf = (host: string): NodePlan => parseNodePlan(r.hostTree(host).files.find((f) => f.path === nodePaths.nodePlan)!.content, host);

  it("lists every other file of the host's tree with its mode, step and digest", () => {
    for (const node of r.nodes) {
      const files = r.hostTree(node.name).files.filter((f) => f.path !== nodePaths.nodePlan);
      const p = planOf(node.name);
      expect(p.host).toBe(node.name);
      expect(p.files.map((f) => f.path)).toEqual(files.map((f) => f.path));
      for (const f of files) {
        const e = p.files.find((x) => x.path === f.path)!;
        expect(e.sha256).toBe(sha256(f.bytes ?? f.content));
        expect(parseInt(e.mode, 8)).toBe(f.mode);
        // Keys at step 1 (a reload at step 3 could kill a pluto signing with a certificate), VIP conns at 3.
        expect(e.step).toBe(f.path.includes('-vip') && f.path.endsWith('.conf') ? 3 : 1);
      }
    }
  });

  it("lists the plan's conns with their step and auto=, each in a file it lists", () => {
    const plan = r.planOf('overcloud-controller-0');
    const p = planOf('overcloud-controller-0');
    const conns = plan.files.flatMap((f) => f.conns.map((c) => [c.name, c.step, c.auto, f.agentOnly === true]));
    expect(p.conns.map((c) => [c.name, c.step, c.auto, c.agentOnly])).toEqual(conns);
    const paths = new Set(p.files.map((f) => f.path));
    for (const c of p.conns) expect(paths.has(c.file)).toBe(true);
  });

  it('identifies each key per host and conn: no value shared between nodes (no fingerprint of a key to test guesses against), stable from run to run', () => {
    const a = planOf('overcloud-controller-0').conns.find((c) => c.name === 'overcloud-internal_api-to-overcloud-novacompute-0')!;
    const b = planOf('overcloud-novacompute-0').conns.find((c) => c.name === 'overcloud-internal_api-to-overcloud-controller-0')!;
    expect(a.key).toMatch(/^[0-9a-f]{16}$/);
    expect(b.key).toMatch(/^[0-9a-f]{16}$/);
    expect(a.key).not.toBe(b.key);
    const every = r.nodes.flatMap((n) => planOf(n.name).conns.map((c) => c.key)).filter(Boolean);
    expect(new Set(every).size).toBe(every.length);
    const again = generateFrom(small());
    const nodePlanOf = (host: string) => parseNodePlan(again.hostTree(host).files.find((f) => f.path === nodePaths.nodePlan)!.content, host);
    expect(nodePlanOf('overcloud-controller-0').conns.map((c) => c.key)).toEqual(planOf('overcloud-controller-0').conns.map((c) => c.key));
  });

  it('is readable by root only: its digests of the secrets files would let anyone test guesses of the PSK', () => {
    for (const node of r.nodes) expect(r.hostTree(node.name).files.find((f) => f.path === nodePaths.nodePlan)!.mode).toBe(0o600);
  });

  it('round-trips through its compact file form', () => {
    for (const node of r.nodes) {
      const p = planOf(node.name);
      expect(parseNodePlan(serializeNodePlan(p), node.name)).toEqual(p);
    }
  });

  it('holds no secret: neither the master key nor any key of the host', () => {
    for (const node of r.nodes) {
      const text = r.hostTree(node.name).files.find((f) => f.path === nodePaths.nodePlan)!.content;
      expect(text).not.toContain(TEST_PSK);
      const secrets = r.hostTree(node.name).files.filter((f) => f.path.endsWith('.secrets'));
      const keys = secrets.flatMap((f) => [...f.content.matchAll(/PSK "([^"]+)"/g)].map((m) => m[1]));
      expect(keys.length).toBeGreaterThan(0);
      for (const k of keys) expect(text).not.toContain(k);
    }
  });

  it('carries the Pacemaker plan on cluster nodes only, with the cluster nodes in order', () => {
    expect(planOf('overcloud-controller-1').pacemaker?.hosts).toEqual(['overcloud-controller-0', 'overcloud-controller-1', 'overcloud-controller-2']);
    expect(planOf('overcloud-controller-1').pacemaker?.plan).toEqual(r.pacemaker);
    expect(planOf('overcloud-novacompute-0').pacemaker).toBeUndefined();
  });

  it('refuses what generate would not write, naming the file and the field', () => {
    const good = planOf('overcloud-novacompute-0');
    const bad = (edit: (p: NodePlan) => void) => {
      const p = structuredClone(good);
      edit(p);
      return () => parseNodePlan(serializeNodePlan(p), '/x/node-plan.json');
    };
    expect(() => parseNodePlan('{', '/x/node-plan.json')).toThrow(/^\/x\/node-plan.json: not JSON/);
    expect(bad((p) => (p.version = 2 as 1))).toThrow('/x/node-plan.json: version=2: this tripleo-ipsec reads version 1');
    expect(bad((p) => (p.files[0].path = 'etc/ipsec.d/../../root/.ssh/authorized_keys'))).toThrow(/files\[0\]\.path="etc\/ipsec.d\/..\/..\/root\/.ssh\/authorized_keys": not a path under/);
    expect(bad((p) => (p.files[0].path = '/etc/passwd'))).toThrow(/files\[0\]\.path="\/etc\/passwd"/);
    expect(bad((p) => (p.files[0].mode = '644'))).toThrow(/files\[0\]\.mode="644": not an octal mode/);
    expect(bad((p) => (p.conns[0].file = 'etc/ipsec.d/other.conf'))).toThrow(/connFiles\[0\]\.file="etc\/ipsec.d\/other.conf": not one of the files listed/);
    expect(bad((p) => { p.conns[0].auto = 'always' as 'add'; delete p.conns[0].alias; })).toThrow(/connFiles\[0\]\.conns\[0\]\[2\] \(auto\)="always"/);
    expect(() => parseNodePlan(JSON.stringify({ ...JSON.parse(serializeNodePlan(good)), connFiles: [{ file: good.files[0].path, step: 1, agentOnly: false, conns: [['x']] }] }), '/x/node-plan.json')).toThrow(/connFiles\[0\]\.conns\[0\]=\["x"\]: not \[name, kind, auto, digest, key\]/);
    expect(() => parseNodePlan(JSON.stringify({ ...JSON.parse(serializeNodePlan(good)), connFiles: [{ file: good.files[0].path, step: 1, agentOnly: false, aliases: { start: 'a b' }, conns: [] }] }), '/x/node-plan.json')).toThrow(/connFiles\[0\]\.aliases=\{"start":"a b"\}: not a mapping of auto= to a conn alias/);
  });

  describe('read back from a copied tree (apply --tree)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ti-nodeplan-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const host = 'overcloud-novacompute-0';
    const tree = join(dir, host);
    writeOutputTreeSync(tree, r.hostTree(host).files);

    it('gives back the same files, modes and plan', () => {
      const t = readNodeTree(tree, host);
      expect(t.nodePlan).toEqual(planOf(host));
      const want = r.hostTree(host).files;
      expect(t.files.map((f) => [f.path, f.mode, (f.bytes ?? Buffer.from(f.content)).toString('base64')]).sort()).toEqual(
        want.map((f) => [f.path, f.mode, (f.bytes ?? Buffer.from(f.content)).toString('base64')]).sort(),
      );
    });

    it('refuses the tree of another host, a missing file and an edited one', () => {
      expect(() => readNodeTree(tree, 'overcloud-controller-0')).toThrow(`host="${host}": the tree of another host than --host overcloud-controller-0`);
      expect(() => readNodeTree(join(dir, 'nothing'), host)).toThrow(/no readable var\/lib\/tripleo-ipsec\/node-plan.json in it/);
      const secrets = join(tree, 'etc/ipsec.d/overcloud-internal_api.secrets');
      writeFileSync(secrets, 'edited\n');
      expect(() => readNodeTree(tree, host)).toThrow(`${secrets}: its content is not what var/lib/tripleo-ipsec/node-plan.json lists (sha256 differs)`);
      rmSync(secrets);
      expect(() => readNodeTree(tree, host)).toThrow(`${secrets}: listed in var/lib/tripleo-ipsec/node-plan.json but unreadable (ENOENT)`);
    });
  });
});

describe('connDigest', () => {
  // The digests on running nodes were made as SHA-256 of JSON.stringify([options without connalias, auto]):
  // a different value for the same definition would make the next apply replace every tunnel.
  const reference = (c: Conn) => createHash('sha256').update(JSON.stringify([c.options.filter(([k]) => k !== 'connalias'), c.auto])).digest('hex').slice(0, 32);
  // Tokens as the plan has them, and any string (quotes, backslashes, control characters, lone surrogates): JSON escapes those.
  const token = fc.oneof(fc.stringMatching(/^[A-Za-z0-9@%_.:/,+;=-]{1,12}$/), fc.string({ unit: 'binary', maxLength: 8 }), fc.constantFrom('a"b', 'c\\d', '\n', '\ud800', 'é'));
  const keyword = fc.oneof(fc.constantFrom('connalias', 'left', 'right', 'ike', 'dpdaction'), fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/));

  it('is the SHA-256 of the JSON the nodes were given, for any options, shared pairs and connalias anywhere', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(keyword, token), { maxLength: 16 }), fc.constantFrom('add', 'start', 'route', 'ondemand'), fc.nat(3), (options, auto, repeat) => {
        // The same pair objects in several conns, as a mesh file shares them: the memo must not change a value.
        for (let i = 0; i <= repeat; i++) {
          const c = { name: 'c', kind: 'node-to-node', step: 1, auto, network: 'n', options: i % 2 ? [...options].reverse() : options } as Conn;
          expect(connDigest(c)).toBe(reference(c));
        }
      }),
    );
  });

  it('of every conn of a generated host, the same as the reference', () => {
    const r = generateFrom(small());
    for (const p of r.plans) for (const f of p.files) for (const c of f.conns) expect(connDigest(c)).toBe(reference(c));
  });
});
