// Unit-ring global setup: builds the native SRTP addon when it is missing
// (a fresh checkout or merge where `npm install` has not run since), so the
// SRTP tests can run on both engines. If it cannot be built, the native
// engine's tests fail and say why; SWITCHBOARD_SRTP=js runs only the JS one.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ADDON = fileURLToPath(new URL('../../native/srtp/build/Release/srtp_packet.node', import.meta.url));
const BUILD = fileURLToPath(new URL('../../native/build.mjs', import.meta.url));

export default function setup(): void {
  if (process.env['SWITCHBOARD_SRTP'] === 'js' || existsSync(ADDON)) return;
  spawnSync(process.execPath, [BUILD], { stdio: 'inherit', timeout: 300_000 });
}
