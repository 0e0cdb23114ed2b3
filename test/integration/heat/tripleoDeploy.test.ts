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
// node's key); the mesh authenticates, by PSK and by certificates. The
// lifecycle around it: host_prep_tasks before the steps, `update run` and
// `upgrade run` (update_tasks, upgrade_tasks), and IpsecUninstall.
// Pacemaker at step 3 is the e2e cluster's (test/e2e): this inventory has no
// pacemaker group.
// What these nodes cannot run, and what stands in for it: they are Debian
// namespaces with no dnf, no repository holding the RPM and no systemd, so
// the two tasks tagged tripleo_ipsec_packages and tripleo_ipsec_service
// (install or update the RPM, start ipsec.service) are skipped with
// --skip-tags; what they leave is there from the node set-up (the command on
// PATH, pluto running at the default paths, test/helpers/sshNodes.ts). The
// rest runs for real: the Node.js stream tasks gather the node's facts and
// leave apt alone; install-agent writes each node's own /usr/lib/ocf (an
// overlay, so the host's stays untouched). The SSH user is root, so
// `become: true` changes nothing here (Ansible skips become for the same
// user).
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parsePlutoStatus, connsWithIkeSa } from '../../../src/libreswan/whackStatus.js';
import { nodePaths } from '../../../src/model/names.js';
import { writeConfigDownload, type ConfigDownload } from '../../helpers/configDownload.js';
import { scratchDir } from '../../helpers/inputs.js';
import { Lab, sh, shAsync } from '../../helpers/netns.js';
import { waitFor } from '../../helpers/pluto.js';
import { SshNodes } from '../../helpers/sshNodes.js';

const FIXTURE = join(__dirname, '..', '..', 'fixtures', 'tripleo-samples', 'inventory', 'neutron_heat_expected_static.yaml');
const REPO = join(__dirname, '..', '..', '..');
const STACK = 'overcloud';
// The mesh: every node on internal_api (cs-0 has no isolated network).
const MESH = ['c-0', 'c-1', 'c-2', 'cp-0'];
// The tasks these nodes cannot run (see above).
const SKIP_TAGS = ['--skip-tags', 'tripleo_ipsec_packages,tripleo_ipsec_service'];
const AGENT = join(REPO, 'agents', 'ipsec');
const OCF_AGENT = 'usr/lib/ocf/resource.d/tripleo/ipsec';

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
  let playbooks: ConfigDownload | undefined;

  function setUp(ipsecVars: Obj) {
    // tripleo-common's fixture, made reachable: TEST-NET VIPs (its own are placeholders), root over SSH.
    const text = readFileSync(FIXTURE, 'utf8').replace(/x\.x\.x\.6/g, '198.51.100.136').replace(/x\.x\.x\.4/g, '192.0.2.4').replace(/heat-admin/g, 'root');
    writeFileSync(inv, text);
    playbooks = writeConfigDownload(workingDir, STACK, { IpsecVars: ipsecVars });
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
        const n = nodes.add(name, ns, cidrs);
        // The node's own OCF root, over the host's (install-agent writes there).
        const upper = join(n.dir, 'upper', 'usr', 'lib', 'ocf');
        const work = join(n.dir, 'work', 'usr', 'lib', 'ocf');
        mkdirSync(upper, { recursive: true });
        mkdirSync(work, { recursive: true });
        const m = nodes.exec(name, 'mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=/usr/lib/ocf,upperdir=${upper},workdir=${work}`, '/usr/lib/ocf']);
        if (m.status !== 0) throw new Error(`test setup: /usr/lib/ocf overlay on ${name}: ${m.stderr}`);
        // A fresh node has no agent of ours, whatever the host has (in the node's view only).
        nodes.exec(name, 'rm', ['-f', `/${OCF_AGENT}`]);
        nodes.startPluto(name);
      }
    }
    return uc;
  }

  /** The config-download tree again, with other parameters (IpsecUninstall). */
  function rewrite(params: Obj) {
    playbooks = writeConfigDownload(workingDir, STACK, params);
  }

  /**
   * ansible-playbook on the undercloud, as `openstack overcloud deploy` (or `update run`, `upgrade run`) runs it
   * (not blocking the event loop: a deploy takes a while).
   */
  async function deploy(uc: string, extra: string[] = [], which: keyof ConfigDownload = 'deploy') {
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
    const r = await shAsync('ip', ['netns', 'exec', uc, 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), 'ansible-playbook', '-i', inv, ...SKIP_TAGS, ...extra, playbooks![which]], { timeoutMs: 600_000 });
    return { code: r.status, out: r.stdout, err: r.stderr, ms: Date.now() - t0 };
  }

  const status = (name: string) => parsePlutoStatus(nodes.whack(name, ['--status']).stdout);
  const cleanup = () => {
    lab.cleanup();
    s.cleanup();
  };
  return { s, lab, nodes, workingDir, stateDir, inv, setUp, rewrite, deploy, status, cleanup };
}

/** What one task did on each host, per section of that name in the play's output (a task runs once per step). */
function taskResults(out: string, task: string): Record<string, string>[] {
  return out
    .split(/^TASK \[/m)
    .filter((x) => x.startsWith(`${task}] `))
    .map((sec) => Object.fromEntries([...sec.matchAll(/^(ok|changed|skipping|fatal|failed): \[([^\]]+)\]/gm)].map((m) => [m[2], m[1]])));
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
        nodeFiles: d.nodes.all().flatMap((n) => filesUnder(n.upper).filter((f) => /^(etc|var\/lib\/tripleo-ipsec|run|usr\/lib\/ocf)\//.test(f) && /overcloud-|tripleo-ipsec|tripleo\/ipsec/.test(f)).map((f) => `${n.name}:${f}`)),
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

    it('host_prep_tasks ran first, as root, on every node: the agent in its own OCF root, the Node.js stream left alone where the package manager is not dnf', () => {
      const agent = readFileSync(AGENT);
      for (const n of d.nodes.all()) {
        expect(readFileSync(join(n.upper, OCF_AGENT)).equals(agent), n.name).toBe(true);
        expect(statSync(join(n.upper, OCF_AGENT)).mode & 0o777, n.name).toBe(0o755);
      }
      const all = (status: string) => Object.fromEntries(d.nodes.all().map((n) => [n.name, status]));
      // Before the undercloud's step 1: host prep is the deploy's first play.
      expect(first.out.indexOf('PLAY [Host prep steps]')).toBeGreaterThan(-1);
      expect(first.out.indexOf('PLAY [Host prep steps]')).toBeLessThan(first.out.indexOf('PLAY [External deployment step 1]'));
      expect(taskResults(first.out, 'Install the ocf:tripleo:ipsec resource agent')).toEqual([all('changed')]);
      // gather_facts is off in these plays: the block gathers the facts itself, and the node says apt.
      expect(taskResults(first.out, 'Facts the stream depends on (the package manager, the distribution)')).toEqual([all('ok')]);
      expect(taskResults(first.out, 'Enable the Node.js module stream')).toEqual([all('skipping')]);
      expect(first.out).not.toMatch(/TASK \[Install libreswan and tripleo-ipsec\]|TASK \[Enable and start the ipsec service\]/);
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

    it('`update run` (update_tasks, then host prep and the deploy steps, one node at a time): the node whose agent is not the package\'s gets it back; nothing else changes, nothing re-keys', async () => {
      // A node still running an older agent (what a package update leaves until install-agent runs).
      const w = d.nodes.exec('c-1', 'sh', ['-c', `printf '#!/bin/sh\\n# an older ocf:tripleo:ipsec\\nexit 7\\n' > /${OCF_AGENT}`]);
      expect(w.status, w.stderr).toBe(0);
      const up = await d.deploy((d as Obj).uc, [], 'update');
      expect(up.code, `${up.out.slice(-4000)}\n${up.err}`).toBe(0);
      const hosts = recap(up.out);
      expect(Object.keys(hosts).sort()).toEqual(d.nodes.all().map((n) => n.name).sort());
      for (const [h, r] of Object.entries(hosts)) {
        expect(r.failed, h).toBe(0);
        expect(r.changed, `${h}: ${up.out.slice(-3000)}`).toBe(h === 'c-1' ? 1 : 0);
      }
      expect(readFileSync(join(d.nodes.get('c-1').upper, OCF_AGENT)).equals(readFileSync(AGENT))).toBe(true);
      // serial 1: each node's play ran alone.
      expect(up.out.match(/^PLAY \[Run update\]/gm)).toHaveLength(d.nodes.all().length);
      for (const h of MESH) {
        const st = d.status(h);
        expect(st.states.filter((x) => x.kind === 'ike').map((x) => x.serial).sort((a, b) => a - b), h).toEqual(serials[h]);
      }
    }, 600_000);

    it('`upgrade run` (upgrade_tasks): succeeds and changes nothing on a node already at this version', async () => {
      const upg = await d.deploy((d as Obj).uc, [], 'upgrade');
      expect(upg.code, `${upg.out.slice(-4000)}\n${upg.err}`).toBe(0);
      for (const [h, r] of Object.entries(recap(upg.out))) expect([r.failed, r.changed], `${h}: ${upg.out.slice(-3000)}`).toEqual([0, 0]);
      // Run at step 1 of six, on every node, with nothing to do.
      const runs = taskResults(upg.out, 'Install the ocf:tripleo:ipsec resource agent');
      expect(runs).toHaveLength(6);
      expect(runs.filter((r) => Object.values(r).some((x) => x !== 'skipping'))).toEqual([Object.fromEntries(d.nodes.all().map((n) => [n.name, 'ok']))]);
    }, 600_000);

    it("a node the Ansible role deployed (its files in /etc/ipsec.d): the deploy stops at that node's step 1 naming them, nothing of them touched; with IpsecUpgradeFromRole they are removed and nothing else changes", async () => {
      // The role's names (openstack-archive/tripleo-ipsec tasks/ipsec-conf.yml), its header.
      const role = ['/etc/ipsec.d/overcloud-internal_api-node-to-node-private-or-clear-tunnels.conf', '/etc/ipsec.d/overcloud-internal_api-vip-tunnels.secrets'];
      const w = d.nodes.exec('c-1', 'sh', ['-c', role.map((f) => `echo '# Generated by ansible.' > ${f}`).join('; ')]);
      expect(w.status, w.stderr).toBe(0);
      const refused = await d.deploy((d as Obj).uc);
      expect(refused.code).not.toBe(0);
      const hosts = recap(refused.out);
      expect(hosts['c-1'].failed).toBe(1);
      for (const [h, r] of Object.entries(hosts)) if (h !== 'c-1') expect([r.failed, r.changed], h).toEqual([0, 0]);
      expect(refused.out).toContain('overcloud-internal_api-node-to-node-private-or-clear-tunnels.conf, etc/ipsec.d/overcloud-internal_api-vip-tunnels.secrets exist(s), was not written by tripleo-ipsec and would be loaded beside its conns');
      for (const f of role) expect(d.nodes.exec('c-1', 'cat', [f]).stdout, f).toBe('# Generated by ansible.\n');

      d.rewrite({ IpsecVars: {}, IpsecUpgradeFromRole: true });
      const up = await d.deploy((d as Obj).uc);
      expect(up.code, `${up.out.slice(-4000)}\n${up.err}`).toBe(0);
      // c-1: its step 1 removed the role's files.
      for (const [h, r] of Object.entries(recap(up.out))) {
        expect(r.failed, h).toBe(0);
        if (h === 'c-1') expect(r.changed).toBeGreaterThan(0);
        else expect(r.changed, `${h}: ${up.out.slice(-3000)}`).toBe(0);
      }
      expect(taskResults(up.out, 'tripleo-ipsec step 1 (node-to-node tunnels, keys, firewall)')[0]['c-1']).toBe('changed');
      for (const f of role) expect(d.nodes.exec('c-1', 'test', ['-e', f]).status, f).not.toBe(0);
      for (const h of MESH) {
        const st = d.status(h);
        expect(st.states.filter((x) => x.kind === 'ike').map((x) => x.serial).sort((a, b) => a - b), h).toEqual(serials[h]);
      }
    }, 600_000);

    // Last: it takes everything away.
    it('IpsecUninstall: true, through a normal deploy: every node is left with nothing of ours and no tunnel, no tree (no key) was copied, the undercloud keeps its state', async () => {
      d.rewrite({ IpsecVars: {}, IpsecUninstall: true });
      const un = await d.deploy((d as Obj).uc);
      expect(un.code, `${un.out.slice(-4000)}\n${un.err}`).toBe(0);
      for (const [h, r] of Object.entries(recap(un.out))) expect(r.failed, h).toBe(0);
      // The one path: IpsecVars as the undercloud wrote them carry the role's switch.
      expect((parse(readFileSync(join(d.stateDir, 'ipsec-vars.yaml'), 'utf8')) as Obj).parameter_defaults.IpsecVars).toEqual({ ipsec_uninstall_tunnels: true });
      const every = (status: string) => Object.fromEntries(d.nodes.all().map((n) => [n.name, status]));
      // Steps 1 to 5: at step 1 every node uninstalls (the mesh had something to remove) and none gets its tree.
      const [copy1] = taskResults(un.out, "Copy this node's tree from the undercloud (its files and its own keys)");
      expect(copy1).toEqual(every('skipping'));
      const [un1, ...later] = taskResults(un.out, 'tripleo-ipsec uninstall (IpsecUninstall or ipsec_uninstall_tunnels)');
      for (const h of MESH) expect(un1[h], h).toBe('changed');
      expect(Object.keys(un1).sort()).toEqual(d.nodes.all().map((n) => n.name).sort());
      for (const l of later) expect(l).toEqual(every('skipping'));
      await waitFor('every node to have no IKE SA left', () => MESH.every((h) => d.status(h).ikeSas.total === 0), 60_000, 500);
      for (const n of d.nodes.all()) {
        const ours = filesUnder(n.upper).filter((f) => f.startsWith('etc/ipsec.d/overcloud-') || f.startsWith(`${nodePaths.stateDir}/`) || f.startsWith(`${nodePaths.firewallDir}/`));
        expect(ours, n.name).toEqual([]);
        const state = join(n.upper, nodePaths.stateDir);
        expect(existsSync(state) && statSync(state).isDirectory(), `${n.name} keeps /${nodePaths.stateDir}`).toBe(false);
        for (const f of ['etc/ipsec.conf', 'etc/ipsec.secrets']) expect(readFileSync(join(n.upper, f), 'utf8'), `${n.name} ${f}`).not.toContain('# tripleo-ipsec');
        expect(d.nodes.whack(n.name, ['--status']).stdout, n.name).not.toMatch(/"overcloud-/);
      }
      // The undercloud keeps the PSK (and a CA): README's Uninstall says to remove its state directory by hand.
      expect(existsSync(join(d.stateDir, 'out', 'ipsec-psk.yaml'))).toBe(true);
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
