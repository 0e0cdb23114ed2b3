// Minimal, reversible edits of a node's ipsec.conf and ipsec.secrets: the
// operator's own settings stay as they are; what we add is marked, so that
// uninstall takes out exactly that.

const MARK = '# tripleo-ipsec';

/**
 * ipsec.conf with pluto's default `uniqueids=yes` in force (a peer that
 * authenticates again replaces its stale SA; the Ansible role set `no`) and
 * an include of our conn files. Lines we add or change end with the marker;
 * a line we replaced is kept, commented, right above, so uninstall can
 * restore it. A `uniqueids=no` we wrote ourselves in an earlier version is
 * dropped. The second include is the agent's run directory, where the node
 * holding a VIP has that VIP's holder file linked.
 */
export function withOurConfSettings(text: string, includeGlobs: string[]): string {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const out: string[] = [];
  let inSetup = false;
  for (const line of lines) {
    if (/^config\s+setup\s*(?:# tripleo-ipsec)?$/.test(line)) {
      inSetup = true;
      out.push(line);
      continue;
    }
    if (/^\S/.test(line) && !/^#/.test(line)) inSetup = false;
    const unique = inSetup ? /^\s+uniqueids\s*=\s*(\S+)/.exec(line) : null;
    if (unique && line.endsWith(MARK)) {
      if (unique[1] === 'yes') out.push(line);
      continue;
    }
    if (unique && unique[1] !== 'yes') {
      out.push(`#${line} ${MARK}-replaced`);
      out.push(`\tuniqueids=yes ${MARK}`);
      continue;
    }
    out.push(line);
  }
  for (const glob of includeGlobs) {
    const include = `include ${glob}`;
    if (!out.some((l) => l.trim() === include || l.trim() === `${include} ${MARK}`)) out.push(`${include} ${MARK}`);
  }
  // A `config setup` we added (earlier versions) that holds nothing now goes too.
  return out.filter((l, i) => !(l === `config setup ${MARK}` && !(out[i + 1] ?? '').startsWith('\t'))).join('\n') + '\n';
}

/** ipsec.secrets with an include of our secrets files. */
export function withOurSecretsInclude(text: string, includeGlob: string): string {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const include = `include ${includeGlob}`;
  if (!lines.some((l) => l.trim() === include || l.trim() === `${include} ${MARK}`)) lines.push(`${include} ${MARK}`);
  return lines.join('\n') + '\n';
}

/** Undo both: drop marked lines, uncomment what we replaced. */
export function withoutOurSettings(text: string): string {
  const out: string[] = [];
  for (const line of text.replace(/\n$/, '').split('\n')) {
    if (line.endsWith(`${MARK}-replaced`)) out.push(line.slice(1, -` ${MARK}-replaced`.length));
    else if (!line.endsWith(MARK)) out.push(line);
  }
  return out.join('\n') + '\n';
}
