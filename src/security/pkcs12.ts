// PKCS#12 identity files (SPEC §4.3 "PKCS#12 with a password", B-18): the key,
// the leaf and its chain out of a .p12/.pfx, as openssl 3 writes it by
// default (AES-256-CBC, PBKDF2) or with -legacy (3DES, RC2), with or without
// a password.

export interface Pkcs12Contents {
  /** PKCS#8 PEM. */
  keyPem: string;
  /** The certificate whose public key matches the key. */
  certPem: string;
  /** Every other certificate in the file (intermediates, maybe the root), as found. */
  chainPems: string[];
}

export type Pkcs12Problem = 'not-pkcs12' | 'wrong-password' | 'no-key' | 'no-matching-certificate';

export class Pkcs12Error extends Error {
  override name = 'Pkcs12Error';
  constructor(readonly problem: Pkcs12Problem, message: string) {
    super(message);
  }
}

/** Throws Pkcs12Error (message says "wrong password" for a bad password). */
export function readPkcs12(der: Buffer, password?: string): Pkcs12Contents {
  void der; void password;
  throw new Error('not yet');
}
