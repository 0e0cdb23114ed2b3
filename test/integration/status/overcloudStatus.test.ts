// `tripleo-ipsec status --inventory` against real nodes: namespaces with their
// own sshd (key authentication) and a real pluto each, deployed with apply
// --tree. This kernel has no ESP, so every tunnel has an IKE SA and no Child
// SA: status must say exactly that, per tunnel, and exit 1 (the all-up case,
// exit 0, runs in the data-plane guest). Then: a node whose pluto stopped, a
// tunnel deleted, a node whose sshd is down (reported within the timeout,
// the others still shown). No secret in what is collected or printed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connsWithIkeSa, parsePlutoStatus } from '../../../src/libreswan/whackStatus.js';
import { TEST_PSK } from '../../helpers/inputs.js';
import { waitFor } from '../../helpers/pluto.js';
import { STATUS_HOSTS, StatusNodes } from '../../helpers/statusNodes.js';

const HOSTS = STATUS_HOSTS;

describe('status --inventory over SSH against real sshd and plutos', () => {
  const sn = new StatusNodes({ tag: 'st', applyTimeoutMs: 120_000, statusTimeoutS: 5, statusCallMs: 60_000 });
  const nodes = sn.nodes;
  const status = (extra: string[] = []) => sn.status(extra);
  const meshUp = () => Object.keys(HOSTS).every((h) => connsWithIkeSa(parsePlutoStatus(nodes.whack(h, ['--status']).stdout)).size === 2);

  beforeAll(async () => {
    const d = sn.deploy();
    expect(d.generate.status, String(d.generate.stderr)).toBe(0);
    for (const [h, r] of d.applies) expect(r.status, `${h}: ${r.stderr}`).toBe(0);
    expect(d.applies.size).toBe(3);
    await waitFor('the mesh to authenticate', meshUp, 30_000, 200);
  }, 180_000);
  afterAll(() => sn.cleanup());

  it('reports, per tunnel, IKE SA up but no Child SA on this ESP-less kernel, and exits 1; the summary comes first', () => {
    const r = status();
    expect(r.code).toBe(1);
    const lines = r.out.split('\n');
    expect(lines[0]).toBe('PROBLEMS: 3 node(s), 0 OK, 3 with problems; tunnels up with an IKE and a Child SA: 0 of 6');
    for (const h of Object.keys(HOSTS)) {
      for (const p of Object.keys(HOSTS).filter((x) => x !== h)) {
        expect(r.out).toContain(`${h}: internal_api: with ${p} (overcloud-internal_api-to-${p}): IKE SA up but no Child SA`);
      }
    }
    expect(r.out).not.toContain(TEST_PSK);
  });

  it('--json carries the full detail, and no secret', () => {
    const r = status(['--json']);
    const j = JSON.parse(r.out);
    expect(j.summary).toEqual({ nodes: 3, nodesOk: 0, tunnelsExpected: 6, tunnelsUp: 0 });
    expect(j.nodes.map((n: { node: string; reach: string }) => [n.node, n.reach])).toEqual(Object.keys(HOSTS).map((h) => [h, 'ok']));
    expect(r.out).not.toContain(TEST_PSK);
    expect(r.out).not.toMatch(/PSK "/);
  });

  it("uses the site's cheapest allowed key exchange, and a pinned one as given", () => {
    // What each node's sshd negotiated since `from` (its log, LogLevel DEBUG1).
    const logOf = (h: string) => readFileSync(join(nodes.get(h).dir, 'sshd.log'), 'utf8');
    const kexSince = (from: Map<string, number>) => new Map([...from].map(([h, n]) => [h, [...logOf(h).slice(n).matchAll(/kex: algorithm: (\S+)/g)].map((m) => m[1])]));
    const mark = () => new Map(Object.keys(HOSTS).map((h) => [h, logOf(h).length]));
    let from = mark();
    expect(status().code).toBe(1);
    // OpenSSH 9.2's own first choice is sntrup761x25519-sha512: status moves curve25519-sha256, also allowed here, ahead of it.
    const expectOnly = (kexByHost: Map<string, string[]>, kex: string) => {
      for (const [h, seen] of kexByHost) {
        expect(seen.length, h).toBeGreaterThan(0);
        expect(new Set(seen), h).toEqual(new Set([kex]));
      }
    };
    expectOnly(kexSince(from), 'curve25519-sha256');
    from = mark();
    expect(status(['--ssh-option', 'KexAlgorithms=ecdh-sha2-nistp256']).code).toBe(1);
    expectOnly(kexSince(from), 'ecdh-sha2-nistp256');
  });

  it('a deleted tunnel is named as missing on both ends', async () => {
    expect(nodes.whack('overcloud-controller-0', ['--name', 'overcloud-internal_api-to-overcloud-novacompute-0', '--delete']).status).toBe(0);
    const r = status(['--json']);
    const problems = JSON.parse(r.out).problems as string[];
    expect(problems).toContain('overcloud-controller-0: internal_api: with overcloud-novacompute-0 (overcloud-internal_api-to-overcloud-novacompute-0): no tunnel (no IKE SA, none negotiating)');
    expect(problems.some((p) => p.startsWith('overcloud-novacompute-0: internal_api: with overcloud-controller-0 ') && /no tunnel|still negotiating/.test(p))).toBe(true);
  });

  it('a node whose sshd is down is reported within the timeout; the others are still shown', () => {
    const n = nodes.get('overcloud-novacompute-0');
    // sshd is the node's first process: stop it, leave pluto running.
    process.kill(n.pid, 'SIGKILL');
    const t0 = Date.now();
    const r = status(['--json']);
    expect(Date.now() - t0).toBeLessThan(20_000);
    const j = JSON.parse(r.out);
    expect(j.nodes.find((x: { node: string }) => x.node === 'overcloud-novacompute-0').reach).toBe('unreachable');
    expect(j.problems.some((p: string) => p.startsWith('overcloud-novacompute-0: cannot be reached'))).toBe(true);
    expect(j.nodes.filter((x: { reach: string }) => x.reach === 'ok').length).toBe(2);
  });

  it('a node whose pluto stopped: pluto does not answer', () => {
    expect(nodes.whack('overcloud-controller-1', ['--shutdown']).status).toBe(0);
    const j = JSON.parse(status(['--json', '--host', 'overcloud-controller-1']).out);
    expect(j.nodes).toEqual([{ node: 'overcloud-controller-1', reach: 'no pluto', reason: expect.stringMatching(/whack --status exited 33/) }]);
  });
});
