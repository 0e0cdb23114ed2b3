// Writing test inputs to a private temporary directory.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { generate, type GenerateOptions } from '../../src/generate.js';
import { syntheticOvercloud, toStaticYaml } from './synthetic.js';

export const TEST_PSK = 'test-psk-0123456789abcdefghijklmnopqrstuvwxyz';

export function scratchDir(prefix = 'tripleo-ipsec-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // TI_KEEP_SCRATCH=1 keeps it for a post-mortem (logs of plutos, Pacemaker, corosync).
  return { dir, cleanup: () => (process.env.TI_KEEP_SCRATCH ? console.error(`kept ${dir}`) : rmSync(dir, { recursive: true, force: true })) };
}

export interface Inputs {
  inventory: Record<string, unknown> | string;
  /** A list of networks, or a network_data.yaml's text, written as it is. */
  networkData?: unknown[] | string;
  env?: Record<string, unknown>;
}

/** Write inputs into dir and return the options generate() takes. */
export function writeInputs(dir: string, inputs: Inputs, extra: Partial<GenerateOptions> = {}): GenerateOptions {
  const inventoryPath = join(dir, 'inventory.yaml');
  writeFileSync(inventoryPath, typeof inputs.inventory === 'string' ? inputs.inventory : toStaticYaml(inputs.inventory));
  let networkDataPath: string | undefined;
  if (inputs.networkData) {
    networkDataPath = join(dir, 'network_data.yaml');
    writeFileSync(networkDataPath, typeof inputs.networkData === 'string' ? inputs.networkData : stringify(inputs.networkData));
  }
  const envPaths: string[] = [];
  const env = inputs.env ?? { parameter_defaults: { IpsecVars: { ipsec_psk: TEST_PSK } } };
  envPaths.push(join(dir, 'env.yaml'));
  writeFileSync(envPaths[0], stringify(env));
  return { inventoryPath, networkDataPath, envPaths, sets: [], outDir: join(dir, 'out'), hosts: [], ...extra };
}

export function generateFrom(inputs: Inputs, extra: Partial<GenerateOptions> = {}) {
  const s = scratchDir();
  try {
    return generate(writeInputs(s.dir, inputs, extra));
  } finally {
    s.cleanup();
  }
}

export function small() {
  return syntheticOvercloud({ controllers: 3, computes: 2, ceph: 1 });
}

export function fileMap(files: { path: string; content: string }[]): Map<string, string> {
  return new Map(files.map((f) => [f.path, f.content]));
}
