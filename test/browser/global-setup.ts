// The browser ring tests the UI as built: web/dist is rebuilt before the
// first test, so a run never sees a stale bundle (built files are not committed).
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

export default async function setup(): Promise<void> {
  await build({ configFile: fileURLToPath(new URL('../../web/vite.config.ts', import.meta.url)), logLevel: 'warn' });
}
