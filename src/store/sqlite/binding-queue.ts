// The write-behind queue of registration changes, coalesced by key: of many
// writes to one (aor, contact) only the last is kept, and removing a whole AOR
// discards what was queued for it. Pure data structure; registrations.ts
// drives it and writes it out.
import type { Binding } from '../types.ts';
import type { WriteBehindGate } from './write-behind.ts';

/** Queued work for one AOR: optionally delete all its rows first, then per-contact upserts (Binding) or deletes (null). */
export interface AorWork {
  deleteAll: boolean;
  ops: Map<string, Binding | null>;
}

export type Batch = Map<string, AorWork>;

/** The enqueue side of a registration repository, the same over both engines. */
export abstract class BindingIntake {
  protected readonly queue = new BindingQueue();
  protected abstract readonly wb: WriteBehindGate;

  /** Distinct keys waiting to be written. */
  get pending(): number {
    return this.queue.size;
  }

  /** The binding object is kept by reference until written; mutating it later changes what gets written. */
  enqueueUpsert(binding: Binding): void {
    if (this.wb.closed) return;
    this.queue.upsert(binding);
    this.wb.queued();
  }

  enqueueDelete(aor: string, contactUri: string): void {
    if (this.wb.closed) return;
    this.queue.delete(aor, contactUri);
    this.wb.queued();
  }

  enqueueDeleteAor(aor: string): void {
    if (this.wb.closed) return;
    this.queue.deleteAor(aor);
    this.wb.queued();
  }

  whenDurable(done: (err?: Error) => void): void {
    if (this.wb.closed) done(new Error('store closed'));
    else this.wb.whenDurable(done);
  }
}

export class BindingQueue {
  private byAor: Batch = new Map();
  /** Distinct queued operations (per-contact ops plus whole-AOR deletes). */
  size = 0;

  private work(aor: string): AorWork {
    let w = this.byAor.get(aor);
    if (!w) {
      w = { deleteAll: false, ops: new Map() };
      this.byAor.set(aor, w);
    }
    return w;
  }

  upsert(b: Binding): void {
    const ops = this.work(b.aor).ops;
    const before = ops.size;
    ops.set(b.contactUri, b);
    this.size += ops.size - before;
  }

  delete(aor: string, contactUri: string): void {
    const ops = this.work(aor).ops;
    const before = ops.size;
    ops.set(contactUri, null);
    this.size += ops.size - before;
  }

  deleteAor(aor: string): void {
    const w = this.work(aor);
    this.size -= w.ops.size;
    w.ops.clear();
    if (!w.deleteAll) this.size++;
    w.deleteAll = true;
  }

  /** Hands over everything queued and starts an empty queue. */
  take(): Batch {
    const batch = this.byAor;
    this.byAor = new Map();
    this.size = 0;
    return batch;
  }

  /** Puts back a batch that could not be written, under anything queued since (newer wins). */
  restore(older: Batch): void {
    for (const [aor, o] of older) {
      const n = this.byAor.get(aor);
      if (!n) {
        this.byAor.set(aor, o);
        this.size += o.ops.size + (o.deleteAll ? 1 : 0);
        continue;
      }
      if (n.deleteAll) continue;
      if (o.deleteAll) {
        n.deleteAll = true;
        this.size++;
      }
      for (const [uri, op] of o.ops) {
        if (!n.ops.has(uri)) {
          n.ops.set(uri, op);
          this.size++;
        }
      }
    }
  }
}
