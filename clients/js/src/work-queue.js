/**
 * Runs the client's work one piece at a time, in the order it was queued: deliveries, joins, rejoins and gap fills
 * all read and move each room's position, and a gap fill waits for the server between its steps. SignalR calls
 * its handlers without waiting for them, so handlers only queue work here.
 */
export class WorkQueue {
  /** @type {Promise<unknown>} */
  #tail = Promise.resolve();
  #onError;

  /** @param {(error: unknown) => Promise<void> | void} onError where failures of queued work go (no caller waits for it) */
  constructor(onError) {
    this.#onError = onError;
  }

  /**
   * Queues work no caller waits for; its failure goes to onError, and the queue goes on.
   * @param {() => Promise<void> | void} work
   */
  enqueue(work) {
    this.#tail = this.#tail.then(work).catch(async (error) => {
      try {
        await this.#onError(error);
      } catch {
        // A failing error handler must not stop the queue.
      }
    });
  }

  /**
   * Runs work in turn and gives its result (or failure) to the caller.
   * @template T
   * @param {() => Promise<T> | T} work
   * @returns {Promise<T>}
   */
  run(work) {
    const result = this.#tail.then(work);
    this.#tail = result.catch(() => {});
    return result;
  }
}
