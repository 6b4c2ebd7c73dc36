/**
 * Event handlers by event name. Handlers may be async: each is awaited before the next, so the application sees
 * the client's events in order (a message's receive span lasts until its handlers are done). A handler that fails
 * stops neither the others nor the client's work that raised the event (the rest of a gap fill, a start): its
 * failure goes to onHandlerError.
 */
export class Listeners {
  /** @type {Map<string, Array<(...args: any[]) => unknown>>} */
  #handlers = new Map();
  #onHandlerError;

  /** @param {(error: unknown, event: string) => Promise<void> | void} onHandlerError */
  constructor(onHandlerError) {
    this.#onHandlerError = onHandlerError;
  }

  /**
   * @param {string} event
   * @param {(...args: any[]) => unknown} handler
   * @returns {() => void} removes the handler
   */
  on(event, handler) {
    this.#handlers.set(event, [...(this.#handlers.get(event) ?? []), handler]);
    return () => this.off(event, handler);
  }

  /**
   * @param {string} event
   * @param {(...args: any[]) => unknown} handler
   */
  off(event, handler) {
    this.#handlers.set(event, (this.#handlers.get(event) ?? []).filter((h) => h !== handler));
  }

  /**
   * @param {string} event
   * @param {...unknown} args
   */
  async emit(event, ...args) {
    for (const handler of this.#handlers.get(event) ?? []) {
      try {
        await handler(...args);
      } catch (error) {
        await this.#onHandlerError(error, event);
      }
    }
  }
}
