// The TLS consumers a reload updates: each is handed the new set and
// reported with what it presented before and presents now; the report's
// lines group listeners presenting the same certificate.
import { describe, expect, it } from 'vitest';
import type { CertificateSet } from '../../../src/security/certs.ts';
import { applyToConsumers, describeChanges } from '../../../src/security/tls-consumers.ts';
import type { TlsConsumer } from '../../../src/security/tls-consumers.ts';

const set = (main: string, telephony?: string) => ({ fingerprintSha256: main, telephony: telephony ? { fingerprintSha256: telephony } : null }) as unknown as CertificateSet;

function consumer(name: string, pick: (s: CertificateSet) => string, applied: string[], fail = false): TlsConsumer {
  return {
    name,
    fingerprint: pick,
    apply: (s) => {
      if (fail) throw new Error('bad key');
      applied.push(`${name}:${pick(s)}`);
    },
  };
}

const sip = (s: CertificateSet) => s.telephony?.fingerprintSha256 ?? s.fingerprintSha256;
const https = (s: CertificateSet) => s.fingerprintSha256;

describe('TLS consumers', () => {
  it('hands every consumer the new set and says what each presented before and now', () => {
    const applied: string[] = [];
    const changes = applyToConsumers([consumer('SIP TLS', sip, applied), consumer('HTTPS management', https, applied)], set('AA'), set('AA', 'BB'));
    expect(applied).toEqual(['SIP TLS:BB', 'HTTPS management:AA']);
    expect(changes).toEqual([{ name: 'SIP TLS', before: 'AA', after: 'BB' }, { name: 'HTTPS management', before: 'AA', after: 'AA' }]);
    expect(describeChanges(changes)).toEqual(['SIP TLS now presents BB (was AA)', 'HTTPS management now presents AA (unchanged)']);
  });

  it('groups listeners presenting the same certificate', () => {
    const changes = [{ name: 'SIP TLS', before: 'AA', after: 'CC' }, { name: 'HTTPS management', before: 'AA', after: 'CC' }, { name: 'HTTPS provisioning', before: 'AA', after: 'CC' }];
    expect(describeChanges(changes)).toEqual(['SIP TLS, HTTPS management and HTTPS provisioning now present CC (was AA)']);
  });

  it('names the consumer that refused and the ones already applied', () => {
    const applied: string[] = [];
    expect(() => applyToConsumers([consumer('SIP TLS', sip, applied), consumer('HTTPS management', https, applied, true)], set('AA'), set('BB')))
      .toThrow('HTTPS management could not take the new identity (bad key); already applied: SIP TLS');
  });
});
