// The data-plane benchmark: in the guest (a kernel with ESP, TCG emulation),
// the sample overcloud (6 nodes, 4 networks, 4 VIPs) from pluto start until
// every node shows exactly its tunnels, for the shipped configuration and for
// the two it replaced (both ends of every node pair initiating, with
// uniqueids=yes and with uniqueids=no as it shipped), all in one run.
// Guest timings are several times slower than hardware: compare the variants
// with each other, not with a real cloud.
//   host:  npm run bench:dataplane   (boots the guest, writes bench-results/dataplane.{md,json})
//   guest: node dist/scripts/bench-dataplane.cjs --in-guest SHARE
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { SAMPLE_VIP_HOLDERS, DataplaneOvercloud, type DataplaneOptions } from '../test/helpers/dataplane.js';

const ROOT = join(__dirname, '..', '..');
const HOLDERS = SAMPLE_VIP_HOLDERS;
const BOUND_MS = Number(process.env.BENCH_SETTLE_BOUND_MS ?? 240_000);
const VARIANTS: NonNullable<DataplaneOptions['variant']>[] = ['shipped', 'both-initiate', 'both-initiate-uniqueids-no'];

interface VariantResult {
  variant: string;
  settledMs: number | null;
  table: string;
  extraIkeSas: number;
  halfOpen: number;
  plutoFailures: string[];
}

async function inGuest(share: string) {
  const results: VariantResult[] = [];
  for (const variant of VARIANTS) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-dp-'));
    const oc = new DataplaneOvercloud(dir, { holders: HOLDERS, variant });
    try {
      oc.startPlutos();
      await oc.startVipTunnels();
      let settledMs: number | null = null;
      try {
        settledMs = await oc.waitSettled(BOUND_MS);
      } catch {
        /* not settled within the bound: the table says how far it got */
      }
      let extraIkeSas = 0;
      let halfOpen = 0;
      for (const n of oc.nodes.keys()) {
        const l = oc.saLine(n);
        extraIkeSas += Math.max(0, l.ike.total - oc.expectedTunnels(n));
        halfOpen += l.ike.halfOpen;
      }
      const r = { variant, settledMs, table: oc.table(), extraIkeSas, halfOpen, plutoFailures: oc.plutoFailures().slice(0, 5) };
      results.push(r);
      console.log(JSON.stringify(r));
    } finally {
      oc.stopAll();
    }
  }
  writeFileSync(join(share, 'bench-dataplane.json'), JSON.stringify(results, null, 2));
}

function onHost() {
  const share = mkdtempSync('/var/tmp/tripleo-ipsec-bench-');
  const r = spawnSync('bash', [join(ROOT, 'scripts/guest/run.sh'), join(ROOT, 'scripts/guest/bench-inside.sh')], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, GUEST_RW: share },
  });
  if (r.status !== 0) throw new Error(`the guest run failed (exit ${r.status})`);
  const results = JSON.parse(readFileSync(join(share, 'bench-dataplane.json'), 'utf8')) as VariantResult[];
  const md = [
    `# data plane: pluto start to a settled mesh (${new Date().toISOString()})`,
    '',
    'The sample overcloud (6 nodes, 41 node pairs, 4 VIPs with 16 peers: 114 tunnel ends) in the data-plane guest: Debian\'s stock kernel under qemu TCG on this 2-core machine, several times slower than hardware (IKE\'s DH and every process start are emulated). Settled = every node shows `IKE SAs: total(N), half-open(0), open(0), authenticated(N)` and `IPsec SAs: total(N), authenticated(N)` for its N tunnels.',
    '',
    `| configuration | settled after | IKE SAs beyond the tunnels (at the end) | half-open | pluto ASSERTION/EXPECTATION FAILED |`,
    '|---|---:|---:|---:|---:|',
    ...results.map((x) => `| ${x.variant} | ${x.settledMs === null ? `not within ${BOUND_MS / 1000} s` : `${(x.settledMs / 1000).toFixed(1)} s`} | ${x.extraIkeSas} | ${x.halfOpen} | ${x.plutoFailures.length} |`),
    '',
    ...results.flatMap((x) => [`### ${x.variant}`, '', '```', x.table, ...x.plutoFailures, '```', '']),
  ].join('\n');
  mkdirSync(join(ROOT, 'bench-results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench-results', 'dataplane.md'), md);
  writeFileSync(join(ROOT, 'bench-results', 'dataplane.json'), JSON.stringify(results, null, 2));
  console.log(md);
}

if (process.argv[2] === '--in-guest') void inGuest(process.argv[3]);
else onHost();
