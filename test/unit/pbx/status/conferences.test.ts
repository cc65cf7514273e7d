// Conferences in status: each worker reports the rooms its own media server
// mixes (extension-report.ts), and the management worker lists every
// worker's (ExtensionView.conferences): meet-me rooms first by number, then
// the ad-hoc rooms of the conference code, each with the worker holding it.
import { describe, expect, it } from 'vitest';
import { report, type ConferenceReport, type ExtensionReporterDeps, type HealthQuery } from '../../../../src/pbx/status/extension-report.ts';
import { ExtensionView, type ExtensionViewDeps } from '../../../../src/pbx/status/extension-view.ts';

function reporter(worker: number | undefined, rooms: Array<{ room: string; participants: number }>): (q: HealthQuery) => unknown {
  // Only what a conferences query reads; the rest of a worker is not asked.
  const deps = { worker, conferences: () => rooms } as unknown as ExtensionReporterDeps;
  return (q) => report(deps, q);
}

function view(workers: Array<(q: HealthQuery) => unknown>): ExtensionView {
  const deps = { gather: async <T>(q: HealthQuery) => workers.map((w) => w(q) as T) } as unknown as ExtensionViewDeps;
  return new ExtensionView(deps);
}

describe('conferences in status', () => {
  it("a worker reports its media server's rooms and its worker number", () => {
    const r = reporter(2, [{ room: '8200', participants: 3 }])({ kind: 'conferences' }) as ConferenceReport;
    expect(r).toEqual({ worker: 2, rooms: [{ room: '8200', participants: 3 }] });
    // A single process has no worker number.
    expect(reporter(undefined, [])({ kind: 'conferences' })).toEqual({ worker: null, rooms: [] });
  });

  it('lists every worker\'s rooms: meet-me rooms by number first, ad-hoc rooms after, each with its worker', async () => {
    const v = view([
      reporter(1, [{ room: 'adhoc-1001-1', participants: 3 }, { room: '8201', participants: 1 }]),
      reporter(2, [{ room: '8200', participants: 2 }, { room: '820', participants: 4 }]),
    ]);
    expect(await v.conferences()).toEqual([
      { room: '820', adhoc: false, participants: 4, worker: 2 },
      { room: '8200', adhoc: false, participants: 2, worker: 2 },
      { room: '8201', adhoc: false, participants: 1, worker: 1 },
      { room: 'adhoc-1001-1', adhoc: true, participants: 3, worker: 1 },
    ]);
    expect(await view([reporter(undefined, [])]).conferences()).toEqual([]);
  });
});
