// The overload control (src/sip/overload.ts) sheds once its probe waits past
// sip.overload.maxDelayMs (200 ms) two samples running. The suites run many
// servers, SIPp, baresip, linphone and Kamailio side by side on two shared
// cores, where a server descheduled for a few hundred milliseconds is
// ordinary: with the production limit, a test about something else saw its
// phone's first REGISTER over TLS refused with 503 (CI, cert-reload). Test
// servers therefore get a limit only a real stall reaches, unless the test
// configures sip.overload itself; the overload tests, the fuzz run and the
// benchmarks keep the production control (PRODUCTION_OVERLOAD).

/** What test servers run with when the test leaves sip.overload alone. */
export const SHARED_CPU_OVERLOAD = { enabled: true, maxDelayMs: 2000 } as const;

/** The defaults a real installation runs with, for tests and benchmarks of load. */
export const PRODUCTION_OVERLOAD = { enabled: true } as const;

/** A config's sip section with the test default for overload when it names none. */
export function withTestOverload<T extends object>(sip: T | undefined): T & { overload: object } {
  const given = (sip as { overload?: object } | undefined)?.overload;
  return { ...(sip as T), overload: given ?? SHARED_CPU_OVERLOAD };
}
