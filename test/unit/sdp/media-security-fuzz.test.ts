// Seeded random mutations of crypto and capability-negotiation lines and of
// whole descriptions that carry them. Nothing may throw; whatever parses must
// format back to a fixpoint; redaction must hide every key it was given; and
// the offers the policies build must keep their promises.
// The time limits are generous because the suite shares the machine; they are not speed checks.
import { describe, expect, it } from 'vitest';
import {
  applyAcfg,
  classifyOffer,
  formatConfig,
  formatCrypto,
  hasCapNeg,
  judgeAnswer,
  judgeOffer,
  parseAcfg,
  parseCrypto,
  parsePcfg,
  parseSdp,
  potentialConfigurations,
  redactCrypto,
  redactSdp,
  secureOffer,
  selectCrypto,
  serializeSdp,
} from '../../../src/sdp/index.ts';
import type { MediaSecurity, Sdp } from '../../../src/sdp/index.ts';
import { makeRng } from '../../lib/prng.ts';
import type { Rng } from '../../lib/prng.ts';
import { CAPNEG, SAVP, SIPP } from './fixtures.ts';

const KEY = 'mIJj73XlBiVp5A8QCuo6X55kQ2OgdPsRARv88pAF';
const CRYPTO_SEEDS = [
  `1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}|2^31|1:1`,
  `2 AES_CM_128_HMAC_SHA1_32 inline:${KEY} UNENCRYPTED_SRTCP KDR=0 WSH=64`,
  `3 AES_CM_128_HMAC_SHA1_80 inline:${KEY}|2^20|1:4;inline:${KEY}|2^20|2:4 FEC_ORDER=FEC_SRTP FEC_KEY=inline:${KEY}`,
  `4 F8_128_HMAC_SHA1_80 inline:${KEY}|1048576|255:1 -X`,
];
const PCFG_SEEDS = ['1 t=1 a=1', '2 t=1|2 a=1,[2]|3', '3 a=-ms:1,2', '4 t=2 +ext=1 x=2', '5'];
const ALPHABET = ['|', ';', ':', '^', '=', ' ', '\t', '[', ']', ',', '-', '+', '0', '1', '9', '2^', 'A', '/', '\r', '\n', 'é'];
const POLICIES: MediaSecurity[] = ['disabled', 'best-effort', 'enforced'];

function int(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[int(rng, xs.length)] as T;
}

function mutate(rng: Rng, s: string): string {
  const at = int(rng, s.length + 1);
  switch (int(rng, 7)) {
    case 0:
      return s.slice(0, at) + pick(rng, ALPHABET) + s.slice(at + 1);
    case 1:
      return s.slice(0, at) + Array.from({ length: 1 + int(rng, 3) }, () => pick(rng, ALPHABET)).join('') + s.slice(at);
    case 2:
      return s.slice(0, at) + s.slice(at + 1 + int(rng, 12));
    case 3:
      return s.replace(/[0-9]+/g, (m) => (rng() < 0.2 ? '9'.repeat(1 + int(rng, 20)) : m));
    case 4:
      return s.slice(0, at);
    case 5:
      return s + s.slice(int(rng, s.length));
    default:
      return s.slice(0, at) + (s[at] ?? '').toLowerCase() + s.slice(at + 1);
  }
}

/** A description with one of its crypto/capneg lines mutated, or a line of those kinds added. */
function mutateSdp(rng: Rng, text: string): string {
  const lines = text.split('\r\n');
  const i = int(rng, lines.length);
  const line = lines[i] ?? '';
  if (rng() < 0.5 && /^a=(crypto|acap|tcap|pcfg|acfg|csup|creq)/.test(line)) lines[i] = mutate(rng, line);
  else {
    const extra = pick(rng, [
      `a=crypto:${mutate(rng, pick(rng, CRYPTO_SEEDS))}`,
      `a=acap:${1 + int(rng, 4)} crypto:${mutate(rng, pick(rng, CRYPTO_SEEDS))}`,
      `a=tcap:${1 + int(rng, 3)} ${pick(rng, ['RTP/SAVP', 'RTP/AVP', 'RTP/SAVPF RTP/SAVP', 'UDP/TLS/RTP/SAVP'])}`,
      `a=pcfg:${mutate(rng, pick(rng, PCFG_SEEDS))}`,
      `a=acfg:${mutate(rng, pick(rng, PCFG_SEEDS))}`,
      `a=creq:${pick(rng, ['cap-v0', 'med-v0', ''])}`,
      `m=audio ${int(rng, 3) * 2000} ${pick(rng, ['RTP/AVP', 'RTP/SAVP', 'RTP/SAVPF', 'UDP/TLS/RTP/SAVP'])} 0`,
    ]);
    lines.splice(Math.max(5, i), 0, extra);
  }
  return lines.join('\r\n');
}

function checkLine(input: string): string[] {
  const problems: string[] = [];
  const r = parseCrypto(input);
  if (r.ok) {
    const once = formatCrypto(r.crypto);
    const again = parseCrypto(once);
    if (!again.ok) problems.push(`formatted line refused: ${again.reason}`);
    else if (formatCrypto(again.crypto) !== once) problems.push('format(parse(format(x))) is not a fixpoint');
    const redacted = redactCrypto(`a=crypto:${input}`);
    const json = JSON.stringify(r.crypto);
    for (const k of r.crypto.keys) {
      const key = k.key.reveal();
      if (key.length < 8) continue;
      if (redacted.includes(key)) problems.push('key survived redaction');
      // Only a key that appears once in the input must be absent from JSON: a copy may sit in an unknown parameter.
      if (input.indexOf(key) === input.lastIndexOf(key) && json.includes(key)) problems.push('key in JSON');
    }
    selectCrypto([r.crypto], ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32']);
  } else if (r.reason === 'unparseable a=crypto') problems.push('defensive catch answered');
  else if (r.reason.includes(KEY.slice(0, 13))) problems.push('reason quotes the key');
  for (const p of [parsePcfg(input), parseAcfg(input)]) {
    if (p.ok && !parsePcfg(formatConfig(p.value)).ok) problems.push('formatted configuration refused');
  }
  return problems;
}

/** How often the description loop got past parsing and how often an offer was accepted, so it provably tests both. */
const seen = { parsed: 0, accepted: 0, refused: 0 };

function checkSdp(text: string): string[] {
  const parsed = parseSdp(text);
  if (!parsed.ok) return [];
  seen.parsed++;
  const sdp: Sdp = parsed.sdp;
  const problems: string[] = [];
  classifyOffer(sdp);
  applyAcfg(sdp, sdp);
  for (const m of sdp.media) potentialConfigurations(m, sdp.attributes);
  for (const policy of POLICIES) {
    for (const capneg of [true, false]) {
      const v = judgeOffer(sdp, policy, { capneg });
      if (!v.ok && v.status !== 488) problems.push('verdict without 488');
      if (v.ok) seen.accepted++;
      else seen.refused++;
    }
    judgeAnswer(sdp, policy, { offer: sdp });
    const { sdp: out } = secureOffer(sdp, { policy, capneg: true });
    const back = parseSdp(serializeSdp(out));
    if (!back.ok) {
      if (!/larger than/.test(back.reason)) problems.push(`${policy} offer does not re-parse: ${back.reason}`);
      continue;
    }
    if (policy === 'enforced') {
      if (hasCapNeg(back.sdp)) problems.push('enforced offer carries capneg');
      if (back.sdp.media.some((m) => m.port !== 0 && /^RTP\/AVPF?$/i.test(m.proto))) problems.push('enforced offer carries RTP/AVP');
    }
    if (policy === 'disabled' && back.sdp.media.some((m) => m.attributes.some((a) => a.name.toLowerCase() === 'crypto'))) {
      problems.push('disabled offer carries crypto');
    }
  }
  if (redactSdp(text).includes(KEY)) problems.push('key survived redactSdp');
  return problems;
}

describe('SDES / capneg / policy fuzzing', () => {
  it('survives 3,000 mutated crypto and configuration lines', () => {
    const rng = makeRng(0x5de5);
    const problems: string[] = [];
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      let s = pick(rng, [...CRYPTO_SEEDS, ...PCFG_SEEDS]);
      for (let k = 1 + int(rng, 3); k > 0; k--) s = mutate(rng, s);
      let found: string[];
      try {
        found = checkLine(s);
      } catch (err) {
        found = [`threw ${String(err)}`];
      }
      if (found.length > 0 && problems.length < 5) problems.push(`${found.join('; ')} <- ${JSON.stringify(s.slice(0, 200))}`);
      if (parseCrypto(s).ok) accepted++;
    }
    expect(problems).toEqual([]);
    expect(accepted).toBeGreaterThan(150);
    expect(accepted).toBeLessThan(3000);
  }, 60_000);

  it('survives 600 mutated descriptions through every policy helper', () => {
    const rng = makeRng(0xc0ffee);
    const problems: string[] = [];
    const seeds = [SAVP, CAPNEG, SIPP];
    for (let i = 0; i < 600; i++) {
      let text = pick(rng, seeds);
      for (let k = 1 + int(rng, 3); k > 0; k--) text = mutateSdp(rng, text);
      let found: string[];
      try {
        found = checkSdp(text);
      } catch (err) {
        found = [`threw ${String(err)}`];
      }
      if (found.length > 0 && problems.length < 5) problems.push(`${found.join('; ')} <- ${JSON.stringify(text.slice(0, 400))}`);
    }
    expect(problems).toEqual([]);
    expect(seen.parsed).toBeGreaterThan(300);
    expect(seen.accepted).toBeGreaterThan(300);
    expect(seen.refused).toBeGreaterThan(300);
  }, 60_000);
});
