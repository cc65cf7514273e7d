// Public surface of the transaction layer.
export { TransactionLayer } from './layer.ts';
export type { TransactionLayerOptions } from './layer.ts';
export type { ClientOptions } from './client.ts';
export { Retransmitter2xx } from './retransmit-2xx.ts';
export type { Retransmitter2xxOptions } from './retransmit-2xx.ts';
export { buildAck, buildCancel } from './build.ts';
export { generateBranch, generateTag } from '../ids.ts';
export { MAGIC_COOKIE, hasMagicCookie } from './keys.ts';
export type * from './types.ts';
