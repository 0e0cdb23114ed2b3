// Writing one file so that readers see the old file or the new one, never a
// half-written one, and a secret is never world-readable, not even briefly.
// Temporary files carry the writer's pid, so a later run can tell the
// leftovers of a killed run (sweepTemporaryFiles) from a live writer's.
import { chmodSync, closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { EnvironmentError } from '../model/errors.js';
import { makeDirs } from './makeDirs.js';
import { processAlive } from '../system/processes.js';

/** The file system refused (no such directory, permission, full disk): said as the operator would, with the path. */
function cannotWrite(path: string, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code ? new EnvironmentError(`cannot write ${path}: ${code}`, { cause: e }) : e;
}

/** Write one new file with its mode set at creation; `durable`: fsynced before it is closed. */
export function writeFileWithMode(path: string, content: string | Buffer, mode: number, durable = false): void {
  const fd = openSync(path, 'wx', mode);
  try {
    if (typeof content === 'string') writeSync(fd, content);
    else writeSync(fd, content);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(path, mode); // umask may have narrowed it; never widened beyond `mode`
}

const TMP = /^\.(.+)\.(\d+)\.(\d+)\.tmp$/;

function temporaryName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
}

/**
 * Replace one file atomically: a temporary file in the same directory,
 * created with its final mode (and fsynced unless `durable: false`), then
 * renamed over it.
 */
export function replaceFileAtomically(path: string, content: string | Buffer, mode: number, o: { durable?: boolean } = {}): void {
  const tmp = temporaryName(path);
  try {
    makeDirs(dirname(path));
    writeFileWithMode(tmp, content, mode, o.durable ?? true);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw cannotWrite(path, e);
  }
}

/**
 * Temporary files replaceFileAtomically left in `dir` when its process was
 * killed (kill -9 between the write and the rename): removed, only those of
 * processes that are gone and only for the names `isOurs` accepts. Returns
 * what was removed.
 */
export function sweepTemporaryFiles(dir: string, isOurs: (name: string) => boolean): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const e of entries) {
    const m = TMP.exec(e);
    if (!m || !isOurs(m[1]) || processAlive(Number(m[2]))) continue;
    rmSync(join(dir, e), { force: true });
    removed.push(join(dir, e));
  }
  return removed;
}
