// The digit-map matcher on its own, against hand-written RFC 3435 §2.1.5 maps
// (the property tests of the conversion rely on it, so it must be right first).
import { describe, expect, it } from 'vitest';
import { acceptingString, matchDigitMap, parseDigitMap } from '../../../../src/provisioning/dialplan/match.ts';

// A typical call-agent map: operator on timer, 4-digit extensions, 8-digit
// local, # and * services, long distance, international of any length.
const MAP = parseDigitMap('(0T|00T|[1-7]xxx|8xxxxxxx|#xxxxxxx|*xx|91xxxxxxxxxx|9011x.T)');

describe('RFC 3435 digit-map matching', () => {
  it('a number that fills a fixed-length string matches it completely', () => {
    expect(matchDigitMap(MAP, '1234')).toEqual({ full: 2, partial: false });
    expect(matchDigitMap(MAP, '81234567')).toEqual({ full: 3, partial: false });
    expect(matchDigitMap(MAP, '*12')).toEqual({ full: 5, partial: false });
    expect(matchDigitMap(MAP, '#1234567')).toEqual({ full: 4, partial: false });
  });

  it('a prefix matches partially, and nothing past a string matches', () => {
    expect(matchDigitMap(MAP, '123')).toEqual({ full: -1, partial: true });
    expect(matchDigitMap(MAP, '9')).toEqual({ full: -1, partial: true });
    expect(matchDigitMap(MAP, '12345')).toEqual({ full: -1, partial: false });
    expect(matchDigitMap(MAP, '95')).toEqual({ full: -1, partial: false });
    expect(matchDigitMap(MAP, '*1#')).toEqual({ full: -1, partial: false });
  });

  it('T matches only the timer event, after the digits of its string', () => {
    expect(matchDigitMap(MAP, '0')).toEqual({ full: -1, partial: true });
    expect(matchDigitMap(MAP, '0T')).toEqual({ full: 0, partial: false });
    expect(matchDigitMap(MAP, '00T').full).toBe(1);
    expect(matchDigitMap(MAP, '1T').full).toBe(-1);
  });

  it('"." repeats the position before it any number of times, zero included', () => {
    expect(matchDigitMap(MAP, '9011T').full).toBe(7);
    expect(matchDigitMap(MAP, '90114T').full).toBe(7);
    expect(matchDigitMap(MAP, '901144207946T').full).toBe(7);
    expect(matchDigitMap(MAP, '901144207946')).toEqual({ full: -1, partial: true });
    expect(matchDigitMap(MAP, '9011*T').full).toBe(-1);
    const dotted = parseDigitMap('1[2-4].5');
    expect(matchDigitMap(dotted, '15').full).toBe(0);
    expect(matchDigitMap(dotted, '12365').full).toBe(-1);
    expect(matchDigitMap(dotted, '123425').full).toBe(0);
  });

  it('ranges take digits, runs a-b, * and #; x is any digit, in either case', () => {
    const m = parseDigitMap('[13-5#*]X|x[0-2]');
    expect(matchDigitMap(m, '49').full).toBe(0);
    expect(matchDigitMap(m, '#0').full).toBe(0);
    expect(matchDigitMap(m, '29').full).toBe(-1);
    expect(matchDigitMap(m, '92').full).toBe(1);
    expect(matchDigitMap(m, '*').partial).toBe(true);
  });

  it('the first string in map order that accepts a number wins, with or without the timer', () => {
    const m = parseDigitMap('9x.T|9123|xxxx');
    expect(acceptingString(m, '9123')).toBe(0);
    expect(acceptingString(m, '1234')).toBe(2);
    expect(acceptingString(m, '12')).toBe(-1);
  });

  it('a map without the outer parentheses is read the same', () => {
    expect(parseDigitMap('0T|[1-7]xxx').map((s) => s.text)).toEqual(['0T', '[1-7]xxx']);
  });

  it('refuses what is not digit-map syntax', () => {
    for (const bad of ['', '1||2', '[12', '1..', '.1', '9+', '[]', '[e]', '(1|2']) expect(() => parseDigitMap(bad), bad).toThrow(/digit map/);
  });
});
