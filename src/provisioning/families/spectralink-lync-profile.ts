// The Spectralink 84-Series Lync Base Profile as data (SPEC §5.7.3, C-08,
// C-10; spellings per Appendix A #29..#34). With the base profile the handset
// applies these values itself from `device.baseProfile="Lync"`; the User
// Profiles layout cannot use the base profile, so it writes them one by one
// into site.cfg (S) or login.cfg (L).

/**
 * Where a value goes in the User Profiles layout: S = site.cfg, L = login.cfg,
 * 'sign-in' = login.cfg's sign-in block (written by the sign-in logic, C-09),
 * null = not written (Appendix A #31: the reg.1 forms of server feature
 * control are per-line overrides; the voIpProt forms carry the value).
 */
export type ProfilePlacement = 'S' | 'L' | 'sign-in' | null;

export interface ProfileParameter {
  name: string;
  /** The base-profile value, as the handset's XML attribute spells it. */
  value: string;
  placement: ProfilePlacement;
}

export const LYNC_BASE_PROFILE: readonly ProfileParameter[] = [
  { name: 'call.enableOnNotRegistered', value: '0', placement: 'S' },
  { name: 'callLists.logConsultationCalls', value: '1', placement: 'S' },
  { name: 'dialplan.applyToDirectoryDial', value: '1', placement: 'S' },
  { name: 'dialplan.1.applyToForward', value: '1', placement: 'S' },
  { name: 'feature.messaging.enabled', value: '1', placement: 'S' },
  { name: 'feature.presence.enabled', value: '1', placement: 'S' },
  { name: 'reg.1.applyServerDigitMapLocally', value: '1', placement: 'L' },
  { name: 'reg.1.auth.useLoginCredentials', value: '1', placement: 'sign-in' },
  { name: 'reg.1.auth.usePinCredentials', value: '1', placement: 'sign-in' },
  { name: 'reg.1.serverFeatureControl.cf', value: '1', placement: null },
  { name: 'reg.1.serverFeatureControl.localProcessing.cf', value: '0', placement: null },
  { name: 'reg.1.serverFeatureControl.signalingMethod', value: 'serviceMsForwardContact', placement: 'L' },
  // Appendix A #30: emit baseTimeOut (login.cfg's baseTimeout is accepted on import).
  { name: 'reg.1.server.1.registerRetry.baseTimeOut', value: '10', placement: 'L' },
  { name: 'reg.1.server.1.registerRetry.maxTimeout', value: '180', placement: 'L' },
  // Appendix A #32: the templates' lync2013, not the table's lync2010.
  { name: 'reg.1.server.1.specialInterop', value: 'lync2013', placement: 'L' },
  { name: 'reg.1.server.1.transport', value: 'TLS', placement: 'L' },
  // Appendix A #34: a line index (1..n).
  { name: 'roaming_buddies.reg', value: '1', placement: 'S' },
  { name: 'sec.srtp.holdWithNewKey', value: '0', placement: 'S' },
  { name: 'sec.srtp.key.lifetime', value: '2147483648', placement: 'S' },
  { name: 'sec.srtp.mki.enabled', value: '1', placement: 'S' },
  // Appendix A #33: the length governs, 1 byte.
  { name: 'sec.srtp.mki.length', value: '1', placement: 'S' },
  { name: 'sec.srtp.mki.startSessionAtOne', value: '1', placement: 'S' },
  { name: 'sec.srtp.resumeWithNewKey', value: '0', placement: 'S' },
  { name: 'sec.TLS.profileSelection.SIP', value: 'ApplicationProfile1', placement: 'S' },
  { name: 'softkey.feature.simplifiedSignIn', value: '1', placement: 'S' },
  { name: 'tcpIpApp.ice.mode', value: 'MSOCS', placement: 'S' },
  // Appendix A #30: keepalive, not the site.cfg template's heartbeat.
  { name: 'tcpIpApp.keepalive.tcp.sip.tls.enable', value: '1', placement: 'S' },
  { name: 'voice.audioProfile.G7221.24kbps.payloadType', value: '112', placement: 'S' },
  { name: 'voice.codecPref.G7221.24kbps', value: '5', placement: 'S' },
  { name: 'voice.codecPref.G7221.32kbps', value: '0', placement: 'S' },
  { name: 'voIpProt.SIP.IM.autoAnswerDelay', value: '40', placement: 'S' },
  { name: 'voIpProt.SIP.allowTransferOnProceeding', value: '0', placement: 'S' },
  { name: 'voIpProt.SIP.serverFeatureControl.cf', value: '1', placement: 'S' },
  { name: 'voIpProt.SIP.serverFeatureControl.dnd', value: '1', placement: 'S' },
  { name: 'voIpProt.SIP.serverFeatureControl.localProcessing.cf', value: '0', placement: 'S' },
  { name: 'voIpProt.SIP.serverFeatureControl.localProcessing.dnd', value: '0', placement: 'S' },
  { name: 'voIpProt.SIP.header.diversion.enable', value: '1', placement: 'S' },
  { name: 'voIpProt.SIP.mtls.enable', value: '0', placement: 'S' },
];

/** The base-profile value of a parameter (the table above is the one place for it). */
export function baseProfileValue(name: string): string {
  const p = LYNC_BASE_PROFILE.find((row) => row.name === name);
  if (p === undefined) throw new Error(`${name} is not a Lync base-profile parameter`);
  return p.value;
}
