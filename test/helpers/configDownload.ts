// What heat and config-download make of our service template, closely
// enough to run it with the real ansible-playbook: heat resolves
// get_param; config-download writes the role's task lists to files and
// plays them (tripleo-docs, deploy-guide/source/deployment/
// ansible_config_download.rst, and the minor update guide):
//   - deploy_steps_playbook.yaml: "Host prep steps" (host_prep_tasks) on the
//     overcloud nodes, then for each deploy step 1..5 the external tasks on
//     the undercloud and the deploy steps tasks on every overcloud node, with
//     `step` set;
//   - update_steps_playbook.yaml (`openstack overcloud update run`): one node
//     at a time (serial 1), update_tasks for steps 0..5, then host_prep_tasks
//     and the deploy steps tasks 1..5 again on that node (no external task);
//   - upgrade_steps_playbook.yaml (`openstack overcloud upgrade run`):
//     upgrade_tasks for steps 0..5.
// Node plays become root, as config-download's do. The playbooks sit where
// Wallaby's put them (<working dir>/config-download/<stack>/), so
// playbook_dir is what the template's state directory is derived from. One
// role: the task files are not split per role.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

const TEMPLATE = join(__dirname, '..', '..', 'heat-env', 'ipsec-service.yaml');

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Heat's get_param, over the whole tree (the only intrinsic function the template uses). */
function resolveParams(v: Json, params: Record<string, Json>): Json {
  if (Array.isArray(v)) return v.map((x) => resolveParams(x, params));
  if (v && typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === 'get_param') {
      const name = v.get_param as string;
      if (!(name in params)) throw new Error(`test setup: no value for parameter ${name}`);
      return params[name];
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveParams(x, params)]));
  }
  return v;
}

export interface ConfigDownload {
  /** deploy_steps_playbook.yaml: `openstack overcloud deploy`. */
  deploy: string;
  /** update_steps_playbook.yaml: `openstack overcloud update run`. */
  update: string;
  /** upgrade_steps_playbook.yaml: `openstack overcloud upgrade run`. */
  upgrade: string;
}

/** A node play: root on the overcloud nodes, no fact gathering (the template gathers what it needs). */
const nodePlay = (name: string, tasks: Json[], extra: Record<string, Json> = {}): Json => ({ name, hosts: 'overcloud', become: true, gather_facts: false, ...extra, tasks });
/** include_tasks of `file` once per step, `step` set. */
const perStep = (file: string, steps: number[]): Json => ({ include_tasks: file, loop: steps, loop_control: { loop_var: 'step' } });

/**
 * Writes the config-download tree for `stack` under `workingDir` and returns
 * the playbooks' paths. Parameters not given take the template's defaults.
 */
export function writeConfigDownload(workingDir: string, stack: string, params: Record<string, Json>, opts: { outputDir?: string } = {}): ConfigDownload {
  const tpl = parse(readFileSync(TEMPLATE, 'utf8')) as { parameters: Record<string, { default?: Json }>; outputs: { role_data: { value: Record<string, Json> } } };
  const values: Record<string, Json> = Object.fromEntries(Object.entries(tpl.parameters).map(([k, p]) => [k, p.default ?? null]));
  Object.assign(values, params);
  const roleData = resolveParams(tpl.outputs.role_data.value as Json, values) as Record<string, Json>;
  // `openstack overcloud deploy --output-dir X` writes them to X/<stack>; by default X is <working dir>/config-download.
  const dir = join(opts.outputDir ?? join(workingDir, 'config-download'), stack);
  mkdirSync(dir, { recursive: true });
  const files: Record<string, string> = {
    'external_deploy_steps_tasks.yaml': 'external_deploy_tasks',
    'deploy_steps_tasks.yaml': 'deploy_steps_tasks',
    'host_prep_tasks.yaml': 'host_prep_tasks',
    'update_steps_tasks.yaml': 'update_tasks',
    'upgrade_steps_tasks.yaml': 'upgrade_tasks',
  };
  for (const [file, key] of Object.entries(files)) writeFileSync(join(dir, file), stringify(roleData[key] ?? []));
  const deploySteps = [1, 2, 3, 4, 5].flatMap((step) => [
    { name: `External deployment step ${step}`, hosts: 'undercloud', gather_facts: false, tasks: [{ include_tasks: 'external_deploy_steps_tasks.yaml', vars: { step } }] },
    nodePlay(`Overcloud deploy step tasks for ${step}`, [{ include_tasks: 'deploy_steps_tasks.yaml', vars: { step } }]),
  ]);
  const out: ConfigDownload = { deploy: join(dir, 'deploy_steps_playbook.yaml'), update: join(dir, 'update_steps_playbook.yaml'), upgrade: join(dir, 'upgrade_steps_playbook.yaml') };
  writeFileSync(out.deploy, stringify([nodePlay('Host prep steps', [{ include_tasks: 'host_prep_tasks.yaml' }]), ...deploySteps]));
  writeFileSync(
    out.update,
    stringify([nodePlay('Run update', [perStep('update_steps_tasks.yaml', [0, 1, 2, 3, 4, 5]), { include_tasks: 'host_prep_tasks.yaml' }, perStep('deploy_steps_tasks.yaml', [1, 2, 3, 4, 5])], { serial: 1 })]),
  );
  writeFileSync(out.upgrade, stringify([nodePlay('Upgrade steps', [perStep('upgrade_steps_tasks.yaml', [0, 1, 2, 3, 4, 5])])]));
  return out;
}
