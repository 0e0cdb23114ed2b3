// Everything apply reads and changes on a node, behind one interface (as
// pcs's library commands receive `env`): files under the root, pluto, the
// firewall, the NSS database, the cluster. observe.ts reads through it,
// act.ts changes through it; decide.ts sees neither. The real one is here;
// tests may hand in another.
import { lstatSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EnvironmentError } from '../model/errors.js';
import { nodePaths } from '../model/names.js';
import { PlutoClient } from '../libreswan/plutoClient.js';
import { makeDirs } from '../output/makeDirs.js';
import { replaceFileAtomically, sweepTemporaryFiles } from '../output/atomicFile.js';
import { runCommand } from '../system/command.js';
import { applyPlan, removePlan } from '../pacemaker/cibUpdate.js';
import type { PacemakerPlan } from '../plan/pacemaker.js';
import { chainRules, installChain, jumpPresent, removeChain, type Family } from './firewall.js';
import { readManifest, writeManifest, type Manifest } from './manifest.js';

export interface FileState {
  bytes: Buffer;
  mode: number;
}

export interface NodeFiles {
  /** The root every path below is relative to. */
  root: string;
  read(path: string): FileState | undefined;
  /** Regular files of a directory (names), [] when it is absent. */
  list(dir: string): string[];
  isRegularFile(path: string): boolean;
  write(path: string, content: string | Buffer, mode: number): void;
  remove(path: string): void;
  /** rmdir when empty; silently nothing otherwise. */
  removeDirIfEmpty(path: string): void;
  makeDir(path: string, mode: number): void;
  /** Temporary files of killed writers in `dir` (names `isOurs` accepts): removed, and returned. */
  sweepTemporary(dir: string, isOurs: (name: string) => boolean): string[];
  readManifest(): Manifest | undefined;
  writeManifest(m: Manifest): void;
}

/** The pluto operations apply uses (src/libreswan/plutoClient.ts). */
export type NodePluto = Pick<PlutoClient, 'status' | 'addMany' | 'eachConn' | 'alias' | 'deleteState' | 'rereadSecrets' | 'listen'>;

export interface NodeEnv {
  /** false: an image being built under a root (files only). */
  live: boolean;
  files: NodeFiles;
  /** undefined: no pluto on the control socket (files only). */
  pluto?: NodePluto;
  firewall: {
    chainRules(f: Family): Promise<string[] | undefined>;
    jumpPresent(f: Family): Promise<boolean>;
    install(f: Family, fragment: string): Promise<void>;
    remove(f: Family): Promise<boolean>;
  };
  /** Run the node's certificate import script (ipsec_auth=cert) into pluto's NSS database; returns where. */
  importCertificates(script: string): Promise<string>;
  pacemaker: {
    apply(plan: PacemakerPlan, o?: { replaceRoleResources?: boolean }): Promise<{ changes: string[] }>;
    remove(plan: PacemakerPlan): Promise<{ changes: string[] }>;
  };
}

function nodeFiles(root: string): NodeFiles {
  const at = (p: string) => join(root, p);
  return {
    root,
    read(path) {
      try {
        const full = at(path);
        const st = statSync(full);
        if (!st.isFile()) return undefined;
        return { bytes: readFileSync(full), mode: st.mode & 0o777 };
      } catch {
        return undefined;
      }
    },
    list(dir) {
      try {
        return readdirSync(at(dir)).filter((n) => this.isRegularFile(`${dir}/${n}`));
      } catch {
        return [];
      }
    },
    isRegularFile(path) {
      try {
        return lstatSync(at(path)).isFile();
      } catch {
        return false;
      }
    },
    write(path, content, mode) {
      replaceFileAtomically(at(path), content, mode);
    },
    remove(path) {
      rmSync(at(path), { force: true });
    },
    removeDirIfEmpty(path) {
      try {
        rmdirSync(at(path));
      } catch {
        /* not empty or not there */
      }
    },
    makeDir(path, mode) {
      makeDirs(at(path), mode);
    },
    sweepTemporary(dir, isOurs) {
      return sweepTemporaryFiles(at(dir), isOurs).map((p) => p.slice(root === '/' ? 1 : root.length + 1));
    },
    readManifest: () => readManifest(root),
    writeManifest: (m) => writeManifest(root, m),
  };
}

/** The node itself: files under `root`, the pluto on `ctlsocket` (when one is there), iptables, pcs. */
export function realNodeEnv(root: string, ctlsocket: string, nssdir: string = nodePaths.nssDir, o: { live: boolean } = { live: true }): NodeEnv {
  const pluto = new PlutoClient(ctlsocket);
  return {
    live: o.live,
    files: nodeFiles(root),
    ...(o.live && pluto.running() ? { pluto } : {}),
    firewall: { chainRules, jumpPresent, install: installChain, remove: removeChain },
    async importCertificates(script) {
      const c = { what: `importing the certificate into ${nssdir}`, argv: ['bash', join(root, script), nssdir], timeoutMs: 120_000 };
      const x = await runCommand(c);
      if (x.exitCode !== 0) throw new EnvironmentError(`${c.what} failed: ${(x.stderr || x.stdout).trim().split('\n').slice(-1)[0]}`);
      return nssdir;
    },
    pacemaker: { apply: (plan, o) => applyPlan(plan, o), remove: (plan) => removePlan(plan) },
  };
}
