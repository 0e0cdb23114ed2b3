// Whether a process is still running, for telling a live writer's temporary
// files and locks from those a killed one left behind.
import { readFileSync } from 'node:fs';

/** Running (not a zombie). Our own pid counts as running. */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
