// `--san` lists of `switchboard cert issue`: DNS, IP and URI entries, commas
// or spaces between them, anything else refused with the entry named.
import { describe, expect, it } from 'vitest';
import { formatSans, parseSanList } from '../../../src/cli/certs.ts';

describe('cert issue --san', () => {
  it('reads DNS, IP and URI entries, keeping a URI\'s own colons', () => {
    const san = parseSanList('DNS:pbx.example.com,IP:10.0.0.5 ip:fd00::5, URI:sip:example.com');
    expect(san).toEqual({ dns: ['pbx.example.com'], ips: ['10.0.0.5', 'fd00::5'], uris: ['sip:example.com'] });
    expect(formatSans(san)).toBe('DNS:pbx.example.com, IP:10.0.0.5, IP:fd00::5, URI:sip:example.com');
  });

  it('refuses an entry without a kind or of another kind', () => {
    expect(() => parseSanList('pbx.example.com')).toThrow(/"pbx.example.com": write DNS:name/);
    expect(() => parseSanList('EMAIL:a@b')).toThrow(/the kind is DNS, IP or URI/);
    expect(() => parseSanList('DNS:')).toThrow(/write DNS:name/);
  });
});
