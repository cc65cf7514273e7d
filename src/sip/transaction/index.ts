// Public surface of the transaction layer.
export { TransactionLayer } from './layer.ts';
export type { TransactionLayerOptions } from './layer.ts';
export type { ClientOptions } from './client.ts';
export { Retransmitter2xx } from './retransmit-2xx.ts';
export type { Retransmitter2xxOptions } from './retransmit-2xx.ts';
export { buildAck, buildCancel, buildResponse, formatVia } from './build.ts';
export type { BuildResponseOptions } from './build.ts';
export { generateBranch, generateTag } from './branch.ts';
export { MAGIC_COOKIE, hasMagicCookie } from './keys.ts';
export type * from './types.ts';
