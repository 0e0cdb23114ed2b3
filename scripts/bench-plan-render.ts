// Generation without the disk: generate() and every file rendered in memory,
// median of 3, for N nodes (N=500 by default) on 5 networks. What bounds it is
// CPU (HMAC per derived key, rendering); bench-generate.ts adds the writes.
//   N=500 node scripts/run-ts.mjs scripts/bench-plan-render.ts
import { join } from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { stringify } from 'yaml';
import { syntheticOvercloud, toStaticYaml } from '../test/helpers/synthetic.js';
import { generate } from '../src/generate.js';
const n = Number(process.env.N ?? 500);
const ceph = Math.round(n / 10);
const { inventory, networkData } = syntheticOvercloud({ controllers: 3, computes: n - 3 - ceph, ceph, extraNetworks: 1 });
const d = mkdtempSync(join(tmpdir(), 'gb-'));
writeFileSync(join(d, 'inv.yaml'), toStaticYaml(inventory));
writeFileSync(join(d, 'nd.yaml'), stringify(networkData));
writeFileSync(join(d, 'env.yaml'), stringify({ parameter_defaults: { IpsecVars: { ipsec_psk: 'k'.repeat(48) } } }));
const times: number[] = [];
for (let i = 0; i < 3; i++) {
  const t = process.hrtime.bigint();
  const r = generate({ inventoryPath: join(d, 'inv.yaml'), networkDataPath: join(d, 'nd.yaml'), envPaths: [join(d, 'env.yaml')], sets: [], outDir: join(d, 'out'), hosts: [] });
  let bytes = 0;
  for (const f of r.eachFile()) bytes += f.bytes ? f.bytes.length : f.content.length;
  times.push(Number(process.hrtime.bigint() - t) / 1e6);
  if (i === 0) console.log(`bytes ${bytes}`);
}
times.sort((a, b) => a - b);
console.log(`N=${n} median ${times[1].toFixed(0)} ms (all ${times.map((x) => x.toFixed(0)).join(', ')})`);
