// A process is a list of components started in order and stopped in reverse
// (DESIGN.md, Composition). Keeping the order in one list means the shutdown
// order is the start order read backwards, instead of a second hand-written
// list that drifts from the first, and a failure half-way through start-up
// releases exactly what was already running.

export interface Component {
  /** For onStopError and for names (diagnostics, tests). */
  readonly name: string;
  start?(): void | Promise<void>;
  stop?(): void | Promise<void>;
}

export interface ComponentListOptions {
  /**
   * Receives what a stop() throws; the remaining components still stop (a
   * failing close must not leave sockets and files open). Default: ignore.
   */
  onStopError?: (name: string, err: unknown) => void;
}

export class ComponentList {
  private readonly pending: Component[] = [];
  private readonly running: Component[] = [];
  private readonly onStopError: (name: string, err: unknown) => void;
  private stopping: Promise<void> | undefined;

  constructor(opts: ComponentListOptions = {}) {
    this.onStopError = opts.onStopError ?? (() => {});
  }

  /** Appends components; they start at the next start(), after everything added before them. */
  add(...components: Component[]): this {
    if (this.stopping) throw new Error('component list is stopping');
    this.pending.push(...components);
    return this;
  }

  /**
   * Starts the components added since the last start(), in order. If one
   * fails, it is stopped too (a transport may have bound UDP before TLS
   * failed, so stop() must accept a partial start), then every running
   * component, including those of earlier start() calls, in reverse. The
   * error is rethrown as it is (callers look at codes such as EADDRINUSE).
   */
  async start(): Promise<void> {
    while (this.pending.length > 0) {
      const c = this.pending.shift()!;
      // Counted as running from here: a failed start is stopped with the rest.
      this.running.push(c);
      try {
        await c.start?.();
      } catch (err) {
        this.pending.length = 0;
        await this.stop();
        throw err;
      }
    }
  }

  /**
   * Builds, starts and registers one component whose value later ones need
   * at construction (a database handle, a socket opened asynchronously).
   * Returns the value; on failure, stops what runs, as start() does.
   */
  async open<T>(name: string, create: () => T | Promise<T>, close?: (value: T) => void | Promise<void>): Promise<T> {
    let value: { v: T } | undefined;
    this.add({
      name,
      start: async () => {
        value = { v: await create() };
      },
      // Nothing to close when create() itself failed.
      stop: close && (() => (value ? close(value.v) : undefined)),
    });
    await this.start();
    return value!.v;
  }

  /**
   * Stops running components in reverse order; safe to call more than once or
   * concurrently. A stopped list is finished: add() refuses new components.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      while (this.running.length > 0) {
        const c = this.running.pop()!;
        try {
          await c.stop?.();
        } catch (err) {
          this.failedStops.push({ name: c.name, err });
          this.onStopError(c.name, err);
        }
      }
    })();
    return this.stopping;
  }

  /** What failed to stop cleanly (a store that could not write its last batch), for the exit status. */
  readonly failedStops: { name: string; err: unknown }[] = [];

  /** Names of the started (or starting) components, in start order (diagnostics and tests). */
  get names(): string[] {
    return this.running.map((c) => c.name);
  }
}

/**
 * A value two components need from each other at construction (the
 * transaction layer hands requests to the call engine, which sends through
 * the transaction layer). One side takes `() => late.get()` and the value is
 * set once built; a use before that is a composition bug and throws.
 */
export class Late<T> {
  private value: { v: T } | undefined;

  constructor(private readonly what: string) {}

  set(v: T): void {
    if (this.value) throw new Error(`${this.what} set twice`);
    this.value = { v };
  }

  get(): T {
    if (!this.value) throw new Error(`${this.what} used before it was built`);
    return this.value.v;
  }
}
