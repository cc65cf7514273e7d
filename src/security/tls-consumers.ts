// The listeners that present a TLS identity, and what a reload changed on
// each (SPEC §4.3 "reload without a full restart", A-17): the SIP TLS
// listener, the HTTPS management server, the provisioning server. Each plugs
// in once; a reload hands every one the new certificate set for its new
// handshakes, and established connections keep the context they began with.
import type { CertificateSet } from './certs.ts';

/** One listener that presents an identity from the certificate set. */
export interface TlsConsumer {
  /** As reports name it: "SIP TLS", "HTTPS management", "HTTPS provisioning". */
  readonly name: string;
  /** SHA-256 fingerprint ("AB:CD:…") of the certificate this listener presents from `set`. */
  fingerprint(set: CertificateSet): string;
  /** New handshakes present the identity from `set`; established connections are left alone. */
  apply(set: CertificateSet): void;
}

/** What one listener presented before a reload and presents after it. */
export interface ListenerChange {
  name: string;
  before: string;
  after: string;
}

/**
 * Hands `next` to every consumer, in order, and says what each presented
 * before and presents now. A consumer that throws stops the loop: the ones
 * before it already present the new identity, which the error says.
 */
export function applyToConsumers(consumers: readonly TlsConsumer[], previous: CertificateSet, next: CertificateSet): ListenerChange[] {
  const changes: ListenerChange[] = [];
  for (const c of consumers) {
    const before = c.fingerprint(previous);
    try {
      c.apply(next);
    } catch (err) {
      const done = changes.map((x) => x.name).join(', ') || 'none';
      throw new Error(`${c.name} could not take the new identity (${(err as Error).message}); already applied: ${done}`);
    }
    changes.push({ name: c.name, before, after: c.fingerprint(next) });
  }
  return changes;
}

/**
 * "SIP TLS and HTTPS management now present AB:… (was CD:…)", one line per
 * distinct fingerprint now presented; "unchanged" when it did not change.
 */
export function describeChanges(changes: readonly ListenerChange[]): string[] {
  const byAfter = new Map<string, ListenerChange[]>();
  for (const c of changes) byAfter.set(c.after, [...(byAfter.get(c.after) ?? []), c]);
  const lines: string[] = [];
  for (const [after, group] of byAfter) {
    const names = joinNames(group.map((g) => g.name));
    const was = [...new Set(group.map((g) => g.before))].filter((b) => b !== after);
    lines.push(`${names} now present${group.length === 1 ? 's' : ''} ${after}${was.length === 0 ? ' (unchanged)' : ` (was ${was.join(', ')})`}`);
  }
  return lines;
}

function joinNames(names: string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}
