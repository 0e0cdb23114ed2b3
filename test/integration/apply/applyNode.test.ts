// `tripleo-ipsec apply` on a node: a network and mount namespace with its
// own /etc, /var and /run (overlays) and a real pluto at libreswan's default
// paths reading the node's own /etc/ipsec.conf, as on a real node. First run
// loads everything, a second run changes nothing, a new algorithm replaces
// only the affected conns, hostile input touches nothing, --uninstall
// restores the node and pluto (also after a run that was killed or failed
// half-way), and the operator's own conn survives all of it.
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parsePlutoStatus, connsWithIkeSa } from '../../../src/libreswan/whackStatus.js';
import { Lab } from '../../helpers/netns.js';
import { alive, waitFor } from '../../helpers/pluto.js';
import { SshNodes } from '../../helpers/sshNodes.js';
import { scratchDir, TEST_PSK } from '../../helpers/inputs.js';

const CLI = join(__dirname, '..', '..', '..', 'bin', 'tripleo-ipsec');
const A = 'overcloud-novacompute-0';
const B = 'overcloud-novacompute-1';
const ADDR: Record<string, string> = { [A]: '192.0.2.20', [B]: '192.0.2.21', 'overcloud-controller-0': '192.0.2.10' };
const PLUTO_CTL = '/run/pluto/pluto.ctl';

const inventory = {
  Controller: { hosts: { 'overcloud-controller-0': { internal_api_ip: '192.0.2.10' } }, vars: { tripleo_role_networks: ['ctlplane', 'internal_api'] } },
  Compute: { hosts: { [A]: { internal_api_ip: ADDR[A] }, [B]: { internal_api_ip: ADDR[B] } }, vars: { tripleo_role_networks: ['ctlplane', 'internal_api'] } },
  overcloud: { children: { Controller: {}, Compute: {} }, vars: { internal_api_vip: '192.0.2.100' } },
  pacemaker: { children: { Controller: {} } },
};

// What a node holds of ours and the operator's, read from inside it: path -> "mode mtime content".
const SNAPSHOT = `
const fs = require('fs'), path = require('path'), out = {};
const walk = (p) => { let st; try { st = fs.lstatSync(p); } catch { return; }
  if (st.isDirectory()) { for (const e of fs.readdirSync(p)) walk(path.join(p, e)); return; }
  out[p] = (st.mode & 0o777).toString(8) + ' ' + st.mtimeMs + ' ' + (st.isSymbolicLink() ? '-> ' + fs.readlinkSync(p) : fs.readFileSync(p, 'utf8')); };
for (const p of process.argv.slice(1)) walk(p);
process.stdout.write(JSON.stringify(out));`;
const OURS_AND_THEIRS = ['/etc/ipsec.conf', '/etc/ipsec.secrets', '/etc/ipsec.d', '/etc/tripleo-ipsec', '/var/lib/tripleo-ipsec', '/run/tripleo-ipsec'];

describe('tripleo-ipsec apply on a node with a real pluto', () => {
  const s = scratchDir();
  const lab = new Lab('p');
  const nodes = new SshNodes(lab, s.dir);
  let inv: string;
  let env: string;

  function run(h: string, args: string[], timeoutMs = 120_000) {
    const r = nodes.exec(h, process.execPath, [CLI, ...args], timeoutMs);
    return { code: r.status, out: r.stdout ?? '', err: r.stderr ?? '' };
  }
  const apply = (h: string, extra: string[] = [], invPath = inv) => run(h, ['apply', '-i', invPath, '-e', env, '--host', h, '--ctlsocket', PLUTO_CTL, ...extra]);
  const status = (h: string) => parsePlutoStatus(nodes.whack(h, ['--ctlsocket', PLUTO_CTL, '--status']).stdout);
  const snapshot = (h: string): Record<string, string> => JSON.parse(nodes.exec(h, process.execPath, ['-e', SNAPSHOT, ...OURS_AND_THEIRS]).stdout);
  const read = (h: string, p: string) => nodes.exec(h, 'cat', [p]).stdout;
  const exists = (h: string, p: string) => nodes.exec(h, 'test', ['-e', p]).status === 0;
  const iptables = (h: string, args: string[]) => nodes.exec(h, 'iptables', args);
  const strip = (x: Record<string, string>) => Object.fromEntries(Object.entries(x).map(([k, v]) => [k, v.replace(/^(\d+) [\d.]+ /, '$1 ')]));
  const before: Record<string, Record<string, string>> = {};
  const beforeConns: Record<string, string[]> = {};

  /** A node with the operator's own ipsec.conf and conn, and pluto reading it. */
  function boot(h: string, i: number) {
    const ns = lab.addHost(`n${i}`);
    nodes.add(h, ns, [`${ADDR[h]}/24`]);
    const setup = join(s.dir, `setup-${h}.sh`);
    writeFileSync(setup, [
      `printf "# operator's ipsec.conf\\nconfig setup\\n\\tplutodebug=none\\n\\tuniqueids=yes\\n\\ninclude /etc/ipsec.d/operator-*.conf\\n" > /etc/ipsec.conf`,
      `printf 'include /etc/ipsec.d/operator-*.secrets\\n' > /etc/ipsec.secrets && chmod 600 /etc/ipsec.secrets`,
      `printf 'conn operator-own\\n\\tleft=${ADDR[h]}\\n\\tright=198.51.100.99\\n\\tauthby=secret\\n\\tauto=add\\n' > /etc/ipsec.d/operator-own.conf && chmod 640 /etc/ipsec.d/operator-own.conf`,
      `printf '${ADDR[h]} 198.51.100.99 : PSK "operator-secret-0123456789abcdefghijkl"\\n' > /etc/ipsec.d/operator-own.secrets && chmod 600 /etc/ipsec.d/operator-own.secrets`,
      '',
    ].join('\n'));
    expect(nodes.exec(h, 'sh', [setup]).status).toBe(0);
    nodes.startPluto(h);
  }

  beforeAll(async () => {
    inv = join(s.dir, 'inventory.yaml');
    env = join(s.dir, 'env.yaml');
    writeFileSync(inv, stringify(inventory));
    writeFileSync(env, stringify({ parameter_defaults: { IpsecVars: { ipsec_psk: TEST_PSK } } }), { mode: 0o600 });
    for (const [i, h] of [A, B].entries()) boot(h, i);
    await waitFor('pluto to load the operator conn', () => [A, B].every((h) => status(h).conns.has('operator-own')), 10_000);
    for (const h of [A, B]) {
      before[h] = snapshot(h);
      beforeConns[h] = [...status(h).conns.keys()].sort();
    }
  }, 60_000);

  afterAll(() => {
    lab.cleanup();
    s.cleanup();
  });

  it('first run writes the files with their modes, includes them as the node sees them, loads every conn and installs the firewall chains', async () => {
    const a = apply(A);
    expect(a.err).toBe('');
    expect(a.code).toBe(0);
    expect(a.out).toMatch(/wrote etc\/ipsec\.d\/overcloud-internal_api\.conf/);
    expect(a.out).toMatch(/pluto: add overcloud-internal_api-to-overcloud-novacompute-1/);
    expect(a.out).toMatch(/installed iptables chains TRIPLEO-IPSEC, TRIPLEO-IPSEC-OUT, TRIPLEO-IPSEC-PEERS/);
    expect(apply(B).code).toBe(0);
    const conf = read(A, '/etc/ipsec.conf');
    // The operator's uniqueids=yes is what we want (per-peer ids): left as it is.
    expect(conf).toContain('\tuniqueids=yes\n');
    expect(conf).not.toContain('uniqueids=no');
    expect(conf).toContain('include /etc/ipsec.d/*.conf # tripleo-ipsec');
    expect(conf).toContain('include /run/tripleo-ipsec/*.conf # tripleo-ipsec');
    expect(conf.startsWith("# operator's ipsec.conf\n")).toBe(true);
    const snap = snapshot(A);
    expect(snap['/etc/ipsec.d/overcloud-internal_api.secrets']).toMatch(/^600 /);
    expect(snap['/etc/ipsec.d/overcloud-internal_api.conf']).toMatch(/^640 /);
    expect(snap['/var/lib/tripleo-ipsec/node-plan.json']).toMatch(/^600 /);
    await waitFor('A and B to authenticate', () => connsWithIkeSa(status(A)).has(`overcloud-internal_api-to-${B}`), 30_000);
    expect(status(A).conns.has('operator-own')).toBe(true);
    // its own end of the VIP tunnel is loaded; the VIP's ends towards peers are the agent's, on the holder only
    expect(status(A).conns.has('overcloud-internal_api-vip-tunnel')).toBe(true);
    expect([...status(A).conns.keys()].filter((c) => c.includes('-vip-tunnel-to-'))).toEqual([]);
    expect(nodes.exec(A, 'stat', ['-c', '%a', '/run/tripleo-ipsec']).stdout.trim()).toBe('700');
    expect(iptables(A, ['-C', 'INPUT', '-j', 'TRIPLEO-IPSEC']).status).toBe(0);
    expect(iptables(A, ['-C', 'OUTPUT', '-j', 'TRIPLEO-IPSEC-OUT']).status).toBe(0);
    expect(iptables(A, ['-S', 'TRIPLEO-IPSEC']).stdout).toContain('-s 192.0.2.21/32 -p udp -m multiport --dports 500,4500');
  }, 60_000);

  it('a pluto restarted from the node\'s own ipsec.conf loads every conn of ours itself (the include lines are the booted system\'s paths)', async () => {
    nodes.whack(A, ['--ctlsocket', PLUTO_CTL, '--shutdown']);
    await waitFor('pluto on A to exit', () => !alive(nodes.get(A).pluto!.pid), 10_000);
    nodes.startPluto(A);
    await waitFor('A and B to authenticate again', () => connsWithIkeSa(status(A)).has(`overcloud-internal_api-to-${B}`), 30_000);
    expect(status(A).conns.has('overcloud-internal_api-vip-tunnel')).toBe(true);
  }, 60_000);

  it('a second run changes nothing: same files (mtimes too), no pluto command', () => {
    const files = snapshot(A);
    // What any reload makes pluto log (retransmissions to absent peers keep the log growing otherwise).
    const reloads = () => nodes.exec(A, 'cat', [nodes.get(A).pluto!.log]).stdout.split('\n').filter((l) => /listening for IKE messages|added IKEv2 connection|loading secrets|terminating SAs|deleting connection/.test(l)).length;
    const log = reloads();
    const r = apply(A);
    expect(r.code).toBe(0);
    expect(r.out).toBe('no change\n');
    expect(snapshot(A)).toEqual(files);
    expect(reloads()).toBe(log);
    expect(log).toBeGreaterThan(0);
  });

  it('a boot that loaded only the firewall service\'s rules (our chains gone): apply --restore-firewall puts them back from the installed files, with no inputs; once there, it changes nothing', () => {
    const save = (tool: string) => nodes.exec(A, `${tool}-save`, ['-t', 'filter']).stdout.split('\n').filter((l) => /TRIPLEO-IPSEC/.test(l)).sort();
    const before = { 4: save('iptables'), 6: save('ip6tables') };
    expect(before[4].length).toBeGreaterThan(3);
    // As a boot leaves it: the service's own rules only (here, none).
    for (const tool of ['iptables', 'ip6tables']) for (const args of [['-F'], ['-X']]) expect(nodes.exec(A, tool, args).status).toBe(0);
    expect(save('iptables')).toEqual([]);
    const restore = () => run(A, ['apply', '--restore-firewall', '--ctlsocket', PLUTO_CTL]);
    const r = restore();
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('installed iptables chains TRIPLEO-IPSEC, TRIPLEO-IPSEC-OUT, TRIPLEO-IPSEC-PEERS');
    expect({ 4: save('iptables'), 6: save('ip6tables') }).toEqual(before);
    expect(restore().out).toBe('no change\n');
    expect(apply(A).out).toBe('no change\n');
  });

  it('a second run repairs a pluto that lost conns (deleted by hand, or unrouted): only those come back', () => {
    const lost = `overcloud-internal_api-to-${B}`;
    const responder = 'overcloud-internal_api-to-overcloud-controller-0';
    expect(status(A).conns.has(lost)).toBe(true);
    expect(nodes.whack(A, ['--ctlsocket', PLUTO_CTL, '--name', lost, '--delete']).status).toBe(0);
    expect(nodes.whack(A, ['--ctlsocket', PLUTO_CTL, '--name', responder, '--unroute']).status).toBe(0);
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
    expect(read(A, '/etc/ipsec.d/operator-own.conf')).toContain('conn operator-own');
    expect(status(A).conns.has('operator-own')).toBe(true);
    expect(apply(A, ['--set', 'ipsec_algorithm=aes_gcm256-null']).out).toBe('no change\n');
  });

  it('hostile input writes nothing and leaves pluto alone', () => {
    const files = snapshot(A);
    const conns = [...status(A).conns.keys()].sort();
    const bad = join(s.dir, 'bad.yaml');
    writeFileSync(bad, stringify({ ...inventory, Compute: { ...inventory.Compute, hosts: { [A]: { internal_api_ip: '192.0.2.20\n\tleftupdown=/bin/sh' }, [B]: { internal_api_ip: ADDR[B] } } } }));
    const r = apply(A, [], bad);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`host ${A}: internal_api_ip=`);
    expect(snapshot(A)).toEqual(files);
    expect([...status(A).conns.keys()].sort()).toEqual(conns);
    const noPsk = join(s.dir, 'nopsk.yaml');
    writeFileSync(noPsk, stringify({ parameter_defaults: { IpsecVars: {} } }));
    const r2 = run(A, ['apply', '-i', inv, '-e', noPsk, '--host', A, '--ctlsocket', PLUTO_CTL]);
    expect(r2.code).toBe(2);
    expect(r2.err).toMatch(/apply needs ipsec_psk/);
    expect(snapshot(A)).toEqual(files);
  });

  it('refuses to overwrite an overcloud- file it did not write, unless --upgrade', () => {
    const manifest = '/var/lib/tripleo-ipsec/manifest.json';
    const m = JSON.parse(read(B, manifest));
    delete m.files['etc/ipsec.d/overcloud-internal_api.conf'];
    const edited = join(s.dir, 'manifest-edited.json');
    writeFileSync(edited, JSON.stringify(m));
    nodes.exec(B, 'cp', [edited, manifest]);
    nodes.exec(B, 'sh', ['-c', "echo '# left by the Ansible role' > /etc/ipsec.d/overcloud-internal_api.conf; echo '# left by the Ansible role' > /etc/ipsec.d/overcloud-internal_api-node-to-node-tunnels.conf"]);
    const refused = apply(B);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/was not written by tripleo-ipsec; rerun with --upgrade/);
    const up = apply(B, ['--upgrade']);
    expect(up.code).toBe(0);
    expect(up.out).toContain('updated etc/ipsec.d/overcloud-internal_api.conf');
    expect(up.out).toContain('removed etc/ipsec.d/overcloud-internal_api-node-to-node-tunnels.conf');
    expect(apply(B).out).toBe('no change\n');
  });

  it('--uninstall leaves the node and pluto as they were before the first run', () => {
    const r = apply(A, ['--uninstall']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('restored etc/ipsec.conf');
    const after = snapshot(A);
    expect(strip(after)).toEqual(strip(before[A]));
    expect([...status(A).conns.keys()].sort()).toEqual(beforeConns[A]);
    expect(iptables(A, ['-C', 'INPUT', '-j', 'TRIPLEO-IPSEC']).status).not.toBe(0);
    expect(iptables(A, ['-C', 'OUTPUT', '-j', 'TRIPLEO-IPSEC-OUT']).status).not.toBe(0);
    expect(apply(A, ['--uninstall']).out).toContain('nothing to uninstall');
  });

  it('a run killed half-way (files written, pluto not yet told, no manifest of a finished run): uninstall removes exactly what it did; the next run sweeps what its kill left', async () => {
    const p = nodes.get(A).pluto!;
    const out = openSync(join(s.dir, 'killed-apply.log'), 'w');
    const child = spawn('nsenter', ['-t', String(nodes.get(A).pid), '-m', '-n', process.execPath, CLI, 'apply', '-i', inv, '-e', env, '--host', A, '--ctlsocket', PLUTO_CTL], { stdio: ['ignore', out, out] });
    closeSync(out);
    // Once the run has recorded its journal (it has read the node, pluto included), pluto stops
    // answering: the run writes its files and blocks on its first whack. Then it is killed.
    const journalPath = join(nodes.get(A).upper, 'var/lib/tripleo-ipsec/manifest.json');
    const t0 = Date.now();
    while (!existsSync(journalPath) && Date.now() - t0 < 30_000) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    process.kill(p.pid, 'SIGSTOP');
    try {
      await waitFor("the run's files to be written", () => exists(A, '/etc/ipsec.d/overcloud-internal_api.secrets') && read(A, '/etc/ipsec.conf').includes('# tripleo-ipsec'), 30_000, 50);
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    } finally {
      process.kill(p.pid, 'SIGCONT');
    }
    const journal = JSON.parse(read(A, '/var/lib/tripleo-ipsec/manifest.json'));
    expect(journal.complete).toBe(false);
    expect(Object.keys(journal.files)).toContain('etc/ipsec.d/overcloud-internal_api.secrets');
    // A temporary file a kill between a write and its rename leaves: the next run removes it.
    nodes.exec(A, 'sh', ['-c', 'echo half > /etc/ipsec.d/.overcloud-internal_api.conf.4194305.1.tmp; echo half > /var/lib/tripleo-ipsec/.node-plan.json.4194305.1.tmp']);
    const u = apply(A, ['--uninstall']);
    expect(u.err).toBe('');
    expect(u.code).toBe(0);
    expect(u.out).toContain('removed etc/ipsec.d/.overcloud-internal_api.conf.4194305.1.tmp (left by an interrupted run)');
    expect(u.out).toContain('removed etc/ipsec.d/overcloud-internal_api.secrets');
    expect(strip(snapshot(A))).toEqual(strip(before[A]));
    expect([...status(A).conns.keys()].sort()).toEqual(beforeConns[A]);
  }, 60_000);

  it('a run whose firewall step failed: the error in one line, and uninstall still removes everything it did', () => {
    // An iptables-restore that fails, first on this node's PATH (its own /usr/local).
    nodes.exec(A, 'sh', ['-c', "mkdir -p /usr/local/sbin && printf '#!/bin/sh\\ncat >/dev/null\\necho \"iptables-restore: line 3 failed\" >&2\\nexit 1\\n' > /usr/local/sbin/iptables-restore && chmod 755 /usr/local/sbin/iptables-restore"]);
    try {
      const r = nodes.exec(A, 'env', ['PATH=/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin', process.execPath, CLI, 'apply', '-i', inv, '-e', env, '--host', A, '--ctlsocket', PLUTO_CTL]);
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split('\n')).toEqual(['tripleo-ipsec: installing our chains (iptables-restore --noflush) failed (iptables-restore exit 1): iptables-restore: line 3 failed']);
      expect(JSON.parse(read(A, '/var/lib/tripleo-ipsec/manifest.json')).complete).toBe(false);
    } finally {
      nodes.exec(A, 'rm', ['-f', '/usr/local/sbin/iptables-restore']);
    }
    const u = apply(A, ['--uninstall']);
    expect(u.code).toBe(0);
    expect(strip(snapshot(A))).toEqual(strip(before[A]));
    expect([...status(A).conns.keys()].sort()).toEqual(beforeConns[A]);
    expect(iptables(A, ['-C', 'INPUT', '-j', 'TRIPLEO-IPSEC']).status).not.toBe(0);
  }, 60_000);

  it('installs a tree generated elsewhere (--tree: the undercloud generates, the node gets only its own tree): no inventory, no master key, the same tunnels; uninstall needs no inputs', async () => {
    // The undercloud's side: every host's tree; the node receives a copy of its own (as Ansible's copy does).
    const out = join(s.dir, 'undercloud-out');
    const g = spawnSync(process.execPath, [CLI, 'generate', '-i', inv, '-e', env, '-o', out], { encoding: 'utf8' });
    expect(g.stderr).toBe('');
    const shipped = join(s.dir, 'shipped-A');
    spawnSync('cp', ['-a', join(out, A), shipped]);
    const tree = (extra: string[] = []) => run(A, ['apply', '--tree', shipped, '--host', A, '--ctlsocket', PLUTO_CTL, ...extra]);
    const r = tree();
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/wrote etc\/ipsec\.d\/overcloud-internal_api\.conf/);
    expect(r.out).toMatch(/wrote var\/lib\/tripleo-ipsec\/node-plan\.json/);
    for (const f of ['etc/ipsec.d/overcloud-internal_api.conf', 'etc/ipsec.d/overcloud-internal_api.secrets']) {
      expect(read(A, `/${f}`)).toBe(spawnSync('cat', [join(out, A, f)], { encoding: 'utf8' }).stdout);
    }
    expect(snapshot(A)['/etc/ipsec.d/overcloud-internal_api.secrets']).toMatch(/^600 /);
    // B was installed from the inventory and the master key: the keys agree.
    nodes.whack(B, ['--ctlsocket', PLUTO_CTL, '--name', `overcloud-internal_api-to-${A}`, '--route']);
    await waitFor('A (from its tree) and B (from the inputs) to authenticate', () => connsWithIkeSa(status(A)).has(`overcloud-internal_api-to-${B}`), 30_000);
    expect(tree().out).toBe('no change\n');
    // Step by step, as the heat template runs it.
    expect(tree(['--step', '1']).out).toBe('no change\n');
    expect(tree(['--step', '3']).out).toBe('no change\n');
    // Not with the inputs as well: one source.
    const both = run(A, ['apply', '--tree', shipped, '-i', inv, '--host', A]);
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/mutually exclusive|conflicts/i);
    const u = run(A, ['apply', '--uninstall', '--host', A, '--ctlsocket', PLUTO_CTL]);
    expect(u.err).toBe('');
    expect(u.code).toBe(0);
    expect(strip(snapshot(A))).toEqual(strip(before[A]));
  }, 90_000);

  it("IpsecVars ipsec_uninstall_tunnels (the role's switch): a deploy's own apply steps remove everything, as --uninstall", () => {
    expect(apply(A).code).toBe(0);
    expect(exists(A, '/etc/ipsec.d/overcloud-internal_api.conf')).toBe(true);
    const env2 = join(s.dir, 'env-uninstall.yaml');
    writeFileSync(env2, stringify({ parameter_defaults: { IpsecVars: { ipsec_psk: TEST_PSK, ipsec_uninstall_tunnels: true } } }), { mode: 0o600 });
    const out = join(s.dir, 'undercloud-out-uninstall');
    const g = spawnSync(process.execPath, [CLI, 'generate', '-i', inv, '-e', env2, '-o', out], { encoding: 'utf8' });
    expect(g.status, g.stderr).toBe(0);
    expect(g.stdout + g.stderr).toContain('ipsec_uninstall_tunnels is true');
    const shipped = join(s.dir, 'shipped-uninstall-A');
    spawnSync('cp', ['-a', join(out, A), shipped]);
    const step = (n: string) => run(A, ['apply', '--tree', shipped, '--host', A, '--ctlsocket', PLUTO_CTL, '--step', n]);
    const one = step('1');
    expect(one.err).toBe('');
    expect(one.code).toBe(0);
    expect(one.out).toContain('restored etc/ipsec.conf');
    expect(strip(snapshot(A))).toEqual(strip(before[A]));
    expect([...status(A).conns.keys()].sort()).toEqual(beforeConns[A]);
    expect(iptables(A, ['-C', 'INPUT', '-j', 'TRIPLEO-IPSEC']).status).not.toBe(0);
    expect(step('3').out).toContain('nothing to uninstall');
  }, 90_000);

  it('makes pluto listen only when a conn it loaded found no local address (the address came after pluto): then the conn is oriented and started', () => {
    const C = 'overcloud-controller-0';
    const ns = lab.addHost('n9');
    nodes.add(C, ns, ['198.51.100.50/24']);
    nodes.startPluto(C);
    // The address appears after pluto started, as when networking comes up late.
    lab.addAddress(ns, '192.0.2.10/24');
    const r = run(C, ['apply', '-i', inv, '-e', env, '--host', C, '--ctlsocket', PLUTO_CTL, '--step', '1', '--no-pacemaker']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n').filter((l) => l.startsWith('pluto: ') && l !== 'pluto: reread secrets');
    // The keys, the loads, then the listen, then the starts.
    expect(r.out.indexOf('pluto: reread secrets')).toBeLessThan(r.out.indexOf('pluto: add '));
    const listen = lines.indexOf('pluto: listen');
    expect(listen).toBeGreaterThan(0);
    expect(lines.slice(0, listen).every((l) => l.startsWith('pluto: add '))).toBe(true);
    expect(lines.slice(listen + 1).some((l) => l.startsWith('pluto: up ') || l.startsWith('pluto: route '))).toBe(true);
    expect(status(C).conns.get(`overcloud-internal_api-to-${A}`)?.oriented).toBe(true);
  }, 60_000);

  it('a rotated PSK: step 1 installs the new keys and re-keys nothing; step 3 re-authenticates each tunnel once, from its initiator, leaving one IKE SA per tunnel', async () => {
    const conn = `overcloud-internal_api-to-${B}`;
    const back = `overcloud-internal_api-to-${A}`;
    expect(apply(A).code).toBe(0);
    expect(apply(B).code).toBe(0);
    await waitFor('A and B to authenticate', () => connsWithIkeSa(status(A)).has(conn) && connsWithIkeSa(status(B)).has(back), 30_000);
    const ikeOf = (h: string, c: string) => status(h).states.filter((x) => x.kind === 'ike' && x.established && x.conn === c).map((x) => x.serial);
    const [first] = ikeOf(A, conn);
    const rotated = join(s.dir, 'rotated.yaml');
    writeFileSync(rotated, stringify({ parameter_defaults: { IpsecVars: { ipsec_psk: `${TEST_PSK.slice(0, -8)}rotated!` } } }), { mode: 0o600 });
    const step = (h: string, n: string) => {
      const r = run(h, ['apply', '-i', inv, '-e', rotated, '--host', h, '--ctlsocket', PLUTO_CTL, '--step', n]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      return r.out;
    };
    // Step 1 on both: new keys read, the SA untouched.
    for (const h of [A, B]) expect(step(h, '1')).toMatch(/pluto: reread secrets/);
    expect(ikeOf(A, conn)).toEqual([first]);
    // Step 3: B is the responder (the higher address) and renews nothing; A renews its tunnel.
    expect(step(B, '3')).not.toMatch(/re-authenticated/);
    const out = step(A, '3');
    expect(out).toMatch(new RegExp(`pluto: re-authenticated ${conn} with the new key \\(#${first} -> #\\d+, \\d+ ms\\)`));
    const [after] = ikeOf(A, conn);
    expect(after).toBeGreaterThan(first);
    // One IKE SA per tunnel on both ends: the responder's uniqueids replaced its old one.
    await waitFor('B to hold only the new SA', () => ikeOf(B, back).length === 1, 10_000);
    expect(ikeOf(A, conn)).toHaveLength(1);
    expect(step(A, '3')).toBe('no change\n');
    expect(ikeOf(A, conn)).toEqual([after]);
  }, 120_000);
});

describe('apply --root: an image being built', () => {
  const s = scratchDir();
  afterAll(() => s.cleanup());

  it('writes under the root, and the include lines name the paths the booted system has', () => {
    const root = join(s.dir, 'image');
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc/ipsec.conf'), 'config setup\n\tplutodebug=none\n');
    const inv = join(s.dir, 'inventory.yaml');
    const env = join(s.dir, 'env.yaml');
    writeFileSync(inv, stringify(inventory));
    writeFileSync(env, stringify({ parameter_defaults: { IpsecVars: { ipsec_psk: TEST_PSK } } }), { mode: 0o600 });
    const r = spawnSync(process.execPath, [CLI, 'apply', '-i', inv, '-e', env, '--host', A, '--root', root, '--ctlsocket', join(s.dir, 'no-pluto.ctl'), '--step', '1'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`--root ${root}: an image being built: its files only (pluto, the firewall and the cluster are the booted node's)`);
    expect(r.stdout).not.toMatch(/^pluto: |installed iptables chains/m);
    const conf = spawnSync('cat', [join(root, 'etc/ipsec.conf')], { encoding: 'utf8' }).stdout;
    expect(conf).toContain('include /etc/ipsec.d/*.conf # tripleo-ipsec\n');
    expect(conf).toContain('include /run/tripleo-ipsec/*.conf # tripleo-ipsec\n');
    expect(conf).not.toContain(root);
    expect(spawnSync('cat', [join(root, 'etc/ipsec.secrets')], { encoding: 'utf8' }).stdout).toBe('include /etc/ipsec.d/*.secrets # tripleo-ipsec\n');
    expect(existsSync(join(root, 'etc/ipsec.d/overcloud-internal_api.conf'))).toBe(true);
  });
});
