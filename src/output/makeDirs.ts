// mkdir -p, one level at a time. Node 20's mkdirSync({ recursive: true })
// never returns for a path under /proc (it retries ENOENT forever: seen
// with `install-agent --ocf-root /proc/x`), so nothing of ours uses it.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { EnvironmentError } from '../model/errors.js';

/** Create `dir` and its missing parents with `mode`; one that cannot be created is an EnvironmentError naming it. */
export function makeDirs(dir: string, mode = 0o755): void {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d); d = dirname(d)) {
    missing.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d, { mode });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new EnvironmentError(`cannot create directory ${d}: ${code}`, { cause: e });
    }
  }
}
