// The MWI notifier's counts sources: a mailbox kept elsewhere (a handset
// gateway user's, upstream) is answered from its source, others from the
// local voicemail, and a source's change notifies like a mailbox change.
// On manual time, through the real transaction layer and UA core.
import { describe, expect, it } from 'vitest';
import type { SipRequest } from '../../../../src/sip/message.ts';
import type { User } from '../../../../src/store/types.ts';
import { silentLogger } from '../../../../src/lib/log.ts';
import { MwiService } from '../../../../src/pbx/mwi/mwi-service.ts';
import type { MailboxSummary } from '../../../../src/pbx/mwi/mwi-service.ts';
import { parseMessageSummary } from '../../../../src/pbx/mwi/message-summary.ts';
import { request, responseTo, uaHarness } from '../../sip/ua/helpers.ts';

const flush = async (): Promise<void> => { for (let i = 0; i < 5; i++) await Promise.resolve(); };

function setup() {
  const h = uaHarness();
  const users = new Map<string, User>([
    ['1001', { id: 1, extension: '1001', authUser: '1001', mwi: 'subscribe' } as unknown as User],
    ['2000', { id: 2, extension: '2000', authUser: '2000', mwi: 'subscribe' } as unknown as User],
  ]);
  const local = new Map([['1001', { new: 5, saved: 0 }], ['2000', { new: 1, saved: 4 }]]);
  const mwi = new MwiService({
    voicemail: {
      counts: async (m) => local.get(m) ?? { new: 0, saved: 0 },
      allCounts: async () => new Map(),
      watch: () => ({ poll: async () => false, stop: () => {} }),
    },
    userByExtension: (e) => users.get(e), aorFor: (e) => `sip:${e}@pbx.test`,
    transactions: h.layer, timers: h.timers, dialogs: h.core.dialogs, domain: 'pbx.test',
    localEndpoint: () => ({ address: '192.0.2.1', port: 5060 }), voicemailNumber: '8000',
    limits: { minExpiresSec: 60, maxExpiresSec: 3600, defaultExpiresSec: 3600 }, log: silentLogger,
  });
  // The gateway's source in miniature: 1001 is a gateway user, its summary is upstream.
  const upstream = new Map<string, MailboxSummary>([['1001', { waiting: true, new: 0, old: 2 }]]);
  let changed: ((m: readonly string[]) => void | Promise<void>) | undefined;
  const remove = mwi.addCountsSource({
    summary: async (m) => (m === '1001' ? upstream.get(m) : undefined),
    watch: (l) => { changed = l; return { poll: async () => false, stop: () => { changed = undefined; } }; },
  });
  h.core.handle('SUBSCRIBE', (req, tx, inb) => { void mwi.subscribe(req, tx, inb, users.get(req.uri.user!)!); });
  const subscribe = async (ext: string): Promise<void> => {
    h.receive(request('SUBSCRIBE', { uri: `sip:${ext}@192.0.2.1`, extra: ['Event: message-summary', 'Expires: 3600'] }));
    await flush();
  };
  const notifies = (): SipRequest[] => h.sentRequests('NOTIFY');
  const summary = (n: SipRequest) => parseMessageSummary(n.body)!;
  return { h, mwi, upstream, subscribe, notifies, summary, changed: () => changed, remove };
}

describe('MwiService counts sources', () => {
  it('a source\'s mailbox is answered from the source (its own lamp, even with no new count); another from the local voicemail', async () => {
    const { mwi, subscribe, notifies, summary } = setup();
    mwi.start(0, false);
    await subscribe('1001');
    await subscribe('2000');
    const [gw, local] = notifies();
    expect(summary(gw!).waiting).toBe(true);
    expect(summary(gw!).counts.get('voice-message')).toMatchObject({ new: 0, old: 2 });
    expect(summary(local!).waiting).toBe(true);
    expect(summary(local!).counts.get('voice-message')).toMatchObject({ new: 1, old: 4 });
  });

  it('a change the source reports notifies the subscribed phones with the new summary', async () => {
    const { h, mwi, upstream, subscribe, notifies, summary, changed } = setup();
    mwi.start(0, false);
    await subscribe('1001');
    h.receive(responseTo(notifies()[0]!, 200));
    upstream.set('1001', { waiting: false, new: 0, old: 3 });
    await changed()!(['1001']);
    await flush();
    expect(notifies()).toHaveLength(2);
    expect(summary(notifies()[1]!).waiting).toBe(false);
    expect(summary(notifies()[1]!).counts.get('voice-message')).toMatchObject({ new: 0, old: 3 });
  });

  it('the source is followed only from start(), and no more once removed or closed', async () => {
    const { mwi, changed, remove } = setup();
    expect(changed()).toBeUndefined();
    mwi.start(0, false);
    expect(changed()).toBeDefined();
    remove();
    expect(changed()).toBeUndefined();
    mwi.close();
  });

  it('without the source the same mailbox is the local voicemail\'s again', async () => {
    const { mwi, subscribe, notifies, summary, remove } = setup();
    mwi.start(0, false);
    remove();
    await subscribe('1001');
    expect(summary(notifies()[0]!).counts.get('voice-message')).toMatchObject({ new: 5, old: 0 });
  });
});
