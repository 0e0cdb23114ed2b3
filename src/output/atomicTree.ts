// Writing an output tree so that a failed run leaves the previous one
// untouched: everything goes to a sibling temporary directory, which is
// renamed into place only when every file was written.
import { chmodSync, closeSync, existsSync, fsyncSync, mkdtempSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { OutputFile } from '../model/types.js';
import { EnvironmentError, RenderError } from '../model/errors.js';
import { makeDirs } from './makeDirs.js';

/** The file system refused (no such directory, permission, full disk): said as the operator would, with the path. */
function cannotWrite(path: string, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code ? new EnvironmentError(`cannot write ${path}: ${code}`, { cause: e }) : e;
}

function safeJoin(root: string, rel: string): string {
  const p = resolve(root, rel);
  if (!p.startsWith(root + sep)) throw new RenderError(`refusing to write outside the output directory: ${rel}`);
  return p;
}

export interface WriteOptions {
  /** fsync every file before the tree is renamed into place (for trees a daemon reads at once). */
  durable?: boolean;
}

/** Write one file with its mode set at creation (a secret is never world-readable, not even briefly). */
export function writeFileWithMode(path: string, content: string | Buffer, mode: number, durable = false): void {
  const fd = openSync(path, 'wx', mode);
  try {
    if (typeof content === "string") writeSync(fd, content);
    else writeSync(fd, content);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(path, mode); // umask may have narrowed it; never widened beyond `mode`
}

/**
 * Replace one file atomically and durably: a temporary file in the same
 * directory, created with its final mode and fsynced, then renamed over it.
 * Readers see the old file or the new one, never a half-written one.
 */
export function replaceFileAtomically(path: string, content: string | Buffer, mode: number): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    makeDirs(dirname(path));
    writeFileWithMode(tmp, content, mode, true);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw cannotWrite(path, e);
  }
}

/**
 * Replace directory `outDir` with exactly `files` (consumed one at a time,
 * so a generator keeps memory bounded). Returns what was written.
 */
export function writeTreeAtomically(outDir: string, files: Iterable<OutputFile>, opts: WriteOptions = {}): { files: number; bytes: number } {
  const target = resolve(outDir);
  const parent = dirname(target);
  let staging: string;
  try {
    makeDirs(parent);
    staging = mkdtempSync(join(parent, `.${basename(target)}.new-`));
  } catch (e) {
    throw cannotWrite(target, e);
  }
  let count = 0;
  let bytes = 0;
  try {
    chmodSync(staging, 0o750);
    const made = new Set<string>([staging]);
    for (const f of files) {
      const path = safeJoin(staging, f.path);
      const dir = dirname(path);
      if (!made.has(dir)) {
        makeDirs(dir, 0o750);
        made.add(dir);
      }
      writeFileWithMode(path, f.bytes ?? f.content, f.mode, opts.durable);
      count++;
      bytes += f.bytes ? f.bytes.length : Buffer.byteLength(f.content);
    }
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw cannotWrite(target, e);
  }
  if (existsSync(target)) {
    const old = mkdtempSync(join(parent, `.${basename(target)}.old-`));
    renameSync(target, join(old, 'tree'));
    renameSync(staging, target);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(staging, target);
  }
  return { files: count, bytes };
}
