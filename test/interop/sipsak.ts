// sipsak as a one-shot OPTIONS pinger. Quirk (0.9.8.1): it cuts a 5-digit
// port in its Request-URI to 4 digits while sending to the right port, so
// callers must point it at a server on a 4-digit port (freePort with a range)
// or the server sees a request for somebody else's URI.
import type { RunResult } from './harness.ts';
import { requireTool, runTool } from './harness.ts';

export const SIPSAK_PORT_RANGE = { min: 2000, max: 9999 } as const;

export interface SipsakReply {
  /** Status line of the final reply, e.g. "SIP/2.0 200 OK"; null if none. */
  status: string | null;
  run: RunResult;
}

export async function sipsakOptions(host: string, port: number, transport: 'udp' | 'tcp' = 'udp'): Promise<SipsakReply> {
  if (port > 9999) throw new Error(`sipsakOptions: port ${port} has 5 digits; sipsak 0.9.8 would mangle it`);
  const sipsak = requireTool('sipsak');
  const args = ['-vv', '-s', `sip:${host}:${port}`];
  if (transport === 'tcp') args.push('-E', 'tcp');
  const run = await runTool(sipsak, args, { timeoutMs: 20_000 });
  // With -vv the final reply's status line follows "** reply received".
  const after = run.stdout.split('** reply received').pop() ?? '';
  const m = /SIP\/2\.0 \d{3}[^\r\n]*/.exec(run.stdout.includes('** reply received') ? after : '');
  return { status: m === null ? null : m[0].trim(), run };
}
