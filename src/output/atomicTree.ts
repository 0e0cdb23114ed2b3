// Writing an output tree so that a failed run leaves the previous one
// untouched: everything goes to a sibling temporary directory, which is
// renamed into place only when every file was written.
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { OutputFile } from '../model/types.js';

function safeJoin(root: string, rel: string): string {
  const p = resolve(root, rel);
  if (!p.startsWith(root + sep)) throw new Error(`refusing to write outside the output directory: ${rel}`);
  return p;
}

/** Write one file with its mode set at creation (a secret is never world-readable, not even briefly). */
export function writeFileWithMode(path: string, content: string, mode: number): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
  const fd = openSync(path, 'wx', mode);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(path, mode); // umask may have narrowed it; never widened beyond `mode`
}

/** Replace directory `outDir` with exactly `files`. */
export function writeTreeAtomically(outDir: string, files: OutputFile[]): void {
  const target = resolve(outDir);
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const staging = mkdtempSync(join(parent, `.${basename(target)}.new-`));
  try {
    chmodSync(staging, 0o750);
    for (const f of files) writeFileWithMode(safeJoin(staging, f.path), f.content, f.mode);
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw e;
  }
  if (existsSync(target)) {
    const old = mkdtempSync(join(parent, `.${basename(target)}.old-`));
    renameSync(target, join(old, 'tree'));
    renameSync(staging, target);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(staging, target);
  }
}
