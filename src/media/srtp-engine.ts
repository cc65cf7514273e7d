// The per-packet half of SRTP (RFC 3711 §4.1.1 AES-CM, §4.2 HMAC-SHA1), with
// two engines behind one interface: the native addon (native/srtp, one call
// per packet into Node's own OpenSSL) when it is built and loads, else plain
// JS (srtp-js-engine.ts). SWITCHBOARD_SRTP=js forces JS, =native requires
// the addon. SrtpSession keeps everything else (indices, replay, policy).
import { createRequire } from 'node:module';
import { JsPacketCrypto } from './srtp-js-engine.ts';
import type { PacketCrypto, SrtpEngine } from './srtp-packet-crypto.ts';

export type { PacketCrypto, SrtpEngine } from './srtp-packet-crypto.ts';
export { SRTP_ENCRYPT, SRTP_TRAILER } from './srtp-packet-crypto.ts';

export type SrtpEngineName = 'native' | 'js';

export const jsEngine: SrtpEngine = Object.freeze({
  name: 'js',
  create: (encKey: Buffer, authKey: Buffer, salt: Buffer): PacketCrypto => new JsPacketCrypto(encKey, authKey, salt),
});

interface Addon {
  keys(encKey: Buffer, authKey: Buffer, salt: Buffer): object;
  seal(keys: object, src: Buffer, dst: Buffer, from: number, to: number, ssrc: number, indexHigh: number, indexLow: number,
    authEnd: number, trailer: number, tagAt: number, tagLen: number, flags: number): void;
  open(keys: object, src: Buffer, dst: Buffer, from: number, to: number, ssrc: number, indexHigh: number, indexLow: number,
    authEnd: number, trailer: number, tagAt: number, tagLen: number, flags: number): boolean;
  wipe(keys: object): void;
}

class NativePacketCrypto implements PacketCrypto {
  readonly #addon: Addon;
  readonly #keys: object;

  constructor(addon: Addon, encKey: Buffer, authKey: Buffer, salt: Buffer) {
    this.#addon = addon;
    this.#keys = addon.keys(encKey, authKey, salt);
  }

  seal(src: Buffer, dst: Buffer, from: number, to: number, ssrc: number, indexHigh: number, indexLow: number,
    authEnd: number, trailer: number, tagAt: number, tagLen: number, flags: number): void {
    this.#addon.seal(this.#keys, src, dst, from, to, ssrc, indexHigh, indexLow, authEnd, trailer, tagAt, tagLen, flags);
  }

  open(src: Buffer, dst: Buffer, from: number, to: number, ssrc: number, indexHigh: number, indexLow: number,
    authEnd: number, trailer: number, tagAt: number, tagLen: number, flags: number): boolean {
    return this.#addon.open(this.#keys, src, dst, from, to, ssrc, indexHigh, indexLow, authEnd, trailer, tagAt, tagLen, flags);
  }

  wipe(): void {
    this.#addon.wipe(this.#keys);
  }
}

/** Where scripts/build-native.mjs leaves the addon. */
const ADDON_PATH = '../../native/srtp/build/Release/srtp_packet.node';

function loadNative(): { engine: SrtpEngine } | { error: string } {
  try {
    const addon = createRequire(import.meta.url)(ADDON_PATH) as Addon;
    if (typeof addon.seal !== 'function' || typeof addon.open !== 'function') return { error: 'the addon lacks seal/open' };
    return {
      engine: Object.freeze({
        name: 'native',
        create: (encKey: Buffer, authKey: Buffer, salt: Buffer): PacketCrypto => new NativePacketCrypto(addon, encKey, authKey, salt),
      }),
    };
  } catch (err) {
    return { error: (err as Error).message.split('\n')[0]! };
  }
}

let native: ReturnType<typeof loadNative> | null = null;

/** The native engine, or why it cannot be used (loaded once). */
export function nativeEngine(): { engine: SrtpEngine } | { error: string } {
  native ??= loadNative();
  return native;
}

/** What the environment asks for: SWITCHBOARD_SRTP = native | js | unset (native when it loads). */
function chooseEngine(): { engine: SrtpEngine; why: string } {
  const wanted = process.env['SWITCHBOARD_SRTP'] || undefined;
  if (wanted !== undefined && wanted !== 'js' && wanted !== 'native') throw new Error(`SWITCHBOARD_SRTP must be native or js, got ${wanted}`);
  if (wanted === 'js') return { engine: jsEngine, why: 'SWITCHBOARD_SRTP=js' };
  const n = nativeEngine();
  if ('engine' in n) return { engine: n.engine, why: 'addon loaded' };
  if (wanted === 'native') throw new Error(`SWITCHBOARD_SRTP=native but the SRTP addon does not load: ${n.error}`);
  return { engine: jsEngine, why: `addon not loaded (${n.error}); run npm install with a C compiler to build it` };
}

let current: { engine: SrtpEngine; why: string } | null = null;

/** The engine new SRTP sessions use, and why it was chosen (for the start-up log line). */
export function srtpEngine(): { name: string; why: string } {
  current ??= chooseEngine();
  return { name: current.engine.name, why: current.why };
}

/** Session keys for the current engine. */
export function createPacketCrypto(encKey: Buffer, authKey: Buffer, salt: Buffer): PacketCrypto {
  current ??= chooseEngine();
  return current.engine.create(encKey, authKey, salt);
}

/**
 * Makes later sessions use `engine` (tests and benchmarks run both); returns
 * the one it replaces. Sessions already made keep theirs.
 */
export function useSrtpEngine(engine: SrtpEngine | SrtpEngineName): SrtpEngine {
  current ??= chooseEngine();
  const previous = current.engine;
  let next: SrtpEngine;
  if (engine === 'js') next = jsEngine;
  else if (engine === 'native') {
    const n = nativeEngine();
    if ('error' in n) throw new Error(`the native SRTP engine does not load: ${n.error}`);
    next = n.engine;
  } else next = engine;
  current = { engine: next, why: 'selected' };
  return previous;
}
