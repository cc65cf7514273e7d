// The handset gateway's users (SPEC §5.8) read from the users store, a page at
// a time: the CLI (`provision gateway-users`) and the API
// (GET /api/provisioning/gateway-users) both write their file from here.
import type { GatewayRepository } from '../store/gateway-types.ts';
import type { UserRepository } from '../store/types.ts';
import { gatewayUserOf, MAX_GATEWAY_USERS, type GatewayUser } from './gateway-users.ts';

const PAGE = 500;

/** The file cannot be written as asked: too many users, or an extension asked for is not a user. */
export class GatewayUsersSelectionError extends Error {
  override name = 'GatewayUsersSelectionError';
  constructor(message: string, /** More users than a gateway holds (else: extensions that are not users). */ readonly tooMany: boolean) {
    super(message);
  }
}

export interface GatewayUsersQuery {
  /** Each user's domain; empty = the gateway's default domain. */
  domain?: string;
  /** Only these extensions (every user when absent). */
  only?: ReadonlySet<string>;
}

/** Each user's record; a user with a gateway line is written from the line (gatewayUserOf). @throws GatewayUsersSelectionError */
export async function gatewayUsersFromStore(
  store: { users: Pick<UserRepository, 'afterId'>; gateway: Pick<GatewayRepository, 'linesWithSecrets'> },
  q: GatewayUsersQuery = {},
): Promise<GatewayUser[]> {
  const { users } = store;
  const lines = new Map((await store.gateway.linesWithSecrets()).map((l) => [l.userId, l]));
  const out: GatewayUser[] = [];
  // A page at a time: a big directory read as one list holds up the store (UserRepository.afterId).
  for (let after = 0; ;) {
    const page = await users.afterId(after, PAGE);
    for (const u of page) {
      if (q.only && !q.only.has(u.extension)) continue;
      if (out.length === MAX_GATEWAY_USERS) throw new GatewayUsersSelectionError(`more than ${MAX_GATEWAY_USERS} users, the most a gateway takes: choose the extensions`, true);
      out.push(gatewayUserOf(u, q.domain ?? '', lines.get(u.id)));
    }
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.id;
  }
  if (q.only) {
    const missing = [...q.only].filter((e) => !out.some((u) => u.extension === e));
    if (missing.length > 0) throw new GatewayUsersSelectionError(`no user ${missing.join(', ')}`, false);
  }
  return out;
}
