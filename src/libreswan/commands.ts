// Where libreswan's programs live and how we run them off the agent's hot
// path (generation, tests). The agent has its own lean client (pluto.ts).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const LIBEXEC = '/usr/libexec/ipsec';
export const IPSEC = '/usr/sbin/ipsec';

export function libreswanInstalled(): boolean {
  return existsSync(IPSEC) && existsSync(`${LIBEXEC}/pluto`);
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runSync(cmd: string, args: string[], timeoutMs = 10_000): RunResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error ? String(r.error) : '') };
}
