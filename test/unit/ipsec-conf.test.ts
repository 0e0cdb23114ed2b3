import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { withOurConfSettings, withOurSecretsInclude, withoutOurSettings } from '../../src/apply/ipsecConf.js';

const GLOB = '/etc/ipsec.d/*.conf';

describe('ipsec.conf edits', () => {
  it('sets uniqueids=no, keeps the replaced line commented, adds the include, and is idempotent', () => {
    const orig = "# mine\nconfig setup\n\tlogfile=/var/log/pluto.log\n\tuniqueids=yes\n\nconn mine\n\tauto=add\n";
    const once = withOurConfSettings(orig, GLOB);
    expect(once).toBe("# mine\nconfig setup\n\tlogfile=/var/log/pluto.log\n#\tuniqueids=yes # tripleo-ipsec-replaced\n\tuniqueids=no # tripleo-ipsec\n\nconn mine\n\tauto=add\ninclude /etc/ipsec.d/*.conf # tripleo-ipsec\n");
    expect(withOurConfSettings(once, GLOB)).toBe(once);
    expect(withoutOurSettings(once)).toBe(orig);
  });

  it('adds a config setup section when there is none, and leaves an existing include alone', () => {
    expect(withOurConfSettings('', GLOB)).toBe('config setup # tripleo-ipsec\n\tuniqueids=no # tripleo-ipsec\ninclude /etc/ipsec.d/*.conf # tripleo-ipsec\n');
    const has = 'config setup\n\tuniqueids=no\ninclude /etc/ipsec.d/*.conf\n';
    expect(withOurConfSettings(has, GLOB)).toBe(has);
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
