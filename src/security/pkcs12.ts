// PKCS#12 identity files (SPEC §4.3 "PKCS#12 with a password", B-18): the key,
// the leaf and its chain out of a .p12/.pfx, as openssl 3 writes it by
// default (AES-256-CBC, PBKDF2) or with -legacy (3DES, RC2), with or without
// a password.
import { createPrivateKey, X509Certificate as NodeX509, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

export interface Pkcs12Contents {
  /** PKCS#8 PEM. */
  keyPem: string;
  /** The certificate whose public key matches the key. */
  certPem: string;
  /** Every other certificate in the file (intermediates, maybe the root), as found. */
  chainPems: string[];
}

export type Pkcs12Problem = 'not-pkcs12' | 'too-many-iterations' | 'wrong-password' | 'no-key' | 'no-matching-certificate';

export class Pkcs12Error extends Error {
  override name = 'Pkcs12Error';
  constructor(readonly problem: Pkcs12Problem, message: string) {
    super(message);
  }
}

/** A PKCS#12 file of more than this is not an identity; refuse before parsing. */
const MAX_P12_BYTES = 256 * 1024;
/**
 * Key derivation runs in pure JavaScript on the event loop that also carries
 * SIP; a file asking for millions of iterations would stall the server.
 * openssl writes 2048, Windows about 2000; some tools 100 000+.
 */
export const MAX_P12_ITERATIONS = 250_000;
/** Bounds the walk that looks for iteration counts. */
const MAX_ASN1_NODES = 20_000;

const ASN1 = forge.asn1.Type;

function integerValue(node: forge.asn1.Asn1): number {
  const bytes = typeof node.value === 'string' ? node.value : '';
  if (bytes.length > 4) return Number.POSITIVE_INFINITY;
  let n = 0;
  for (let i = 0; i < bytes.length; i++) n = n * 256 + bytes.charCodeAt(i);
  return n;
}

/**
 * The largest iteration count in the file: MacData (SEQUENCE digest, salt,
 * iterations) and every PBE/PBKDF2 parameter block (SEQUENCE salt,
 * iterations, …), including those inside OCTET STRINGs (the unencrypted
 * safe contents hold the shrouded key's parameters).
 */
function maxIterations(root: forge.asn1.Asn1): number {
  let max = 0;
  let budget = MAX_ASN1_NODES;
  const stack: forge.asn1.Asn1[] = [root];
  while (stack.length > 0 && budget-- > 0) {
    const node = stack.pop()!;
    if (Array.isArray(node.value)) {
      const kids = node.value;
      if (node.type === ASN1.SEQUENCE) {
        const at = kids[1]?.type === ASN1.INTEGER && kids[0]?.type === ASN1.OCTETSTRING ? 1
          : kids[2]?.type === ASN1.INTEGER && kids[1]?.type === ASN1.OCTETSTRING && kids[0]?.type === ASN1.SEQUENCE ? 2 : -1;
        if (at >= 0) max = Math.max(max, integerValue(kids[at]!));
      }
      stack.push(...kids);
    } else if (node.type === ASN1.OCTETSTRING && node.value.length > 1 && node.value.charCodeAt(0) === 0x30) {
      try {
        stack.push(forge.asn1.fromDer(node.value, true));
      } catch {
        // not nested DER (a salt, a digest, encrypted bytes)
      }
    }
  }
  return max;
}

function decode(der: Buffer, password: string): forge.pkcs12.Pkcs12Pfx {
  let asn1: forge.asn1.Asn1;
  try {
    asn1 = forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
  } catch {
    throw new Pkcs12Error('not-pkcs12', 'not a PKCS#12 file (.p12/.pfx): it is not DER');
  }
  const iterations = maxIterations(asn1);
  if (iterations > MAX_P12_ITERATIONS) {
    throw new Pkcs12Error('too-many-iterations', `this PKCS#12 file asks for ${Number.isFinite(iterations) ? iterations : 'over 2^32'} key-derivation iterations; at most ${MAX_P12_ITERATIONS} (export it again with openssl's defaults)`);
  }
  try {
    return forge.pkcs12.pkcs12FromAsn1(asn1, false, password);
  } catch (err) {
    const msg = (err as Error).message;
    // forge says "MAC could not be verified. Invalid password?" or "Unable to decrypt …, wrong password?"
    if (/password/i.test(msg)) {
      throw new Pkcs12Error('wrong-password', password === '' ? 'wrong password: this PKCS#12 file needs one' : 'wrong password for this PKCS#12 file');
    }
    throw new Pkcs12Error('not-pkcs12', `not a PKCS#12 file (.p12/.pfx), or one this server cannot read: ${msg}`);
  }
}

/** Bag contents as DER: forge parses only RSA, so EC keys and certificates are taken from the raw ASN.1 it keeps. */
function keyOf(bag: forge.pkcs12.Bag): KeyObject | null {
  let info: forge.asn1.Asn1 | undefined;
  if (bag.key) info = forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key));
  else if (bag.asn1) info = bag.asn1;
  if (!info) return null;
  try {
    return createPrivateKey({ key: Buffer.from(forge.asn1.toDer(info).getBytes(), 'binary'), format: 'der', type: 'pkcs8' });
  } catch {
    return null;
  }
}

function certOf(bag: forge.pkcs12.Bag): NodeX509 | null {
  const asn1 = bag.cert ? forge.pki.certificateToAsn1(bag.cert) : bag.asn1;
  if (!asn1) return null;
  try {
    return new NodeX509(Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary'));
  } catch {
    return null;
  }
}

/** Throws Pkcs12Error (message says "wrong password" for a bad password). */
export function readPkcs12(der: Buffer, password?: string): Pkcs12Contents {
  if (der.length === 0 || der.length > MAX_P12_BYTES) {
    throw new Pkcs12Error('not-pkcs12', `not a PKCS#12 file (.p12/.pfx): ${der.length} bytes`);
  }
  const p12 = decode(der, password ?? '');
  const keyBags = [
    ...(p12.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag! })[forge.pki.oids.pkcs8ShroudedKeyBag!] ?? []),
    ...(p12.getBags({ bagType: forge.pki.oids.keyBag! })[forge.pki.oids.keyBag!] ?? []),
  ];
  const keys = keyBags.map(keyOf).filter((k): k is KeyObject => k !== null);
  if (keys.length === 0) throw new Pkcs12Error('no-key', 'this PKCS#12 file holds no private key (export it with the key)');
  const certs = (p12.getBags({ bagType: forge.pki.oids.certBag! })[forge.pki.oids.certBag!] ?? [])
    .map(certOf)
    .filter((c): c is NodeX509 => c !== null);
  for (const key of keys) {
    const leaf = certs.find((c) => c.checkPrivateKey(key));
    if (leaf) {
      return {
        keyPem: key.export({ type: 'pkcs8', format: 'pem' }) as string,
        certPem: leaf.toString(),
        chainPems: certs.filter((c) => c !== leaf).map((c) => c.toString()),
      };
    }
  }
  throw new Pkcs12Error(
    'no-matching-certificate',
    certs.length === 0 ? 'this PKCS#12 file holds a key but no certificate' : 'no certificate in this PKCS#12 file matches its private key',
  );
}
