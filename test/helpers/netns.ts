// Test hosts in network namespaces joined by a bridge that lives in a
// namespace of its own (nothing touches the machine's own network).
// Every namespace name starts with a prefix unique to this test process;
// cleanup deletes exactly what was created, even after a failure.
import { spawn, spawnSync } from 'node:child_process';

export function sh(cmd: string, args: string[], opts: { timeoutMs?: number; allowFail?: boolean; input?: string } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: opts.timeoutMs ?? 15_000, input: opts.input });
  if (!opts.allowFail && r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}${r.error ? ` (${r.error.message})` : ''}: ${r.stderr}`);
  }
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** sh without blocking the event loop: never rejects; killed after `timeoutMs`. */
export function shAsync(cmd: string, args: string[], opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(opts.env ? { env: opts.env } : {}) });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    p.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

let counter = 0;
const live = new Set<Lab>();
process.on('exit', () => {
  for (const lab of live) lab.cleanup();
});

export class Lab {
  readonly prefix: string;
  readonly switchNs: string;
  private readonly namespaces: string[] = [];
  private readonly cleanups: (() => void)[] = [];
  private ports = 0;

  constructor(tag: string) {
    this.prefix = `ti${tag}${process.pid}x${counter++}`;
    this.switchNs = `${this.prefix}-sw`;
    live.add(this);
    this.netns(this.switchNs);
    sh('ip', ['-n', this.switchNs, 'link', 'add', 'br0', 'type', 'bridge']);
    sh('ip', ['-n', this.switchNs, 'link', 'set', 'br0', 'up']);
  }

  private netns(name: string) {
    sh('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  }

  /** Another bridge (a second leaf's segment), in the switch namespace. */
  addBridge(bridge: string) {
    sh('ip', ['-n', this.switchNs, 'link', 'add', bridge, 'type', 'bridge']);
    sh('ip', ['-n', this.switchNs, 'link', 'set', bridge, 'up']);
  }

  /** A host with one interface, eth0, on a bridge (the shared br0 unless told). Returns its namespace. */
  addHost(name: string, bridge = 'br0'): string {
    const ns = `${this.prefix}-${name}`;
    this.netns(ns);
    this.addInterface(ns, 'eth0', bridge);
    return ns;
  }

  /** One more interface of a host, on a bridge (a router's leg on each leaf). */
  addInterface(ns: string, dev: string, bridge: string) {
    const port = `p${this.ports++}`;
    sh('ip', ['link', 'add', dev, 'netns', ns, 'type', 'veth', 'peer', 'name', port, 'netns', this.switchNs]);
    sh('ip', ['-n', this.switchNs, 'link', 'set', port, 'master', bridge, 'up']);
    sh('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    // IPv6 addresses must be usable at once: no duplicate address detection.
    sh('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.accept_dad=0', `net.ipv6.conf.${dev}.accept_dad=0`]);
  }

  addAddress(ns: string, cidr: string, dev = 'eth0') {
    sh('ip', ['-n', ns, 'addr', 'add', cidr, 'dev', dev, ...(cidr.includes(':') ? ['nodad'] : [])]);
  }

  /** Unsolicited ARP for a moved IPv4 address, as IPaddr2 sends it (resource-agents' send_arp). */
  announce(ns: string, address: string, pidDir: string) {
    sh('ip', ['netns', 'exec', ns, '/usr/libexec/heartbeat/send_arp', '-i', '50', '-r', '2', '-p', `${pidDir}/send_arp-${ns}.pid`,
      'eth0', address, 'auto', 'not_used', 'not_used'], { timeoutMs: 5000 });
  }

  delAddress(ns: string, cidr: string) {
    sh('ip', ['-n', ns, 'addr', 'del', cidr, 'dev', 'eth0']);
  }

  exec(ns: string, cmd: string, args: string[], opts: { timeoutMs?: number; allowFail?: boolean; env?: Record<string, string> } = {}) {
    const envArgs = opts.env ? ['env', ...Object.entries(opts.env).map(([k, v]) => `${k}=${v}`)] : [];
    return sh('ip', ['netns', 'exec', ns, ...envArgs, cmd, ...args], opts);
  }

  onCleanup(fn: () => void) {
    this.cleanups.push(fn);
  }

  cleanup() {
    if (!live.has(this)) return;
    live.delete(this);
    for (const fn of this.cleanups.reverse()) {
      try {
        fn();
      } catch {
        /* keep cleaning */
      }
    }
    for (const ns of this.namespaces.reverse()) sh('ip', ['netns', 'del', ns], { allowFail: true });
  }
}

/** Whether this kernel can install ESP states (docs/FACTS.md: this machine's cannot). */
export function kernelSupportsEsp(): boolean {
  const ns = `tiesp${process.pid}x${counter++}`;
  sh('ip', ['netns', 'add', ns]);
  try {
    const r = sh('ip', ['-n', ns, 'xfrm', 'state', 'add', 'src', '192.0.2.1', 'dst', '192.0.2.2', 'proto', 'esp', 'spi', '0x100', 'mode', 'tunnel',
      'aead', 'rfc4106(gcm(aes))', '0x' + '11'.repeat(20), '128'], { allowFail: true });
    return r.status === 0;
  } finally {
    sh('ip', ['netns', 'del', ns], { allowFail: true });
  }
}
