import { describe, expect, it } from 'vitest';
import type { SipUri } from '../../../src/sip/message.ts';
import { aorOf, cloneUri, formatUri, parseUri, pctDecode, uriEquals } from '../../../src/sip/uri.ts';

function must(s: string): SipUri {
  const u = parseUri(s);
  if (u === undefined) throw new Error(`did not parse: ${s}`);
  return u;
}

describe('parseUri: sip and sips', () => {
  it('decodes every component', () => {
    const u = must('sips:Alice:secret@Atlanta.Example.COM:5061;transport=TCP;lr;maddr=239.255.255.1?Subject=Project%20X&Priority=urgent');
    expect(u.scheme).toBe('sips');
    expect(u.user).toBe('Alice');
    expect(u.password).toBe('secret');
    expect(u.host).toBe('atlanta.example.com');
    expect(u.port).toBe(5061);
    expect([...u.params]).toEqual([['transport', 'TCP'], ['lr', null], ['maddr', '239.255.255.1']]);
    expect([...u.headers]).toEqual([['Subject', 'Project X'], ['Priority', 'urgent']]);
  });

  it('lower-cases the scheme and host but keeps the user as written', () => {
    const u = must('SIP:BoB@BiLoXi.COM');
    expect(u.scheme).toBe('sip');
    expect(u.user).toBe('BoB');
    expect(u.host).toBe('biloxi.com');
    expect(u.port).toBeUndefined();
  });

  it('parses a URI without user part', () => {
    const u = must('sip:registrar.example.com;lr');
    expect(u.user).toBeUndefined();
    expect(u.host).toBe('registrar.example.com');
    expect(u.params.get('lr')).toBeNull();
  });

  it('handles IPv4 and IPv6 references (RFC 5118)', () => {
    expect(must('sip:192.0.2.1:5080').host).toBe('192.0.2.1');
    const v6 = must('sip:user@[2001:DB8::10]:5070');
    expect(v6.host).toBe('[2001:db8::10]');
    expect(v6.port).toBe(5070);
    // No port: the last group belongs to the address (port-ambiguous).
    const amb = must('sip:[2001:db8::10:5070]');
    expect(amb.host).toBe('[2001:db8::10:5070]');
    expect(amb.port).toBeUndefined();
    expect(must('sip:user@[2001:db8:::192.0.2.1]').host).toBe('[2001:db8:::192.0.2.1]');
    expect(must('sip:ted@[::ffff:192.0.2.2]').host).toBe('[::ffff:192.0.2.2]');
  });

  it('decodes %-escapes in the user part, keeping %00 as NUL', () => {
    expect(must('sip:%75se%72@example.com').user).toBe('user');
    const n = must('sip:null-%00-null@example.com');
    expect(n.user).toBe('null-\u0000-null');
    expect(n.user?.length).toBe(11);
    expect(must('sip:sips%3Auser%40example.com@example.net').user).toBe('sips:user@example.com');
    expect(must('sip:j%C3%BCrgen@example.com').user).toBe('jürgen');
  });

  it('decodes escaped parameter names and values (RFC 4475 esc01)', () => {
    const u = must('sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31');
    expect(u.user).toBe('caller');
    expect(u.params.has('lr')).toBe(true);
    expect(u.params.get('name')).toBe('value%41');
  });

  it('finds the user part up to the first @ even with ; and ? in it (semiuri, intmeth)', () => {
    const semi = must('sip:user;par=u%40example.net@example.com');
    expect(semi.user).toBe('user;par=u@example.net');
    expect(semi.host).toBe('example.com');
    expect(semi.params.size).toBe(0);
    const crazy = must("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com");
    expect(crazy.user).toBe("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    expect(crazy.password).toBe("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    expect(crazy.host).toBe('example.com');
  });

  it('keeps a literal % that is not an escape', () => {
    expect(pctDecode('100%')).toBe('100%');
    expect(pctDecode('%ZZ%41')).toBe('%ZZA');
  });

  it('decodes invalid UTF-8 octets losslessly as Latin-1', () => {
    const u = must('sip:%FF%FE@example.com');
    expect(u.user).toBe('\u00ff\u00fe');
  });

  it('rejects what is not a SIP URI', () => {
    for (const bad of [
      '',
      'sip:',
      'sip:@example.com',
      'sip:user@',
      'sip:2001:db8::10', // IPv6 without brackets (RFC 5118 ipv6-bad)
      'sip:host:99999',
      'sip:host:',
      'sip:host:50x',
      'sip:user@exa mple.com',
      'sip:user@example.com; lr',
      '<sip:user@example.com>',
      'sip:[2001:db8::1',
      'sip:[]',
      'sip:[zz::1]',
      'sip:host;=x',
      'sip:host;a<b',
      '1sip:x',
      'no-colon',
      ':opaque',
    ]) {
      expect(parseUri(bad), bad).toBeUndefined();
    }
  });
});

describe('parseUri: other schemes', () => {
  it('keeps tel and unknown schemes opaque', () => {
    const tel = must('tel:+1-201-555-0123;phone-context=example.com');
    expect(tel.scheme).toBe('tel');
    expect(tel.host).toBe('+1-201-555-0123;phone-context=example.com');
    expect(tel.params.size).toBe(0);
    const unk = must('nobodyKnowsThisScheme:totallyopaquecontent');
    expect(unk.scheme).toBe('nobodyknowsthisscheme');
    expect(unk.host).toBe('totallyopaquecontent');
    expect(must('soap.beep://192.0.2.103:3002').scheme).toBe('soap.beep');
    expect(must('http://www.example.com').host).toBe('//www.example.com');
    expect(must('isbn:2983792873').scheme).toBe('isbn');
  });

  it('rejects opaque URIs with whitespace or nothing after the colon', () => {
    expect(parseUri('tel:')).toBeUndefined();
    expect(parseUri('tel:+1 555')).toBeUndefined();
  });
});

describe('formatUri', () => {
  it('writes a parsed URI back in canonical form', () => {
    expect(formatUri(must('sip:alice@atlanta.example.com:5060;transport=tcp'))).toBe('sip:alice@atlanta.example.com:5060;transport=tcp');
    expect(formatUri(must('sip:%75se%72@Example.COM'))).toBe('sip:user@example.com');
    expect(formatUri(must('tel:+1-201-555-0123'))).toBe('tel:+1-201-555-0123');
  });

  it('escapes what cannot stay literal, and the result re-parses to the same URI', () => {
    const cases = [
      'sip:null-%00-null@example.com',
      'sip:user;par=u%40example.net@example.com',
      'sip:I%20have%20spaces@example.net',
      'sip:j%C3%BCrgen:p%40ss@example.com;x=a%3Bb?Route=%3Csip:example.com%3E',
      'sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31',
    ];
    for (const c of cases) {
      const u = must(c);
      const text = formatUri(u);
      const again = must(text);
      expect(again, c).toEqual(u);
      expect(uriEquals(u, again)).toBe(true);
    }
    expect(formatUri(must('sip:null-%00-null@example.com'))).toBe('sip:null-%00-null@example.com');
    expect(formatUri(must('sip:user;par=u%40example.net@example.com'))).toBe('sip:user;par=u%40example.net@example.com');
  });

  it('writes IPv6 hosts with brackets and ports after them', () => {
    expect(formatUri(must('sip:[2001:db8::10]:5070'))).toBe('sip:[2001:db8::10]:5070');
  });
});

describe('uriEquals (RFC 3261 §19.1.4)', () => {
  const eq = (a: string, b: string) => uriEquals(must(a), must(b));

  it('treats the RFC equivalent pairs as equal', () => {
    expect(eq('sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp')).toBe(true);
    expect(eq('sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5')).toBe(true);
    expect(eq('sip:carol@chicago.com', 'sip:carol@chicago.com;security=on')).toBe(true);
    expect(eq('sip:carol@chicago.com;newparam=5', 'sip:carol@chicago.com;security=on')).toBe(true);
    expect(
      eq('sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com', 'sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com'),
    ).toBe(true);
    expect(
      eq('sip:alice@atlanta.com?subject=project%20x&priority=urgent', 'sip:alice@atlanta.com?priority=urgent&subject=project%20x'),
    ).toBe(true);
  });

  it('treats the RFC non-equivalent pairs as different', () => {
    expect(eq('SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP')).toBe(false);
    expect(eq('sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060')).toBe(false);
    expect(eq('sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp')).toBe(false);
    expect(eq('sip:bob@biloxi.com', 'sip:bob@biloxi.com:6000;transport=tcp')).toBe(false);
    expect(eq('sip:carol@chicago.com', 'sip:carol@chicago.com?Subject=next%20meeting')).toBe(false);
    expect(eq('sip:bob@phone21.boxesbybob.com', 'sip:bob@192.0.2.4')).toBe(false);
    expect(eq('sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;security=off')).toBe(false);
  });

  it('distinguishes sip from sips, user from no user, and escaped NULs', () => {
    expect(eq('sip:a@example.com', 'sips:a@example.com')).toBe(false);
    expect(eq('sip:example.com', 'sip:a@example.com')).toBe(false);
    expect(eq('sip:%00@host5.example.com', 'sip:%00%00@host5.example.com')).toBe(false);
    expect(eq('sip:a@example.com;maddr=X.example.com', 'sip:a@example.com;maddr=x.example.com')).toBe(true);
  });

  it('compares opaque schemes on their text', () => {
    expect(eq('tel:+15551234', 'tel:+15551234')).toBe(true);
    expect(eq('tel:+15551234', 'tel:+15551235')).toBe(false);
    expect(eq('urn:a', 'URN:a')).toBe(true);
    expect(eq('urn:a', 'urn:A')).toBe(false);
  });
});

describe('aorOf', () => {
  it('drops parameters, headers and default ports, lower-cases the host, keeps the user case', () => {
    expect(aorOf(must('sip:Alice@Example.COM:5060;transport=tcp?x=y'))).toBe('sip:Alice@example.com');
    expect(aorOf(must('sips:alice@example.com:5061'))).toBe('sips:alice@example.com');
    expect(aorOf(must('sip:alice@example.com:5070'))).toBe('sip:alice@example.com:5070');
    expect(aorOf(must('sip:example.com'))).toBe('sip:example.com');
    expect(aorOf(must('tel:+15551234'))).toBe('tel:+15551234');
  });

  it('canonicalises escapes so equivalent users share a key, and keeps NULs distinct', () => {
    expect(aorOf(must('sip:%75ser@example.com'))).toBe(aorOf(must('sip:user@example.com')));
    const one = aorOf(must('sip:null-%00-null@example.com'));
    expect(one).toBe('sip:null-%00-null@example.com');
    expect(aorOf(must('sip:%00@host5.example.com'))).not.toBe(aorOf(must('sip:%00%00@host5.example.com')));
  });
});

describe('cloneUri', () => {
  it('copies maps so changes do not leak back', () => {
    const a = must('sip:a@example.com;lr?x=1');
    const b = cloneUri(a);
    b.params.set('transport', 'tcp');
    b.headers.delete('x');
    expect(a.params.has('transport')).toBe(false);
    expect(a.headers.get('x')).toBe('1');
    expect(uriEquals(a, cloneUri(a))).toBe(true);
  });
});
