import { describe, expect, it } from 'vitest';
import { fileMap, generateFrom, small, TEST_PSK } from '../helpers/inputs.js';
import { syntheticOvercloud, toDynamicJson, toStaticYaml } from '../helpers/synthetic.js';
import { parse } from 'yaml';
import { initiatesTo } from '../../src/plan/tunnels.js';

function connNamesOf(content: string): string[] {
  return [...content.matchAll(/^conn (\S+)$/gm)].map((m) => m[1]);
}

describe('generate: tunnels per host', () => {
  const { inventory, networkData } = small();
  const r = generateFrom({ inventory, networkData });
  const files = fileMap(r.files);

  it('gives every node a tunnel to every other node on each shared isolated network, ctlplane excluded', () => {
    const c0 = files.get('overcloud-controller-0/etc/ipsec.d/overcloud-internal_api.conf')!;
    expect(connNamesOf(c0)).toEqual([
      'overcloud-internal_api-to-overcloud-controller-1',
      'overcloud-internal_api-to-overcloud-controller-2',
      'overcloud-internal_api-to-overcloud-novacompute-0',
      'overcloud-internal_api-to-overcloud-novacompute-1',
    ]);
    // ceph is on storage and storage_mgmt only
    expect([...files.keys()].filter((p) => p.startsWith('overcloud-cephstorage-0/etc/ipsec.d/') && p.endsWith('.conf')).sort()).toEqual([
      'overcloud-cephstorage-0/etc/ipsec.d/overcloud-storage-vip.conf',
      'overcloud-cephstorage-0/etc/ipsec.d/overcloud-storage.conf',
      'overcloud-cephstorage-0/etc/ipsec.d/overcloud-storage_mgmt-vip.conf',
      'overcloud-cephstorage-0/etc/ipsec.d/overcloud-storage_mgmt.conf',
    ]);
    expect([...files.keys()].some((p) => p.includes('ctlplane'))).toBe(false);
  });

  it('writes IPv6 tunnels with IPv6 endpoints', () => {
    const conf = files.get('overcloud-cephstorage-0/etc/ipsec.d/overcloud-storage_mgmt.conf')!;
    expect(conf).toMatch(/^\tleft=2001:db8:30::15$/m);
    expect(conf).toMatch(/^\tright=2001:db8:30::10$/m);
  });

  it('both ends of a node-to-node tunnel hold the same derived key, and no other node holds it', () => {
    const keyOf = (text: string, a: string, b: string) => new RegExp(`^${a.replace(/\./g, '\\.')} ${b.replace(/\./g, '\\.')} : PSK "([^"]+)"$`, 'm').exec(text)?.[1];
    const a = files.get('overcloud-controller-0/etc/ipsec.d/overcloud-storage.secrets')!;
    const b = files.get('overcloud-novacompute-1/etc/ipsec.d/overcloud-storage.secrets')!;
    const k = keyOf(a, '198.51.100.10', '198.51.100.14')!;
    expect(k).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(keyOf(b, '198.51.100.14', '198.51.100.10')).toBe(k);
    expect(k).not.toBe(TEST_PSK);
    const holders = r.files.filter((f) => f.content.includes(k)).map((f) => f.path.split('/')[0]).sort();
    expect(holders).toEqual(['overcloud-controller-0', 'overcloud-novacompute-1']);
    // every pair its own key; the master itself is in no file
    const all = r.files.filter((f) => f.path.endsWith('.secrets')).flatMap((f) => [...f.content.matchAll(/PSK "([^"]+)"/g)].map((m) => m[1]));
    expect(new Set(all).size).toBeGreaterThan(20);
    for (const f of r.files) expect(f.content, f.path).not.toContain(TEST_PSK);
  });

  it('gives every VIP peer its own derived key: the holder knows them all, a compute only its own; ipsec_psk_mode=shared writes the master everywhere', () => {
    const linesOf = (p: string) => files.get(p)!.split('\n').filter((l) => l.includes(': PSK'));
    const ctl = linesOf('overcloud-controller-0/etc/ipsec.d/overcloud-internal_api-vip.secrets');
    const cmp = linesOf('overcloud-novacompute-1/etc/ipsec.d/overcloud-internal_api-vip.secrets');
    const peersOnInternalApi = r.overcloud.nodes.filter((n) => n.addresses.internal_api).length;
    expect(ctl).toHaveLength(peersOnInternalApi);
    expect(cmp).toEqual([expect.stringMatching(/^@internal_apivip @overcloud-novacompute-1\.internal_apivip : PSK "/)]);
    expect(ctl).toContain(cmp[0]);
    expect(new Set(ctl.map((l) => /PSK "([^"]+)"/.exec(l)![1])).size).toBe(peersOnInternalApi);
    expect(files.get('overcloud-novacompute-1/etc/ipsec.d/overcloud-redis-vip.secrets')).not.toContain(/PSK "([^"]+)"/.exec(cmp[0])![1]);
    const { inventory, networkData } = small();
    const shared = generateFrom({ inventory, networkData, env: { parameter_defaults: { IpsecVars: { ipsec_psk: TEST_PSK, ipsec_psk_mode: 'shared' } } } });
    const sf = fileMap(shared.files);
    expect(sf.get('overcloud-controller-0/etc/ipsec.d/overcloud-storage.secrets')).toContain(`198.51.100.10 198.51.100.14 : PSK "${TEST_PSK}"`);
  });

  it('lets exactly one end of each node pair initiate: the numerically lower address (auto=start), the other routes (auto=route)', () => {
    const autoOf = (host: string, net: string, peer: string) =>
      new RegExp(`conn overcloud-${net}-to-${peer}\\n(?:\\t.*\\n)*?\\tauto=(\\w+)`).exec(files.get(`${host}/etc/ipsec.d/overcloud-${net}.conf`)!)?.[1];
    const nodes = r.overcloud.nodes;
    let pairs = 0;
    for (const a of nodes) for (const b of nodes) {
      if (a === b || !a.addresses.internal_api || !b.addresses.internal_api) continue;
      const pair = [autoOf(a.name, 'internal_api', b.name), autoOf(b.name, 'internal_api', a.name)].sort();
      expect(pair, `${a.name} <-> ${b.name}`).toEqual(['route', 'start']);
      pairs++;
    }
    expect(pairs).toBeGreaterThan(10);
    // 192.0.2.10 < 192.0.2.9 as text, not as a number: the rule is numeric.
    expect(initiatesTo('192.0.2.9', '192.0.2.10')).toBe(true);
    expect(initiatesTo('192.0.2.10', '192.0.2.9')).toBe(false);
    expect(initiatesTo('2001:db8::9', '2001:db8::10')).toBe(true);
  });

  it('liveness: the initiating end of a node pair restarts, the answering end clears; a VIP holder\'s end clears (pluto revives it alone), and so does a VIP peer\'s end', () => {
    const optsOf = (text: string, conn: string) => Object.fromEntries([...new RegExp(`conn ${conn}\\n((?:\\t.*\\n)*)`).exec(text)![1].matchAll(/\t(\w+)=(.*)/g)].map((m) => [m[1], m[2]]));
    const dpd = (o: Record<string, string>) => [o.auto, o.dpddelay, o.dpdaction];
    let checked = 0;
    for (const [path, text] of files) {
      if (!/\.conf$/.test(path)) continue;
      for (const [, conn] of text.matchAll(/^conn (\S+)/gm)) {
        const o = optsOf(text, conn);
        if (/-to-/.test(conn) && !/-vip-tunnel-/.test(conn)) expect(dpd(o), conn).toEqual(o.auto === 'start' ? ['start', '5s', 'restart'] : ['route', '5s', 'clear']);
        else if (/-vip-tunnel-to-/.test(conn)) expect(dpd(o), conn).toEqual(['start', '5s', 'clear']);
        else if (/-vip-tunnel$/.test(conn)) expect(dpd(o), conn).toEqual(['add', '5s', 'clear']);
        else continue;
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('rotating the master rotates every derived key', () => {
    const { inventory, networkData } = small();
    const other = generateFrom({ inventory, networkData, env: { parameter_defaults: { IpsecVars: { ipsec_psk: TEST_PSK + 'x' } } } });
    const keys = (fs: { path: string; content: string }[]) => new Set(fs.filter((f) => f.path.endsWith('.secrets')).flatMap((f) => [...f.content.matchAll(/PSK "([^"]+)"/g)].map((m) => m[1])));
    const before = keys(r.files);
    for (const k of keys(other.files)) expect(before.has(k)).toBe(false);
  });

  it('gives every node of the network its end of the VIP tunnel, and cluster nodes the VIP\'s ends towards every peer, outside the *.conf glob', () => {
    const ctl = files.get('overcloud-controller-1/etc/ipsec.d/overcloud-internal_api-vip.conf')!;
    const cmp = files.get('overcloud-novacompute-0/etc/ipsec.d/overcloud-internal_api-vip.conf')!;
    for (const f of [ctl, cmp]) {
      expect(connNamesOf(f)).toEqual(['overcloud-internal_api-vip-tunnel']);
      // answers any holder that authenticates as the VIP and carries the VIP as its selector; never initiates
      expect(f).toMatch(/conn overcloud-internal_api-vip-tunnel\n\tleft=192\.0\.2\.\d+\n\tleftid=@overcloud-[a-z]+-\d\.internal_apivip\n\tright=%any\n\trightid=@internal_apivip\n\trightsubnet=192\.0\.2\.5\/32\n/);
      expect(f).toMatch(/\tauto=add\n$/);
    }
    const holder = files.get('overcloud-controller-1/etc/ipsec.d/overcloud-vip-holder/overcloud-internal_api-vip-tunnel.conf')!;
    const peers = [...files.keys()].filter((p) => p.endsWith('/etc/ipsec.d/overcloud-internal_api-vip.conf')).map((p) => p.split('/')[0]).filter((h) => h !== 'overcloud-controller-1');
    expect(connNamesOf(holder).sort()).toEqual(peers.map((p) => `overcloud-internal_api-vip-tunnel-to-${p}`).sort());
    // from this node's own address (pluto never listens on the VIP), the VIP as selector and id
    // the peer's id is not its address: that is its node-to-node tunnel's, from the same address pair
    expect(holder).toMatch(/conn overcloud-internal_api-vip-tunnel-to-overcloud-novacompute-0\n\tleft=192\.0\.2\.\d+\n\tleftid=@internal_apivip\n\tleftsubnet=192\.0\.2\.5\/32\n\tright=192\.0\.2\.\d+\n\trightid=@overcloud-novacompute-0\.internal_apivip\n/);
    expect(holder.match(/\tauto=start\n/g)).toHaveLength(peers.length);
    expect(files.has('overcloud-novacompute-0/etc/ipsec.d/overcloud-vip-holder/overcloud-internal_api-vip-tunnel.conf')).toBe(false);
    // a compute holds only its own VIP key; a cluster node every peer's (it may hold the VIP)
    expect(files.get('overcloud-novacompute-0/etc/ipsec.d/overcloud-internal_api-vip.secrets')!.trim().split('\n').filter((l) => l.includes('PSK'))).toHaveLength(1);
    expect(files.get('overcloud-controller-1/etc/ipsec.d/overcloud-internal_api-vip.secrets')!.trim().split('\n').filter((l) => l.includes('PSK'))).toHaveLength(peers.length + 1);
  });

  it('places redis_vip on the network whose subnet holds it', () => {
    expect(r.overcloud.vips.find((v) => v.name === 'redis')).toEqual({ name: 'redis', network: 'internal_api', address: '192.0.2.6' });
    expect(files.has('overcloud-novacompute-0/etc/ipsec.d/overcloud-redis-vip.conf')).toBe(true);
    expect(files.has('overcloud-cephstorage-0/etc/ipsec.d/overcloud-redis-vip.conf')).toBe(false);
  });

  it('sets modes: conf 0640, secrets 0600', () => {
    for (const f of r.files) {
      if (f.path.endsWith('.secrets') || f.path.endsWith('ipsec-psk.yaml')) expect(f.mode, f.path).toBe(0o600);
      if (f.path.endsWith('.conf')) expect(f.mode, f.path).toBe(0o640);
    }
  });

  it('starts every file in ipsec.d with overcloud-', () => {
    for (const f of r.files) {
      const m = /etc\/ipsec\.d\/(?:policies\/|overcloud-vip-holder\/)?([^/]+)$/.exec(f.path);
      if (m) expect(m[1]).toMatch(/^overcloud-/);
    }
  });

  it('writes firewall rules for IKE, ESP and AH from the isolated subnets only', () => {
    const v4 = files.get('overcloud-controller-0/etc/tripleo-ipsec/ipsec.iptables')!;
    expect(v4).toContain('-A TRIPLEO-IPSEC -s 192.0.2.0/24 -p udp -m multiport --dports 500,4500');
    expect(v4).toContain('-A TRIPLEO-IPSEC -s 198.51.100.0/24 -p esp');
    expect(v4).toContain('-A TRIPLEO-IPSEC -s 203.0.113.0/24 -p ah');
    expect(v4).not.toContain('2001:db8');
    const v6 = files.get('overcloud-controller-0/etc/tripleo-ipsec/ipsec.ip6tables')!;
    expect(v6).toContain('-s 2001:db8:30::/64 -p udp');
    const nft = files.get('overcloud-controller-0/etc/tripleo-ipsec/ipsec.nft')!;
    expect(nft).toContain('ip6 saddr 2001:db8:30::/64 meta l4proto { esp, ah }');
    expect(nft).toContain('ip saddr 192.0.2.0/24 udp dport { 500, 4500 }');
  });

  it('with ipsec_policy private, guards every VIP on output: no packet to it, or from it on a cluster node, leaves without an IPsec policy', () => {
    const cmp = files.get('overcloud-novacompute-0/etc/tripleo-ipsec/ipsec.iptables')!;
    expect(cmp).toContain(':TRIPLEO-IPSEC-OUT - [0:0]');
    expect(cmp).toContain('-A TRIPLEO-IPSEC-OUT -d 192.0.2.5/32 ! -o lo -m policy --dir out --pol none -m comment --comment "tripleo-ipsec internal_api VIP never in clear" -j DROP');
    // a compute never holds a VIP: nothing about the VIP as source
    expect(cmp).not.toMatch(/-A TRIPLEO-IPSEC-OUT -s /);
    const ctl = files.get('overcloud-controller-0/etc/tripleo-ipsec/ipsec.iptables')!;
    expect(ctl).toContain('-A TRIPLEO-IPSEC-OUT -s 192.0.2.5/32 -d 192.0.2.0/24 ! -o lo -m policy --dir out --pol none');
    const v6 = files.get('overcloud-controller-0/etc/tripleo-ipsec/ipsec.ip6tables')!;
    expect(v6).toContain('-A TRIPLEO-IPSEC-OUT -d 2001:db8:30::5/128 ! -o lo -m policy --dir out --pol none');
    const nft = files.get('overcloud-controller-0/etc/tripleo-ipsec/ipsec.nft')!;
    expect(nft).toContain('add rule inet tripleo_ipsec output ip daddr 192.0.2.5/32 oifname != "lo" rt ipsec missing counter drop');
    // private-or-clear lets unprotected traffic through by definition: no guard
    const poc = generateFrom({ inventory, networkData, env: { parameter_defaults: { IpsecVars: { ipsec_psk: TEST_PSK, ipsec_policy: 'private-or-clear' } } } });
    const pocCmp = poc.files.find((f) => f.path === 'overcloud-novacompute-0/etc/tripleo-ipsec/ipsec.iptables')!.content;
    expect(pocCmp).toContain(':TRIPLEO-IPSEC-OUT - [0:0]');
    expect(pocCmp).not.toContain('-A TRIPLEO-IPSEC-OUT');
    expect(pocCmp).not.toContain('-A TRIPLEO-IPSEC-PEERS');
  });

  it('with ipsec_policy private, guards every peer of a node-to-node tunnel on output: IKE, ESP and covered traffic pass first, only the isolated subnets walk the peer list', () => {
    const rules = (host: string, file = 'ipsec.iptables') => files.get(`${host}/etc/tripleo-ipsec/${file}`)!.split('\n');
    const cmp = rules('overcloud-novacompute-0');
    const out = cmp.filter((l) => l.startsWith('-A TRIPLEO-IPSEC-OUT '));
    const firstPeerRule = out.findIndex((l) => l.includes('-j TRIPLEO-IPSEC-PEERS'));
    // what passes comes before the jump to the peer list, the VIP guards before both
    expect(out.slice(0, firstPeerRule).map((l) => l.replace(/ -m comment --comment "[^"]*"/, ''))).toEqual([
      ...out.filter((l) => l.includes('VIP never in clear')),
      '-A TRIPLEO-IPSEC-OUT -o lo -j RETURN',
      '-A TRIPLEO-IPSEC-OUT -m policy --dir out --pol ipsec -j RETURN',
      '-A TRIPLEO-IPSEC-OUT -p esp -j RETURN',
      '-A TRIPLEO-IPSEC-OUT -p udp -m multiport --sports 500,4500 -j RETURN',
    ].map((l) => l.replace(/ -m comment --comment "[^"]*"/, '')));
    expect(out.slice(firstPeerRule)).toEqual(['-A TRIPLEO-IPSEC-OUT -d 192.0.2.0/24 -j TRIPLEO-IPSEC-PEERS', '-A TRIPLEO-IPSEC-OUT -d 198.51.100.0/24 -j TRIPLEO-IPSEC-PEERS', '-A TRIPLEO-IPSEC-OUT -d 203.0.113.0/24 -j TRIPLEO-IPSEC-PEERS']);
    // exactly the peers of its node-to-node conns, one DROP each
    const plan = r.plans.find((p) => p.node.name === 'overcloud-novacompute-0')!;
    const peerAddrs = plan.files.flatMap((f) => f.conns.filter((c) => c.kind === 'node-to-node' && plan.node.addresses[c.network]?.includes('.')).map((c) => `${r.overcloud.nodes.find((n) => n.name === c.peer)!.addresses[c.network]}/32`));
    expect(peerAddrs.length).toBeGreaterThan(3);
    const drops = cmp.filter((l) => l.startsWith('-A TRIPLEO-IPSEC-PEERS ')).map((l) => /-d (\S+) .* -j DROP$/.exec(l)?.[1]);
    expect(drops.sort()).toEqual(peerAddrs.sort());
    // IPv6: neighbour discovery passes, the peers are /128
    const v6 = rules('overcloud-controller-0', 'ipsec.ip6tables');
    expect(v6).toContain('-A TRIPLEO-IPSEC-OUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -m comment --comment "tripleo-ipsec peers: covered or IKE/ESP" -j RETURN');
    expect(v6.some((l) => /^-A TRIPLEO-IPSEC-PEERS -d 2001:db8:30::\w+\/128 .* -j DROP$/.test(l))).toBe(true);
    // nft: the same, the peers as a set
    const nft = rules('overcloud-novacompute-0', 'ipsec.nft');
    expect(nft).toContain('add rule inet tripleo_ipsec output ip daddr @peers4 oifname != "lo" rt ipsec missing counter drop comment "tripleo-ipsec peer never in clear"');
    const elements = /^add element inet tripleo_ipsec peers4 \{ (.*) \}$/.exec(nft.find((l) => l.startsWith('add element inet tripleo_ipsec peers4 ')) ?? '')?.[1].split(', ');
    expect(elements?.sort()).toEqual(peerAddrs.sort());
  });

  it('keeps the PSK out of summary.json', () => {
    expect(JSON.parse(files.get('summary.json')!).vars.ipsec_psk_mode).toBe('derived');
    const s = files.get('summary.json')!;
    expect(s).not.toContain(TEST_PSK);
    expect(JSON.parse(s).hosts).toHaveLength(6);
  });
});

describe('generate: determinism and stable names', () => {
  it('is byte-identical whatever the order of hosts and groups in the inventory', () => {
    const { inventory, networkData } = small();
    const a = generateFrom({ inventory, networkData });
    const reversed = Object.fromEntries(
      Object.entries(inventory).reverse().map(([g, body]) => {
        const b = body as Record<string, unknown>;
        return [g, b.hosts ? { ...b, hosts: Object.fromEntries(Object.entries(b.hosts as object).reverse()) } : b];
      }),
    );
    const b = generateFrom({ inventory: reversed, networkData: [...networkData].reverse() });
    expect(b.files).toEqual(a.files);
  });

  it('reads the dynamic-inventory JSON exactly like the static YAML', () => {
    const { inventory, networkData } = small();
    const a = generateFrom({ inventory: toStaticYaml(inventory), networkData });
    const b = generateFrom({ inventory: toDynamicJson(inventory), networkData });
    expect(b.files).toEqual(a.files);
  });

  it('never renames a node\'s existing tunnels when other hosts are added or removed', () => {
    const before = syntheticOvercloud({ controllers: 3, computes: 3 });
    const after = syntheticOvercloud({ controllers: 3, computes: 5 });
    // remove novacompute-1 from "after"
    delete (after.inventory.Compute as { hosts: Record<string, unknown> }).hosts['overcloud-novacompute-1'];
    const a = fileMap(generateFrom(before).files);
    const b = fileMap(generateFrom(after).files);
    const confA = a.get('overcloud-controller-0/etc/ipsec.d/overcloud-internal_api.conf')!;
    const confB = b.get('overcloud-controller-0/etc/ipsec.d/overcloud-internal_api.conf')!;
    const kept = connNamesOf(confA).filter((n) => !n.endsWith('novacompute-1'));
    for (const name of kept) {
      // same name, same body
      const body = (c: string) => c.split('\n\n').find((blk) => blk.includes(`conn ${name}\n`))?.trimEnd();
      expect(body(confB), name).toBe(body(confA));
    }
    expect(connNamesOf(confB)).not.toContain('overcloud-internal_api-to-overcloud-novacompute-1');
    expect(connNamesOf(confB)).toContain('overcloud-internal_api-to-overcloud-novacompute-4');
  });
});

describe('generate: modes and variables', () => {
  it('writes opportunistic conns and policy files instead of the mesh, and no VIP tunnel (their %any template would take the opportunistic negotiations)', () => {
    const { inventory, networkData } = small();
    const r = generateFrom({ inventory, networkData, env: { parameter_defaults: { IpsecVars: { use_opportunistic_ipsec: true, ipsec_policy: 'private-or-clear' } } } });
    const files = fileMap(r.files);
    const conf = files.get('overcloud-controller-0/etc/ipsec.d/overcloud-private-or-clear-internal_api.conf')!;
    expect(conf).toContain('right=%opportunisticgroup');
    expect(conf).toContain('authby=null');
    expect(conf).toContain('failureshunt=passthrough');
    expect(files.get('overcloud-controller-0/etc/ipsec.d/policies/overcloud-private-or-clear-internal_api')).toMatch(/^192\.0\.2\.0\/24$/m);
    expect([...files.keys()].filter((p) => p.includes('-vip'))).toEqual([]);
    expect([...files.keys()].filter((p) => p.endsWith('.secrets'))).toEqual([]);
    expect(files.has('ipsec-psk.yaml')).toBe(false);
    expect(r.pacemaker.resources).toEqual([]);
    const noVips = generateFrom({ inventory, networkData, env: { parameter_defaults: { IpsecVars: { use_opportunistic_ipsec: true, ipsec_configure_vips: false } } } });
    expect(noVips.files.some((f) => f.path.endsWith('.secrets') || f.path === 'ipsec-psk.yaml')).toBe(false);
  });

  it('skips networks, VIPs and firewall rules when told to', () => {
    const { inventory, networkData } = small();
    const r = generateFrom({
      inventory,
      networkData,
      env: { parameter_defaults: { IpsecVars: { ipsec_psk: TEST_PSK, ipsec_skip_networks: ['tenant'], ipsec_configure_vips: false, ipsec_skip_firewall_rules: true } } },
    });
    const paths = r.files.map((f) => f.path);
    expect(paths.some((p) => p.includes('tenant'))).toBe(false);
    expect(paths.some((p) => p.includes('-vip.'))).toBe(false);
    expect(paths.some((p) => p.includes('etc/tripleo-ipsec/'))).toBe(false);
  });

  it('gives every conn of every mode the IKE proposal with DH19 first and MODP2048 still accepted', () => {
    const { inventory, networkData } = small();
    for (const vars of [{ ipsec_psk: TEST_PSK }, { ipsec_psk: TEST_PSK, ipsec_psk_mode: 'shared' }, { use_opportunistic_ipsec: true }]) {
      const r = generateFrom({ inventory, networkData, env: { parameter_defaults: { IpsecVars: vars } } });
      const confs = r.files.filter((f) => f.path.endsWith('.conf') && f.path.includes('/etc/ipsec.d/'));
      expect(confs.length, JSON.stringify(vars)).toBeGreaterThan(0);
      for (const f of confs) {
        const conns = f.content.split(/^conn /m).slice(1);
        for (const c of conns) expect(c, `${f.path} ${c.split('\n')[0]}`).toContain('\tike=aes_gcm256-sha2_512-dh19+dh20+dh21+modp2048\n');
      }
    }
  });

  it('lets later environments and --set win over earlier ones', () => {
    const { inventory, networkData } = small();
    const r = generateFrom({ inventory, networkData }, { sets: ['ipsec_algorithm=aes_gcm256-null'] });
    expect(r.overcloud.vars.ipsec_algorithm).toBe('aes_gcm256-null');
    expect(fileMap(r.files).get('overcloud-controller-0/etc/ipsec.d/overcloud-storage.conf')).toContain('phase2alg=aes_gcm256-null');
  });

  it('generates a strong PSK when none is given and writes it only to a 0600 file and the secrets', () => {
    const { inventory, networkData } = small();
    const r = generateFrom({ inventory, networkData, env: {} });
    expect(r.psk).toBe('generated');
    const f = r.files.find((x) => x.path === 'ipsec-psk.yaml')!;
    expect(f.mode).toBe(0o600);
    const psk = (parse(f.content) as { parameter_defaults: { IpsecVars: { ipsec_psk: string } } }).parameter_defaults.IpsecVars.ipsec_psk;
    expect(Buffer.from(psk, 'base64')).toHaveLength(48);
    for (const x of r.files) if (x.content.includes(psk)) expect(x.mode, x.path).toBe(0o600);
  });

  it('falls back to the inventory\'s <net>_cidr without network_data, and says so', () => {
    const { inventory } = small();
    for (const role of ['Controller', 'Compute', 'CephStorage']) {
      const hosts = (inventory[role] as { hosts: Record<string, Record<string, unknown>> }).hosts;
      for (const h of Object.values(hosts)) {
        h.internal_api_cidr = 24;
        h.storage_cidr = 24;
        h.storage_mgmt_cidr = 64;
        h.tenant_cidr = '24';
      }
    }
    const r = generateFrom({ inventory });
    expect(r.overcloud.networks.map((n) => [n.name, n.subnets, n.subnetSource])).toEqual([
      ['internal_api', ['192.0.2.0/24'], 'inventory'],
      ['storage', ['198.51.100.0/24'], 'inventory'],
      ['storage_mgmt', ['2001:db8:30::/64'], 'inventory'],
      ['tenant', ['203.0.113.0/24'], 'inventory'],
    ]);
    expect(r.overcloud.notes.join('\n')).toMatch(/no network_data\.yaml given/);
  });

  it('limits output to --host', () => {
    const { inventory, networkData } = small();
    const r = generateFrom({ inventory, networkData }, { hosts: ['overcloud-novacompute-0'] });
    const hosts = new Set(r.files.filter((f) => f.path.includes('/') && !f.path.startsWith('cluster/')).map((f) => f.path.split('/')[0]));
    expect([...hosts]).toEqual(['overcloud-novacompute-0']);
  });
});
