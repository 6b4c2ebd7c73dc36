// What went wrong with the connection, in words a person can act on: the gateway's sentence when it gave one,
// else ours. SignalR's own texts name its internals, the transport's close codes, or every cause it can think of.

const SERVER_CLOSED_PREFIX = 'Server returned an error on close: ';
const SIGNALR_WEBSOCKET_FAILED = 'WebSocket failed to connect';
const SIGNALR_HANDSHAKE_REFUSED = 'Server returned handshake error: ';
const SIGNALR_WEBSOCKET_CLOSED = /^WebSocket closed with status code: (\d+) \((.*)\)\.$/s;
const SIGNALR_SERVER_TIMEOUT = 'Server timeout elapsed';
/** How a break the client's server timeout found begins (a page may say since when nothing came). */
export const SERVER_TIMEOUT_SENTENCE = 'Nothing came from the chat for longer than the client waits';
const PROBE_TIMEOUT_MS = 5_000;
const LONGEST_SENTENCE = 1_000;

/**
 * A close the server gave a reason for says so in the server's sentence alone ("Too many connections for this user
 * …"), without SignalR's preamble, so a page can show it as it is; a break, a silence, a handshake refused say
 * what happened in ours. Anything else is passed on as it is.
 * @param {unknown} error
 * @returns {Error}
 */
export function inOurWords(error) {
  if (!(error instanceof Error)) {
    return new Error(String(error));
  }

  const message = error.message;
  if (message.startsWith(SERVER_CLOSED_PREFIX)) {
    return new Error(message.slice(SERVER_CLOSED_PREFIX.length), { cause: error });
  }

  if (message.startsWith(SIGNALR_HANDSHAKE_REFUSED)) {
    return new Error(message.slice(SIGNALR_HANDSHAKE_REFUSED.length), { cause: error }); // a full replica
  }

  if (message.startsWith(SIGNALR_SERVER_TIMEOUT)) {
    return new Error(`${SERVER_TIMEOUT_SENTENCE} (SignalR's serverTimeoutInMilliseconds, 30 s unless set): `
      + 'the connection is taken as broken.', { cause: error });
  }

  const closed = SIGNALR_WEBSOCKET_CLOSED.exec(message);
  if (closed) {
    return closed[1] === '1006'
      ? new Error('The connection to the chat broke: it ended without a close (the gateway or the network went away).', { cause: error })
      : new Error(`The chat's WebSocket closed with code ${closed[1]}${closed[2] === 'no reason given' ? '' : `: ${closed[2]}`}.`, { cause: error });
  }

  return error;
}

/**
 * Whether the error is a close the server sent with a reason.
 * @param {unknown} error
 */
export function isServerClose(error) {
  return error instanceof Error && error.message.startsWith(SERVER_CLOSED_PREFIX);
}

/**
 * Why a WebSocket to the hub could not be opened. One that fails to open tells the page nothing (no status, no body:
 * SignalR can only list every possible cause, sticky sessions included), while the gateway answers a refused
 * request with a sentence of its own (an expired token, a bad one). So the request the WebSocket made is made again
 * as a plain GET, with the same token, to read it.
 * @param {unknown} error what SignalR's start (or a reconnect attempt) failed with
 * @param {string} hubUrl the hub address the connection uses (with its clientId)
 * @param {string | undefined} token the token the failed attempt carried
 * @returns {Promise<unknown>} the gateway's sentence, or ours, or error itself
 */
export async function explainConnectFailure(error, hubUrl, token) {
  if (!(error instanceof Error) || !error.message.startsWith(SIGNALR_WEBSOCKET_FAILED)) {
    return error;
  }

  const url = new URL(hubUrl);
  const where = `${url.origin}${url.pathname}`;
  if (token) {
    url.searchParams.set('access_token', token);
  }

  let response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
  } catch {
    const browser = typeof document !== 'undefined';
    return new Error(`Could not reach the chat at ${where}: nothing answered there (the gateway is down, or the address is wrong`
      + `${browser ? ", or this page's origin is not one the gateway admits, Chat:AllowedOrigins" : ''}).`, { cause: error });
  }

  const sentence = response.headers.get('content-type')?.startsWith('text/plain') ? (await response.text()).trim() : '';
  // 400: the gateway took the token and would have taken a WebSocket (this GET is not one), so something else refused it.
  if (response.status === 400 || response.ok) {
    return new Error(`The chat at ${where} answers, but no WebSocket to it opened: something between (a proxy) may not pass WebSockets.`,
      { cause: error });
  }

  return sentence && sentence.length <= LONGEST_SENTENCE
    ? new Error(sentence, { cause: error })
    : new Error(`The chat at ${where} opened no WebSocket and answered HTTP ${response.status} without saying why`
      + `${response.status >= 500 ? ' (no gateway behind that address may be up)' : ''}.`, { cause: error });
}
