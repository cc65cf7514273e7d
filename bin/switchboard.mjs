#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx: no build step between a
// checkout and a running server.
// Node 24 binds one UDP/TCP port from several workers (reusePort); older ones cannot.
if (Number(process.versions.node.split('.')[0]) < 24) {
  console.error(`switchboard: needs Node.js 24 or later, this is ${process.version} (\`source .ci/node.sh\` installs it)`);
  process.exit(1);
}
// A server must outlive a SIGHUP (Node's default is to exit) even while its
// modules load; `start` puts its real handler in once they have (src/cli/start.ts).
if (process.argv[2] === 'start') process.on('SIGHUP', () => {});
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
