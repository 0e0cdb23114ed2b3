// Runs a TypeScript script (benchmarks) by bundling it with esbuild first.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { basename } from 'node:path';

const [entry, ...args] = process.argv.slice(2);
const outfile = `dist/scripts/${basename(entry, '.ts')}.cjs`;
await build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning' });
const r = spawnSync(process.execPath, [outfile, ...args], { stdio: 'inherit' });
process.exit(r.status ?? 1);
