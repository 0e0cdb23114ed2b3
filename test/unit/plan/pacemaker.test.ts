// The Pacemaker plan's timing: a start timeout that grows with the VIP's
// peers, and a failure-timeout so a failed start is retried.
import { describe, expect, it } from 'vitest';
import { FAILURE_TIMEOUT, pacemakerPlanFor, startTimeoutFor } from '../../../src/plan/pacemaker.js';

describe('the tunnel resource of a VIP', () => {
  it('gets a start timeout of 30 s and 40 ms a peer: 34 s at 100 peers, 50 at 500, 70 at 1,000', () => {
    expect([0, 100, 500, 1000].map(startTimeoutFor)).toEqual([30, 34, 50, 70]);
    const peers = Array.from({ length: 501 }, (_, i) => `overcloud-novacompute-${i}`);
    const plan = pacemakerPlanFor([{ name: 'internal_api', address: '192.0.2.5', vipResource: 'ip-192.0.2.5', peers }]);
    expect(plan.resources[0].startTimeout).toBe(50);
  });

  it('carries a failure-timeout, so a start that failed is tried again without an operator', () => {
    const plan = pacemakerPlanFor([{ name: 'internal_api', address: '192.0.2.5', vipResource: 'ip-192.0.2.5', peers: ['a', 'b'] }]);
    expect(plan.resources[0].meta).toEqual({ 'failure-timeout': FAILURE_TIMEOUT });
    expect(FAILURE_TIMEOUT).toBe('60s');
  });
});
