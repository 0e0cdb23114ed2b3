// The one renderer of status for people: status --plan and status --inventory
// print the same shape (summary, VIPs, problems), every value from a node or
// a saved output escaped.
import { describe, expect, it } from 'vitest';
import { renderStatus, type StatusReport } from '../../../src/status/statusReport.js';
import { renderOvercloudStatus } from '../../../src/status/overcloudReport.js';
import type { OvercloudReport } from '../../../src/status/overcloudStatus.js';

const ESC = '\x1b';
const LONG = 'overcloud-controller-0.rack4.example.com';

const plan = (over: Partial<StatusReport> = {}): StatusReport => ({
  ok: true,
  vips: [
    { vip: 'internal_api', address: '192.0.2.100', vipResource: 'ip-192.0.2.100', vipNode: LONG, tunnelResource: 't', tunnelNode: LONG, agree: true, peers: [{ node: 'c1', authenticated: true }, { node: 'cp0', authenticated: true }] },
    { vip: 'storage_mgmt', address: '2001:db8:30::100', vipResource: 'v', vipNode: 'c1', tunnelNode: LONG, tunnelResource: 't2', agree: false, peers: [{ node: 'c1', authenticated: null }] },
  ],
  nodes: [
    { node: LONG, online: true, standby: false, ikeSas: { total: 4, authenticated: 4, anonymous: 0 }, ipsecSas: { total: 8, authenticated: 8, anonymous: 0 }, down: [] },
    { node: 'c1', online: false, standby: false, ikeSas: null, ipsecSas: null, down: [] },
  ],
  failedActions: [],
  problems: [],
  ...over,
});

describe('status --plan for people', () => {
  it('the summary, where each VIP and its tunnel are, then only the problems, as status --inventory prints them', () => {
    const r = plan({ ok: false, problems: ['node c1 is offline', `t2 runs on ${LONG} but v on c1`] });
    expect(renderStatus(r)).toBe(
      [
        "PROBLEMS: 2 node(s), 1 OK, 1 with problems; peers authenticated with each VIP's holder: 2 of 3",
        `  VIP internal_api 192.0.2.100: on ${LONG} (Pacemaker)`,
        `  VIP storage_mgmt 2001:db8:30::100: on c1 (Pacemaker); its tunnel on ${LONG}`,
        '',
        '2 problem(s):',
        '  - node c1 is offline',
        `  - t2 runs on ${LONG} but v on c1`,
        '',
      ].join('\n'),
    );
    const inventory: OvercloudReport = { ok: false, nodes: [], vips: [{ vip: 'internal_api', address: '192.0.2.100', holder: LONG, from: 'crm_mon' }], summary: { nodes: 2, nodesOk: 1, tunnelsExpected: 3, tunnelsUp: 2 }, problems: ['node c1 is offline'] };
    const inv = renderOvercloudStatus(inventory, { colour: false }).split('\n');
    const pl = renderStatus(r).split('\n');
    // the same lines where the two say the same thing
    expect(inv[1]).toBe(pl[1]);
    expect(inv[3]).toBe('1 problem(s):');
    expect(inv[4]).toBe(pl[5]);
  });

  it('escapes what crm_mon and pluto said (node names, conn names, exit reasons), its own colours intact', () => {
    const hostile = `c1${ESC}]0;owned${String.fromCharCode(7)}`;
    const r = plan({ ok: false, vips: [{ ...plan().vips[0], vipNode: hostile, tunnelNode: hostile }], problems: [`failed start of t on ${hostile}: ${ESC}[2Jgone`] });
    const text = renderStatus(r, { colour: true });
    expect(text.replace(/\x1b\[(?:0|31|32)m/g, '')).not.toContain(ESC);
    expect(text).toContain('on c1\\x1b]0;owned');
    expect(text).toContain('\x1b[31mPROBLEMS\x1b[0m');
  });
});
