// The overcloud both `status --inventory` tests deploy: two controllers and a
// compute on internal_api (optionally with a VIP on one controller), each a
// real sshd and pluto (sshNodes.ts) installed with `apply --tree` from one
// `generate`, and an undercloud namespace that runs the CLI against them.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { scratchDir, TEST_PSK } from './inputs.js';
import { Lab } from './netns.js';
import { SshNodes } from './sshNodes.js';

const CLI = join(__dirname, '..', '..', 'bin', 'tripleo-ipsec');

export const STATUS_HOSTS: Record<string, { ctl: string; api: string }> = {
  'overcloud-controller-0': { ctl: '192.0.2.10', api: '198.51.100.10' },
  'overcloud-controller-1': { ctl: '192.0.2.11', api: '198.51.100.11' },
  'overcloud-novacompute-0': { ctl: '192.0.2.20', api: '198.51.100.20' },
};

export interface StatusNodesOptions {
  tag: string;
  /** The internal_api VIP and the controller whose namespace holds its address. */
  vip?: { address: string; holder: string };
  applyTimeoutMs: number;
  /** `status --timeout`, seconds per node. */
  statusTimeoutS: number;
  /** Bound on one whole `status` call. */
  statusCallMs: number;
}

export class StatusNodes {
  readonly scratch = scratchDir();
  readonly lab: Lab;
  readonly nodes: SshNodes;
  readonly inv: string;
  private uc = '';

  constructor(readonly o: StatusNodesOptions) {
    this.lab = new Lab(o.tag);
    this.nodes = new SshNodes(this.lab, this.scratch.dir);
    this.inv = join(this.scratch.dir, 'inventory.yaml');
  }

  /** Write the inventory, generate, boot every node and apply its tree (no Pacemaker): `generate` and every `apply` must succeed. */
  deploy(): { generate: ReturnType<typeof spawnSync>; applies: Map<string, ReturnType<SshNodes['exec']>> } {
    const hostVars = (h: string) => ({ ansible_host: STATUS_HOSTS[h].ctl, ansible_user: 'root', ansible_ssh_private_key_file: this.nodes.key, ctlplane_ip: STATUS_HOSTS[h].ctl, internal_api_ip: STATUS_HOSTS[h].api });
    const role = (hosts: string[]) => ({ hosts: Object.fromEntries(hosts.map((h) => [h, hostVars(h)])), vars: { tripleo_role_networks: ['ctlplane', 'internal_api'], internal_api_cidr: 24 } });
    const vip = this.o.vip;
    writeFileSync(this.inv, stringify({
      Controller: role(['overcloud-controller-0', 'overcloud-controller-1']),
      Compute: role(['overcloud-novacompute-0']),
      overcloud: { children: { Controller: {}, Compute: {} }, ...(vip ? { vars: { internal_api_vip: vip.address } } : {}) },
      ...(vip ? { pacemaker: { children: { Controller: {} } } } : {}),
    }));
    const env = join(this.scratch.dir, 'env.yaml');
    writeFileSync(env, stringify({ parameter_defaults: { IpsecVars: { ipsec_psk: TEST_PSK } } }), { mode: 0o600 });
    const out = join(this.scratch.dir, 'out');
    const generate = spawnSync(process.execPath, [CLI, 'generate', '-i', this.inv, '-e', env, '-o', out], { encoding: 'utf8' });
    const applies = new Map<string, ReturnType<SshNodes['exec']>>();
    if (generate.status !== 0) return { generate, applies };
    this.uc = this.lab.addHost('uc');
    this.lab.addAddress(this.uc, '192.0.2.1/24');
    let i = 0;
    for (const [h, a] of Object.entries(STATUS_HOSTS)) {
      this.nodes.add(h, this.lab.addHost(`n${i++}`), [`${a.ctl}/24`, `${a.api}/24`, ...(vip?.holder === h ? [`${vip.address}/24`] : [])]);
      this.nodes.startPluto(h);
      const r = this.nodes.exec(h, 'tripleo-ipsec', ['apply', '--tree', join(out, h), '--host', h, '--no-pacemaker'], this.o.applyTimeoutMs);
      applies.set(h, r);
      if (r.status !== 0) break;
    }
    return { generate, applies };
  }

  /** `tripleo-ipsec status --inventory` from the undercloud, with how long it took. */
  status(extra: string[] = []) {
    const t0 = Date.now();
    const r = this.lab.exec(this.uc, process.execPath, [CLI, 'status', '-i', this.inv, '--ssh-option', 'StrictHostKeyChecking=no', '--ssh-option', 'UserKnownHostsFile=/dev/null', '--timeout', String(this.o.statusTimeoutS), ...extra], { allowFail: true, timeoutMs: this.o.statusCallMs });
    return { code: r.status, out: r.stdout, err: r.stderr, ms: Date.now() - t0 };
  }

  cleanup() {
    this.lab.cleanup();
    this.scratch.cleanup();
  }
}
