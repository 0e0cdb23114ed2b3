// A generated overcloud brought up for real: one namespace and one pluto
// per node on a shared bridge, with the node's generated etc/ipsec.d.
import { join } from 'node:path';
import type { Overcloud } from '../../src/model/types.js';
import { inSubnet, parseAddress, parseCidr } from '../../src/model/addresses.js';
import { Lab } from './netns.js';
import { startPluto, type Pluto } from './pluto.js';

export interface NodeLab {
  name: string;
  ns: string;
  pluto?: Pluto;
  ipsecdir: string;
}

/** The prefix length of `network`'s subnet (the one holding `address`, when the network has leaves). */
export function prefixOf(o: Overcloud, network: string, address?: string): number {
  const subnets = o.networks.find((n) => n.name === network)?.subnets ?? [];
  const a = address ? parseAddress(address) : undefined;
  const subnet = subnets.find((c) => !a || inSubnet(a, parseCidr(c)!)) ?? subnets[0];
  if (!subnet) throw new Error(`test overclouds need subnets (network ${network})`);
  return Number(subnet.split('/')[1]);
}

/** Namespaces with each node's addresses; VIPs on `vipHolder`. Plutos are started separately. */
export function buildOvercloudLab(lab: Lab, o: Overcloud, outDir: string, vipHolder?: string): Map<string, NodeLab> {
  const nodes = new Map<string, NodeLab>();
  o.nodes.forEach((n, i) => {
    const ns = lab.addHost(`n${i}`);
    for (const [net, addr] of Object.entries(n.addresses)) lab.addAddress(ns, `${addr}/${prefixOf(o, net, addr)}`);
    if (n.name === vipHolder) for (const v of o.vips) lab.addAddress(ns, `${v.address}/${prefixOf(o, v.network, v.address)}`);
    nodes.set(n.name, { name: n.name, ns, ipsecdir: join(outDir, n.name, 'etc', 'ipsec.d') });
  });
  return nodes;
}

export function startPlutos(lab: Lab, nodes: Map<string, NodeLab>, workDir: string) {
  for (const n of nodes.values()) n.pluto = startPluto(lab, n.ns, join(workDir, 'pluto', n.name), n.ipsecdir);
}
