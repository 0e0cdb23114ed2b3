// Everything it takes to render any host's files, as plain data: what
// generate hands a worker thread (structured-cloned), and what it renders
// with itself. The master PSK is in it (the worker derives keys from it):
// it stays in this process's memory, never in argv, a file or a log.
import type { HostCertificate, Overcloud, OvercloudNode, OutputFile } from '../model/types.js';
import type { PacemakerPlan } from '../plan/pacemaker.js';
import { summarizeHost, type HostSummary } from '../plan/summary.js';
import { planHost, type HostPlan } from '../plan/tunnels.js';
import { hostTree, materialize, type HostTree, type HostTreeOptions } from './hostTree.js';

export interface RenderJob {
  overcloud: Overcloud;
  firewall: boolean;
  /** ipsec_auth=cert: the hosts' certificates, by host name. */
  certificates: Record<string, HostCertificate>;
  /** The cluster's nodes (sorted) and the Pacemaker plan, for the cluster nodes' node plans. */
  cluster: { hosts: string[]; plan: PacemakerPlan };
  uninstall: boolean;
  upgrade: boolean;
}

function treeOptions(job: RenderJob, node: OvercloudNode): HostTreeOptions {
  return {
    firewall: job.firewall,
    certificate: job.certificates[node.name],
    ...(node.pacemaker ? { pacemaker: job.cluster } : {}),
    uninstall: job.uninstall,
    upgrade: job.upgrade,
  };
}

/** One host's tree (of its plan, when the caller has it already), each file rendered when consumed. */
export function treeOf(job: RenderJob, node: OvercloudNode, plan: HostPlan = planHost(job.overcloud, node)): HostTree {
  return hostTree(plan, treeOptions(job, node));
}

/** One host's summary, of its plan (no file rendered). */
export function hostSummary(job: RenderJob, node: OvercloudNode): HostSummary {
  const plan = planHost(job.overcloud, node);
  return summarizeHost(plan, treeOf(job, node, plan).files.length);
}

/** One host's files, rendered, at their place in the output (under the host's name), and its summary: of one plan. */
export function renderHost(job: RenderJob, node: OvercloudNode): { files: OutputFile[]; summary: HostSummary } {
  const plan = planHost(job.overcloud, node);
  const tree = treeOf(job, node, plan);
  return { files: tree.files.map((f) => ({ ...materialize(f), path: `${node.name}/${f.path}` })), summary: summarizeHost(plan, tree.files.length) };
}
