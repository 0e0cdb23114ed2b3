// Which conns tidy leaves to their peers: those this node initiates, read from its generated files.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initiatedConns } from '../../../src/tidy.js';
import { generateFrom, small } from '../../helpers/inputs.js';

describe('initiatedConns', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ti-tidy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("a node's auto=start conns in its tree (node-to-node where it is the lower address, the VIP holder's ends), not the ones it answers", () => {
    const r = generateFrom(small());
    // a node that both initiates and answers: neither the lowest nor the highest address
    const host = r.plans.find((p) => p.files.some((f) => f.conns.some((c) => c.auto === 'start')) && p.files.some((f) => f.conns.some((c) => c.auto === 'route')))!.node.name;
    for (const f of r.files.filter((x) => x.path.startsWith(`${host}/etc/ipsec.d/`))) {
      const p = join(dir, f.path.slice(`${host}/etc/ipsec.d/`.length));
      mkdirSync(join(p, '..'), { recursive: true });
      writeFileSync(p, f.content);
    }
    // Not ours: never read.
    writeFileSync(join(dir, 'other.conf'), 'conn other\n\tauto=start\n');
    const got = initiatedConns(dir);
    const plan = r.plans.find((p) => p.node.name === host)!;
    const want = plan.files.flatMap((f) => f.conns.filter((c) => c.auto === 'start').map((c) => c.name));
    expect(want.length).toBeGreaterThan(3);
    expect([...got].sort()).toEqual([...new Set(want)].sort());
    const answered = plan.files.flatMap((f) => f.conns.filter((c) => c.auto === 'route').map((c) => c.name));
    expect(answered.length).toBeGreaterThan(0);
    for (const c of answered) expect(got.has(c), c).toBe(false);
    expect(got.has('other')).toBe(false);
    expect(initiatedConns(join(dir, 'missing'))).toEqual(new Set());
  });
});
