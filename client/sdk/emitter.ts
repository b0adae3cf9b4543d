/**
 * A tiny typed event emitter: the SDK runs in browsers too, so no `node:events`. A throwing
 * listener is reported to the others' `error` listeners instead of breaking the SDK's pipeline.
 */
export type Listener<T> = (payload: T) => void;

export class TypedEmitter<Events extends { [name: string]: unknown }> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();

  on<E extends keyof Events>(event: E, listener: Listener<Events[E]>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  off<E extends keyof Events>(event: E, listener: Listener<Events[E]>): void {
    this.listeners.get(event)?.delete(listener as Listener<never>);
  }

  /** Resolves with the first payload of `event` that satisfies `predicate`. */
  once<E extends keyof Events>(event: E, predicate: (payload: Events[E]) => boolean = () => true): Promise<Events[E]> {
    return new Promise((resolve) => {
      const stop = this.on(event, (payload) => {
        if (!predicate(payload)) return;
        stop();
        resolve(payload);
      });
    });
  }

  protected emit<E extends keyof Events>(event: E, payload: Events[E]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        (listener as Listener<Events[E]>)(payload);
      } catch (error) {
        if (event !== 'error') this.emit('error' as E, error as Events[E]);
      }
    }
  }
}
