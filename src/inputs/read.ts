// Reading the operator's files: one message for a file that cannot be read
// or parsed, naming what it was meant to be. The only file reads of the
// input side; everything after them works on values.
import { readFileSync } from 'node:fs';
import { parseYamlText } from '../model/yamlText.js';
import { InputError } from '../model/errors.js';

export function readInputFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}

export function readInputBytes(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new InputError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}

/** A YAML document (a heat environment, a file generate wrote). */
export function readYamlInput(path: string, what: string): unknown {
  const text = readInputFile(path, what);
  try {
    return parseYamlText(text);
  } catch (e) {
    throw new InputError(`${path}: not YAML: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
}
