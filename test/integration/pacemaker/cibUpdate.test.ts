// The generated Pacemaker plan applied with real pcs to a CIB file: one
// change, idempotent, updated in place when a VIP moves to a new address,
// removed cleanly; the generated pcs script does the same.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPlan, removePlan } from '../../../src/pacemaker/cibUpdate.js';
import { parseCib } from '../../../src/pacemaker/cib.js';
import { generateFrom, scratchDir, small } from '../../helpers/inputs.js';
import { installAgentForTest } from '../../helpers/installedAgent.js';

function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('Pacemaker plan on a CIB file with real pcs', () => {
  const s = scratchDir();
  let restore: () => void;
  const cib = join(s.dir, 'cib.xml');
  const { inventory, networkData } = small();
  const r = generateFrom({ inventory, networkData });

  beforeAll(() => {
    restore = installAgentForTest();
    writeFileSync(cib, run('cibadmin', ['--empty']).out);
    // As in the lab cluster: no fencing here, so crm_verify judges our part of the configuration.
    expect(run('pcs', ['-f', cib, 'property', 'set', 'stonith-enabled=false']).code).toBe(0);
    for (const v of r.overcloud.vips) {
      const res = run('pcs', ['-f', cib, 'resource', 'create', `ip-${v.address.replace(/:/g, '.')}`, 'ocf:heartbeat:IPaddr2', `ip=${v.address}`, `cidr_netmask=${v.address.includes(':') ? 64 : 24}`]);
      expect(res.code, res.out).toBe(0);
    }
  });
  afterAll(() => {
    restore();
    s.cleanup();
  });

  it('plans one tunnel resource per VIP, colocated with it and ordered after it; nothing on the other nodes', () => {
    expect(r.pacemaker.resources.map((x) => x.id)).toEqual(['tripleo-ipsec-internal_api', 'tripleo-ipsec-redis', 'tripleo-ipsec-storage', 'tripleo-ipsec-storage_mgmt']);
    expect(r.pacemaker.resources.every((x) => !x.clone)).toBe(true);
    expect(r.pacemaker.vipResources.internal_api).toBe('ip-192.0.2.5');
    expect(r.pacemaker.retired).toEqual(r.pacemaker.resources.map((x) => `${x.id}-fallback`));
  });

  it('applies as one change that crm_verify accepts, removing what an earlier version ran; a second apply changes nothing', async () => {
    // An earlier version's configuration: the tunnel with its fallbacktunnel, and the fallback clone.
    for (const c of [
      ['resource', 'create', 'tripleo-ipsec-redis', 'ocf:tripleo:ipsec', 'tunnel=overcloud-redis-vip-tunnel', 'vip=192.0.2.6', 'fallbacktunnel=overcloud-redis-node-to-vip-tunnel'],
      ['resource', 'create', 'tripleo-ipsec-redis-fallback', 'ocf:tripleo:ipsec', 'tunnel=overcloud-redis-node-to-vip-tunnel', 'vip=192.0.2.6', 'role=fallback', 'clone', 'tripleo-ipsec-redis-fallback-clone'],
      ['constraint', 'colocation', 'add', 'tripleo-ipsec-redis-fallback-clone', 'with', 'ip-192.0.2.6', '--', '-INFINITY', 'id=colocation-tripleo-ipsec-redis-fallback-not-with-vip'],
    ]) {
      const res = run('pcs', ['-f', cib, ...c]);
      expect(res.code, res.out).toBe(0);
    }
    const first = await applyPlan(r.pacemaker, { cibFile: cib });
    expect(first.pushed).toBe(true);
    expect(first.changes).toContain('delete tripleo-ipsec-redis-fallback (no longer used)');
    expect(first.changes).toContain('update tripleo-ipsec-redis: fallbacktunnel=');
    // The earlier version's resource gets what a failed start needs to be retried, and a start timeout for its peers.
    expect(first.changes).toContain('update tripleo-ipsec-redis: meta failure-timeout=60s');
    expect(first.changes).toContain(`update tripleo-ipsec-redis: op start timeout=${r.pacemaker.resources.find((x) => x.id === 'tripleo-ipsec-redis')!.startTimeout}s`);
    expect(first.changes.filter((c) => c.startsWith('create '))).toHaveLength(3);
    expect(first.changes.filter((c) => c.startsWith('add constraint '))).toHaveLength(8);
    const v = run('crm_verify', ['--xml-file', cib]);
    expect(v.code, v.out).toBe(0);
    const view = parseCib(readFileSync(cib, 'utf8'));
    expect(view.primitives.get('tripleo-ipsec-storage_mgmt')).toMatchObject({
      agent: 'ocf:tripleo:ipsec',
      params: { tunnel: 'overcloud-storage_mgmt-vip-tunnel', vip: '2001:db8:30::5' },
    });
    expect(view.primitives.get('tripleo-ipsec-redis')?.params).toEqual({ tunnel: 'overcloud-redis-vip-tunnel', vip: '192.0.2.6' });
    for (const res of r.pacemaker.resources) {
      expect(view.primitives.get(res.id)?.meta).toEqual({ 'failure-timeout': '60s' });
      expect(view.primitives.get(res.id)?.opTimeouts.start).toBe(`${res.startTimeout}s`);
    }
    // 6 nodes on internal_api: 5 peers of its holder.
    expect(r.pacemaker.resources.find((x) => x.id === 'tripleo-ipsec-internal_api')!.startTimeout).toBe(31);
    expect([...view.primitives.keys()].filter((k) => k.endsWith('-fallback'))).toEqual([]);
    expect([...view.constraints.keys()].filter((k) => k.includes('fallback'))).toEqual([]);
    expect(view.constraints.get('order-tripleo-ipsec-redis-after-vip')?.attrs).toMatchObject({ first: 'ip-192.0.2.6', then: 'tripleo-ipsec-redis', symmetrical: 'true' });
    const before = readFileSync(cib, 'utf8');
    const again = await applyPlan(r.pacemaker, { cibFile: cib });
    expect(again).toEqual({ changes: [], pushed: false });
    expect(readFileSync(cib, 'utf8')).toBe(before);
  }, 120_000);

  it('updates in place when a VIP changes address', async () => {
    const moved = small();
    (moved.inventory.overcloud as { vars: Record<string, string> }).vars.internal_api_vip = '192.0.2.7';
    const r2 = generateFrom(moved);
    expect(run('pcs', ['-f', cib, 'resource', 'create', 'ip-192.0.2.7', 'ocf:heartbeat:IPaddr2', 'ip=192.0.2.7', 'cidr_netmask=24']).code).toBe(0);
    const rep = await applyPlan(r2.pacemaker, { cibFile: cib });
    expect(rep.changes).toEqual([
      'update tripleo-ipsec-internal_api: vip=192.0.2.7',
      'replace constraint colocation-tripleo-ipsec-internal_api-with-vip',
      'replace constraint order-tripleo-ipsec-internal_api-after-vip',
    ]);
    const view = parseCib(readFileSync(cib, 'utf8'));
    expect(view.constraints.get('colocation-tripleo-ipsec-internal_api-with-vip')?.attrs['with-rsc']).toBe('ip-192.0.2.7');
    expect(run('crm_verify', ['--xml-file', cib]).code).toBe(0);
    expect((await applyPlan(r2.pacemaker, { cibFile: cib })).changes).toEqual([]);
  }, 120_000);

  it('refuses a plan whose VIP resources do not exist, changing nothing', async () => {
    const before = readFileSync(cib, 'utf8');
    const plan = { ...r.pacemaker, vipResources: { ...r.pacemaker.vipResources, internal_api: 'ip-nope' } };
    await expect(applyPlan(plan, { cibFile: cib })).rejects.toThrow(/VIP resource ip-nope .* does not exist/);
    expect(readFileSync(cib, 'utf8')).toBe(before);
  });

  it('remove takes out exactly what the plan names', async () => {
    const rep = await removePlan(r.pacemaker, { cibFile: cib });
    expect(rep.pushed).toBe(true);
    const view = parseCib(readFileSync(cib, 'utf8'));
    expect([...view.primitives.keys()].filter((k) => k.startsWith('tripleo-ipsec'))).toEqual([]);
    expect([...view.constraints.keys()].filter((k) => k.includes('tripleo-ipsec-') && !k.includes('internal_api'))).toEqual([]);
    expect(view.primitives.has('ip-192.0.2.5')).toBe(true);
    expect(run('crm_verify', ['--xml-file', cib]).code).toBe(0);
  }, 120_000);

  it("replaces the Ansible role's resources (same ids, ocf:heartbeat:ipsec, its own constraints) only when upgrading from it", async () => {
    const roleCib = join(s.dir, 'cib-role.xml');
    writeFileSync(roleCib, run('cibadmin', ['--empty']).out);
    expect(run('pcs', ['-f', roleCib, 'property', 'set', 'stonith-enabled=false']).code).toBe(0);
    for (const v of r.overcloud.vips) {
      const ip = `ip-${v.address.replace(/:/g, '.')}`;
      expect(run('pcs', ['-f', roleCib, 'resource', 'create', ip, 'ocf:heartbeat:IPaddr2', `ip=${v.address}`, `cidr_netmask=${v.address.includes(':') ? 64 : 24}`]).code).toBe(0);
      // As the role made them (tripleo-ipsec's tasks/resource-agent.yml): its agent, a colocation and two orders, pcs-generated ids.
      const res = run('pcs', ['-f', roleCib, 'resource', 'create', `tripleo-ipsec-${v.name}`, 'ocf:heartbeat:ipsec', `tunnel=overcloud-${v.name}-vip-tunnel`, `vip=${v.address}`, `fallbacktunnel=overcloud-${v.name}-node-to-vip-tunnel`, '--disabled']);
      expect(res.code, res.out).toBe(0);
      expect(run('pcs', ['-f', roleCib, 'constraint', 'colocation', 'add', `tripleo-ipsec-${v.name}`, 'with', ip]).code).toBe(0);
      expect(run('pcs', ['-f', roleCib, 'constraint', 'order', 'start', ip, 'then', 'start', `tripleo-ipsec-${v.name}`, 'symmetrical=false']).code).toBe(0);
    }
    const before = readFileSync(roleCib, 'utf8');
    await expect(applyPlan(r.pacemaker, { cibFile: roleCib })).rejects.toThrow(/resource tripleo-ipsec-internal_api exists with agent ocf:heartbeat:ipsec, not ocf:tripleo:ipsec: remove it first \(the Ansible role's: IpsecUpgradeFromRole, or apply --upgrade, replaces it\)/);
    expect(readFileSync(roleCib, 'utf8')).toBe(before);
    const up = await applyPlan(r.pacemaker, { cibFile: roleCib, replaceRoleResources: true });
    expect(up.changes.filter((c) => c.startsWith('replace tripleo-ipsec-'))).toHaveLength(r.pacemaker.resources.length);
    const view = parseCib(readFileSync(roleCib, 'utf8'));
    for (const res of r.pacemaker.resources) expect(view.primitives.get(res.id)?.agent).toBe('ocf:tripleo:ipsec');
    // Only our constraints reference them now: the role's went with its resources.
    const refs = [...view.constraints.values()].filter((c) => Object.values(c.attrs).some((v) => v.startsWith('tripleo-ipsec-')));
    expect(refs.map((c) => c.id).sort()).toEqual(r.pacemaker.constraints.map((c) => c.id).sort());
    expect(run('crm_verify', ['--xml-file', roleCib]).code).toBe(0);
    expect((await applyPlan(r.pacemaker, { cibFile: roleCib, replaceRoleResources: true })).changes).toEqual([]);
  }, 180_000);

  it('the generated pacemaker.sh builds the same configuration and is idempotent', () => {
    const script = r.files.find((f) => f.path === 'cluster/pacemaker.sh')!;
    const path = join(s.dir, 'pacemaker.sh');
    writeFileSync(path, script.content, { mode: 0o755 });
    const fresh = join(s.dir, 'cib-script.xml');
    writeFileSync(fresh, run('cibadmin', ['--empty']).out);
    for (const v of r.overcloud.vips) run('pcs', ['-f', fresh, 'resource', 'create', `ip-${v.address.replace(/:/g, '.')}`, 'ocf:heartbeat:IPaddr2', `ip=${v.address}`]);
    const first = run('bash', [path, fresh]);
    expect(first.code, first.out).toBe(0);
    expect(first.out).toContain('Pacemaker configuration updated');
    const view = parseCib(readFileSync(fresh, 'utf8'));
    for (const res of r.pacemaker.resources) expect(view.primitives.has(res.id), res.id).toBe(true);
    for (const c of r.pacemaker.constraints) expect(view.constraints.has(c.id), c.id).toBe(true);
    copyFileSync(fresh, `${fresh}.before`);
    const second = run('bash', [path, fresh]);
    expect(second.code).toBe(0);
    expect(second.out).toContain('already up to date');
    expect(readFileSync(fresh, 'utf8')).toBe(readFileSync(`${fresh}.before`, 'utf8'));
  }, 180_000);
});
