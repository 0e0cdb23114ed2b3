// How status reaches a node: the ssh argv from the inventory's ansible_*
// variables, and the key exchange preference taken from ssh's own resolved
// configuration (`ssh -G`, saved from OpenSSH 9.2p1 here).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/model/errors.js';
import { normalizeInventory } from '../../../src/model/inventory.js';
import { kexFromSshConfig, preferCheapKex, sshArgv, sshTargets } from '../../../src/status/sshCollect.js';

const SSH_G = readFileSync(join(__dirname, '..', '..', 'fixtures', 'openssh', 'ssh-G-9.2p1-debian.txt'), 'utf8');
const O = { timeoutMs: 30_000, sshOptions: [] };

describe('sshArgv', () => {
  it('uses the target as Ansible would, BatchMode always, sudo -n only when the user is not root', () => {
    expect(sshArgv({ host: 'c0', address: '192.0.2.10', user: 'heat-admin', port: 2222, key: '/k' }, 'ipsec whack --status', { ...O, sshOptions: ['StrictHostKeyChecking=no'] }, ['KexAlgorithms=curve25519-sha256'])).toEqual([
      'ssh', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=30', '-p', '2222', '-i', '/k', '-o', 'StrictHostKeyChecking=no', '-o', 'KexAlgorithms=curve25519-sha256', 'heat-admin@192.0.2.10', '--', 'sudo -n ipsec whack --status',
    ]);
    expect(sshArgv({ host: 'c0', address: '192.0.2.10', user: 'root' }, 'whack --status', O).slice(-3)).toEqual(['root@192.0.2.10', '--', 'whack --status']);
  });
});

describe('sshTargets', () => {
  it('names every bad ansible_* value with its host and field, at once', () => {
    const inv = normalizeInventory({ all: { hosts: { a: { ansible_host: 'bad host' }, b: { ansible_port: 'x', ansible_user: 'root' } } } });
    try {
      sshTargets(inv, ['a', 'b']);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      const p = (e as ValidationError).problems.map((x) => [x.host, x.field, x.value]);
      expect(p).toEqual([['a', 'ansible_host', 'bad host'], ['b', 'ansible_port', 'x']]);
    }
  });
});

describe('the key exchange preference', () => {
  it("reads ssh's resolved list: OpenSSH 9.2 puts the sntrup761 hybrid first", () => {
    const kex = kexFromSshConfig(SSH_G);
    expect(kex[0]).toBe('sntrup761x25519-sha512');
    expect(kex).toContain('curve25519-sha256');
    expect(kexFromSshConfig('user root\nhostname x\n')).toEqual([]);
  });

  it('moves the cheap members to the front and adds or drops nothing', () => {
    const kex = kexFromSshConfig(SSH_G);
    const p = preferCheapKex(kex)!;
    expect(p.slice(0, 3)).toEqual(['curve25519-sha256', 'curve25519-sha256@libssh.org', 'ecdh-sha2-nistp256']);
    expect([...p].sort()).toEqual([...kex].sort());
    expect(p.slice(3)).toEqual(kex.filter((k) => !p.slice(0, 3).includes(k)));
  });

  it("keeps a policy's exclusions: a FIPS-style list gets nistp256 first and never curve25519", () => {
    const fips = ['ecdh-sha2-nistp384', 'ecdh-sha2-nistp256', 'diffie-hellman-group14-sha256'];
    expect(preferCheapKex(fips)).toEqual(['ecdh-sha2-nistp256', 'ecdh-sha2-nistp384', 'diffie-hellman-group14-sha256']);
  });

  it('changes nothing when the list already starts cheap or has nothing cheap', () => {
    expect(preferCheapKex(['curve25519-sha256', 'sntrup761x25519-sha512@openssh.com'])).toBeUndefined();
    expect(preferCheapKex(['ecdh-sha2-nistp256', 'curve25519-sha256'])).toBeUndefined();
    expect(preferCheapKex(['diffie-hellman-group16-sha512'])).toBeUndefined();
    expect(preferCheapKex([])).toBeUndefined();
  });
});
