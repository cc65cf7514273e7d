// Switchboard's call settings driven the way an operator drives them: the
// `switchboard user set / trunk add / did add` CLI on the server's data dir
// (before start, or on a running server: both are documented to work).
import type { SipTransport } from '../baresip.ts';
import type { SwitchboardHandle } from '../harness.ts';
import { switchboardCli } from '../harness.ts';
import type { SipServer } from './sipp-calls.ts';

export interface UserSettings {
  callWaiting?: boolean;
  codecs?: readonly string[];
  maxCalls?: number;
  noAnswerTimeoutSec?: number;
  outbound?: boolean;
}

const onOff = (v: boolean): string => (v ? 'on' : 'off');

export async function userSet(dataDir: string, ext: string, s: UserSettings): Promise<void> {
  const args = ['user', 'set', '--ext', ext, '--data-dir', dataDir];
  if (s.callWaiting !== undefined) args.push('--call-waiting', onOff(s.callWaiting));
  if (s.codecs !== undefined) args.push('--codecs', s.codecs.join(','));
  if (s.maxCalls !== undefined) args.push('--max-calls', String(s.maxCalls));
  if (s.noAnswerTimeoutSec !== undefined) args.push('--no-answer-timeout', String(s.noAnswerTimeoutSec));
  if (s.outbound !== undefined) args.push('--outbound', onOff(s.outbound));
  await switchboardCli(args);
}

export interface TrunkSettings {
  name: string;
  host: string;
  port: number;
  transport: SipTransport;
  prefix?: string;
  strip?: number;
  addPrefix?: string;
  registerUser?: string;
  registerPassword?: string;
}

export async function trunkAdd(dataDir: string, t: TrunkSettings): Promise<void> {
  const args = ['trunk', 'add', '--name', t.name, '--host', t.host, '--port', String(t.port), '--transport', t.transport, '--data-dir', dataDir];
  if (t.prefix !== undefined) args.push('--prefix', t.prefix);
  if (t.strip !== undefined) args.push('--strip', String(t.strip));
  if (t.addPrefix !== undefined) args.push('--add-prefix', t.addPrefix);
  if (t.registerUser !== undefined) args.push('--register-user', t.registerUser);
  if (t.registerPassword !== undefined) args.push('--register-password', t.registerPassword);
  await switchboardCli(args);
}

export async function didAdd(dataDir: string, number: string, ext: string): Promise<void> {
  await switchboardCli(['did', 'add', '--number', number, '--ext', ext, '--data-dir', dataDir]);
}

/** The SIPp flows' view of a running Switchboard (UDP). */
export function sipServer(s: SwitchboardHandle): SipServer {
  return { name: 'switchboard', host: s.host, udpPort: s.udpPort, domain: s.domain, output: () => s.output() };
}
