// The generate pipeline, I/O only at its two ends:
//   load inputs (files, libreswan's verdict on the algorithm)
//   -> build the Overcloud (pure)
//   -> key material (the PSK: given, kept or new; each host's certificate:
//      kept or issued) made at one stage, an immutable value from there on
//   -> plan (pure: every host, Pacemaker, the summary)
//   -> render (pure, one host at a time, as the files are consumed; the CLI
//      has worker threads render the hosts, src/render/renderWorkers.ts)
//   -> the caller writes them (src/output/outputTree.ts).
import { type AlgorithmJudge, type InputOptions, type KeyOptions, loadInputs, loadKeyMaterial } from './inputs/load.js';
import { ValidationError } from './model/errors.js';
import type { Problem } from './model/problems.js';
import { outputPaths } from './model/names.js';
import { buildOvercloud } from './model/overcloud.js';
import type { Overcloud, OvercloudNode, OutputFile } from './model/types.js';
import type { NodePlan } from './plan/nodePlan.js';
import { planPacemaker, type PacemakerPlan } from './plan/pacemaker.js';
import { summaryJson, type HostSummary } from './plan/summary.js';
import { planHost, type HostPlan } from './plan/tunnels.js';
import { materialize } from './render/hostTree.js';
import { hostSummary, renderHost, treeOf, type RenderJob } from './render/renderJob.js';
import { renderInWorkers } from './render/renderWorkers.js';
import { renderPcsScript } from './render/pcsScript.js';
import { pskFile } from './secrets/psk.js';


export interface GenerateOptions extends InputOptions, KeyOptions {
  /** Only these hosts' trees (all when empty). */
  hosts: string[];
  /** The output directory: where a kept PSK, CA and earlier host certificates are found. */
  outDir: string;
}

export interface GenerateResult {
  overcloud: Readonly<Overcloud>;
  /** The hosts generated, in order. */
  nodes: OvercloudNode[];
  /** One host's plan (planned again on each call: plans of 1,000 nodes hold millions of conns). */
  planOf(host: string): HostPlan;
  /** Every host's plan (for tests and small overclouds). */
  readonly plans: HostPlan[];
  /** One host's files, relative to its root, and its node plan as a value (apply on the node). */
  hostTree(host: string): { files: OutputFile[]; nodePlan: NodePlan };
  /**
   * Every output file, rendered one host at a time so that memory stays
   * bounded by one host's files (a 1,000-node mesh is gigabytes in all).
   */
  eachFile(): Generator<OutputFile>;
  /**
   * The same files in the same order, the hosts' rendered by `threads`
   * worker threads running `script` (the bundled CLI, which serves them).
   */
  eachFileInWorkers(script: string, threads: number): AsyncGenerator<OutputFile>;
  /** All files, sorted by path (materialized: for tests and small overclouds). */
  readonly files: OutputFile[];
  /** Files of ours in the output directory that a run keeps even when it does not write them (the PSK, the CA). */
  keptFiles: string[];
  /** Per host, from its plan. */
  hosts: HostSummary[];
  psk: 'given' | 'generated' | 'reused' | 'none';
  /** Who judged ipsec_algorithm. */
  algorithmJudge: AlgorithmJudge;
  /** ipsec_auth=cert: hosts whose certificate this run issued (the others kept theirs). */
  certificatesIssued: string[];
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
  const wanted = new Set(opts.hosts);
  const nodes = built.nodes.filter((n) => wanted.size === 0 || wanted.has(n.name));

  // 2. Key material, for a run known to be valid: from here on, values only.
  const keys = loadKeyMaterial(opts, built, inputs.pskGiven, nodes);
  const overcloud = keys.overcloud;

  // 3. Plan.
  const pacemaker = planPacemaker(overcloud, opts.vipResources);
  const job: RenderJob = {
    overcloud,
    firewall: !overcloud.vars.ipsec_skip_firewall_rules,
    certificates: Object.fromEntries(keys.certificates),
    cluster: { hosts: overcloud.nodes.filter((n) => n.pacemaker).map((n) => n.name).sort(), plan: pacemaker },
    uninstall: overcloud.vars.ipsec_uninstall_tunnels,
    upgrade: overcloud.vars.ipsec_upgrade_tunnels,
  };
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const nodeNamed = (host: string) => {
    const n = byName.get(host);
    if (!n) throw new ValidationError([noSuchHost(host)]);
    return n;
  };
  const planOf = (host: string) => planHost(overcloud, nodeNamed(host));
  // Counted from the plans: by the run that renders the files (one plan per host), or on demand.
  let hosts: HostSummary[] | undefined;
  const summaries = () => (hosts ??= nodes.map((n) => hostSummary(job, n)));

  // 4. Render, lazily.
  const keptFiles: string[] = [];
  const globalFiles = (): OutputFile[] => {
    const out: OutputFile[] = [];
    if (keys.pskSource === 'generated' || keys.pskSource === 'reused') out.push(pskFile(overcloud.vars.ipsec_psk));
    if (keys.ca) {
      out.push({ path: outputPaths.caCert, mode: 0o644, content: keys.ca.ca.certPem });
      // The CA key stays with the operator: written only when we created it (or keep it from an earlier run).
      if (keys.ca.source !== 'given') out.push({ path: outputPaths.caKey, mode: 0o600, content: keys.ca.ca.keyPem });
    }
    if (pacemaker.resources.length) {
      out.push({ path: outputPaths.pacemakerPlan, mode: 0o644, content: JSON.stringify(pacemaker, null, 2) + '\n' });
      out.push({ path: outputPaths.pacemakerScript, mode: 0o755, content: renderPcsScript(pacemaker) });
    }
    return out;
  };
  // A kept PSK file or CA stays even when this run's key came from -e or --ca-cert.
  keptFiles.push(outputPaths.pskFile, outputPaths.caCert, outputPaths.caKey);
  const summaryFile = (s: HostSummary[]): OutputFile => ({ path: outputPaths.summary, mode: 0o644, content: JSON.stringify(summaryJson(overcloud, s), null, 2) + '\n' });
  function* eachFile(): Generator<OutputFile> {
    yield* globalFiles();
    // One host's plan and files at a time.
    const counted: HostSummary[] = [];
    for (const node of nodes) {
      const h = renderHost(job, node);
      counted.push(h.summary);
      yield* h.files;
    }
    yield summaryFile((hosts ??= counted));
  }
  async function* eachFileInWorkers(script: string, threads: number): AsyncGenerator<OutputFile> {
    yield* globalFiles();
    const counted: HostSummary[] = [];
    yield* renderInWorkers(job, nodes.map((n) => n.name), script, threads, (s) => counted.push(s));
    yield summaryFile((hosts ??= counted));
  }
  return {
    overcloud,
    nodes,
    planOf,
    get plans() {
      return nodes.map((n) => planHost(overcloud, n));
    },
    hostTree(host: string) {
      const t = treeOf(job, nodeNamed(host));
      return { files: t.files.map(materialize), nodePlan: t.nodePlan() };
    },
    eachFile,
    eachFileInWorkers,
    get files() {
      return [...eachFile()].sort((a, b) => (a.path < b.path ? -1 : 1));
    },
    keptFiles,
    get hosts() {
      return summaries();
    },
    psk: keys.pskSource,
    algorithmJudge: inputs.algorithmJudge,
    certificatesIssued: keys.issued,
    pacemaker,
  };
}

function noSuchHost(host: string): Problem {
  return { host, field: '--host', value: host, message: 'no such overcloud host in the inventory' };
}
