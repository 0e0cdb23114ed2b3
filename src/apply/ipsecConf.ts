// Minimal, reversible edits of a node's ipsec.conf and ipsec.secrets: the
// operator's own settings stay as they are; what we add is marked, so that
// uninstall takes out exactly that.

export const MARK = '# tripleo-ipsec';

/**
 * ipsec.conf with `uniqueids=no` in `config setup` (the VIP responder's
 * peers share one id) and an include of our conn files. Lines we add or
 * change end with the marker; a line we replaced is kept, commented, right
 * above, so uninstall can restore it.
 */
export function withOurConfSettings(text: string, includeGlob: string): string {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const out: string[] = [];
  let inSetup = false;
  let sawSetup = false;
  let setUnique = false;
  for (const line of lines) {
    if (/^config\s+setup\s*(?:# tripleo-ipsec)?$/.test(line)) {
      inSetup = true;
      sawSetup = true;
      out.push(line);
      continue;
    }
    if (/^\S/.test(line) && !/^#/.test(line)) {
      if (inSetup && !setUnique) {
        out.push(`\tuniqueids=no ${MARK}`);
        setUnique = true;
      }
      inSetup = false;
    }
    if (inSetup && /^\s+uniqueids\s*=\s*no\s+# tripleo-ipsec$/.test(line)) setUnique = true;
    if (inSetup && /^\s+uniqueids\s*=/.test(line) && !line.includes(MARK)) {
      if (/=\s*no\s*$/.test(line)) setUnique = true;
      else {
        out.push(`#${line} ${MARK}-replaced`);
        out.push(`\tuniqueids=no ${MARK}`);
        setUnique = true;
        continue;
      }
    }
    out.push(line);
  }
  if (!sawSetup) out.unshift(`config setup ${MARK}`, `\tuniqueids=no ${MARK}`);
  else if (inSetup && !setUnique) out.push(`\tuniqueids=no ${MARK}`);
  const include = `include ${includeGlob}`;
  if (!out.some((l) => l.trim() === include || l.trim() === `${include} ${MARK}`)) out.push(`${include} ${MARK}`);
  return out.join('\n') + '\n';
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
