// The CLI's tables: every column as wide as its longest cell, so a long
// node name keeps its row in line.
import { describe, expect, it } from 'vitest';
import { generateSummary } from '../../../src/cli/generateSummary.js';
import { columns } from '../../../src/output/table.js';
import { generateFrom, small } from '../../helpers/inputs.js';

const LONG = 'overcloud-controller-0.rack4.example.com';

/** The cells of a line, cut where the header's words start: aligned columns cut cleanly. */
function cut(header: string, words: string[], line: string): string[] {
  const at = words.map((w) => header.indexOf(w));
  expect(at.every((x, i) => x >= 0 && (i === 0 || x > at[i - 1])), `${words.join('|')} in ${header}`).toBe(true);
  return at.map((x, i) => {
    if (x > 0) expect(line[x - 1], `column ${words[i]} of ${JSON.stringify(line)}`).toBe(' ');
    return line.slice(x, at[i + 1]).trim();
  });
}

describe('columns', () => {
  it('pads each column to its longest cell, header included, and not the last', () => {
    expect(columns([['a', 'bb', 'c'], ['ccc', 'd', 'eeee']])).toEqual(['a    bb  c', 'ccc  d   eeee']);
    expect(columns([['a', 'b']], { minWidths: [4], gap: 1 })).toEqual(['a    b']);
    expect(columns([['a', '']])).toEqual(['a']);
  });
});

describe('generate summary table', () => {
  it(`lines up with a ${LONG.length}-character host name`, () => {
    const g = generateFrom(small());
    const r = { ...g, hosts: g.hosts.map((h, i) => (i === 0 ? { ...h, host: LONG } : h)) };
    const out = generateSummary(r, '/out', { files: 1, bytes: 2, changed: 1, removed: 0 }).split('\n');
    const h = out.findIndex((l) => l.trim().startsWith('host '));
    const words = ['host', 'role', 'node-to-node', 'vip-tunnels', 'as-vip-holder', 'files'];
    expect(out[h].trim().split(/ {2,}/)).toEqual(words);
    for (const [i, host] of r.hosts.entries()) {
      const cells = cut(out[h], words, out[h + 1 + i]);
      expect(cells).toEqual([host.host, host.role + (host.pacemaker ? '*' : ''), String(host.nodeToNode), String(host.vipTunnels), String(host.vipHolderEnds), String(host.files)]);
    }
    // Networks and VIPs share their name column.
    const named = out.filter((l) => /^ {2}(network|vip) /.test(l));
    expect(named.length).toBe(r.overcloud.networks.length + r.overcloud.vips.length);
    expect(new Set(named.map((l) => l.search(/(?<=^ {2}\S+ +)\S/))).size).toBe(1);
  });
});
