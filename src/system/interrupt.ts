// Clean-ups that must run when the operator interrupts a run (Ctrl-C,
// SIGTERM, a closed terminal), not only when it fails: staging files hold
// keys. The process then exits as the signal would have had it (128 + n).
// A kill -9 runs nothing: the next run sweeps what was left.
import { constants } from 'node:os';

const pending = new Set<() => void>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function onSignal(signal: NodeJS.Signals): void {
  for (const fn of [...pending].reverse()) {
    try {
      fn();
    } catch {
      /* keep cleaning */
    }
  }
  process.exit(128 + (constants.signals[signal] ?? 1));
}

/** Run `fn` if the process is interrupted before the returned function is called. */
export function onInterrupt(fn: () => void): () => void {
  if (pending.size === 0) for (const s of SIGNALS) process.on(s, onSignal);
  pending.add(fn);
  return () => {
    pending.delete(fn);
    if (pending.size === 0) for (const s of SIGNALS) process.off(s, onSignal);
  };
}
