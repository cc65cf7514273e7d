// Run as a separate process by user-changes.test.ts: the CLI's side of the
// two-process setup, writing users to the same database file.
import { openStore } from '../../../src/store/index.ts';

const [dir, countArg] = process.argv.slice(2);
const store = openStore(dir!);
const n = Number(countArg);
for (let i = 0; i < n; i++) await store.users.add({ extension: String(7000 + i), password: `pw${i}` });
await store.users.remove('7000');
await store.close();
