// Reading the operator's files: one message for a file that cannot be read
// or parsed, naming what it was meant to be. The only file reads of the
// input side; everything after them works on values.
//
// An input is a regular file of at most MAX_INPUT_BYTES: a FIFO would block
// the run, a device (/dev/zero) would grow it without bound. A parse error
// says where, never what: a YAML excerpt of an environment would print the
// PSK line, and an inventory holds passwords.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { parseYamlText, yamlErrorWhere } from '../model/yamlText.js';
import { InputError } from '../model/errors.js';

const MAX_INPUT_BYTES = 64 * 1024 * 1024;

function kindOf(st: import('node:fs').Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

export function readInputBytes(path: string, what: string): Buffer {
  let fd: number;
  try {
    // Non-blocking: opening a FIFO with no writer would otherwise wait for one.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    throw new InputError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new InputError(`${what} ${path} is ${kindOf(st)}: give a regular file`);
    if (st.size > MAX_INPUT_BYTES) throw new InputError(`${what} ${path} has ${st.size} bytes, more than the ${MAX_INPUT_BYTES >> 20} MiB an input may have`);
    // Read to the end, never past the bound (a file under /proc says size 0).
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(1 << 20, MAX_INPUT_BYTES + 1 - total));
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        throw new InputError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
      }
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
      if (total > MAX_INPUT_BYTES) throw new InputError(`${what} ${path} has more than the ${MAX_INPUT_BYTES >> 20} MiB an input may have`);
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

export function readInputFile(path: string, what: string): string {
  return readInputBytes(path, what).toString('utf8');
}

/** A YAML document (a heat environment, a file generate wrote). No excerpt of it in any error, no cause kept. */
export function readYamlInput(path: string, what: string): unknown {
  const text = readInputFile(path, what);
  try {
    return parseYamlText(text);
  } catch (e) {
    throw new InputError(`${path}: not YAML: ${yamlErrorWhere(e)}`);
  }
}
