import { createServer } from 'node:http';
import ws from 'ws';

const RS = '\x1e';

/**
 * A hub endpoint on a local port that speaks SignalR's JSON protocol as the test scripts it: the client's side of
 * breaks, refusals and failing handlers, which the gateway cannot be made to do on cue. What the gateway says in
 * those cases (its sentences, when it closes) is tested against the real one in test/system.
 */
export async function scriptedHub() {
  /** @type {Set<import('ws')>} */
  const sockets = new Set();
  const hub = {
    url: '',
    /** When set, the hub refuses new connections as the gateway refuses a token: HTTP 401 with this sentence. */
    refusal: /** @type {string | undefined} */ (undefined),
    /** How long the handshake's answer waits, in ms. */
    handshakeDelay: 0,
    /** When set, a WebSocket request is held with no answer, as by a proxy with nothing behind it. */
    hangUpgrades: false,
    /** Tokens the hub refuses as the gateway refuses one it does not accept (HTTP 401), whatever refusal says. */
    /** @type {Set<string | null>} */
    refusedTokens: new Set(),
    /** The token each WebSocket request carried, in order (held ones too). @type {(string | null)[]} */
    upgradeTokens: [],
    /** The attempt number each WebSocket request's address carried, in order. @type {(string | null)[]} */
    upgradeAttempts: [],
    /** How many of the next WebSocket requests are held so (a frozen replica the proxy picked), the rest answered. */
    holdNextUpgrades: 0,
    /** How many WebSocket requests have been held (hangUpgrades). */
    get heldUpgrades() {
      return held.size;
    },
    /**
     * Answers an invocation: the value it returns (or resolves to) is the result; a thrown Error's message is the
     * error. Default: GetConnectionInfo answers, anything else returns null.
     * @type {(target: string, args: unknown[], socket: import('ws')) => unknown}
     */
    answer: (target) => (target === 'GetConnectionInfo' ? { connectionId: 'c1', user: 'alice', replica: 'scripted' } : null),
    sockets,
    /** @param {import('ws')} socket @param {string} target @param {unknown[]} args */
    send(socket, target, args) {
      socket.send(JSON.stringify({ type: 1, target, arguments: args }) + RS);
    },
    /** Ends every connection without a close, as a dead gateway or network would (code 1006 at the client). */
    breakAll() {
      for (const socket of sockets) {
        socket.terminate();
      }
    },
    /** @param {import('ws')} socket @param {string} error */
    close(socket, error) {
      socket.send(JSON.stringify({ type: 7, error, allowReconnect: false }) + RS);
      socket.close();
    },
    stop() {
      for (const socket of sockets) {
        socket.terminate();
      }

      for (const socket of held) {
        socket.destroy();
      }

      server.close();
    },
  };

  /** As the gateway reads it: Node's client sends it as a header, a browser's in the URL. @param {import('node:http').IncomingMessage} request */
  const tokenOf = (request) => request.headers.authorization?.replace(/^Bearer /, '')
    ?? new URL(request.url ?? '/', 'http://hub').searchParams.get('access_token');
  /** @param {string | null} token */
  const refusalOf = (token) => hub.refusal ?? (hub.refusedTokens.has(token) ? 'The token is not one this chat accepts.' : undefined);
  const server = createServer((request, response) => {
    const refusal = refusalOf(tokenOf(request));
    response.writeHead(refusal ? 401 : 400, { 'content-type': 'text/plain; charset=utf-8' });
    response.end(refusal ?? 'The chat hub is served over WebSockets only.');
  });
  const webSockets = new ws.Server({ noServer: true });
  /** @type {Set<import('node:stream').Duplex>} */
  const held = new Set();
  server.on('upgrade', (request, socket, head) => {
    const token = tokenOf(request);
    hub.upgradeTokens.push(token);
    hub.upgradeAttempts.push(new URL(request.url ?? '/', 'http://hub').searchParams.get('attempt'));
    if (hub.hangUpgrades || hub.holdNextUpgrades > 0) {
      hub.holdNextUpgrades = Math.max(0, hub.holdNextUpgrades - 1);
      held.add(socket);
      return;
    }

    const refusal = refusalOf(token);
    if (refusal) {
      socket.end(`HTTP/1.1 401 Unauthorized\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${refusal}`);
      return;
    }

    webSockets.handleUpgrade(request, socket, head, (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      let handshaken = false;
      socket.on('message', (data) => {
        for (const record of String(data).split(RS).filter(Boolean)) {
          if (!handshaken) {
            handshaken = true;
            setTimeout(() => socket.send(`{}${RS}`), hub.handshakeDelay).unref(); // a long one keeps no test run open
            continue;
          }

          const message = JSON.parse(record);
          if (message.type === 1 && message.invocationId) {
            Promise.resolve().then(() => hub.answer(message.target, message.arguments, socket)).then(
              (result) => socket.send(JSON.stringify({ type: 3, invocationId: message.invocationId, result }) + RS),
              (error) => socket.send(JSON.stringify({ type: 3, invocationId: message.invocationId, error: error.message }) + RS));
          }
        }
      });
    });
  });

  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  hub.url = `http://127.0.0.1:${address.port}/hubs/chat`;
  return hub;
}
