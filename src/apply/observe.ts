// apply's first stage: read the node (files, ipsec.conf and ipsec.secrets,
// pluto's loaded state, the firewall chains, the manifest) once, into one
// value that decide.ts judges. Nothing here changes anything.
import { FILE_PREFIX, nodePaths } from '../model/names.js';
import type { OutputFile } from '../model/types.js';
import type { NodePlan } from '../plan/nodePlan.js';
import type { PlutoStatus } from '../libreswan/whackStatus.js';
import type { Family } from './firewall.js';
import type { Manifest } from './manifest.js';
import type { FileState, NodeEnv } from './nodeEnv.js';

/** This node's desired state: its node plan and every file of its tree. */
export interface Desired {
  nodePlan: NodePlan;
  files: OutputFile[];
}

export interface Observation {
  manifest?: Manifest;
  /** Each path apply may write or remove: what is there now (undefined: nothing). */
  files: Map<string, FileState | undefined>;
  /** overcloud-* files in etc/ipsec.d that are neither ours nor in the plan (an earlier installation's). */
  strangers: string[];
  conf?: FileState;
  secrets?: FileState;
  /** undefined: no pluto running (files only). */
  pluto?: PlutoStatus;
  /** Per family apply installs: whether our chains and their jumps are there. */
  firewall: Map<Family, { chains: boolean; jumps: boolean }>;
}

export interface ObserveOptions {
  uninstall: boolean;
  /** The families whose firewall state matters to this run. */
  firewallFamilies: Family[];
}

/** Read the node as it is. */
export async function observeNode(env: NodeEnv, desired: Desired | undefined, o: ObserveOptions): Promise<Observation> {
  const manifest = env.files.readManifest();
  const paths = new Set<string>([...Object.keys(manifest?.files ?? {}), ...(desired?.files.map((f) => f.path) ?? [])]);
  const files = new Map<string, FileState | undefined>();
  for (const p of paths) files.set(p, env.files.read(p));
  const planned = new Set(desired?.files.map((f) => f.path) ?? []);
  const strangers = env.files
    .list(nodePaths.ipsecD)
    .filter((n) => n.startsWith(FILE_PREFIX))
    .map((n) => `${nodePaths.ipsecD}/${n}`)
    .filter((p) => !planned.has(p) && !(p in (manifest?.files ?? {})))
    .sort();
  const firewall = new Map<Family, { chains: boolean; jumps: boolean }>();
  for (const f of o.firewallFamilies) firewall.set(f, { chains: (await env.firewall.chainRules(f)) !== undefined, jumps: await env.firewall.jumpPresent(f) });
  return {
    manifest,
    files,
    strangers,
    conf: env.files.read(nodePaths.ipsecConf),
    secrets: env.files.read(nodePaths.ipsecSecrets),
    ...(env.pluto ? { pluto: await env.pluto.status() } : {}),
    firewall,
  };
}
