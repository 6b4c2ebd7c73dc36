// The WebSocket SignalR would use: a browser's, and in Node the `ws` package it brings (Node's own sends no headers,
// so no token), loaded only there.
const inNode = Boolean(/** @type {any} */ (globalThis).process?.versions?.node);
const PlatformWebSocket = /** @type {typeof WebSocket} */ (inNode
  // @ts-ignore: `ws` ships no types; only its constructor is used, as SignalR uses it
  ? (await import('ws')).default
  : globalThis.WebSocket);

/**
 * A WebSocket that gives up opening after `openTimeoutMs()` (asked as each socket is made), and that the client can abandon while it opens. SignalR
 * sets no bound of its own: an address that accepts the connection and never answers (a proxy with no gateway
 * behind it) held start() and a reconnect try for minutes, and stop() waits for a start in progress.
 * @param {() => number} openTimeoutMs
 * @param {Set<WebSocket>} opening where the sockets still opening are kept, to close them on stop()
 * @param {() => void} [gaveUp] told when a socket is given up unanswered (not when it fails on its own)
 * @param {() => number} [nextAttempt] the client's count of its connection attempts, added to the address as `attempt`:
 *   a try given up here may still reach a slow or frozen replica after the client connected elsewhere, and the gateway
 *   then refuses it rather than let it replace the later connection (both carry the client's id)
 * @returns {typeof WebSocket}
 */
export function boundedWebSocket(openTimeoutMs, opening, gaveUp = () => {}, nextAttempt = undefined) {
  return class BoundedWebSocket extends PlatformWebSocket {
    /** @param {ConstructorParameters<typeof WebSocket>} args as SignalR gives them (a browser's takes no undefined protocol) */
    constructor(...args) {
      if (nextAttempt && typeof args[0] === 'string') {
        args[0] = `${args[0]}${args[0].includes('?') ? '&' : '?'}attempt=${nextAttempt()}`;
      }

      super(...args);
      opening.add(this);
      const giveUp = setTimeout(() => {
        if (this.readyState === PlatformWebSocket.CONNECTING) {
          gaveUp();
          this.close(); // SignalR then fails the start, or the reconnect try, as for any socket that did not open
        }
      }, openTimeoutMs());
      /** @type {any} */ (giveUp).unref?.(); // a Node process need not stay up for it
      const settled = () => {
        clearTimeout(giveUp);
        opening.delete(this);
      };
      this.addEventListener('open', settled);
      this.addEventListener('close', settled);
    }
  };
}
