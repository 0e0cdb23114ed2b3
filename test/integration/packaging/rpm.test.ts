// The RPM that puts tripleo-ipsec on the undercloud and the nodes, built
// with the real rpmbuild (npm run package: scripts/package.sh, which also
// makes the tarball for systems without RPM) and installed with the real
// rpm into a scratch root: the command runs from where the package puts it,
// the agent is where Pacemaker looks for ocf:tripleo:ipsec, the heat
// templates are where heat-env/ipsec.yaml says.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir } from '../../helpers/inputs.js';

const REPO = join(__dirname, '..', '..', '..');
const run = (cmd: string, args: string[], opts: { cwd?: string } = {}) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000, ...opts });
  return { code: r.status, out: r.stdout ?? '', err: r.stderr ?? '' };
};

describe('the tripleo-ipsec RPM', () => {
  const s = scratchDir();
  const root = join(s.dir, 'root');
  let rpm = '';
  let tarball = '';
  const version = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version as string;

  beforeAll(() => {
    const b = run('bash', [join(REPO, 'scripts', 'package.sh')], { cwd: REPO });
    expect(b.code, b.err).toBe(0);
    [rpm, tarball] = b.out.trim().split('\n').map((p) => join(REPO, p));
    expect(run('rpm', ['--root', root, '--initdb']).code).toBe(0);
    // --nodeps: this Debian root has no RPM database of nodejs or libreswan; the requirements are checked below.
    const i = run('rpm', ['-i', '--root', root, '--nodeps', rpm]);
    expect(i.code, i.err).toBe(0);
  }, 300_000);
  afterAll(() => s.cleanup());

  it('is noarch, named for the version, and requires what the tool runs at run time', () => {
    expect(rpm.endsWith(`tripleo-ipsec-${version}-1.noarch.rpm`)).toBe(true);
    const req = run('rpm', ['-qp', '--requires', rpm]).out.split('\n');
    for (const r of ['nodejs >= 1:20', 'libreswan', 'openssl', 'nss-tools', 'iptables']) expect(req, r).toContain(r);
  });

  it('installs the command, the agent (0755) where Pacemaker finds ocf:tripleo:ipsec, and the heat templates', () => {
    const files = run('rpm', ['-qlvp', rpm]).out;
    expect(files).toMatch(/^-rwxr-xr-x .* \/usr\/lib\/ocf\/resource\.d\/tripleo\/ipsec$/m);
    expect(files).toMatch(/^lrwxrwxrwx .* \/usr\/bin\/tripleo-ipsec -> \.\.\/share\/tripleo-ipsec\/bin\/tripleo-ipsec$/m);
    for (const f of ['ipsec.yaml', 'ipsec-service.yaml']) {
      expect(readFileSync(join(root, 'usr/share/tripleo-ipsec/heat-env', f), 'utf8')).toBe(readFileSync(join(REPO, 'heat-env', f), 'utf8'));
    }
    // The documentation the README links to comes with it.
    for (const f of ['README.md', 'docs/design.md', 'docs/reference/cli.md', 'docs/reference/agent.md']) expect(files, f).toMatch(new RegExp(` /usr/share/doc/tripleo-ipsec[^/]*/${f.replace('.', '\\.')}$`, 'm'));
    // The unit that puts our firewall chains back at boot: installed, enabled, and valid for systemd.
    expect(files).toMatch(/^-rw-r--r-- .* \/usr\/lib\/systemd\/system\/tripleo-ipsec-firewall\.service$/m);
    expect(files).toMatch(/^lrwxrwxrwx .* \/usr\/lib\/systemd\/system\/multi-user\.target\.wants\/tripleo-ipsec-firewall\.service -> \.\.\/tripleo-ipsec-firewall\.service$/m);
    // And the timer that deletes the IKE SAs peers' restarts leave, enabled.
    expect(files).toMatch(/^lrwxrwxrwx .* \/usr\/lib\/systemd\/system\/timers\.target\.wants\/tripleo-ipsec-tidy\.timer -> \.\.\/tripleo-ipsec-tidy\.timer$/m);
    const units = ['tripleo-ipsec-firewall.service', 'tripleo-ipsec-tidy.service', 'tripleo-ipsec-tidy.timer'];
    const text = (u: string) => readFileSync(join(root, 'usr/lib/systemd/system', u), 'utf8');
    expect(text('tripleo-ipsec-firewall.service')).toMatch(/^ExecStart=\/usr\/bin\/tripleo-ipsec apply --restore-firewall$/m);
    expect(text('tripleo-ipsec-tidy.service')).toMatch(/^ExecStart=\/usr\/bin\/tripleo-ipsec tidy$/m);
    mkdirSync(join(root, 'verify'), { recursive: true });
    for (const u of units) writeFileSync(join(root, 'verify', u), text(u).replace('/usr/bin/tripleo-ipsec', join(root, 'usr/bin/tripleo-ipsec')));
    const verified = spawnSync('systemd-analyze', ['verify', ...units.map((u) => join(root, 'verify', u))], { encoding: 'utf8' });
    expect(`${verified.stdout}${verified.stderr}`).toBe('');
    expect(verified.status).toBe(0);
    // Distribution policy: no /usr/bin/env interpreter.
    expect(readFileSync(join(root, 'usr/lib/ocf/resource.d/tripleo/ipsec'), 'utf8').split('\n')[0]).toBe('#!/usr/bin/node');
  });

  it('comes as a tarball too, with exactly the RPM\'s files and modes', () => {
    expect(tarball.endsWith(`tripleo-ipsec-${version}.tar.gz`)).toBe(true);
    // "<mode> /<path>[ -> target]" of every file and link (directories aside: the tarball also has usr/, usr/share/, ...).
    const entries = (lines: string, at: RegExp) =>
      lines.split('\n').filter((l) => l && !l.startsWith('d')).map((l) => `${l.split(/\s+/)[0]} /${l.slice(l.search(at)).trim().replace(/^\//, '')}`).sort();
    const fromRpm = entries(run('rpm', ['-qlvp', rpm]).out, / \/usr\//);
    const fromTar = entries(run('tar', ['-tvzf', tarball]).out, / usr\//);
    expect(fromRpm.length).toBeGreaterThan(8);
    expect(fromTar).toEqual(fromRpm);
  });

  it('runs from where it is installed: --version, generate on the sample, install-agent writes the packaged agent', () => {
    const cli = join(root, 'usr/bin/tripleo-ipsec');
    expect(run(process.execPath, [cli, '--version']).out.trim()).toBe(version);
    const g = run(process.execPath, [cli, 'generate', '--example', '-o', join(s.dir, 'out')]);
    expect(g.code, g.err).toBe(0);
    expect(g.out).toMatch(/wrote \d+ files/);
    const a = run(process.execPath, [cli, 'install-agent', '--ocf-root', join(s.dir, 'ocf')]);
    expect(a.code, a.err).toBe(0);
    expect(readFileSync(join(s.dir, 'ocf/resource.d/tripleo/ipsec'))).toEqual(readFileSync(join(root, 'usr/lib/ocf/resource.d/tripleo/ipsec')));
    const md = run(process.execPath, [join(root, 'usr/lib/ocf/resource.d/tripleo/ipsec'), 'meta-data']);
    expect(md.code).toBe(0);
    expect(md.out).toContain('<resource-agent name="ipsec"');
  });
});
