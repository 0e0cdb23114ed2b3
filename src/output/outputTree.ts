// generate's output directory, written so that nothing the operator put
// there is ever deleted or overwritten: the directory records which files
// are ours (OWNERSHIP_FILE, as apply's manifest does on a node), and a run
// replaces or removes only those. A directory that is not empty and holds no
// output of ours, or a path that is not a directory, is refused.
//
// A run stages the files that changed in a directory inside the output
// (same file system: each one then moves into place with one rename, even
// when the output is a mount point), records the union of what it owned and
// what it is about to write before the first move, moves them, removes what
// it owned and no longer writes, and records the final set. A failure before
// the moves leaves the output as it was; an interruption during them leaves
// files the record names, which the next run completes. Staging never
// outlives a run: removed on every exit path, and swept by the next run when
// a kill -9 left one.
import { closeSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { OutputFile } from '../model/types.js';
import { EnvironmentError, InputError } from '../model/errors.js';
import { makeDirs } from './makeDirs.js';
import { replaceFileAtomically, writeFileWithMode } from './atomicFile.js';
import { processAlive } from '../system/processes.js';
import { onInterrupt } from '../system/interrupt.js';

/** The record of what generate wrote into an output directory (paths only: no secret, no digest of one). */
export const OWNERSHIP_FILE = 'tripleo-ipsec-output.json';
const OWNERSHIP_FORMAT = 'tripleo-ipsec generate output';
const STAGING_PREFIX = '.tripleo-ipsec-staging.';

interface Ownership {
  format: typeof OWNERSHIP_FORMAT;
  version: 1;
  /** Every file of ours, relative to the output directory, sorted. */
  files: string[];
  /** Set while files move into place: the union of what was and what will be ours. */
  incomplete?: true;
  /** The stack the output is of: another stack's generate into it is refused (it would remove these trees). */
  stack?: string;
}

export interface OutputTreeOptions {
  /**
   * Files of ours that a run keeps even when it does not write them: the
   * PSK and the CA generate made (a later run given its key with -e must
   * not delete the one it kept).
   */
  kept?: readonly string[];
  /**
   * The part of the output this run answers for (`--host`): files of ours
   * outside it are left as they are. Undefined: all of it.
   */
  scope?: (path: string) => boolean;
  /**
   * An output of an earlier version, which kept no record: the files of
   * ours it may hold, recognised by their place in the layout.
   */
  earlierLayout?: (path: string, dir: string) => boolean;
  /** The stack this output is of, recorded; an output of another stack is refused. */
  stack?: string;
}

export interface OutputTreeReport {
  /** Files of this run's output. */
  files: number;
  bytes: number;
  /** Files written or rewritten (their content or mode differed), and removed. */
  changed: number;
  removed: number;
}

function safeJoin(root: string, rel: string): string {
  const p = resolve(root, rel);
  if (!p.startsWith(root + sep) || rel.split('/').some((x) => x === '' || x === '.' || x === '..')) {
    throw new InputError(`refusing to write outside the output directory: ${rel}`);
  }
  return p;
}

function cannotWrite(path: string, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code ? new EnvironmentError(`cannot write ${path}: ${code}`, { cause: e }) : e;
}

/** Every regular file under `dir`, relative, skipping our staging. */
function filesUnder(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (!rel && e.name.startsWith(STAGING_PREFIX)) continue;
    if (e.isDirectory()) out.push(...filesUnder(dir, p));
    else out.push(p);
  }
  return out;
}

function readOwnership(dir: string): Ownership | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, OWNERSHIP_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new EnvironmentError(`cannot read ${join(dir, OWNERSHIP_FILE)}: ${(e as NodeJS.ErrnoException).code}`, { cause: e });
  }
  let o: Partial<Ownership>;
  try {
    o = JSON.parse(text) as Partial<Ownership>;
  } catch {
    o = {};
  }
  if (o.format !== OWNERSHIP_FORMAT || !Array.isArray(o.files) || !o.files.every((f) => typeof f === 'string') || (o.stack !== undefined && typeof o.stack !== 'string')) {
    throw new InputError(`${join(dir, OWNERSHIP_FILE)} is not the record tripleo-ipsec generate keeps of its output; move it away or choose another --out`);
  }
  return o as Ownership;
}

function writeOwnership(dir: string, files: Iterable<string>, incomplete: boolean, stack: string | undefined): void {
  const o: Ownership = { format: OWNERSHIP_FORMAT, version: 1, files: [...new Set(files)].sort(), ...(incomplete ? { incomplete: true as const } : {}), ...(stack !== undefined ? { stack } : {}) };
  replaceFileAtomically(join(dir, OWNERSHIP_FILE), JSON.stringify(o, null, 1) + '\n', 0o644, { durable: true });
}

/** Staging directories of runs that are gone (a kill -9): removed. */
function sweepStaging(dir: string): void {
  for (const e of readdirSync(dir)) {
    if (!e.startsWith(STAGING_PREFIX)) continue;
    const pid = Number(e.slice(STAGING_PREFIX.length).split('.')[0]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) continue;
    rmSync(join(dir, e), { recursive: true, force: true });
  }
}

/**
 * Earlier versions replaced the whole directory through siblings
 * `.<name>.new-XXXXXX` and `.<name>.old-XXXXXX`, and left the first behind
 * when a run failed (a full copy of every key): removed.
 */
function sweepEarlierStaging(dir: string): void {
  const parent = dirname(dir);
  const base = basename(dir);
  let entries: string[];
  try {
    entries = readdirSync(parent);
  } catch {
    return;
  }
  for (const e of entries) {
    if (e.startsWith(`.${base}.`) && /^\.(?:new|old)-[A-Za-z0-9]{6}$/.test(e.slice(base.length + 1))) rmSync(join(parent, e), { recursive: true, force: true });
  }
}

/** Whether the file at `path` already holds exactly `f` (content and mode): nothing to write. */
function unchanged(path: string, f: OutputFile): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const st = fstatSync(fd);
    const want = f.bytes ?? Buffer.from(f.content, 'utf8');
    if (!st.isFile() || st.size !== want.length || (st.mode & 0o777) !== f.mode) return false;
    return readFileSync(fd).equals(want);
  } finally {
    closeSync(fd);
  }
}

/**
 * The output directory as it is: what of it is ours, and its record (read
 * once: nothing writes it before step 2). Refuses a path that is not a
 * directory, and a directory with files but no output of ours.
 */
function ownedFiles(dir: string, o: OutputTreeOptions): { owned: Set<string>; record?: Ownership } {
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { owned: new Set() };
    throw cannotWrite(dir, e);
  }
  if (!st.isDirectory()) throw new InputError(`--out ${dir} is not a directory: generate writes a directory of files; name a new or empty one`);
  sweepStaging(dir);
  sweepEarlierStaging(dir);
  const record = readOwnership(dir);
  if (record) return { owned: new Set(record.files), record };
  const present = filesUnder(dir).sort();
  if (present.length === 0) return { owned: new Set() };
  const earlier = o.earlierLayout ? present.filter((p) => o.earlierLayout!(p, dir)) : [];
  if (earlier.length === 0) {
    const shown = present.slice(0, 3).join(', ') + (present.length > 3 ? ` and ${present.length - 3} more` : '');
    throw new InputError(`--out ${dir} is not empty and holds no output of tripleo-ipsec generate (no ${OWNERSHIP_FILE}; it has ${shown}): name a new or empty directory`);
  }
  return { owned: new Set(earlier) };
}

/** Staged files between two turns of the event loop: an interrupt (Ctrl-C) is handled at the next one. */
const FILES_PER_TURN = 200;

/**
 * Write `files` (consumed one at a time, so a generator keeps memory
 * bounded) as the output in `outDir`, touching only files of ours. The CLI's
 * way: the files may come from worker threads (an async iterable), and the
 * event loop turns now and then, so Ctrl-C removes the staging and exits at
 * once.
 */
export async function writeOutputTree(outDir: string, files: Iterable<OutputFile> | AsyncIterable<OutputFile>, o: OutputTreeOptions = {}): Promise<OutputTreeReport> {
  const run = writing(outDir, o);
  const source = Symbol.asyncIterator in files ? files[Symbol.asyncIterator]() : (files as Iterable<OutputFile>)[Symbol.iterator]();
  try {
    for (let step = run.next(), n = 0; ; n++) {
      if (step.done) return step.value;
      if (n % FILES_PER_TURN === FILES_PER_TURN - 1) await new Promise((r) => setImmediate(r));
      const next = await source.next();
      step = run.next(next.done ? undefined : next.value);
    }
  } finally {
    run.return(undefined as never); // the staging is removed however the source ended
    await source.return?.();
  }
}

/** writeOutputTree in one go, for callers with nothing else to do meanwhile (tests, benchmarks). */
export function writeOutputTreeSync(outDir: string, files: Iterable<OutputFile>, o: OutputTreeOptions = {}): OutputTreeReport {
  const run = writing(outDir, o);
  const source = files[Symbol.iterator]();
  try {
    for (let step = run.next(); ; ) {
      if (step.done) return step.value;
      const next = source.next();
      step = run.next(next.done ? undefined : next.value);
    }
  } finally {
    run.return(undefined as never);
    source.return?.();
  }
}

/** The work of a write: each `yield` asks its driver for the next file (undefined: there is none). */
function* writing(outDir: string, o: OutputTreeOptions): Generator<void, OutputTreeReport, OutputFile | undefined> {
  const dir = resolve(outDir);
  const { owned, record } = ownedFiles(dir, o);
  // Two stacks' outputs in one directory would remove each other's trees (and share one PSK).
  const recordedStack = owned.size ? record?.stack : undefined;
  if (o.stack !== undefined && recordedStack !== undefined && recordedStack !== o.stack) {
    throw new InputError(`--out ${dir} holds the output of stack ${recordedStack}, and this inventory's stack is ${o.stack}: give each stack a directory of its own (IpsecStateDir in its heat environment, or another --out)`);
  }
  const stack = o.stack ?? recordedStack;
  try {
    makeDirs(dir, 0o750);
  } catch (e) {
    throw cannotWrite(dir, e);
  }
  const staging = join(dir, `${STAGING_PREFIX}${process.pid}.${Date.now()}`);
  const removeStaging = () => rmSync(staging, { recursive: true, force: true });
  const stopWatching = onInterrupt(removeStaging);
  try {
    try {
      mkdirSync(staging, { mode: 0o700 });
    } catch (e) {
      throw cannotWrite(dir, e);
    }
    // 1. Stage what changed; refuse to take over a file that is not ours.
    const wanted = new Set<string>();
    const staged: string[] = [];
    const foreign: string[] = [];
    let bytes = 0;
    for (;;) {
      const f = yield;
      if (f === undefined) break;
      const target = safeJoin(dir, f.path);
      if (wanted.has(f.path)) throw new InputError(`two output files at ${f.path}`);
      wanted.add(f.path);
      bytes += f.bytes ? f.bytes.length : Buffer.byteLength(f.content);
      if (unchanged(target, f)) continue;
      if (!owned.has(f.path) && pathTaken(target)) {
        foreign.push(f.path);
        continue;
      }
      // Staged flat, by number: no directory to make and remove for each one of the tree's.
      const s = join(staging, String(staged.length));
      try {
        writeFileWithMode(s, f.bytes ?? f.content, f.mode);
      } catch (e) {
        throw cannotWrite(target, e);
      }
      staged.push(f.path);
    }
    if (foreign.length) {
      throw new InputError(`--out ${dir}: ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ` and ${foreign.length - 3} more` : ''} exist(s) there and were not written by tripleo-ipsec generate: move them away or name another directory`);
    }
    const inScope = o.scope ?? (() => true);
    const kept = new Set(o.kept ?? []);
    const obsolete = [...owned].filter((p) => !wanted.has(p) && !kept.has(p) && inScope(p));
    const removing = new Set(obsolete);
    const keep = [...owned].filter((p) => !wanted.has(p) && !removing.has(p) && pathTaken(join(dir, p)));
    const final = [...new Set([...wanted, ...keep])].sort();
    if (staged.length === 0 && obsolete.length === 0 && sameList(record && !record.incomplete ? record.files : undefined, final)) {
      // An output recorded before stacks were: its stack, once.
      if (stack !== recordedStack) writeOwnership(dir, final, false, stack);
      return { files: wanted.size, bytes, changed: 0, removed: 0 };
    }
    // 2. Record before the first move, so an interruption leaves nothing of ours unrecorded.
    writeOwnership(dir, [...owned, ...wanted], true, stack);
    // 3. Move into place, each file in one rename.
    const made = new Set<string>();
    for (const [i, p] of staged.entries()) {
      const target = safeJoin(dir, p);
      try {
        if (!made.has(dirname(target))) {
          makeDirs(dirname(target), 0o750);
          made.add(dirname(target));
        }
        renameSync(join(staging, String(i)), target);
      } catch (e) {
        throw cannotWrite(target, e);
      }
    }
    // 4. What we owned and no longer write, and the directories that leaves empty.
    for (const p of obsolete) {
      rmSync(safeJoin(dir, p), { force: true });
      removeEmptyParents(dir, p);
    }
    writeOwnership(dir, final, false, stack);
    return { files: wanted.size, bytes, changed: staged.length, removed: obsolete.length };
  } finally {
    removeStaging();
    stopWatching();
  }
}

function sameList(a: string[] | undefined, b: string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
}

function pathTaken(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function removeEmptyParents(dir: string, rel: string): void {
  for (let d = dirname(rel); d !== '.' && d !== ''; d = dirname(d)) {
    try {
      rmdirSync(join(dir, d));
    } catch {
      return;
    }
  }
}
