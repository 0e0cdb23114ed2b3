// The generate pipeline, I/O only at its two ends:
//   load inputs (files) -> build the Overcloud (pure) -> load key material
//   (PSK, CA or bundle) -> plan (pure: every host, Pacemaker, the summary)
//   -> render (pure, one host at a time, as the files are consumed) -> the
//   caller writes them (atomically).
import { issueHostCert } from './cert/pki.js';
import { type InputOptions, type KeyMaterial, type KeyOptions, loadInputs, loadKeyMaterial } from './inputs/load.js';
import { ValidationError, type Problem } from './model/errors.js';
import { outputPaths } from './model/names.js';
import { buildOvercloud } from './model/overcloud.js';
import type { Overcloud, OvercloudNode, OutputFile } from './model/types.js';
import { planPacemaker, type PacemakerPlan } from './plan/pacemaker.js';
import { summarizeHost, summaryJson, type HostSummary } from './plan/summary.js';
import { planHost, type HostPlan } from './plan/tunnels.js';
import { hostFileLayout, materialize, type HostCertificate, type HostTreeOptions } from './render/hostTree.js';
import { renderPcsScript } from './render/pcsScript.js';
import { pskFile } from './secrets/psk.js';

export type { HostSummary };

export interface GenerateOptions extends InputOptions, KeyOptions {
  /** Only these hosts' trees (all when empty). */
  hosts: string[];
  /** VIP name -> Pacemaker resource name, where it is not TripleO's ip-<address>. */
  vipResources?: Record<string, string>;
}

export interface GenerateResult {
  overcloud: Overcloud;
  /** The hosts generated, in order. */
  nodes: OvercloudNode[];
  /** One host's plan (planned again on each call: plans of 1,000 nodes hold millions of conns). */
  planOf(host: string): HostPlan;
  /** Every host's plan (for tests and small overclouds). */
  readonly plans: HostPlan[];
  /** One host's files, relative to its root (apply). */
  hostFiles(host: string): OutputFile[];
  /**
   * Every output file, rendered one host at a time so that memory stays
   * bounded by one host's files (a 1,000-node mesh is gigabytes in all).
   */
  eachFile(): Generator<OutputFile>;
  /** All files, sorted by path (materialized: for tests and small overclouds). */
  readonly files: OutputFile[];
  /** Per host, from its plan. */
  hosts: HostSummary[];
  psk: KeyMaterial['psk'];
  pacemaker: PacemakerPlan;
}

export function generate(opts: GenerateOptions): GenerateResult {
  // 1. Inputs, every problem at once.
  const inputs = loadInputs(opts);
  const problems: Problem[] = [];
  const built = buildOvercloud(inputs, problems);
  for (const h of opts.hosts) if (built && !built.nodes.some((n) => n.name === h)) problems.push(noSuchHost(h));
  for (const name of Object.keys(opts.vipResources ?? {})) {
    if (built && !built.vips.some((v) => v.name === name)) {
      problems.push({ field: '--vip-resource', value: name, message: 'no VIP of that name gets a tunnel' });
    }
  }
  if (!built || problems.length) throw new ValidationError(problems);
  const overcloud: Overcloud = built;
  const wanted = new Set(opts.hosts);
  const nodes = overcloud.nodes.filter((n) => wanted.size === 0 || wanted.has(n.name));

  // 2. Key material, for a run known to be valid.
  const keys = loadKeyMaterial(opts, overcloud, inputs.pskGiven, nodes.map((n) => n.name));

  // 3. Plan.
  const pacemaker = planPacemaker(overcloud, opts.vipResources);
  const clusterHosts = overcloud.nodes.filter((n) => n.pacemaker).map((n) => n.name).sort();
  const treeOptions = (node: OvercloudNode): HostTreeOptions => ({
    firewall: !overcloud.vars.ipsec_skip_firewall_rules,
    certificate: certificateOf(keys, node),
    ...(node.pacemaker ? { pacemaker: { hosts: clusterHosts, plan: pacemaker } } : {}),
  });
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const nodeNamed = (host: string) => {
    const n = byName.get(host);
    if (!n) throw new ValidationError([noSuchHost(host)]);
    return n;
  };
  const planOf = (host: string) => planHost(overcloud, nodeNamed(host));
  const hosts = nodes.map((n) => {
    const plan = planHost(overcloud, n);
    return summarizeHost(plan, hostFileLayout(plan, treeOptions(n)).length);
  });

  // 4. Render, lazily.
  const globalFiles = (): OutputFile[] => {
    const out: OutputFile[] = [];
    if (keys.psk === 'generated' || keys.psk === 'reused') out.push(pskFile(overcloud.vars.ipsec_psk));
    const c = keys.certificates;
    if (c?.from === 'ca') {
      out.push({ path: outputPaths.caCert, mode: 0o644, content: c.ca.certPem });
      // The CA key stays with the operator: written only when we created it (or keep it from an earlier run).
      if (c.caSource !== 'given') out.push({ path: outputPaths.caKey, mode: 0o600, content: c.ca.keyPem });
    }
    if (pacemaker.resources.length) {
      out.push({ path: outputPaths.pacemakerPlan, mode: 0o644, content: JSON.stringify(pacemaker, null, 2) + '\n' });
      out.push({ path: outputPaths.pacemakerScript, mode: 0o755, content: renderPcsScript(pacemaker) });
    }
    return out;
  };
  const filesOf = (node: OvercloudNode) => hostFileLayout(planHost(overcloud, node), treeOptions(node)).map(materialize);
  const hostFiles = (host: string) => filesOf(nodeNamed(host));
  function* eachFile(): Generator<OutputFile> {
    yield* globalFiles();
    // One host's plan and files at a time.
    for (const node of nodes) for (const f of filesOf(node)) yield { ...f, path: `${node.name}/${f.path}` };
    yield { path: outputPaths.summary, mode: 0o644, content: JSON.stringify(summaryJson(overcloud, hosts), null, 2) + '\n' };
  }
  return {
    overcloud,
    nodes,
    planOf,
    get plans() {
      return nodes.map((n) => planHost(overcloud, n));
    },
    hostFiles,
    eachFile,
    get files() {
      return [...eachFile()].sort((a, b) => (a.path < b.path ? -1 : 1));
    },
    hosts,
    psk: keys.psk,
    pacemaker,
  };
}

function noSuchHost(host: string): Problem {
  return { host, field: '--host', value: host, message: 'no such overcloud host in the inventory' };
}

function certificateOf(keys: KeyMaterial, node: OvercloudNode): (() => HostCertificate) | undefined {
  const c = keys.certificates;
  if (!c) return undefined;
  if (c.from === 'bundle') {
    const b = c.bundles.get(node.name);
    if (!b) return undefined;
    return () => ({ nickname: node.name, p12: b.p12, certPem: b.certPem, caCertPem: b.caCertPem });
  }
  return () => {
    const issued = issueHostCert(c.ca, node.name, node.fqdn, Object.values(node.addresses));
    return { nickname: issued.nickname, p12: issued.p12, certPem: issued.certPem, caCertPem: c.ca.certPem };
  };
}
