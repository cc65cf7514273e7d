// AlarmCenter.certificateChecks: one alarm per certificate and kind, its
// severity following the expiry level, a new level raised as a new alarm,
// and alarms the checks no longer report cleared.
import { describe, expect, it } from 'vitest';
import { AlarmCenter } from '../../../src/ops/alarms.ts';
import type { AlarmEvent } from '../../../src/ops/alarms.ts';
import type { CertWarning } from '../../../src/model/certificates.ts';

const expiry = (level: CertWarning['level'], subject: CertWarning['subject'] = 'main'): CertWarning => ({ kind: 'expiry', subject, level, text: `${subject} ${level}` });

describe('certificate alarms', () => {
  it('follows the expiry level: warning, minor, major, critical; each level a new alarm', () => {
    const alarms = new AlarmCenter({ now: () => 1_000 });
    const events: AlarmEvent[] = [];
    alarms.onEvent((e) => events.push(e));
    const seen: string[] = [];
    for (const level of ['days30', 'days7', 'days1', 'expired'] as const) {
      alarms.certificateChecks([expiry(level)]);
      seen.push(alarms.get('certificate-expiry:main')!.severity);
    }
    expect(seen).toEqual(['warning', 'minor', 'major', 'critical']);
    expect(events.filter((e) => e.type === 'raised')).toHaveLength(4);
    // The same level the next day: one more occurrence, not a new alarm.
    alarms.certificateChecks([expiry('expired')]);
    expect(alarms.get('certificate-expiry:main')!.count).toBe(2);
  });

  it('keeps the identities apart, raises a clock problem as major, and clears what the checks no longer say', () => {
    const alarms = new AlarmCenter({ now: () => 1_000 });
    alarms.certificateChecks([
      expiry('days7', 'telephony'),
      { kind: 'clock', subject: 'ca', text: 'internal root CA: the clock is before its start: set the time (NTP)' },
      // Family warnings are the page's and the CLI's, not alarms.
      { kind: 'san', subject: 'main', family: 'avaya-e129', text: 'lacks DNS:10.0.0.5' },
    ]);
    expect(alarms.list().map((a) => [a.id, a.severity])).toEqual([
      ['certificate-clock:ca', 'major'],
      ['certificate-expiry:telephony', 'minor'],
    ]);
    alarms.certificateChecks([expiry('days7', 'telephony')]);
    expect(alarms.list().map((a) => a.id)).toEqual(['certificate-expiry:telephony']);
    alarms.certificateChecks([]);
    expect(alarms.list()).toEqual([]);
  });
});
