// One error type for the whole code base and the CLI's one handler: each
// kind's exit code, one line per problem, stacks only for bugs or --debug.
import { describe, expect, it } from 'vitest';
import {
  EnvironmentError,
  EXIT_CODES,
  InputError,
  TripleoIpsecError,
  UsageError,
  ValidationError,
} from '../../../src/model/errors.js';
import { oneLine } from '../../../src/text/printable.js';
import { handleError } from '../../../src/cli/handleError.js';

function handled(e: unknown, debug = false) {
  let out = '';
  const code = handleError(e, { debug, write: (t) => (out += t) });
  return { code, out, lines: out.split('\n').slice(0, -1) };
}

describe('error kinds', () => {
  const cases: [TripleoIpsecError, string, number][] = [
    [new InputError('x'), 'input', 2],
    [new UsageError('x'), 'input', 2],
    [new ValidationError([{ field: 'f', value: 'v', message: 'm' }]), 'validation', 2],
    [new EnvironmentError('x'), 'environment', 1],
    [new TripleoIpsecError('x', { kind: 'bug' }), 'bug', 1],
  ];
  it.each(cases)('%s is kind %s, exit %i, and the handler returns that code', (e, kind, code) => {
    expect(e).toBeInstanceOf(TripleoIpsecError);
    expect(e).toBeInstanceOf(Error);
    expect(e.kind).toBe(kind);
    expect(e.exitCode).toBe(code);
    expect(EXIT_CODES[e.kind]).toBe(code);
    expect(handled(e).code).toBe(code);
  });

  it('names each class (stacks say which) and keeps the cause', () => {
    const cause = new Error('ENOENT');
    const e = new EnvironmentError('pcs failed', { cause });
    expect(e.name).toBe('EnvironmentError');
    expect(e.cause).toBe(cause);
    expect(new InputError('x', { cause }).cause).toBe(cause);
  });

  it("a ValidationError's message is one line; its problems stay one line each", () => {
    const e = new ValidationError([
      { host: 'h', field: 'a', value: '1', message: 'bad' },
      { field: 'b', value: '2', message: 'worse' },
    ]);
    expect(e.message).not.toContain('\n');
    expect(e.lines()).toEqual(['host h: a="1": bad', 'b="2": worse', '2 problem(s); nothing was written']);
  });

  it('oneLine joins the non-empty lines of a tool\'s output', () => {
    expect(oneLine('Error: one\n\n  Error: two  \r\n')).toBe('Error: one; Error: two');
  });
});

describe('handleError', () => {
  it('prints an expected failure as one line with the tripleo-ipsec: prefix, no stack', () => {
    const r = handled(new EnvironmentError('VIP resource ip-192.0.2.5 (internal_api) does not exist: create the VIPs first'));
    expect(r.lines).toEqual(['tripleo-ipsec: VIP resource ip-192.0.2.5 (internal_api) does not exist: create the VIPs first']);
    expect(r.code).toBe(1);
  });

  it('says nothing was written for input errors', () => {
    expect(handled(new InputError('cannot read plan p: ENOENT')).lines).toEqual(['tripleo-ipsec: cannot read plan p: ENOENT; nothing was written']);
  });

  it('keeps an expected failure on one line even when its message is not', () => {
    expect(handled(new EnvironmentError('pcs failed:\nError: a\nError: b')).lines).toEqual(['tripleo-ipsec: pcs failed:; Error: a; Error: b']);
  });

  it('prints one line per validation problem and the count', () => {
    const r = handled(new ValidationError([{ host: 'h', field: 'a', value: '1', message: 'bad' }, { field: 'b', value: '2', message: 'worse' }]));
    expect(r.lines).toEqual(['tripleo-ipsec: host h: a="1": bad', 'tripleo-ipsec: b="2": worse', 'tripleo-ipsec: 2 problem(s); nothing was written']);
    expect(r.code).toBe(2);
  });

  it('with --debug adds the stack and the causes', () => {
    const r = handled(new InputError('cannot read plan p: Unexpected end', { cause: new SyntaxError('Unexpected end') }), true);
    expect(r.lines[0]).toBe('tripleo-ipsec: cannot read plan p: Unexpected end; nothing was written');
    expect(r.lines[1]).toBe('InputError: cannot read plan p: Unexpected end');
    expect(r.out).toMatch(/\n {4}at /);
    expect(r.out).toContain('caused by: SyntaxError: Unexpected end');
    expect(r.code).toBe(2);
  });

  it('prints a bug (anything else) with its message and stack, exit 1', () => {
    const r = handled(new TypeError("Cannot read properties of undefined (reading 'x')"));
    expect(r.lines[0]).toBe("tripleo-ipsec: Cannot read properties of undefined (reading 'x')");
    expect(r.lines[1]).toBe("TypeError: Cannot read properties of undefined (reading 'x')");
    expect(r.lines[2]).toMatch(/^ {4}at /);
    expect(r.code).toBe(1);
    const b = handled(new TripleoIpsecError('invariant broken', { kind: 'bug' }));
    expect(b.code).toBe(1);
    expect(b.out).toMatch(/\n {4}at /);
  });

  it('copes with a thrown non-Error', () => {
    expect(handled('boom')).toMatchObject({ code: 1, lines: ['tripleo-ipsec: boom'] });
  });
});
