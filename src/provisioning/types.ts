// What a family's generator is given and what it returns. A generator is a
// pure function of the site (this server's addresses, ports, media security,
// root CA), one device and the accounts of its lines: no I/O, no clock, so
// golden files pin its output byte for byte. The provisioning server
// (server.ts) builds the input per request and serves one of the files.
import type { z } from 'zod';
import type { DeviceFamily } from '../model/device.ts';

/** SRTP suites as the media settings name them (config `media.suites`). */
export type SrtpSuite = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32' | 'AES_256_CM_HMAC_SHA1_80' | 'AES_256_CM_HMAC_SHA1_32';

/** A root certificate a phone is given to trust. */
export interface RootCertificate {
  /** Subject of the certificate, for comments in generated files. */
  subject: string;
  pem: string;
  der: Buffer;
}

/** SPEC §5.9: the SBC in front of remote workers ("NoUser source number" IDs RW_SBC_*). */
export interface RemoteWorkerSbc {
  /** RW_SBC_REG: the SBC's public SIP address. */
  reg: string;
  /** RW_SBC_PROV: the SBC's private address; a request from it comes from a remote worker. */
  prov: string;
  tls?: number;
  tcp?: number;
  udp?: number;
}

/** This server as phones must be told about it. */
export interface ProvisioningSite {
  /** SIP domain (registrar realm, AoR host). */
  domain: string;
  /** FQDN of the server (identity CN). */
  fqdn: string;
  /** Address phones on the LAN reach SIP and provisioning at. */
  lanAddress: string;
  /** Address remote phones reach the server at, when there is one (A-15 pinning from a remote site). */
  publicAddress?: string;
  /** SIP listener ports; absent = that transport is off. TLS on means provisioning follows to HTTPS. */
  sipPorts: { udp?: number; tcp?: number; tls?: number };
  /** Provisioning server ports: HTTPS always; HTTP only when the bootstrap exception is on (A-14, §4.6). */
  provisioningPorts: { https: number; http?: number };
  /** System media security and what SRTP it enables (C-02). */
  media: {
    security: 'disabled' | 'best-effort' | 'enforced';
    srtcp: 'encrypted' | 'unencrypted';
    suites: readonly SrtpSuite[];
    capneg: boolean;
  };
  /** The root that issued the main (HTTPS) identity: WebRootCA.pem, TRUSTCERTS (C-03, C-04). */
  rootCa: RootCertificate;
  /** The root of the telephony (SIP/TLS) identity when it differs from rootCa (C-04 TelRootCA.pem). */
  telephonyRootCa?: RootCertificate;
  /** The identity in use is self-signed. */
  identitySelfSigned: boolean;
  remoteWorker?: RemoteWorkerSbc;
  /** DSCP values (C-12, SPEC §3.6): voice 46, control 40 unless configured otherwise. */
  qos: { rtpDscp: number; controlDscp: number };
}

/** One line of a device: a Switchboard user. */
export interface LineAccount {
  extension: string;
  /** SIP digest user name. */
  authUser: string;
  /** SIP digest secret: only files marked `credentials` may carry it. */
  password: string;
  displayName: string;
}

/** The device as generators see it (src/model/device.ts, options not yet validated). */
export interface DeviceInput {
  mac: string;
  family: DeviceFamily;
  model: string | null;
  options: Readonly<Record<string, string | number | boolean>>;
}

/** The request being answered, when there is one (`provision render` has none). */
export interface RequestFacts {
  /** Source address of the HTTP request: §5.9 SBC detection, A-15 private/public pinning. */
  source: string;
  /** Arrived over HTTPS. */
  secure: boolean;
  /** The source is inside `sip.localNetworks` (A-15: pin the LAN address, else the public one). */
  local: boolean;
}

export interface RenderInput {
  site: ProvisioningSite;
  device: DeviceInput;
  /** The device's lines in order (line 1 first); a DECT base has one per handset. */
  lines: readonly LineAccount[];
  request?: RequestFacts;
}

export interface ProvisionedFile {
  /** File name as the phone requests it, e.g. "46xxsettings.txt", "0004f2aabbcc-ext.cfg". */
  name: string;
  contentType: string;
  body: string | Buffer;
  /** Carries a SIP password (§4.7): served only over authenticated HTTPS. */
  credentials: boolean;
}

export interface RenderResult {
  files: ProvisionedFile[];
  /** Things the administrator should know (A-28 self-signed identity, a dropped dial-plan rule...). */
  warnings: string[];
}

/**
 * The configuration cannot be generated as asked (C-02 suites that do not
 * match the server's, C-13 a handset that is not Lync-capable, C-14 an
 * unsupported mix): the message says what to change.
 */
export class ProvisioningRefusal extends Error {
  override name = 'ProvisioningRefusal';
}

export interface FamilyGenerator {
  family: DeviceFamily;
  /** For lists and the CLI's help, e.g. "Avaya J100/96x1 SIP (46xxsettings.txt)". */
  title: string;
  /** Models this family knows (free text is accepted; the list is a hint). */
  models: readonly string[];
  /** The family's options; parse errors are shown to the administrator as they are. */
  options: z.ZodType<Record<string, unknown>>;
  /** Lines a device of this family can carry. */
  maxLines: number;
  /**
   * Files without credentials that the HTTP bootstrap exception (A-14, §4.6)
   * may serve to an unauthenticated phone on the LAN, e.g. the 11xx policy file
   * and root certificates. Empty for most families.
   */
  bootstrapFiles: readonly string[];
  /** @throws ProvisioningRefusal */
  render(input: RenderInput): RenderResult;
}
