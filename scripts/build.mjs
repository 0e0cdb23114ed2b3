// Bundles the CLI (dist/cli.cjs) and the OCF agent (agents/ipsec, one
// self-contained executable that needs only Node at run time).
import { build } from 'esbuild';
import { chmodSync, mkdirSync } from 'node:fs';

const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', legalComments: 'none', logLevel: 'warning' };
mkdirSync('dist', { recursive: true });
mkdirSync('agents', { recursive: true });
await build({ ...common, entryPoints: ['src/cli/entry.ts'], outfile: 'dist/cli.cjs' });
await build({
  ...common,
  entryPoints: ['src/agent/main.ts'],
  outfile: 'agents/ipsec',
  minify: true,
  banner: { js: '#!/usr/bin/env node\n// ocf:tripleo:ipsec -- built from src/agent by tripleo-ipsec; see https://clusterlabs.org for OCF.' },
});
chmodSync('agents/ipsec', 0o755);
