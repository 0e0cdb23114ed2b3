import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EnvironmentError } from '../model/errors.js';

/** The package's root (where package.json is), from the bundled dist/ or from src/ in tests. */
export function packageRoot(): string {
  let d = __dirname;
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(d, 'package.json'))) return d;
    d = dirname(d);
  }
  throw new EnvironmentError('cannot find the tripleo-ipsec package root');
}
