// The root certificate files Avaya phones are given to trust: WebRootCA.pem
// for the root of the HTTPS (main) identity and TelRootCA.pem for the
// telephony identity's root when it differs (SPEC C-03, C-04, §5.3).
import type { ProvisionedFile, RootCertificate } from '../types.ts';

/** The main identity's root: the 11xx [USER_KEYS] name, reused as the 46xx TRUSTCERTS file. */
export const AVAYA_ROOT_FILE = 'WebRootCA.pem';
export const AVAYA_TELEPHONY_ROOT_FILE = 'TelRootCA.pem';

export function rootCaFile(name: string, root: RootCertificate): ProvisionedFile {
  return { name, contentType: 'application/x-pem-file', body: root.pem, credentials: false };
}
