// Which process of a cluster owns a transaction, a dialog or a connection.
//
// Several workers share one SIP port (SO_REUSEPORT): the kernel keeps each
// flow on one worker, but the answer to a request one worker sent, or the next
// request of a dialog it holds, may reach another. So every identifier a
// worker mints carries its number — Via branches and tags as "<n>." after the
// prefix ('.' is a token character base64url never uses), connection ids as
// their value modulo MAX_OWNERS — and whoever receives a message can tell
// whose it is without asking anyone. A process that is not part of a cluster
// is owner 0 and mints identifiers exactly as before.

/** Workers one cluster can have; owner numbers are 1..MAX_OWNERS-1. */
export const MAX_OWNERS = 64;

let local = 0;
let prefix = '';

/** Sets this process's owner number (once, at worker start; 0 = not clustered). */
export function setLocalOwner(n: number): void {
  if (!Number.isInteger(n) || n < 0 || n >= MAX_OWNERS) throw new RangeError(`owner must be 0..${MAX_OWNERS - 1}, got ${n}`);
  local = n;
  prefix = n === 0 ? '' : `${n}.`;
}

export function localOwner(): number {
  return local;
}

/** What minted identifiers start with ('' outside a cluster). */
export function ownerPrefix(): string {
  return prefix;
}

/**
 * The owner named at `from` in an identifier ("12.xyz" -> 12), or 0 when it
 * names none: identifiers from before clustering and other agents' tags.
 */
export function ownerOfId(id: string | undefined, from = 0): number {
  if (id === undefined) return 0;
  let n = 0;
  for (let i = from; i < id.length && i < from + 3; i++) {
    const c = id.charCodeAt(i);
    if (c === 46 /* . */) return i > from && n < MAX_OWNERS ? n : 0;
    if (c < 48 || c > 57) return 0;
    n = n * 10 + (c - 48);
  }
  return 0;
}

/** The owner of a connection id minted by nextConnectionId(). */
export function ownerOfConnection(id: number): number {
  return id % MAX_OWNERS;
}

let connectionSeq = 0;

/** A connection id unique in the cluster: its owner is ownerOfConnection(id). */
export function nextConnectionId(): number {
  return ++connectionSeq * MAX_OWNERS + local;
}
