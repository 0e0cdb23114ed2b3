// `tripleo-ipsec apply` on a node (a namespace with a real pluto and a
// private root tree): first run loads everything, a second run changes
// nothing, a new algorithm replaces only the affected conns, hostile input
// touches nothing, --uninstall restores the tree and pluto, and the
// operator's own conn survives all of it.
import { readFileSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parsePlutoStatus, connsWithIkeSa } from '../../../src/libreswan/whackStatus.js';
import { Lab } from '../../helpers/netns.js';
import { PLUTO, alive, sleep, startPluto, waitFor, whack, type Pluto } from '../../helpers/pluto.js';
import { scratchDir, TEST_PSK } from '../../helpers/inputs.js';
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

const CLI = join(__dirname, '..', '..', '..', 'bin', 'tripleo-ipsec');
const A = 'overcloud-novacompute-0';
const B = 'overcloud-novacompute-1';
const ADDR: Record<string, string> = { [A]: '192.0.2.20', [B]: '192.0.2.21' };

const inventory = {
  Controller: { hosts: { 'overcloud-controller-0': { internal_api_ip: '192.0.2.10' } }, vars: { tripleo_role_networks: ['ctlplane', 'internal_api'] } },
  Compute: { hosts: { [A]: { internal_api_ip: ADDR[A] }, [B]: { internal_api_ip: ADDR[B] } }, vars: { tripleo_role_networks: ['ctlplane', 'internal_api'] } },
  overcloud: { children: { Controller: {}, Compute: {} }, vars: { internal_api_vip: '192.0.2.100' } },
  pacemaker: { children: { Controller: {} } },
};

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else out[p.slice(dir.length)] = `${(st.mode & 0o777).toString(8)} ${st.mtimeMs} ${readFileSync(p, 'utf8')}`;
    }
  };
  walk(dir);
  return out;
}

describe('tripleo-ipsec apply on a node with a real pluto', () => {
  const s = scratchDir();
  const lab = new Lab('p');
  const ns: Record<string, string> = {};
  const pluto: Record<string, Pluto> = {};
  const root = (h: string) => join(s.dir, `root-${h}`);
  let inv: string;
  let env: string;

  function apply(h: string, extra: string[] = [], invPath = inv) {
    const r = lab.exec(ns[h], process.execPath, [CLI, 'apply', '-i', invPath, '-e', env, '--host', h, '--root', root(h), '--ctlsocket', pluto[h].ctl, ...extra], { allowFail: true, timeoutMs: 120_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  }
  const status = (h: string) => parsePlutoStatus(whack(lab, pluto[h], ['--status']).stdout);
  let before: Record<string, string>;
  let beforeConns: string[];

  beforeAll(() => {
    inv = join(s.dir, 'inventory.yaml');
    env = join(s.dir, 'env.yaml');
    writeFileSync(inv, stringify(inventory));
    writeFileSync(env, stringify({ parameter_defaults: { IpsecVars: { ipsec_psk: TEST_PSK } } }), { mode: 0o600 });
    for (const [i, h] of [A, B].entries()) {
      ns[h] = lab.addHost(`n${i}`);
      lab.addAddress(ns[h], `${ADDR[h]}/24`);
      const r = root(h);
      mkdirSync(join(r, 'etc/ipsec.d'), { recursive: true });
      // The operator's own configuration, which must survive everything.
      writeFileSync(join(r, 'etc/ipsec.conf'), `# operator's ipsec.conf\nconfig setup\n\tplutodebug=none\n\tuniqueids=yes\n\ninclude ${r}/etc/ipsec.d/operator-*.conf\n`);
      writeFileSync(join(r, 'etc/ipsec.secrets'), `include ${r}/etc/ipsec.d/operator-*.secrets\n`, { mode: 0o600 });
      writeFileSync(join(r, 'etc/ipsec.d/operator-own.conf'), `conn operator-own\n\tleft=${ADDR[h]}\n\tright=198.51.100.99\n\tauthby=secret\n\tauto=add\n`, { mode: 0o640 });
      writeFileSync(join(r, 'etc/ipsec.d/operator-own.secrets'), `${ADDR[h]} 198.51.100.99 : PSK "operator-secret-0123456789abcdefghijkl"\n`, { mode: 0o600 });
      // pluto reads the node's own ipsec.conf, as it would on a real node
      const d = join(s.dir, `pluto-${h}`);
      mkdirSync(join(d, 'nss'), { recursive: true });
      mkdirSync(join(d, 'run'), { recursive: true });
      lab.exec(ns[h], 'ipsec', ['initnss', '--nssdir', join(d, 'nss')]);
      const fd = openSync(join(d, 'out'), 'a');
      const c = spawn('ip', ['netns', 'exec', ns[h], PLUTO, '--config', join(r, 'etc/ipsec.conf'), '--secretsfile', join(r, 'etc/ipsec.secrets'), '--ipsecdir', join(r, 'etc/ipsec.d'),
        '--nssdir', join(d, 'nss'), '--rundir', join(d, 'run'), '--dumpdir', join(d, 'run'), '--logfile', join(d, 'pluto.log'), '--nofork'], { stdio: ['ignore', fd, fd], detached: true });
      closeSync(fd);
      c.unref();
      pluto[h] = { ns: ns[h], dir: d, ctl: join(d, 'run', 'pluto.ctl'), conf: join(r, 'etc/ipsec.conf'), log: join(d, 'pluto.log'), pid: c.pid!, ipsecdir: join(r, 'etc/ipsec.d'), agentRun: join(r, 'run/tripleo-ipsec') };
      const p = pluto[h];
      lab.onCleanup(() => {
        whack(lab, p, ['--shutdown']);
        if (alive(p.pid)) process.kill(p.pid, 'SIGKILL');
      });
    }
    const ready = (h: string) => {
      try {
        return status(h).conns.has('operator-own');
      } catch {
        return false;
      }
    };
    const deadline = Date.now() + 10_000;
    while (![A, B].every(ready)) {
      if (Date.now() > deadline) throw new Error('plutos did not load the operator conn');
      sleep(100);
    }
    before = snapshot(root(A));
    beforeConns = [...status(A).conns.keys()].sort();
  }, 60_000);

  afterAll(() => {
    lab.cleanup();
    s.cleanup();
  });

  it('first run writes the files with their modes, includes them, loads every conn and installs the firewall chain', async () => {
    const a = apply(A);
    expect(a.err).toBe('');
    expect(a.code).toBe(0);
    expect(a.out).toMatch(/wrote etc\/ipsec\.d\/overcloud-internal_api\.conf/);
    expect(a.out).toMatch(/pluto: add overcloud-internal_api-to-overcloud-novacompute-1/);
    expect(a.out).toMatch(/installed iptables chains TRIPLEO-IPSEC, TRIPLEO-IPSEC-OUT/);
    expect(apply(B).code).toBe(0);
    const conf = readFileSync(join(root(A), 'etc/ipsec.conf'), 'utf8');
    // The operator's uniqueids=yes is what we want (per-peer ids): left as it is.
    expect(conf).toContain('\tuniqueids=yes\n');
    expect(conf).not.toContain('uniqueids=no');
    expect(conf).toContain(`include ${root(A)}/etc/ipsec.d/*.conf # tripleo-ipsec`);
    expect(conf.startsWith("# operator's ipsec.conf\n")).toBe(true);
    expect(statSync(join(root(A), 'etc/ipsec.d/overcloud-internal_api.secrets')).mode & 0o777).toBe(0o600);
    expect(statSync(join(root(A), 'etc/ipsec.d/overcloud-internal_api.conf')).mode & 0o777).toBe(0o640);
    await waitFor('A and B to authenticate', () => connsWithIkeSa(status(A)).has(`overcloud-internal_api-to-${B}`), 30_000);
    expect(status(A).conns.has('operator-own')).toBe(true);
    // its own end of the VIP tunnel is loaded; the VIP's ends towards peers are the agent's, on the holder only
    expect(status(A).conns.has('overcloud-internal_api-vip-tunnel')).toBe(true);
    expect([...status(A).conns.keys()].filter((c) => c.includes('-vip-tunnel-to-'))).toEqual([]);
    expect(conf).toContain(`include ${root(A)}/run/tripleo-ipsec/*.conf # tripleo-ipsec`);
    expect(statSync(join(root(A), 'run/tripleo-ipsec')).mode & 0o777).toBe(0o700);
    expect(lab.exec(ns[A], 'iptables', ['-C', 'INPUT', '-j', 'TRIPLEO-IPSEC'], { allowFail: true }).status).toBe(0);
    expect(lab.exec(ns[A], 'iptables', ['-C', 'OUTPUT', '-j', 'TRIPLEO-IPSEC-OUT'], { allowFail: true }).status).toBe(0);
    expect(lab.exec(ns[A], 'iptables', ['-S', 'TRIPLEO-IPSEC']).stdout).toContain('-s 192.0.2.21/32 -p udp -m multiport --dports 500,4500');
  }, 60_000);

  it('a second run changes nothing: same files (mtimes too), no pluto command', () => {
    const files = snapshot(root(A));
    // What any reload makes pluto log (retransmissions to absent peers keep the log growing otherwise).
    const reloads = () => readFileSync(pluto[A].log, 'utf8').split('\n').filter((l) => /listening for IKE messages|added IKEv2 connection|loading secrets|terminating SAs|deleting connection/.test(l)).length;
    const log = reloads();
    const r = apply(A);
    expect(r.code).toBe(0);
    expect(r.out).toBe('no change\n');
    expect(snapshot(root(A))).toEqual(files);
    expect(reloads()).toBe(log);
    expect(log).toBeGreaterThan(0);
  });

  it('a second run repairs a pluto that lost conns (deleted by hand, or unrouted): only those come back', () => {
    const lost = `overcloud-internal_api-to-${B}`;
    const responder = 'overcloud-internal_api-to-overcloud-controller-0';
    expect(status(A).conns.has(lost)).toBe(true);
    expect(whack(lab, pluto[A], ['--name', lost, '--delete']).status).toBe(0);
    expect(whack(lab, pluto[A], ['--name', responder, '--unroute']).status).toBe(0);
    expect(status(A).conns.has(lost)).toBe(false);
    expect(status(A).conns.get(responder)?.routing).toBe('unrouted');
    const r = apply(A);
    expect(r.code).toBe(0);
    // No file changed: only pluto was told, and only about the two it lost; no listen (its
    // addresses were there all along; a listen reloads every secret).
    expect(r.out).toBe(`pluto: add ${lost}\npluto: route ${responder}\npluto: up ${lost}\n`);
    expect(status(A).conns.has(lost)).toBe(true);
    expect(status(A).conns.get(responder)?.routing).not.toBe('unrouted');
    expect(apply(A).out).toBe('no change\n');
  }, 60_000);

  it('a changed algorithm replaces only the loaded conns it changes', () => {
    const r = apply(A, ['--set', 'ipsec_algorithm=aes_gcm256-null']);
    expect(r.code).toBe(0);
    const replaced = r.out.split('\n').filter((l) => l.startsWith('pluto: replace ')).map((l) => l.slice('pluto: replace '.length)).sort();
    expect(replaced).toEqual([
      'overcloud-internal_api-to-overcloud-controller-0',
      'overcloud-internal_api-to-overcloud-novacompute-1',
      'overcloud-internal_api-vip-tunnel',
    ]);
    expect(r.out).not.toMatch(/operator-own/);
    expect(readFileSync(join(root(A), 'etc/ipsec.d/operator-own.conf'), 'utf8')).toContain('conn operator-own');
    expect(status(A).conns.has('operator-own')).toBe(true);
    expect(apply(A, ['--set', 'ipsec_algorithm=aes_gcm256-null']).out).toBe('no change\n');
  });

  it('hostile input writes nothing and leaves pluto alone', () => {
    const files = snapshot(root(A));
    const conns = [...status(A).conns.keys()].sort();
    const bad = join(s.dir, 'bad.yaml');
    writeFileSync(bad, stringify({ ...inventory, Compute: { ...inventory.Compute, hosts: { [A]: { internal_api_ip: '192.0.2.20\n\tleftupdown=/bin/sh' }, [B]: { internal_api_ip: ADDR[B] } } } }));
    const r = apply(A, [], bad);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`host ${A}: internal_api_ip=`);
    expect(snapshot(root(A))).toEqual(files);
    expect([...status(A).conns.keys()].sort()).toEqual(conns);
    const noPsk = join(s.dir, 'nopsk.yaml');
    writeFileSync(noPsk, stringify({ parameter_defaults: { IpsecVars: {} } }));
    const r2 = lab.exec(ns[A], process.execPath, [CLI, 'apply', '-i', inv, '-e', noPsk, '--host', A, '--root', root(A), '--ctlsocket', pluto[A].ctl], { allowFail: true });
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/apply needs ipsec_psk/);
    expect(snapshot(root(A))).toEqual(files);
  });

  it('refuses to overwrite an overcloud- file it did not write, unless --upgrade', () => {
    const r = root(B);
    const manifest = join(r, 'var/lib/tripleo-ipsec/manifest.json');
    const m = JSON.parse(readFileSync(manifest, 'utf8'));
    delete m.files['etc/ipsec.d/overcloud-internal_api.conf'];
    writeFileSync(manifest, JSON.stringify(m));
    writeFileSync(join(r, 'etc/ipsec.d/overcloud-internal_api.conf'), '# left by the Ansible role\n');
    writeFileSync(join(r, 'etc/ipsec.d/overcloud-internal_api-node-to-node-tunnels.conf'), '# left by the Ansible role\n');
    const refused = apply(B);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/was not written by tripleo-ipsec; rerun with --upgrade/);
    const up = apply(B, ['--upgrade']);
    expect(up.code).toBe(0);
    expect(up.out).toContain('updated etc/ipsec.d/overcloud-internal_api.conf');
    expect(up.out).toContain('removed etc/ipsec.d/overcloud-internal_api-node-to-node-tunnels.conf');
    expect(apply(B).out).toBe('no change\n');
  });

  it('--uninstall leaves the tree and pluto as they were before the first run', () => {
    const r = apply(A, ['--uninstall']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('restored etc/ipsec.conf');
    const after = snapshot(root(A));
    const strip = (x: Record<string, string>) => Object.fromEntries(Object.entries(x).map(([k, v]) => [k, v.replace(/^(\d+) [\d.]+ /, '$1 ')]));
    expect(strip(after)).toEqual(strip(before));
    expect(after['/etc/ipsec.d/operator-own.conf']).toBe(before['/etc/ipsec.d/operator-own.conf']);
    expect([...status(A).conns.keys()].sort()).toEqual(beforeConns);
    expect(lab.exec(ns[A], 'iptables', ['-C', 'INPUT', '-j', 'TRIPLEO-IPSEC'], { allowFail: true }).status).not.toBe(0);
    expect(lab.exec(ns[A], 'iptables', ['-C', 'OUTPUT', '-j', 'TRIPLEO-IPSEC-OUT'], { allowFail: true }).status).not.toBe(0);
    expect(apply(A, ['--uninstall']).out).toContain('nothing to uninstall');
  });

  it('installs a tree generated elsewhere (--tree: the undercloud generates, the node gets only its own tree): no inventory, no master key, the same tunnels; uninstall needs no inputs', async () => {
    // The undercloud's side: every host's tree; the node receives a copy of its own (as Ansible's copy does).
    const out = join(s.dir, 'undercloud-out');
    const g = lab.exec(ns[A], process.execPath, [CLI, 'generate', '-i', inv, '-e', env, '-o', out], { allowFail: true });
    expect(g.stderr).toBe('');
    const shipped = join(s.dir, 'shipped-A');
    lab.exec(ns[A], 'cp', ['-a', join(out, A), shipped]);
    const tree = (extra: string[] = []) => {
      const r = lab.exec(ns[A], process.execPath, [CLI, 'apply', '--tree', shipped, '--host', A, '--root', root(A), '--ctlsocket', pluto[A].ctl, ...extra], { allowFail: true, timeoutMs: 120_000 });
      return { code: r.status, out: r.stdout, err: r.stderr };
    };
    const r = tree();
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/wrote etc\/ipsec\.d\/overcloud-internal_api\.conf/);
    expect(r.out).toMatch(/wrote var\/lib\/tripleo-ipsec\/node-plan\.json/);
    for (const f of ['etc/ipsec.d/overcloud-internal_api.conf', 'etc/ipsec.d/overcloud-internal_api.secrets']) {
      expect(readFileSync(join(root(A), f), 'utf8')).toBe(readFileSync(join(out, A, f), 'utf8'));
    }
    expect(statSync(join(root(A), 'etc/ipsec.d/overcloud-internal_api.secrets')).mode & 0o777).toBe(0o600);
    // B was installed from the inventory and the master key: the keys agree.
    whack(lab, pluto[B], ['--name', `overcloud-internal_api-to-${A}`, '--route']);
    await waitFor('A (from its tree) and B (from the inputs) to authenticate', () => connsWithIkeSa(status(A)).has(`overcloud-internal_api-to-${B}`), 30_000);
    expect(tree().out).toBe('no change\n');
    // Step by step, as the heat template runs it.
    expect(tree(['--step', '1']).out).toBe('no change\n');
    expect(tree(['--step', '3']).out).toBe('no change\n');
    // Not with the inputs as well: one source.
    const both = lab.exec(ns[A], process.execPath, [CLI, 'apply', '--tree', shipped, '-i', inv, '--host', A, '--root', root(A)], { allowFail: true });
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/mutually exclusive|conflicts/i);
    const u = lab.exec(ns[A], process.execPath, [CLI, 'apply', '--uninstall', '--host', A, '--root', root(A), '--ctlsocket', pluto[A].ctl], { allowFail: true });
    expect(u.stderr).toBe('');
    expect(u.status).toBe(0);
    const strip = (x: Record<string, string>) => Object.fromEntries(Object.entries(x).map(([k, v]) => [k, v.replace(/^(\d+) [\d.]+ /, '$1 ')]));
    expect(strip(snapshot(root(A)))).toEqual(strip(before));
  }, 90_000);

  it('makes pluto listen only when a conn it loaded found no local address (the address came after pluto): then the conn is oriented and started', () => {
    const C = 'overcloud-controller-0';
    const nsC = lab.addHost('n9');
    mkdirSync(join(s.dir, 'empty-ipsec.d'), { recursive: true });
    const p = startPluto(lab, nsC, join(s.dir, 'pluto-C'), join(s.dir, 'empty-ipsec.d'));
    // The address appears after pluto started, as when networking comes up late.
    lab.addAddress(nsC, '192.0.2.10/24');
    const r = lab.exec(nsC, process.execPath, [CLI, 'apply', '-i', inv, '-e', env, '--host', C, '--root', root(C), '--ctlsocket', p.ctl, '--step', '1', '--no-pacemaker'], { allowFail: true, timeoutMs: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('pluto: ') && l !== 'pluto: reread secrets');
    // The keys, the loads, then the listen, then the starts.
    expect(r.stdout.indexOf('pluto: reread secrets')).toBeLessThan(r.stdout.indexOf('pluto: add '));
    const listen = lines.indexOf('pluto: listen');
    expect(listen).toBeGreaterThan(0);
    expect(lines.slice(0, listen).every((l) => l.startsWith('pluto: add '))).toBe(true);
    expect(lines.slice(listen + 1).some((l) => l.startsWith('pluto: up ') || l.startsWith('pluto: route '))).toBe(true);
    const st = parsePlutoStatus(whack(lab, p, ['--status']).stdout);
    expect(st.conns.get(`overcloud-internal_api-to-${A}`)?.oriented).toBe(true);
  }, 60_000);

  it('a rotated PSK: step 1 installs the new keys and re-keys nothing; step 3 re-authenticates each tunnel once, from its initiator, leaving one IKE SA per tunnel', async () => {
    const conn = `overcloud-internal_api-to-${B}`;
    const back = `overcloud-internal_api-to-${A}`;
    expect(apply(A).code).toBe(0);
    expect(apply(B).code).toBe(0);
    await waitFor('A and B to authenticate', () => connsWithIkeSa(status(A)).has(conn) && connsWithIkeSa(status(B)).has(back), 30_000);
    const ikeOf = (h: string, c: string) => status(h).states.filter((x) => x.kind === 'ike' && x.established && x.conn === c).map((x) => x.serial);
    const [before] = ikeOf(A, conn);
    const rotated = join(s.dir, 'rotated.yaml');
    writeFileSync(rotated, stringify({ parameter_defaults: { IpsecVars: { ipsec_psk: `${TEST_PSK.slice(0, -8)}rotated!` } } }), { mode: 0o600 });
    const step = (h: string, n: string) => {
      const r = lab.exec(ns[h], process.execPath, [CLI, 'apply', '-i', inv, '-e', rotated, '--host', h, '--root', root(h), '--ctlsocket', pluto[h].ctl, '--step', n], { allowFail: true, timeoutMs: 120_000 });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      return r.stdout;
    };
    // Step 1 on both: new keys read, the SA untouched.
    for (const h of [A, B]) expect(step(h, '1')).toMatch(/pluto: reread secrets/);
    expect(ikeOf(A, conn)).toEqual([before]);
    // Step 3: B is the responder (the higher address) and renews nothing; A renews its tunnel.
    expect(step(B, '3')).not.toMatch(/re-authenticated/);
    const out = step(A, '3');
    expect(out).toMatch(new RegExp(`pluto: re-authenticated ${conn} with the new key \\(#${before} -> #\\d+, \\d+ ms\\)`));
    const [after] = ikeOf(A, conn);
    expect(after).toBeGreaterThan(before);
    // One IKE SA per tunnel on both ends: the responder's uniqueids replaced its old one.
    await waitFor('B to hold only the new SA', () => ikeOf(B, back).length === 1, 10_000);
    expect(ikeOf(A, conn)).toHaveLength(1);
    expect(step(A, '3')).toBe('no change\n');
    expect(ikeOf(A, conn)).toEqual([after]);
  }, 120_000);
});
