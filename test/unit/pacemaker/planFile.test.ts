// pacemaker apply and status --plan read a plan generate wrote; an edited
// plan (which could name any resource to delete, or point a tunnel at
// another address) is refused before pcs runs.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readPlan } from '../../../src/pacemaker/planFile.js';
import { generateFrom, scratchDir, small } from '../../helpers/inputs.js';

describe('readPlan', () => {
  const s = scratchDir();
  afterAll(() => s.cleanup());
  const plan = generateFrom(small()).pacemaker;
  const write = (p: unknown) => {
    const f = join(s.dir, `plan-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(f, JSON.stringify(p));
    return f;
  };

  it('reads back exactly what generate wrote', () => {
    expect(readPlan(write(plan))).toEqual(plan);
  });

  it("refuses a retired list naming a resource that is not one of ours (pcs would force-delete it)", () => {
    expect(() => readPlan(write({ ...plan, retired: [...plan.retired, 'ip-192.0.2.5'] }))).toThrow(/its retired are not what its VIPs give \(edited by hand\?\): generate it again/);
  });

  it('refuses a tunnel pointed at another VIP address, another agent, or an unchecked address', () => {
    const moved = structuredClone(plan);
    moved.resources[0].params.tunnel = 'overcloud-storage-vip-tunnel';
    expect(() => readPlan(write(moved))).toThrow(/its resources are not what its VIPs give/);
    const agent = structuredClone(plan);
    agent.resources[0].agent = 'ocf:heartbeat:Dummy';
    expect(() => readPlan(write(agent))).toThrow(/its resources are not what its VIPs give/);
    const bad = structuredClone(plan);
    bad.resources[0].params.vip = '192.0.2.5; reboot';
    expect(() => readPlan(write(bad))).toThrow(/the internal_api VIP's address "192.0.2.5; reboot"/);
  });

  it('refuses constraints that are not the plan\'s (a colocation with another resource)', () => {
    const c = structuredClone(plan);
    (c.constraints[0] as { withRsc: string }).withRsc = 'some-other-resource';
    expect(() => readPlan(write(c))).toThrow(/its constraints are not what its VIPs give/);
  });

  it('reads plans of earlier versions (no retired, no vipPeers)', () => {
    const { retired: _r, vipPeers: _v, ...old } = plan;
    expect(readPlan(write(old)).resources).toEqual(plan.resources);
  });
});
