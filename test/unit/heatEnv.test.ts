// heat-env/: the environment and the service template TripleO loads, and the
// heat-env command that writes an operator's environment.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { scratchDir, small, TEST_PSK, writeInputs } from '../helpers/inputs.js';
import { IPSEC_VAR_DOCS } from '../../src/model/ipsecVars.js';
import { nodePaths } from '../../src/model/names.js';

const HEAT = join(__dirname, '..', '..', 'heat-env');
const CLI = join(__dirname, '..', '..', 'bin', 'tripleo-ipsec');
const run = (args: string[]) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

type Obj = Record<string, any>;

describe('heat-env/ipsec.yaml and the service template', () => {
  const env = parse(readFileSync(join(HEAT, 'ipsec.yaml'), 'utf8')) as Obj;
  const target = resolve(HEAT, env.resource_registry['OS::TripleO::Services::Ipsec']);
  const tpl = parse(readFileSync(target, 'utf8')) as Obj;

  it('maps OS::TripleO::Services::Ipsec to a template that exists, with IpsecVars defaults generate accepts', () => {
    expect(existsSync(target)).toBe(true);
    expect(Object.keys(env.parameter_defaults.IpsecVars).sort()).toEqual(
      ['ipsec_algorithm', 'ipsec_auth', 'ipsec_clear_hosts', 'ipsec_configure_vips', 'ipsec_policy', 'ipsec_psk_mode', 'ipsec_skip_firewall_rules', 'ipsec_skip_networks', 'use_opportunistic_ipsec'],
    );
  });

  it('has the shape of a TripleO service template', () => {
    expect(tpl.heat_template_version).toBe('wallaby');
    for (const p of ['ServiceData', 'ServiceNetMap', 'RoleName', 'RoleParameters', 'EndpointMap']) expect(tpl.parameters[p], p).toBeDefined();
    expect(tpl.parameters.IpsecVars.type).toBe('json');
    const rd = tpl.outputs.role_data.value;
    expect(rd.service_name).toBe('ipsec');
    // The real template's firewall rules, exactly: IKE and NAT-T with sport and dport fixed, ESP and AH, INPUT and OUTPUT.
    const real = parse(readFileSync(join(__dirname, '..', 'fixtures', 'tripleo-samples', 'heat', 'ipsec-baremetal-ansible.yaml'), 'utf8')) as Obj;
    expect(rd.firewall_rules).toEqual(real.outputs.role_data.value.firewall_rules);
    expect(Object.keys(rd.firewall_rules)).toHaveLength(8);
  });

  it("IpsecVars' description names every variable generate knows", () => {
    const p = tpl.parameters.IpsecVars;
    expect([p.type, p.default, p.hidden]).toEqual(['json', {}, true]);
    for (const k of Object.keys(IPSEC_VAR_DOCS)) expect(p.description, k).toContain(k);
  });

  const flat = (tasks: Obj[]): Obj[] => tasks.flatMap((t) => [t, ...flat(t.block ?? [])]);
  const rd = tpl.outputs.role_data.value;

  it('runs tripleo-ipsec apply --tree at steps 1 and 3 with options that exist', () => {
    const tasks = flat(rd.deploy_steps_tasks);
    const commands = tasks.filter((t) => String(t.command).startsWith('tripleo-ipsec apply --tree')).map((t) => [t.when, String(t.command)] as const);
    expect(commands.map(([w]) => w)).toEqual(['step|int == 1 and not tripleo_ipsec_uninstall | bool', 'step|int == 3 and not tripleo_ipsec_uninstall | bool']);
    const help = run(['apply', '--help']).out;
    for (const [, cmd] of commands) {
      for (const flag of cmd.match(/--[a-z-]+/g)!) expect(help, flag).toContain(flag);
      expect(cmd).toContain('--tree /var/lib/tripleo-ipsec/tree');
    }
    expect(commands[0][1]).toContain('--step 1');
    expect(commands[1][1]).toContain('--step 3');
  });

  it("gives a node only its own tree: never the inventory, never IpsecVars (the master PSK), copied with no_log", () => {
    const text = JSON.stringify(rd.deploy_steps_tasks);
    expect(text).not.toContain('inventory_file');
    expect(text).not.toContain('IpsecVars');
    const copy = flat(rd.deploy_steps_tasks).find((t) => t.copy)!;
    expect(copy.copy.src).toBe('{{ tripleo_ipsec_tree }}/');
    expect(copy.no_log).toBe('{{ hide_sensitive_logs | default(true) | bool }}');
    expect(copy.copy.directory_mode).toBe('0700');
    // What earlier versions of the template left on nodes is removed.
    expect(flat(rd.deploy_steps_tasks).find((t) => t.loop)?.loop).toEqual(['inventory.yaml', 'ipsec-vars.yaml', 'service-vips.yaml']);
  });

  it('generates every tree on the undercloud at step 1, IpsecVars written 0600 with no_log, with options that exist', () => {
    const [ext] = rd.external_deploy_tasks as Obj[];
    expect(ext.when).toBe('step|int == 1');
    expect(ext.vars.ipsec_vars).toEqual({ get_param: 'IpsecVars' });
    const tasks = flat(rd.external_deploy_tasks);
    const vars = tasks.find((t) => t.copy?.dest?.endsWith('/ipsec-vars.yaml'))!;
    expect([vars.no_log, vars.copy.mode]).toEqual(['{{ hide_sensitive_logs | default(true) | bool }}', '0600']);
    const gen = String(tasks.find((t) => typeof t.command === 'string' && t.command.startsWith('tripleo-ipsec generate'))!.command);
    const help = run(['generate', '--help']).out;
    for (const flag of gen.match(/--[a-z-]+/g)!) expect(help, flag).toContain(flag);
    expect(gen).toContain('--out {{ tripleo_ipsec_state }}/out');
  });

  // tripleo-heat-templates' tools/yaml-validate.py, the checks that reach a deployment/ service template.
  describe("the checks of tripleo-heat-templates' tools/yaml-validate.py", () => {
    const real = parse(readFileSync(join(__dirname, '..', 'fixtures', 'tripleo-samples', 'heat', 'ipsec-baremetal-ansible.yaml'), 'utf8')) as Obj;
    const REQUIRED_PARAMS = ['EndpointMap', 'ServiceNetMap', 'DefaultPasswords', 'RoleName', 'RoleParameters', 'ServiceData'];
    const ANSIBLE_TASKS_SECTIONS = ['upgrade_tasks', 'pre_upgrade_rolling_tasks', 'fast_forward_upgrade_tasks', 'fast_forward_post_upgrade_tasks', 'post_upgrade_tasks', 'update_tasks', 'post_update_tasks', 'host_prep_tasks', 'external_deploy_tasks', 'external_post_deploy_tasks'];
    // yaml-validate's PARAMETER_DEFINITION_EXCLUSIONS for the parameters both templates define.
    const EXCLUSIONS: Record<string, string[]> = { ServiceNetMap: ['description', 'default'], EndpointMap: ['description', 'default'] };

    it('heat_template_version is the release the real template targets', () => {
      expect(tpl.heat_template_version).toBe(real.heat_template_version);
    });

    it('declares the standard service parameters the real template declares, and uses every other one', () => {
      for (const p of Object.keys(real.parameters).filter((x) => REQUIRED_PARAMS.includes(x))) expect(tpl.parameters[p], p).toBeDefined();
      const used = JSON.stringify([tpl.outputs, tpl.resources ?? {}, tpl.conditions ?? {}]);
      for (const p of Object.keys(tpl.parameters).filter((x) => !REQUIRED_PARAMS.includes(x))) expect(used, `parameter ${p} is never used`).toContain(`"${p}"`);
    });

    it('has no empty Ansible task section, and upgrade_tasks conditions start with step|int ==', () => {
      for (const k of ANSIBLE_TASKS_SECTIONS) if (k in rd) expect(rd[k], k).not.toEqual({});
      for (const t of flat(rd.upgrade_tasks)) {
        if (Array.isArray(t.when) && t.when.some((w: string) => w.includes('step|int '))) expect(t.when[0]).toContain('step|int == ');
      }
    });

    it('needs no hiera interpolation (no ServiceNetMap lookups in role_data)', () => {
      expect(JSON.stringify(rd)).not.toContain('ServiceNetMap');
    });

    it('beside the real template, differs in one parameter definition only: IpsecVars, by its hidden flag and its description (both deliberate: it can hold the PSK, and the description names every variable)', () => {
      const mismatched: Record<string, string[]> = {};
      for (const p of Object.keys(tpl.parameters).filter((x) => x in real.parameters)) {
        const norm = (d: Obj) => ({ ...d, ...Object.fromEntries((EXCLUSIONS[p] ?? []).map((f) => [f, 'IGNORED'])) });
        const a = norm(tpl.parameters[p]);
        const b = norm(real.parameters[p]);
        const fields = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((f) => JSON.stringify(a[f]) !== JSON.stringify(b[f]));
        if (fields.length) mismatched[p] = fields.sort();
      }
      expect(mismatched).toEqual({ IpsecVars: ['description', 'hidden'] });
    });
  });

  it('has update and upgrade tasks that bring the agent to the new version (after the Node.js stream, as host_prep_tasks)', () => {
    for (const k of ['update_tasks', 'upgrade_tasks']) {
      const cmds = flat(rd[k]).map((t) => t.command).filter(Boolean);
      expect(cmds, k).toEqual(['dnf -y module enable {{ tripleo_ipsec_nodejs_stream }}', 'tripleo-ipsec install-agent']);
      const [top] = rd[k] as Obj[];
      expect(top.when, k).toBe('step|int == 1');
    }
  });

  describe('Node.js as RHEL ships it: the nodejs:20 module stream enabled before tripleo-ipsec is installed or updated', () => {
    const p = tpl.parameters.IpsecNodejsModuleStream;
    // Heat's allowed_pattern must match the whole value (heat/engine/constraints.py AllowedPattern).
    const allowed = (v: string) => p.constraints.some((c: Obj) => c.allowed_pattern && new RegExp(`^(?:${c.allowed_pattern})$`).test(v));

    it('IpsecNodejsModuleStream: a string, nodejs:20 by default (the stream that gives what the RPM requires), empty to enable none, nothing else but module:stream', () => {
      expect([p.type, p.default]).toEqual(['string', 'nodejs:20']);
      const spec = readFileSync(join(__dirname, '..', '..', 'packaging', 'tripleo-ipsec.spec'), 'utf8');
      expect(spec).toMatch(/^Requires:\s+nodejs >= 1:20$/m);
      expect(p.default.split(':')[1]).toBe(spec.match(/^Requires:\s+nodejs >= 1:(\d+)$/m)![1]);
      for (const ok of ['nodejs:20', 'nodejs:22', '']) expect(allowed(ok), ok).toBe(true);
      for (const bad of ['nodejs', 'nodejs:20 --setopt=x', 'nodejs:20;reboot', '-y:20', 'nodejs:20\n']) expect(allowed(bad), JSON.stringify(bad)).toBe(false);
    });

    const streamBlock = (tasks: Obj[]) => tasks.find((t) => t.vars?.tripleo_ipsec_nodejs_stream);
    const sections = { host_prep_tasks: rd.host_prep_tasks as Obj[], update_tasks: rd.update_tasks[0].block as Obj[], upgrade_tasks: rd.upgrade_tasks[0].block as Obj[] };

    it('the same block in host_prep_tasks, update_tasks and upgrade_tasks, before the task that installs or updates the package', () => {
      for (const [k, tasks] of Object.entries(sections)) {
        const b = streamBlock(tasks);
        expect(b, k).toBeDefined();
        expect(b).toEqual(streamBlock(sections.host_prep_tasks));
        const pkg = tasks.findIndex((t) => t.package && [t.package.name].flat().includes('tripleo-ipsec'));
        expect(pkg, k).toBeGreaterThan(tasks.indexOf(b!));
      }
    });

    it('enables the stream only with dnf on RHEL-family 8 and 9 (Debian test nodes, RHEL 10 without modules: nothing), facts gathered when the play has none; idempotent', () => {
      const b = streamBlock(sections.host_prep_tasks)!;
      expect(b.vars.tripleo_ipsec_nodejs_stream).toEqual({ get_param: 'IpsecNodejsModuleStream' });
      expect(b.when).toBe('tripleo_ipsec_nodejs_stream | length > 0');
      const [facts, enable] = b.block as Obj[];
      expect(facts.setup.gather_subset).toEqual(['!all', '!min', 'distribution', 'pkg_mgr']);
      for (const f of ['pkg_mgr', 'os_family', 'distribution_major_version']) expect(facts.when).toContain(`ansible_facts['${f}'] is not defined`);
      expect(enable.when).toEqual(["ansible_facts['pkg_mgr'] == 'dnf'", "ansible_facts['os_family'] == 'RedHat'", "ansible_facts['distribution_major_version'] in ['8', '9']"]);
      expect(enable.command).toBe('dnf -y module enable {{ tripleo_ipsec_nodejs_stream }}');
      // dnf's own words when the stream is enabled already (dnf/cli/cli.py), in the C locale.
      expect([enable.environment, enable.register, enable.changed_when]).toEqual([{ LC_ALL: 'C' }, 'tripleo_ipsec_nodejs_module', "'Nothing to do.' not in tripleo_ipsec_nodejs_module.stdout"]);
    });
  });

  it('tags the package and ipsec.service tasks, and nothing else, for nodes that skip them (--skip-tags)', () => {
    const tagged = (['host_prep_tasks', 'update_tasks', 'upgrade_tasks', 'deploy_steps_tasks', 'external_deploy_tasks'] as const).flatMap((k) => flat(rd[k]).filter((t) => t.tags).map((t) => [k, Object.keys(t).find((m) => ['package', 'systemd'].includes(m)), t.tags]));
    expect(tagged).toEqual([
      ['host_prep_tasks', 'package', ['tripleo_ipsec_packages']],
      ['host_prep_tasks', 'systemd', ['tripleo_ipsec_service']],
      ['update_tasks', 'package', ['tripleo_ipsec_packages']],
      ['upgrade_tasks', 'package', ['tripleo_ipsec_packages']],
    ]);
  });

  describe("the state directory: one per stack, the undercloud's and the nodes' tasks name the same one", () => {
    it('one expression wherever the state directory is named (the undercloud block and both node blocks); each node tree is under it', () => {
      const blocks = [...(rd.external_deploy_tasks as Obj[]), ...(rd.deploy_steps_tasks as Obj[])].filter((t) => t.vars?.tripleo_ipsec_state);
      expect(blocks.length).toBe(3);
      for (const b of blocks) {
        expect(b.vars.ipsec_state_dir).toEqual({ get_param: 'IpsecStateDir' });
        expect(b.vars.tripleo_ipsec_state).toBe(blocks[0].vars.tripleo_ipsec_state);
      }
      // Named from the stack (playbook_dir's last component) unless the working directory already is.
      expect(blocks[0].vars.tripleo_ipsec_state).toContain("'/tripleo-ipsec-' ~ (playbook_dir | basename)");
      for (const b of blocks.slice(1)) expect(b.vars.tripleo_ipsec_tree).toBe("{{ tripleo_ipsec_state ~ '/out/' ~ inventory_hostname }}");
      // playbook_dir appears only there and in the two tasks about the directory stacks used to share.
      const text = JSON.stringify(rd);
      const uses = text.split('playbook_dir').length - 1;
      const inState = blocks[0].vars.tripleo_ipsec_state.split('playbook_dir').length - 1;
      const shared = flat(rd.external_deploy_tasks).filter((t) => t.vars?.tripleo_ipsec_shared_state);
      expect(shared.map((t) => t.name)).toEqual(["A state in the directory stacks used to share that records no stack is not taken or left silently", "Move this stack's state out of the directory stacks used to share"]);
      expect(uses).toBe(3 * inState + shared.reduce((n, t) => n + JSON.stringify(t).split('playbook_dir').length - 1, 0));
    });
  });

  describe('IpsecUninstall: everything removed through a normal deploy, by the path IpsecVars ipsec_uninstall_tunnels takes', () => {
    it('a boolean, false by default', () => {
      expect([tpl.parameters.IpsecUninstall.type, tpl.parameters.IpsecUninstall.default]).toEqual(['boolean', false]);
      expect(IPSEC_VAR_DOCS).toHaveProperty('ipsec_uninstall_tunnels');
    });

    it('the undercloud writes it into IpsecVars as ipsec_uninstall_tunnels: true (generate marks every node plan), and the IpsecVars given otherwise', () => {
      const [ext] = rd.external_deploy_tasks as Obj[];
      expect(ext.vars.ipsec_uninstall).toEqual({ get_param: 'IpsecUninstall' });
      expect(ext.vars.tripleo_ipsec_vars).toBe("{{ ipsec_vars | combine({'ipsec_uninstall_tunnels': true}) if ipsec_uninstall | bool else ipsec_vars }}");
      const vars = flat(rd.external_deploy_tasks).find((t) => t.copy?.dest?.endsWith('/ipsec-vars.yaml'))!;
      expect(vars.copy.content).toBe("{{ {'parameter_defaults': {'IpsecVars': tripleo_ipsec_vars}} | to_nice_yaml }}");
    });

    it("on a node whose plan says uninstall: no tree is copied (no key reaches it), apply --uninstall at step 1, nothing at step 3, and /var/lib/tripleo-ipsec is not made again", () => {
      const tasks = flat(rd.deploy_steps_tasks);
      const fact = tasks.find((t) => t.set_fact?.tripleo_ipsec_uninstall)!;
      // Read on the undercloud, from the node's own tree: the node plan generate wrote.
      expect(fact.set_fact.tripleo_ipsec_uninstall).toContain(`lookup('file', tripleo_ipsec_tree ~ '/${nodePaths.nodePlan}')`);
      const byName = (re: RegExp) => tasks.find((t) => re.test(t.name))!;
      for (const re of [/^Create \/var\/lib\/tripleo-ipsec$/, /^Copy this node's tree/, /^tripleo-ipsec step 1/, /^tripleo-ipsec step 3/]) expect(byName(re).when, String(re)).toMatch(/not tripleo_ipsec_uninstall \| bool$/);
      const un = byName(/^tripleo-ipsec uninstall/);
      expect(un.when).toBe('step|int == 1 and tripleo_ipsec_uninstall | bool');
      expect(un.command).toBe('tripleo-ipsec apply --uninstall --host {{ inventory_hostname }}');
      const help = run(['apply', '--help']).out;
      for (const flag of un.command.match(/--[a-z-]+/g)!) expect(help, flag).toContain(flag);
      // The fact is set before any task that depends on it.
      expect(tasks.indexOf(fact)).toBeLessThan(tasks.indexOf(byName(/^Create \/var\/lib\/tripleo-ipsec$/)));
    });
  });
});

describe('tripleo-ipsec heat-env', () => {
  const s = scratchDir();
  afterAll(() => s.cleanup());

  it('writes a 0600 environment with a generated PSK that generate -e accepts', () => {
    const out = join(s.dir, 'ipsec-vars.yaml');
    const r = run(['heat-env', '--set', 'ipsec_algorithm=aes_gcm256-null', '--set', 'ipsec_skip_networks=[tenant]', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('with a newly generated ipsec_psk');
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const doc = parse(readFileSync(out, 'utf8')) as Obj;
    expect(doc.parameter_defaults.IpsecVars).toMatchObject({ ipsec_algorithm: 'aes_gcm256-null', ipsec_skip_networks: ['tenant'] });
    expect(Buffer.from(doc.parameter_defaults.IpsecVars.ipsec_psk, 'base64')).toHaveLength(48);
    expect(existsSync(doc.resource_registry['OS::TripleO::Services::Ipsec'])).toBe(true);
    expect(r.out).not.toContain(doc.parameter_defaults.IpsecVars.ipsec_psk);
    const opts = writeInputs(s.dir, small());
    const g = run(['generate', '-i', opts.inventoryPath, '-n', opts.networkDataPath!, '-e', out, '--out', join(s.dir, 'gen')]);
    expect(g.code, g.err).toBe(0);
    expect(g.out).toMatch(/esp=aes_gcm256-null/);
    expect(g.out).not.toMatch(/network tenant/);
  });

  it('keeps a given PSK and layers -e files under --set', () => {
    const base = join(s.dir, 'base.yaml');
    writeFileSync(base, `parameter_defaults:\n  IpsecVars:\n    ipsec_psk: ${TEST_PSK}\n    ipsec_policy: private-or-clear\n`);
    const out = join(s.dir, 'layered.yaml');
    expect(run(['heat-env', '-e', base, '--set', 'ipsec_configure_vips=false', '--out', out]).code).toBe(0);
    expect((parse(readFileSync(out, 'utf8')) as Obj).parameter_defaults.IpsecVars).toMatchObject({ ipsec_psk: TEST_PSK, ipsec_policy: 'private-or-clear', ipsec_configure_vips: false });
  });

  it('refuses what generate refuses: clear error, exit 2, no file', () => {
    for (const [set, msg] of [
      ['ipsec_algorithm=aes_gcm999-null', /IpsecVars\.ipsec_algorithm="aes_gcm999-null": libreswan rejects it/],
      ['ipsec_psk=short', /IpsecVars\.ipsec_psk="<redacted, 5 bytes>": shorter than 32 bytes/],
      ['ipsec_algoritm=aes_gcm128-null', /unknown variable/],
    ] as const) {
      const out = join(s.dir, `bad-${set.split('=')[0]}.yaml`);
      const r = run(['heat-env', '--set', set, '--out', out]);
      expect(r.code, set).toBe(2);
      expect(r.err).toMatch(msg);
      expect(existsSync(out)).toBe(false);
      expect(existsSync(dirname(out))).toBe(true);
    }
  });

  it('a second run keeps the PSK the file already holds (never a silent re-key of the overcloud), and says so', () => {
    const out = join(s.dir, 'kept.yaml');
    expect(run(['heat-env', '--out', out]).code).toBe(0);
    const first = (parse(readFileSync(out, 'utf8')) as Obj).parameter_defaults.IpsecVars.ipsec_psk;
    const r = run(['heat-env', '--set', 'ipsec_policy=private-or-clear', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(`wrote ${out} (mode 0600) keeping the ipsec_psk it had\n`);
    const doc = (parse(readFileSync(out, 'utf8')) as Obj).parameter_defaults.IpsecVars;
    expect(doc).toMatchObject({ ipsec_psk: first, ipsec_policy: 'private-or-clear' });
  });

  it("refuses to overwrite a file it did not write (the operator's own environment), which stays as it was", () => {
    const mine = join(s.dir, 'mine.yaml');
    const text = `parameter_defaults:\n  IpsecVars:\n    ipsec_psk: ${TEST_PSK}\n  NtpServer: pool.example\n`;
    writeFileSync(mine, text);
    const r = run(['heat-env', '-e', mine, '--set', 'ipsec_policy=private-or-clear', '--out', mine]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`tripleo-ipsec: ${mine} exists and was not written by tripleo-ipsec heat-env: name a new file (pass this one with -e to build on it); nothing was written\n`);
    expect(readFileSync(mine, 'utf8')).toBe(text);
  });
});
