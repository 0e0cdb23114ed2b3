// Overcloud nodes as Ansible sees them: each a network namespace and a
// mount namespace of its own, with overlays on /etc, /var, /run, /root and
// /usr/local (so a node's files are its own and the host's stay untouched),
// a real sshd taking key authentication, and a real pluto at libreswan's
// default paths (/etc/ipsec.conf, /etc/ipsec.d, /run/pluto/pluto.ctl,
// /var/lib/ipsec/nss). Everything is stopped by PID.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, sh } from './netns.js';
import { alive, PLUTO, sleep, WHACK } from './pluto.js';

const OVERLAID = ['etc', 'var', 'run', 'root', 'usr/local'];
const REPO = join(__dirname, '..', '..');

export interface SshNode {
  name: string;
  ns: string;
  /** The address sshd listens on (the node's ctlplane address). */
  address: string;
  /** sshd's PID: its mount and network namespaces are the node's. */
  pid: number;
  dir: string;
  /** What the node wrote over the host's directories (overlay upper dirs). */
  upper: string;
  pluto?: { pid: number; log: string };
}

export class SshNodes {
  readonly key: string;
  private readonly nodes = new Map<string, SshNode>();
  /** Where the nodes' directories (their overlays' upper and work dirs) live. */
  private readonly nodesDir: string;

  constructor(
    readonly lab: Lab,
    readonly dir: string,
  ) {
    this.key = join(dir, 'id_ed25519');
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tripleo-ipsec-test', '-f', this.key]);
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${this.key}.pub`));
    this.nodesDir = join(dir, 'nodes');
    mkdirSync(this.nodesDir);
    // An overlay's upper dir cannot be on an overlay (the data-plane guest's
    // root is one): there the nodes' directories get a tmpfs of their own.
    if (sh('stat', ['-f', '-c', '%T', dir]).stdout.trim() === 'overlayfs') {
      sh('mount', ['-t', 'tmpfs', '-o', 'mode=0700', 'tripleo-ipsec-test-nodes', this.nodesDir]);
      lab.onCleanup(() => void sh('umount', ['-l', this.nodesDir], { allowFail: true }));
    }
    lab.onCleanup(() => this.stopAll());
  }

  get(name: string): SshNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`test setup: no node ${name}`);
    return n;
  }

  all(): SshNode[] {
    return [...this.nodes.values()];
  }

  /** Boot a node: namespace, addresses (the first is sshd's), overlays, NSS database, sshd. */
  add(name: string, ns: string, cidrs: string[]): SshNode {
    const d = join(this.nodesDir, name);
    for (const m of OVERLAID) for (const k of ['upper', 'work']) mkdirSync(join(d, k, m), { recursive: true });
    for (const c of cidrs) this.lab.addAddress(ns, c);
    const address = cidrs[0].split('/')[0];
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(d, 'host_key')]);
    writeFileSync(
      join(d, 'sshd_config'),
      [
        `ListenAddress ${address}`,
        `HostKey ${join(d, 'host_key')}`,
        'PidFile none',
        'UsePAM no',
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`,
        'StrictModes no',
        'Subsystem sftp /usr/lib/openssh/sftp-server',
        // The negotiated key exchange in sshd.log ("kex: algorithm: ..."), for the tests that check it.
        'LogLevel DEBUG1',
        '',
      ].join('\n'),
    );
    // The node's own view, then sshd in its place (exec keeps the PID).
    const mounts = OVERLAID.map((m) => `mount -t overlay overlay -o lowerdir=/${m},upperdir=${d}/upper/${m},workdir=${d}/work/${m} /${m}`).join(' && ');
    const script = [
      'set -e',
      mounts,
      `hostname ${name}`,
      // A stock node's root: sshd runs every command through bash, which reads ~/.bashrc; this machine's (pyenv) cost
      // 0.2 s a session here and made each ssh take 15-20 s in the guest.
      `printf '# a stock node: nothing to run at shell start-up\\n' > /root/.bashrc`,
      'mkdir -p /run/sshd /run/pluto /var/lib/ipsec/nss /usr/local/bin /etc/ipsec.d',
      // What the RPM installs: the command on PATH.
      `printf '#!/bin/sh\\nexec ${process.execPath} ${REPO}/bin/tripleo-ipsec "$@"\\n' > /usr/local/bin/tripleo-ipsec && chmod 755 /usr/local/bin/tripleo-ipsec`,
      // A node's stock libreswan configuration (what the package ships), and its NSS database.
      `printf 'config setup\\n\\tplutodebug=none\\n\\ninclude /etc/ipsec.d/*.conf\\n' > /etc/ipsec.conf`,
      `printf 'include /etc/ipsec.d/*.secrets\\n' > /etc/ipsec.secrets && chmod 600 /etc/ipsec.secrets`,
      'rm -f /etc/ipsec.d/*.conf /etc/ipsec.d/*.secrets',
      'ipsec initnss --nssdir /var/lib/ipsec/nss >/dev/null',
      `exec /usr/sbin/sshd -D -e -f ${d}/sshd_config`,
    ].join('\n');
    const out = openSync(join(d, 'sshd.log'), 'a');
    const child = spawn('ip', ['netns', 'exec', ns, 'unshare', '--mount', '--uts', '--propagation', 'private', 'sh', '-c', script], { stdio: ['ignore', out, out], detached: true });
    closeSync(out);
    child.unref();
    const node: SshNode = { name, ns, address, pid: child.pid!, dir: d, upper: join(d, 'upper') };
    this.nodes.set(name, node);
    const deadline = Date.now() + 15_000;
    while (!readFileSync(join(d, 'sshd.log'), 'utf8').includes('Server listening')) {
      if (!alive(node.pid) || Date.now() > deadline) throw new Error(`sshd on ${name} did not start: ${readFileSync(join(d, 'sshd.log'), 'utf8').slice(-1000)}`);
      sleep(50);
    }
    return node;
  }

  /** Run a command inside the node (its mounts and network). */
  exec(name: string, cmd: string, args: string[], timeoutMs = 30_000) {
    const n = this.get(name);
    return spawnSync('nsenter', ['-t', String(n.pid), '-m', '-n', '-u', cmd, ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 1 << 28 });
  }

  /** pluto as the ipsec service starts it, at the default paths, logging to the node's directory. */
  startPluto(name: string) {
    const n = this.get(name);
    const log = join(n.dir, 'pluto.log');
    const out = openSync(join(n.dir, 'pluto.out'), 'a');
    const child = spawn('nsenter', ['-t', String(n.pid), '-m', '-n', '-u', PLUTO, '--config', '/etc/ipsec.conf', '--logfile', log, '--nofork'], { stdio: ['ignore', out, out], detached: true });
    closeSync(out);
    child.unref();
    n.pluto = { pid: child.pid!, log };
    // Emulated (the data-plane guest), NSS start-up alone takes seconds.
    const deadline = Date.now() + 60_000;
    while (!existsSync(join(n.upper, 'run', 'pluto', 'pluto.ctl'))) {
      if (!alive(child.pid!) || Date.now() > deadline) {
        const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-1500) : '(no log)';
        throw new Error(`pluto on ${name} did not start (${alive(child.pid!) ? 'still running' : 'exited'}): ${readFileSync(join(n.dir, 'pluto.out'), 'utf8')} ${tail}`);
      }
      sleep(50);
    }
  }

  whack(name: string, args: string[]) {
    return this.exec(name, WHACK, args);
  }

  stopAll() {
    for (const n of this.nodes.values()) {
      if (n.pluto && alive(n.pluto.pid)) {
        this.whack(n.name, ['--shutdown']);
        const t = Date.now();
        while (alive(n.pluto.pid) && Date.now() - t < 5000) sleep(50);
        if (alive(n.pluto.pid)) process.kill(n.pluto.pid, 'SIGKILL');
      }
      if (alive(n.pid)) process.kill(n.pid, 'SIGKILL');
      // sshd's sessions and anything they left: every process in the node's namespace.
      for (const pid of sh('ip', ['netns', 'pids', n.ns], { allowFail: true }).stdout.split(/\s+/).filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    this.nodes.clear();
  }
}
