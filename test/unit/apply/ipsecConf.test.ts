import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { withOurConfSettings, withOurSecretsInclude, withoutOurSettings } from '../../../src/apply/ipsecConf.js';

const GLOB = ['/etc/ipsec.d/*.conf'];

describe('ipsec.conf edits', () => {
  it('turns the Ansible role\'s uniqueids=no into yes, keeps the replaced line commented, adds the include, and is idempotent', () => {
    const orig = "# mine\nconfig setup\n\tlogfile=/var/log/pluto.log\n\tuniqueids=no\n\nconn mine\n\tauto=add\n";
    const once = withOurConfSettings(orig, GLOB);
    expect(once).toBe("# mine\nconfig setup\n\tlogfile=/var/log/pluto.log\n#\tuniqueids=no # tripleo-ipsec-replaced\n\tuniqueids=yes # tripleo-ipsec\n\nconn mine\n\tauto=add\ninclude /etc/ipsec.d/*.conf # tripleo-ipsec\n");
    expect(withOurConfSettings(once, GLOB)).toBe(once);
    expect(withoutOurSettings(once)).toBe(orig);
  });

  it('leaves uniqueids=yes (and its absence: pluto\'s default is yes) alone, and an existing include too', () => {
    expect(withOurConfSettings('', GLOB)).toBe('include /etc/ipsec.d/*.conf # tripleo-ipsec\n');
    const has = 'config setup\n\tuniqueids=yes\ninclude /etc/ipsec.d/*.conf\n';
    expect(withOurConfSettings(has, GLOB)).toBe(has);
  });

  it('drops the uniqueids=no line an earlier version of this tool wrote', () => {
    const earlier = 'config setup # tripleo-ipsec\n\tuniqueids=no # tripleo-ipsec\ninclude /etc/ipsec.d/*.conf # tripleo-ipsec\n';
    expect(withOurConfSettings(earlier, GLOB)).toBe('include /etc/ipsec.d/*.conf # tripleo-ipsec\n');
    const mine = 'config setup\n\tlogfile=/x\n\tuniqueids=no # tripleo-ipsec\n';
    expect(withOurConfSettings(mine, GLOB)).toBe('config setup\n\tlogfile=/x\ninclude /etc/ipsec.d/*.conf # tripleo-ipsec\n');
  });

  it('round-trips any well-formed operator file (fast-check, 500 cases)', () => {
    // Files as libreswan reads them: comments, then sections whose settings are indented.
    const setting = fc.constantFrom('\tuniqueids=yes', '\tuniqueids=no', '\tplutodebug=none', '\tlogfile=/var/log/pluto.log');
    const section = fc.oneof(
      fc.array(setting, { maxLength: 4 }).map((ls) => ['config setup', ...ls]),
      fc.array(fc.constantFrom('\tauto=add', '\tleft=192.0.2.1', '\tright=%any'), { maxLength: 3 }).map((ls) => ['conn x', ...ls]),
      fc.constantFrom(['# comment'], [''], ['include /etc/other/*.conf']),
    );
    fc.assert(
      fc.property(fc.array(section, { maxLength: 6 }), (sections) => {
        const lines = sections.flat();
        const text = lines.length ? lines.join('\n') + '\n' : '';
        const once = withOurConfSettings(text, GLOB);
        return withOurConfSettings(once, GLOB) === once && (text === '' || withoutOurSettings(once) === text);
      }),
      { numRuns: 500 },
    );
  });

  it('ipsec.secrets gets one include, removable', () => {
    const s = withOurSecretsInclude(': PSK "x"\n', '/etc/ipsec.d/*.secrets');
    expect(s).toBe(': PSK "x"\ninclude /etc/ipsec.d/*.secrets # tripleo-ipsec\n');
    expect(withOurSecretsInclude(s, '/etc/ipsec.d/*.secrets')).toBe(s);
    expect(withoutOurSettings(s)).toBe(': PSK "x"\n');
  });
});
