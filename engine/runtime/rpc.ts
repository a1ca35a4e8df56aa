/**
 * Typed request/response over a message port (worker_threads or a Web Worker), with streamed
 * partial results, cancellation and notifications. Every method's params, partials and result are
 * declared once in a method map (see protocol.ts); neither end handles an untyped message.
 */
export interface MethodSpec {
  params: unknown;
  result: unknown;
  partial?: unknown;
}
export type MethodMap = Record<string, MethodSpec>;
export type EventMap = Record<string, unknown>;

export type WireMessage =
  | { kind: 'request'; id: number; method: string; params: unknown }
  | { kind: 'cancel'; id: number }
  | { kind: 'partial'; id: number; value: unknown }
  | { kind: 'result'; id: number; value: unknown }
  | { kind: 'error'; id: number; name: string; message: string }
  | { kind: 'event'; event: string; value: unknown };

export interface Port {
  post(msg: WireMessage): void;
  onMessage(handler: (msg: WireMessage) => void): void;
}

export class CancelledError extends Error {
  constructor(what = 'request') {
    super(`${what} cancelled`);
    this.name = 'CancelledError';
  }
}

export interface RequestContext<P> {
  signal: AbortSignal;
  partial(value: P): void;
}

export type Handlers<M extends MethodMap> = {
  [K in keyof M]: (params: M[K]['params'], ctx: RequestContext<M[K]['partial']>) => Promise<M[K]['result']>;
};

/** The worker's side: runs handlers, one AbortController per request. */
export function serve<M extends MethodMap, E extends EventMap>(port: Port, handlers: Handlers<M>) {
  const running = new Map<number, AbortController>();
  port.onMessage(async (msg) => {
    if (msg.kind === 'cancel') {
      running.get(msg.id)?.abort();
      return;
    }
    if (msg.kind !== 'request') return;
    const handler = handlers[msg.method as keyof M];
    if (!handler) {
      port.post({ kind: 'error', id: msg.id, name: 'Error', message: `unknown method ${msg.method}` });
      return;
    }
    const ac = new AbortController();
    running.set(msg.id, ac);
    try {
      const value = await handler(msg.params as never, { signal: ac.signal, partial: (value) => port.post({ kind: 'partial', id: msg.id, value }) });
      port.post({ kind: 'result', id: msg.id, value });
    } catch (e) {
      const err = e as Error;
      port.post({ kind: 'error', id: msg.id, name: ac.signal.aborted ? 'CancelledError' : err?.name ?? 'Error', message: err?.message ?? String(e) });
    } finally {
      running.delete(msg.id);
    }
  });
  return {
    emit<K extends keyof E & string>(event: K, value: E[K]) {
      port.post({ kind: 'event', event, value });
    },
  };
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  onPartial?: (v: unknown) => void;
}

/** The caller's side. */
export class RpcClient<M extends MethodMap, E extends EventMap> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<string, Set<(v: unknown) => void>>();

  constructor(private readonly port: Port) {
    port.onMessage((msg) => {
      if (msg.kind === 'event') {
        for (const l of this.listeners.get(msg.event) ?? []) l(msg.value);
        return;
      }
      if (msg.kind === 'request' || msg.kind === 'cancel') return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      if (msg.kind === 'partial') p.onPartial?.(msg.value);
      else {
        this.pending.delete(msg.id);
        if (msg.kind === 'result') p.resolve(msg.value);
        else {
          const err = msg.name === 'CancelledError' ? new CancelledError() : new Error(msg.message);
          if (msg.name !== 'CancelledError') err.name = msg.name;
          p.reject(err);
        }
      }
    });
  }

  request<K extends keyof M & string>(
    method: K,
    params: M[K]['params'],
    opts: { signal?: AbortSignal; onPartial?: (v: M[K]['partial']) => void } = {},
  ): Promise<M[K]['result']> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (opts.signal?.aborted) return reject(new CancelledError());
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onPartial: opts.onPartial as (v: unknown) => void });
      opts.signal?.addEventListener('abort', () => this.port.post({ kind: 'cancel', id }), { once: true });
      this.port.post({ kind: 'request', id, method, params });
    });
  }

  on<K extends keyof E & string>(event: K, listener: (v: E[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as (v: unknown) => void);
    return () => set!.delete(listener as (v: unknown) => void);
  }

  /** Rejects everything in flight, e.g. when the worker died. */
  failAll(error: Error) {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}
