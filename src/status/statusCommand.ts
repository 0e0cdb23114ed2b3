// What status --inventory runs on each node, and how its answer is read.
// One `whack --status`, thinned on the node: each conn's description is
// about 20 lines, of which the parser reads two (its routing line and its
// oriented line), and a node holds hundreds of conns (726 KiB a node at 100
// nodes; 155 KiB thinned). awk keeps every line that is not a conn's, so the
// states, the guide's two lines and the section markers stay. whack's exit
// code travels as the last line (33: no pluto), since the pipeline's is
// awk's; a shell variable or pipefail would keep it too, but holding the
// dump in a variable cost dash 38 ms a MiB against 14 for the pipe.
import { WHACK } from '../libreswan/whack.js';

const EXIT_MARK = 'whack-exit';

// The empty line keeps the mark on a line of its own whatever whack's last line was.
export const STATUS_COMMAND = `sh -c '{ ${WHACK} --status; r=$?; echo; echo "${EXIT_MARK} $r"; } | awk "!/^(000 )?\\"/ || /eroute owner: #|oriented;/"'`;

export interface StatusAnswer {
  /** whack's own exit code; undefined when the answer was cut short (no last line). */
  whackExit?: number;
  /** What whack printed, thinned. */
  text: string;
}

export function readStatusAnswer(stdout: string): StatusAnswer {
  const body = stdout.replace(/\n+$/, '');
  const cut = body.lastIndexOf('\n') + 1;
  const m = new RegExp(`^${EXIT_MARK} (\\d+)$`).exec(body.slice(cut));
  if (!m) return { text: stdout };
  const text = body.slice(0, cut).replace(/\n+$/, '');
  return { whackExit: Number(m[1]), text: text ? `${text}\n` : '' };
}
