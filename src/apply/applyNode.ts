// What a deploy step runs on one node, in three stages: observe the node
// (observe.ts), decide the changes from its node plan and what was observed
// (decide.ts, pure), and carry them out through the node's environment
// (act.ts), the journal recorded before the first change. The node's files
// in place (only what changed, atomically, with the right modes),
// ipsec.conf/ipsec.secrets including them, pluto reconciled with the plan
// (one status query, then only the changes), the firewall chains, and on the
// bootstrap node the Pacemaker plan. The manifest records what we own, so a
// second run changes nothing and --uninstall removes exactly that, also
// after a run that was interrupted.
import { join, resolve } from 'node:path';
import { generate, type GenerateOptions } from '../generate.js';
import { InputError } from '../model/errors.js';
import { fileNames, nodePaths } from '../model/names.js';
import type { DeployStep } from '../plan/tunnels.js';
import { parseNodePlan } from '../plan/nodePlan.js';
import { carryOut, type ApplyReport } from './act.js';
import { decideApply, decideFirewallRestore, decideUninstall } from './decide.js';
import type { Family } from './firewall.js';
import { realNodeEnv, type NodeEnv } from './nodeEnv.js';
import { readNodeTree } from './nodeTree.js';
import { observeNode, type Desired } from './observe.js';


export interface ApplyNodeOptions {
  host: string;
  /**
   * Where this node's desired state comes from: the inventory and IpsecVars
   * (generate runs here), or a host tree generate wrote elsewhere (the
   * undercloud) with its node plan. Uninstall needs neither.
   */
  source?: { inputs: Omit<GenerateOptions, 'hosts' | 'outDir'> } | { tree: string };
  root: string;
  step?: DeployStep;
  uninstall: boolean;
  upgrade: boolean;
  /** Put back the firewall chains the last apply installed (at boot: the firewall service loaded only its own rules). */
  restoreFirewall?: boolean;
  ctlsocket: string;
  /** Apply the Pacemaker plan when this node is the bootstrap node (step 3 or no step). */
  pacemaker: boolean;
  /** Bootstrap node name; default: the first pacemaker node. */
  bootstrapNode?: string;
  /** pluto's NSS database, where ipsec_auth=cert imports the node's certificate (default: /var/lib/ipsec/nss under the root). */
  nssdir?: string;
}

/** This node's files and node plan, generated here from the inputs (the PSK must be given). */
function generateHere(inputs: Omit<GenerateOptions, 'hosts' | 'outDir'>, host: string): Desired {
  // No outDir: apply keeps no PSK of its own (every node must hold the same key).
  const r = generate({ ...inputs, hosts: [host] } as GenerateOptions);
  return r.hostTree(host);
}

function desiredState(o: ApplyNodeOptions): Desired {
  if (!o.source) throw new InputError('apply needs --inventory (and -e with IpsecVars) or --tree');
  return 'tree' in o.source ? readNodeTree(o.source.tree, o.host) : generateHere(o.source.inputs, o.host);
}

/** apply --root R: an image being built, files only. */
function isOfflineRoot(root: string): boolean {
  return resolve(root) !== '/';
}

export async function applyNode(o: ApplyNodeOptions, env: NodeEnv = realNodeEnv(resolve(o.root), o.ctlsocket, o.nssdir ?? join(resolve(o.root), nodePaths.nssDir), { live: !isOfflineRoot(o.root) })): Promise<ApplyReport> {
  if (o.restoreFirewall) {
    const families = env.files.readManifest()?.firewall ?? [];
    const obs = await observeNode(env, undefined, { uninstall: false, firewallFamilies: env.live ? families : [] });
    const d = env.live ? decideFirewallRestore(obs) : undefined;
    if (!d) return { changes: [env.live ? 'nothing to restore: no manifest' : 'nothing to restore: an image being built has no firewall of its own'], pluto: [], plutoSkipped: false };
    return carryOut(d, env);
  }
  // The role's switches come with the node plan (IpsecVars on the undercloud): a deploy can uninstall, or upgrade.
  const fromPlan = !o.uninstall && o.source ? desiredState(o) : undefined;
  if (o.uninstall || fromPlan?.nodePlan.uninstall) {
    const obs = await observeNode(env, undefined, { uninstall: true, firewallFamilies: [] });
    if (!obs.manifest) return { changes: ['nothing to uninstall: no manifest'], pluto: [], plutoSkipped: env.pluto === undefined };
    // The plan this node applied, as installed; else what the inputs give now.
    const installed = env.files.read(nodePaths.nodePlan);
    const needPlan = env.live && obs.manifest.pacemaker && o.pacemaker;
    const installedPlan = needPlan
      ? (installed ? parseNodePlan(installed.bytes.toString('utf8'), join(env.files.root, nodePaths.nodePlan)) : o.source ? desiredState(o).nodePlan : undefined)?.pacemaker?.plan
      : undefined;
    return carryOut(decideUninstall(obs, { live: env.live, pacemaker: o.pacemaker, installedPlan })!, env);
  }
  // Everything this node should have, validated before anything is touched.
  const desired = fromPlan ?? desiredState(o);
  const steps: DeployStep[] = o.step === undefined ? [1, 3] : [o.step];
  const firewallFamilies: Family[] = env.live && desired.nodePlan.firewall && steps.includes(1)
    ? ([4, 6] as const).filter((f) => desired.files.some((x) => x.path === `${nodePaths.firewallDir}/${fileNames.iptables(f)}`))
    : [];
  const obs = await observeNode(env, desired, { uninstall: false, firewallFamilies });
  const decision = decideApply(desired, obs, { host: o.host, live: env.live, steps, upgrade: o.upgrade || desired.nodePlan.upgrade === true, pacemaker: o.pacemaker, bootstrapNode: o.bootstrapNode });
  return carryOut(decision, env);
}
