// What heat and config-download make of our service template, closely
// enough to run it with the real ansible-playbook: heat resolves
// get_param; config-download writes the role's external_deploy_tasks and
// deploy_steps_tasks to files and, for each deploy step 1..5, runs the
// external tasks on the undercloud, then the deploy steps tasks on every
// overcloud node, with `step` set. The playbook sits where Wallaby's puts
// it (<working dir>/config-download/<stack>/), so playbook_dir is what
// the template's state directory is derived from.
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

/**
 * Writes the config-download tree for `stack` under `workingDir` and returns
 * the playbook's path. Parameters not given take the template's defaults.
 */
export function writeConfigDownload(workingDir: string, stack: string, params: Record<string, Json>): string {
  const tpl = parse(readFileSync(TEMPLATE, 'utf8')) as { parameters: Record<string, { default?: Json }>; outputs: { role_data: { value: Record<string, Json> } } };
  const values: Record<string, Json> = Object.fromEntries(Object.entries(tpl.parameters).map(([k, p]) => [k, p.default ?? null]));
  Object.assign(values, params);
  const roleData = resolveParams(tpl.outputs.role_data.value as Json, values) as Record<string, Json>;
  const dir = join(workingDir, 'config-download', stack);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'external_deploy_steps_tasks.yaml'), stringify(roleData.external_deploy_tasks ?? []));
  writeFileSync(join(dir, 'deploy_steps_tasks.yaml'), stringify(roleData.deploy_steps_tasks ?? []));
  const plays = [1, 2, 3, 4, 5].flatMap((step) => [
    { name: `External deployment step ${step}`, hosts: 'undercloud', gather_facts: false, tasks: [{ include_tasks: 'external_deploy_steps_tasks.yaml', vars: { step } }] },
    { name: `Overcloud deploy step tasks for ${step}`, hosts: 'overcloud', gather_facts: false, tasks: [{ include_tasks: 'deploy_steps_tasks.yaml', vars: { step } }] },
  ]);
  const playbook = join(dir, 'deploy_steps_playbook.yaml');
  writeFileSync(playbook, stringify(plays));
  return playbook;
}
