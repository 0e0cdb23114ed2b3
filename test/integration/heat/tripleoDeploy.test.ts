// The TripleO deployment path, run for real: our heat service template made
// into config-download's playbook (test/helpers/configDownload.ts) and run
// by ansible-playbook from an undercloud namespace, over SSH, against nodes
// that are namespaces with their own sshd, file system view and pluto
// (test/helpers/sshNodes.ts). The inventory is tripleo-common's own fixture
// (Undercloud secrets included), with TEST-NET VIPs and root as the SSH user.
// What it shows: `-e ipsec.yaml` with no IpsecVars at all deploys; the PSK is
// made once on the undercloud, kept 0600 and reused, so a second deploy
// changes nothing and re-keys nothing; nodes get their own tree and nothing
// else (no inventory, no master key, no Undercloud variable, no other
// node's key); the mesh authenticates, by PSK and by certificates.
// Pacemaker at step 3 is the e2e cluster's (test/e2e): this inventory has no
// pacemaker group.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parsePlutoStatus, connsWithIkeSa } from '../../../src/libreswan/whackStatus.js';
import { nodePaths } from '../../../src/model/names.js';
import { writeConfigDownload } from '../../helpers/configDownload.js';
import { scratchDir } from '../../helpers/inputs.js';
import { Lab, sh, shAsync } from '../../helpers/netns.js';
import { waitFor } from '../../helpers/pluto.js';
import { SshNodes } from '../../helpers/sshNodes.js';

const FIXTURE = join(__dirname, '..', '..', 'fixtures', 'tripleo-samples', 'inventory', 'neutron_heat_expected_static.yaml');
const REPO = join(__dirname, '..', '..', '..');
const STACK = 'overcloud';
// The mesh: every node on internal_api (cs-0 has no isolated network).
const MESH = ['c-0', 'c-1', 'c-2', 'cp-0'];

type Obj = Record<string, any>;

/** Every file under `dir`, relative paths. */
function filesUnder(dir: string, base = dir): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? filesUnder(p, base) : e.isFile() ? [p.slice(base.length + 1)] : [];
  });
}

function deployment(mode: 'psk' | 'cert') {
  const s = scratchDir();
  const lab = new Lab(mode === 'psk' ? 'hp' : 'hc');
  const nodes = new SshNodes(lab, s.dir);
  const workingDir = join(s.dir, 'overcloud-deploy', STACK);
  const stateDir = join(workingDir, 'tripleo-ipsec');
  const inv = join(s.dir, 'tripleo-ansible-inventory.yaml');
  const fixture = parse(readFileSync(FIXTURE, 'utf8')) as Obj;
  let playbook = '';

  function setUp(ipsecVars: Obj) {
    // tripleo-common's fixture, made reachable: TEST-NET VIPs (its own are placeholders), root over SSH.
    const text = readFileSync(FIXTURE, 'utf8').replace(/x\.x\.x\.6/g, '198.51.100.136').replace(/x\.x\.x\.4/g, '192.0.2.4').replace(/heat-admin/g, 'root');
    writeFileSync(inv, text);
    playbook = writeConfigDownload(workingDir, STACK, { IpsecVars: ipsecVars });
    const uc = lab.addHost('uc');
    lab.addAddress(uc, '192.0.2.1/24');
    // Ansible's persistent SSH connections live in the undercloud's namespace: stopped by PID with it.
    lab.onCleanup(() => {
      for (const pid of sh('ip', ['netns', 'pids', uc], { allowFail: true }).stdout.split(/\s+/).filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    });
    const hosts = Object.entries(fixture).filter(([, g]) => (g as Obj).hosts && (g as Obj).vars?.tripleo_role_name);
    let i = 0;
    for (const [, g] of hosts) {
      for (const [name, h] of Object.entries((g as Obj).hosts as Obj)) {
        const ns = lab.addHost(`n${i++}`);
        const cidrs = [`${h.ctlplane_ip}/24`, ...(h.internal_api_ip ? [`${h.internal_api_ip}/25`] : [])];
        nodes.add(name, ns, cidrs);
        nodes.startPluto(name);
      }
    }
    return uc;
  }

  /** ansible-playbook on the undercloud, as `openstack overcloud deploy` runs it (not blocking the event loop: a deploy takes a while). */
  async function deploy(uc: string, extra: string[] = []) {
    const bin = join(s.dir, 'bin');
    mkdirSync(bin, { recursive: true });
    // The undercloud's tripleo-ipsec, as the RPM installs it.
    writeFileSync(join(bin, 'tripleo-ipsec'), `#!/bin/sh\nexec ${process.execPath} ${REPO}/bin/tripleo-ipsec "$@"\n`, { mode: 0o755 });
    const env: Record<string, string> = {
      PATH: `${bin}:${process.env.PATH}`,
      HOME: s.dir,
      ANSIBLE_PRIVATE_KEY_FILE: nodes.key,
      ANSIBLE_HOST_KEY_CHECKING: 'False',
      // One SSH connection per node for the whole run, as config-download configures it.
      ANSIBLE_SSH_ARGS: `-o ControlMaster=auto -o ControlPersist=120s -o ControlPath=${s.dir}/cp-%C -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes`,
      ANSIBLE_PIPELINING: 'True',
      ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3',
      ANSIBLE_LOCAL_TEMP: join(s.dir, 'ansible-local'),
      ANSIBLE_FORKS: '5',
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_RETRY_FILES_ENABLED: 'False',
    };
    const t0 = Date.now();
    const r = await shAsync('ip', ['netns', 'exec', uc, 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), 'ansible-playbook', '-i', inv, ...extra, playbook], { timeoutMs: 600_000 });
    return { code: r.status, out: r.stdout, err: r.stderr, ms: Date.now() - t0 };
  }

  const status = (name: string) => parsePlutoStatus(nodes.whack(name, ['--status']).stdout);
  const cleanup = () => {
    lab.cleanup();
    s.cleanup();
  };
  return { s, lab, nodes, workingDir, stateDir, inv, setUp, deploy, status, cleanup };
}

/** The recap's changed= count per host. */
function recap(out: string): Record<string, { ok: number; changed: number; failed: number }> {
  const r: Record<string, { ok: number; changed: number; failed: number }> = {};
  for (const m of out.matchAll(/^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)/gm)) r[m[1]] = { ok: +m[2], changed: +m[3], failed: +m[4] };
  return r;
}

describe('the TripleO deployment path: config-download runs the service template with ansible-playbook over SSH', () => {
  describe('PSK (-e ipsec.yaml and nothing else)', () => {
    const d = deployment('psk');
    let first: Awaited<ReturnType<typeof d.deploy>>;
    let psk = '';
    let serials: Record<string, number[]> = {};

    let checked: Awaited<ReturnType<typeof d.deploy>>;
    let afterCheck: { stateOut: boolean; nodeFiles: string[] };

    beforeAll(async () => {
      const uc = d.setUp({});
      // An operator's dry run first (ansible-playbook --check), before anything was ever generated.
      checked = await d.deploy(uc, ['--check']);
      afterCheck = {
        stateOut: existsSync(join(d.stateDir, 'out')),
        nodeFiles: d.nodes.all().flatMap((n) => filesUnder(n.upper).filter((f) => /^(etc|var\/lib\/tripleo-ipsec|run)\//.test(f) && /overcloud-|tripleo-ipsec/.test(f)).map((f) => `${n.name}:${f}`)),
      };
      first = await d.deploy(uc);
      console.log(`PSK deploy: ${(first.ms / 1000).toFixed(1)} s for ${d.nodes.all().length} nodes`);
      (d as Obj).uc = uc;
    }, 600_000);
    afterAll(() => d.cleanup());

    it('deploys with no IpsecVars at all: the undercloud generates every tree, the PSK once, kept 0600 in the working directory', () => {
      expect(first.code, `${first.out.slice(-4000)}\n${first.err}`).toBe(0);
      for (const [h, x] of Object.entries(recap(first.out))) expect(x.failed, h).toBe(0);
      expect(statSync(d.stateDir).mode & 0o777).toBe(0o700);
      const pskFile = join(d.stateDir, 'out', 'ipsec-psk.yaml');
      expect(statSync(pskFile).mode & 0o777).toBe(0o600);
      expect(statSync(join(d.stateDir, 'ipsec-vars.yaml')).mode & 0o777).toBe(0o600);
      psk = (parse(readFileSync(pskFile, 'utf8')) as Obj).parameter_defaults.IpsecVars.ipsec_psk;
      expect(psk).toMatch(/^[A-Za-z0-9+/=]{40,}$/);
      // no_log: the key is in no line Ansible printed.
      expect(first.out).not.toContain(psk);
    });

    it('a check-mode run (--check) before the first deploy succeeds and changes nothing: no state on the undercloud, no file on a node', () => {
      expect(checked.code, `${checked.out.slice(-3000)}\n${checked.err}`).toBe(0);
      expect(checked.out).toMatch(/check mode: this node's tree is generated by the real run/);
      expect(Object.values(recap(checked.out)).every((r) => r.failed === 0)).toBe(true);
      expect(afterCheck).toEqual({ stateOut: false, nodeFiles: [] });
    });

    it('every node of the mesh authenticates with every other: exactly its tunnels, no duplicate, no half-open', async () => {
      await waitFor(
        'every node to authenticate its tunnels',
        () => MESH.every((h) => connsWithIkeSa(d.status(h)).size === MESH.length - 1),
        60_000,
        500,
      );
      for (const h of MESH) {
        const st = d.status(h);
        expect(st.ikeSas.halfOpen ?? 0, h).toBe(0);
        expect(st.ikeSas.authenticated, h).toBe(MESH.length - 1);
        expect(st.ikeSas.total, h).toBe(MESH.length - 1);
        serials[h] = st.states.filter((x) => x.kind === 'ike').map((x) => x.serial).sort((a, b) => a - b);
      }
      // cs-0 has no isolated network: nothing loaded, nothing negotiated.
      expect(d.status('cs-0').ikeSas.total).toBe(0);
    });

    it('a node holds only its own tree: no inventory, no IpsecVars, no master key, no Undercloud variable, no key of a tunnel it is not in', () => {
      const secretsOf = (h: string) =>
        filesUnder(join(d.stateDir, 'out', h))
          .filter((f) => f.endsWith('.secrets'))
          .flatMap((f) => [...readFileSync(join(d.stateDir, 'out', h, f), 'utf8').matchAll(/PSK "([^"]+)"/g)].map((m) => m[1]));
      for (const n of d.nodes.all()) {
        const files = filesUnder(n.upper);
        expect(files.filter((f) => /inventory|ipsec-vars|service-vips|ipsec-psk/.test(f)), n.name).toEqual([]);
        const everything = files.map((f) => {
          try {
            return readFileSync(join(n.upper, f), 'latin1');
          } catch {
            return '';
          }
        }).join('\n');
        expect(everything.includes(psk), `${n.name} holds the master key`).toBe(false);
        expect(everything.includes('theadminpw'), `${n.name} holds overcloud_admin_password`).toBe(false);
        const mine = new Set(secretsOf(n.name));
        for (const other of MESH.filter((x) => x !== n.name)) {
          for (const k of secretsOf(other)) if (!mine.has(k)) expect(everything.includes(k), `${n.name} holds a key of ${other}'s`).toBe(false);
        }
        // What apply installed is the tree it was given.
        if (MESH.includes(n.name)) {
          expect(readFileSync(join(n.upper, 'etc/ipsec.d/overcloud-internal_api.secrets'), 'utf8')).toBe(readFileSync(join(d.stateDir, 'out', n.name, 'etc/ipsec.d/overcloud-internal_api.secrets'), 'utf8'));
          expect(statSync(join(n.upper, 'etc/ipsec.d/overcloud-internal_api.secrets')).mode & 0o777).toBe(0o600);
        }
        expect(existsSync(join(n.upper, nodePaths.nodePlan))).toBe(true);
        // The copy of its tree is gone once installed (an overlay keeps a whiteout, a character device, where it was).
        const tree = join(n.upper, 'var/lib/tripleo-ipsec/tree');
        expect(existsSync(tree) && statSync(tree).isDirectory(), `${n.name} keeps its tree`).toBe(false);
      }
    });

    it('a second deploy (a stack update) reuses the PSK: no file changes on any node, no re-key, the same IKE SAs', async () => {
      const again = await d.deploy((d as Obj).uc);
      expect(again.code, again.out.slice(-3000)).toBe(0);
      const p = (parse(readFileSync(join(d.stateDir, 'out', 'ipsec-psk.yaml'), 'utf8')) as Obj).parameter_defaults.IpsecVars.ipsec_psk;
      expect(p).toBe(psk);
      // Nothing changed anywhere, and the play says so: every host's recap, the undercloud's included, shows changed=0.
      expect(again.out).not.toMatch(/changed: \[(c-\d|cp-0|cs-0)\]/);
      const hosts = recap(again.out);
      expect(Object.keys(hosts).length).toBeGreaterThan(MESH.length);
      for (const [h, r] of Object.entries(hosts)) expect(r.changed, `${h}: ${again.out.slice(-3000)}`).toBe(0);
      for (const h of MESH) {
        const st = d.status(h);
        expect(st.states.filter((x) => x.kind === 'ike').map((x) => x.serial).sort((a, b) => a - b), h).toEqual(serials[h]);
      }
    }, 600_000);
  });

  describe('certificates (IpsecVars ipsec_auth: cert): the CA on the undercloud, each node its own bundle', () => {
    const d = deployment('cert');
    let first: Awaited<ReturnType<typeof d.deploy>>;
    beforeAll(async () => {
      const uc = d.setUp({ ipsec_auth: 'cert' });
      (d as Obj).uc = uc;
      first = await d.deploy(uc);
      console.log(`certificate deploy: ${(first.ms / 1000).toFixed(1)} s`);
    }, 600_000);
    afterAll(() => d.cleanup());

    it('deploys; the CA key stays on the undercloud (0600); each node imported its own certificate and nobody else\'s', () => {
      expect(first.code, `${first.out.slice(-4000)}\n${first.err}`).toBe(0);
      expect(statSync(join(d.stateDir, 'out', 'ca', 'ca.key')).mode & 0o777).toBe(0o600);
      const caKey = readFileSync(join(d.stateDir, 'out', 'ca', 'ca.key'), 'utf8').split('\n').slice(1, 3).join('\n');
      for (const n of d.nodes.all().filter((x) => MESH.includes(x.name))) {
        const files = filesUnder(n.upper);
        expect(files.some((f) => f.endsWith('ca.key')), n.name).toBe(false);
        // One bundle, its own, in the state directory; the template's copy of the tree is removed after step 3.
        expect(files.filter((f) => f.endsWith('.p12')), n.name).toEqual([`${nodePaths.stateDir}/${n.name}.p12`]);
        const listed = d.nodes.exec(n.name, 'certutil', ['-L', '-d', 'sql:/var/lib/ipsec/nss']).stdout;
        expect(listed, n.name).toMatch(new RegExp(`^${n.name}\\s+u,u,u`, 'm'));
        for (const other of MESH.filter((x) => x !== n.name)) expect(listed).not.toMatch(new RegExp(`^${other}\\s`, 'm'));
        expect(files.map((f) => readFileSync(join(n.upper, f), 'latin1')).join('\n').includes(caKey)).toBe(false);
      }
    });

    it('every node of the mesh authenticates every tunnel by certificate', async () => {
      await waitFor('every node to authenticate its tunnels', () => MESH.every((h) => connsWithIkeSa(d.status(h)).size === MESH.length - 1), 90_000, 500);
      for (const h of MESH) {
        const st = d.status(h);
        expect([st.ikeSas.total, st.ikeSas.authenticated, st.ikeSas.halfOpen ?? 0], h).toEqual([MESH.length - 1, MESH.length - 1, 0]);
      }
      const log = readFileSync(d.nodes.get('c-0').pluto!.log, 'utf8');
      expect(log).toMatch(/authenticated using RSA|established IKE SA.*RSA|authenticated peer '.*' using/i);
      expect(log).not.toMatch(/ASSERTION FAILED|EXPECTATION FAILED/);
    });

    it('a second deploy keeps every certificate: changed=0 on every host, the same files, one key per host in NSS', async () => {
      const nodeFiles = () => Object.fromEntries(d.nodes.all().filter((x) => MESH.includes(x.name)).map((n) => [n.name, filesUnder(n.upper).filter((f) => !f.startsWith('run/') && !f.endsWith('.log') && !f.startsWith('var/lib/ipsec/nss/')).map((f) => `${f} ${readFileSync(join(n.upper, f), 'latin1')}`).sort()]));
      const before = nodeFiles();
      const certs = () => MESH.map((h) => readFileSync(join(d.stateDir, 'out', h, nodePaths.stateDir, `${h}.crt`), 'utf8'));
      const certsBefore = certs();
      const again = await d.deploy((d as Obj).uc ?? '');
      expect(again.code, again.out.slice(-3000)).toBe(0);
      for (const [h, r] of Object.entries(recap(again.out))) expect(r.changed, `${h}: ${again.out.slice(-3000)}`).toBe(0);
      expect(certs()).toEqual(certsBefore);
      expect(nodeFiles()).toEqual(before);
      for (const h of MESH) {
        const keys = d.nodes.exec(h, 'certutil', ['-K', '-d', 'sql:/var/lib/ipsec/nss']).stdout.split('\n').filter((l) => /^<\s*\d+>/.test(l));
        expect(keys, h).toHaveLength(1);
      }
    }, 600_000);
  });
});
