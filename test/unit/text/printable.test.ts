// What reaches an operator's terminal: control sequences from nodes, files
// or arguments shown escaped, never raw; secrets never at all.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { printable, printableLine } from '../../../src/text/printable.js';
import { handleError } from '../../../src/cli/handleError.js';
import { EnvironmentError, InputError } from '../../../src/model/errors.js';
import { forgetSecrets, rememberSecret } from '../../../src/secrets/redaction.js';
import { renderOvercloudStatus } from '../../../src/status/overcloudReport.js';
import type { OvercloudReport } from '../../../src/status/overcloudStatus.js';
import { scratchDir, small, TEST_PSK, writeInputs } from '../../helpers/inputs.js';

const ESC = '\x1b';
// What a hostile banner or conn name would carry: retitle the terminal, clear the screen, a bidi override.
const HOSTILE = `${ESC}]0;owned${'\x07'}${ESC}[2J\u202eevil\r`;

describe('printable', () => {
  it('escapes C0 and C1 controls, DEL and invisible formatting characters; keeps newlines and tabs', () => {
    expect(printable(`a${HOSTILE}\tb\n`)).toBe('a\\x1b]0;owned\\x07\\x1b[2J\\u202eevil\\x0d\tb\n');
    expect(printable('\x9b31m \x7f \u200b')).toBe('\\x9b31m \\x7f \\u200b');
    expect(printable('plain text, ü, 日本')).toBe('plain text, ü, 日本');
    expect(printableLine('two\nlines')).toBe('two\\x0alines');
  });
});

describe("the CLI's one error handler", () => {
  const handled = (e: unknown, debug = false) => {
    let out = '';
    handleError(e, { debug, write: (t) => (out += t) });
    return out;
  };
  afterAll(() => forgetSecrets());

  it('escapes control characters in any message, its stack and causes included', () => {
    const out = handled(new EnvironmentError(`node said ${HOSTILE}`, { cause: new Error(`${ESC}[31mred`) }), true);
    expect(out).not.toContain(ESC);
    expect(out).toContain('node said \\x1b]0;owned');
    expect(out).toContain('caused by: Error: \\x1b[31mred');
  });

  it('never prints a remembered secret, in the message, the stack or a cause', () => {
    rememberSecret(TEST_PSK);
    const out = handled(new InputError(`bad value ${TEST_PSK}`, { cause: new Error(`excerpt: ipsec_psk: ${TEST_PSK}`) }), true);
    expect(out).not.toContain(TEST_PSK);
    expect(out).toContain('bad value <redacted>');
  });
});

describe('status --inventory for people', () => {
  it("shows a node's banner and pluto's conn names escaped, with its own colours intact", () => {
    const r: OvercloudReport = {
      ok: false,
      nodes: [],
      vips: [{ vip: 'internal_api', address: '192.0.2.100', holder: `c0${HOSTILE}`, from: 'pluto' }],
      summary: { nodes: 1, nodesOk: 0, tunnelsExpected: 1, tunnelsUp: 0 },
      problems: [`c0: cannot be reached: ${HOSTILE}Permission denied`, `c0: conn overcloud-x${ESC}[2J is loaded but not in the plan`],
    };
    const text = renderOvercloudStatus(r, { colour: true });
    expect(text.replace(/\x1b\[(?:0|31|32)m/g, '')).not.toContain(ESC);
    expect(text).toContain('cannot be reached: \\x1b]0;owned');
    expect(text).toContain('\x1b[31mPROBLEMS\x1b[0m');
  });
});

describe('generate: an inventory host name with control characters', () => {
  const s = scratchDir();
  afterAll(() => s.cleanup());

  it('is refused with the name shown escaped', () => {
    const o = small();
    const inv = o.inventory as Record<string, any>;
    inv.Compute.hosts[`evil${HOSTILE}`] = inv.Compute.hosts['overcloud-novacompute-0'];
    const opts = writeInputs(s.dir, { ...o, inventory: inv });
    writeInputs(s.dir, { ...o, inventory: stringify(inv) });
    const r = spawnSync(process.execPath, [join(__dirname, '..', '..', '..', 'bin', 'tripleo-ipsec'), 'generate', '-i', opts.inventoryPath, '-n', opts.networkDataPath!, '-e', opts.envPaths[0], '--out', join(s.dir, 'out')], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).not.toContain(ESC);
    expect(r.stderr).toContain('host evil\\x1b]0;owned\\x07\\x1b[2J\\u202eevil\\x0d: inventory host name=');
  });
});
