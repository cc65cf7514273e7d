// The IVR menu, conference room and audio file models: defaults, messages in
// an administrator's words, and loops a caller could not leave.
import { describe, expect, it } from 'vitest';
import { audioNameFromPath, mohSettingSchema } from '../../../src/model/audio-file.ts';
import { conferenceRoomInputSchema } from '../../../src/model/conference-room.ts';
import { findMenuLoop, ivrMenuInputSchema, type IvrMenuFields } from '../../../src/model/ivr-menu.ts';

const messages = (r: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }) =>
  (r.error?.issues ?? []).map((i) => `${i.path.map(String).join('.')}: ${i.message}`);

const menu = (number: string, m: Partial<IvrMenuFields> = {}): IvrMenuFields => ivrMenuInputSchema.parse({ number, name: `Menu ${number}`, ...m });

describe('IVR menu model', () => {
  it('fills the defaults', () => {
    expect(menu('8100')).toEqual({
      number: '8100', name: 'Menu 8100', greeting: null, timeoutSec: 5, maxRetries: 3, options: {},
      onTimeout: { type: 'repeat' }, onInvalid: { type: 'repeat' }, operator: null,
    });
  });

  it('says what is wrong with each field', () => {
    const r = ivrMenuInputSchema.safeParse({
      number: '=1', name: 'x', greeting: 'a/b', timeoutSec: 61, maxRetries: -1, operator: '',
      options: { 1: { type: 'extension', target: '1001', extra: 1 }, 2: { type: 'menu' }, 3: { type: 'ring' }, 12: { type: 'hangup' } },
    });
    expect(messages(r).sort()).toEqual([
      "options.12: must be a key of the phone: 0-9, '*' or '#'",
      'greeting: must be 1-64 letters, digits, - or _, starting with a letter or digit',
      'maxRetries: must be at least 0',
      "number: must be 1-64 letters, digits or -_.!~*'()&=+$, starting with a letter, a digit, * or + and a digit",
      'operator: must not be empty',
      'options.1: unknown field "extra"',
      'options.2.target: is required',
      'options.3.type: must be extension, huntgroup, voicemail, menu, dial-by-extension, repeat or hangup',
      'timeoutSec: must be at most 60',
    ].sort());
    expect(messages(ivrMenuInputSchema.safeParse({ number: '8100', name: 'x', timeoutSec: 0, onInvalid: { type: 'dial-by-extension' } }))).toEqual([
      'timeoutSec: must be at least 1', 'onInvalid.type: dial-by-extension needs a key from the caller; use it as an option',
    ]);
  });

  it('finds loops through timeouts and invalid digits, and a digit naming its own menu', () => {
    const menus = new Map([
      ['8101', menu('8101', { onTimeout: { type: 'menu', target: '8102' } })],
      ['8102', menu('8102', { onInvalid: { type: 'menu', target: '8100' } })],
      ['8103', menu('8103', { options: { 9: { type: 'menu', target: '8100' } } })],
    ]);
    expect(findMenuLoop(menu('8100', { onTimeout: { type: 'menu', target: '8101' } }), menus)).toEqual({ field: 'onTimeout', path: '8100 -> 8101 -> 8102 -> 8100' });
    expect(findMenuLoop(menu('8100', { onInvalid: { type: 'menu', target: '8103' } }), menus)).toBeUndefined();
    expect(findMenuLoop(menu('8100', { options: { 1: { type: 'menu', target: '8101' } } }), menus)).toBeUndefined();
    expect(findMenuLoop(menu('8100', { options: { 5: { type: 'menu', target: '8100' } } }), menus)).toEqual({ field: 'options.5', path: '8100 -> 8100' });
    expect(findMenuLoop(menu('8100', { onInvalid: { type: 'menu', target: '8100' } }), menus)).toEqual({ field: 'onInvalid', path: '8100 -> 8100' });
    // The saved menu replaces its stored version: an old loop through it is gone.
    const stored = new Map([...menus, ['8100', menu('8100', { onTimeout: { type: 'menu', target: '8101' } })]]);
    expect(findMenuLoop(menu('8100'), stored)).toBeUndefined();
  });

  it('walks a long chain of menus once each, without recursion', () => {
    const menus = new Map<string, IvrMenuFields>();
    for (let i = 1; i < 50_000; i++) menus.set(`${9000 + i}`, menu(`${9000 + i}`, { onTimeout: { type: 'menu', target: `${9000 + i + 1}` } }));
    expect(findMenuLoop(menu('9000', { onTimeout: { type: 'menu', target: '9001' } }), menus)).toBeUndefined();
    menus.set('59000', menu('59000', { onTimeout: { type: 'menu', target: '9000' } }));
    expect(findMenuLoop(menu('9000', { onTimeout: { type: 'menu', target: '9001' } }), menus)?.path.split(' -> ')).toHaveLength(50_002);
  });
});

describe('conference room and audio models', () => {
  it('fills room defaults and bounds the size', () => {
    expect(conferenceRoomInputSchema.parse({ number: '8200' })).toEqual({ number: '8200', name: '', pin: null, maxParticipants: 10, announceJoin: true });
    expect(messages(conferenceRoomInputSchema.safeParse({ number: '8200', pin: '', maxParticipants: 1 })).sort())
      .toEqual(['maxParticipants: must be at least 2', 'pin: must be 1-16 digits']);
  });

  it('names audio files after their path', () => {
    expect(audioNameFromPath('/tmp/Hold Music.WAV')).toBe('Hold-Music');
    expect(audioNameFromPath('C:\\sounds\\welcome_1.wav')).toBe('welcome_1');
    expect(audioNameFromPath('/tmp/---.wav')).toBeUndefined();
    expect(mohSettingSchema.safeParse({ file: null }).success).toBe(true);
    expect(messages(mohSettingSchema.safeParse({ file: '../x' }))).toEqual(['file: must be 1-64 letters, digits, - or _, starting with a letter or digit']);
  });
});
