// Running the built agent as Pacemaker would: a clean environment, OCF_*
// variables, inside a node's namespace.
import { spawnSync } from 'node:child_process';
import { shAsync } from './netns.js';
import { join } from 'node:path';

export const AGENT = join(__dirname, '..', '..', 'agents', 'ipsec');
export const CLEAN_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

export interface AgentRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The last ocf-exit-reason line, as pcs status would show it. */
  reason?: string;
  ms: number;
}

/** How Pacemaker calls the agent: a clean environment with OCF_* variables, in a node's namespace. */
function agentCall(ns: string | undefined, action: string, params: Record<string, string>, extraEnv: Record<string, string>, agent: string) {
  // One resource instance per tunnel, as Pacemaker names each resource its own.
  const env: Record<string, string> = { PATH: CLEAN_PATH, OCF_ROOT: '/usr/lib/ocf', OCF_RESOURCE_INSTANCE: instanceFor(params), ...extraEnv };
  for (const [k, v] of Object.entries(params)) env[`OCF_RESKEY_${k}`] = v;
  return { env, argv: ns ? ['ip', 'netns', 'exec', ns, agent, action] : [agent, action] };
}

/** The resource instance Pacemaker would run these parameters as. */
export function instanceFor(params: Record<string, string>): string {
  return params.tunnel && /^[A-Za-z0-9_.-]+$/.test(params.tunnel) ? `tripleo-ipsec-${params.tunnel}` : 'tripleo-ipsec-test';
}

function agentRun(code: number | null, stdout: string, stderr: string, startedAt: bigint): AgentRun {
  const reasons = stderr.split('\n').filter((l) => l.startsWith('ocf-exit-reason:'));
  return { code, stdout, stderr, reason: reasons.at(-1)?.slice('ocf-exit-reason:'.length), ms: Number(process.hrtime.bigint() - startedAt) / 1e6 };
}

export function runAgent(ns: string | undefined, action: string, params: Record<string, string>, extraEnv: Record<string, string> = {}, agent = AGENT): AgentRun {
  const { env, argv } = agentCall(ns, action, params, extraEnv, agent);
  const t = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env, timeout: 60_000 });
  return agentRun(r.status, r.stdout ?? '', r.stderr ?? '', t);
}

/** runAgent without blocking the event loop: several agents at once, and vitest's worker keeps answering. */
export async function runAgentAsync(ns: string | undefined, action: string, params: Record<string, string>, extraEnv: Record<string, string> = {}, agent = AGENT): Promise<AgentRun> {
  const { env, argv } = agentCall(ns, action, params, extraEnv, agent);
  const t = process.hrtime.bigint();
  const r = await shAsync(argv[0], argv.slice(1), { env, timeoutMs: 120_000 });
  return agentRun(r.status, r.stdout, r.stderr, t);
}
