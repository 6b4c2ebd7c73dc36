// The frontend's /js page (WebFrontend/wwwroot/js/index.html): a person chatting in "lobby" through the JavaScript
// client, straight from the browser to the gateway, its spans exported to the Aspire dashboard with the
// OpenTelemetry web SDK. Bundled by `npm run build:page` into WebFrontend/wwwroot/js/chat-page.js.
import { HubConnectionState } from '@microsoft/signalr';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, WebTracerProvider } from '@opentelemetry/sdk-trace-web';
import { CallNotAnsweredError, ChatClient, ReconnectGaveUpError, mayHaveBeenStored } from '../src/index.js';
import { SERVER_TIMEOUT_SENTENCE } from '../src/connection-errors.js';

const room = 'lobby';
const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

// A reload signs in again under the name this tab signed in with (this tab's sessionStorage only; no token is kept;
// the gateway checks the name as if typed). A tab whose storage is off or full just does not remember.
const savedUser = 'realtimedemo.js-chat.user';
const tabStorage = {
  /** @returns {string | null} */
  get() { try { return sessionStorage.getItem(savedUser); } catch { return null; } },
  /** @param {string} name */
  set(name) { try { sessionStorage.setItem(savedUser, name); } catch { /* not remembered */ } },
  forget() { try { sessionStorage.removeItem(savedUser); } catch { /* nothing to forget */ } },
};

const settings = await (await fetch('/js/settings')).json();
startTelemetry(settings.telemetry);
$('sign-in').hidden = false;
$('sign-out').addEventListener('click', () => {
  tabStorage.forget();
  location.reload(); // the connection closes with the page
});
$('sign-in').addEventListener('submit', (event) => {
  event.preventDefault();
  // One sign-in at a time: a double click made two connections and showed the history twice.
  const fields = /** @type {HTMLFieldSetElement} */ ($('sign-in-fields'));
  if (fields.disabled) {
    return;
  }

  fields.disabled = true;
  $('error').textContent = '';
  signIn(/** @type {HTMLInputElement} */ ($('user-name')).value.trim())
    .catch((error) => {
      showError(error);
      fields.disabled = false;
      $('user-name').focus(); // disabling took the focus away: give it back for the next try
    });
});
// A refusal was about the name as it was: it goes once the name is being corrected.
$('user-name').addEventListener('input', () => { $('error').textContent = ''; });
const userName = tabStorage.get();
if (userName) {
  /** @type {HTMLInputElement} */ ($('user-name')).value = userName;
  /** @type {HTMLFormElement} */ ($('sign-in')).requestSubmit();
}

/**
 * The application brings the SDK: the web tracer provider (its register() installs the browser's context manager)
 * and an OTLP/HTTP exporter aimed at the dashboard, with the key it asks for. The batch processor also sends what
 * it holds when the page is hidden or closed.
 * @param {{ tracesUrl: string, apiKey: string | null, serviceName: string } | null} telemetry
 */
function startTelemetry(telemetry) {
  if (!telemetry) {
    $('telemetry').textContent = 'No dashboard in this run: the page makes its spans but sends them nowhere.';
    return;
  }

  const exporter = new OTLPTraceExporter({ url: telemetry.tracesUrl, headers: telemetry.apiKey ? { 'x-otlp-api-key': telemetry.apiKey } : {} });
  const provider = new WebTracerProvider({
    resource: resourceFromAttributes({ 'service.name': telemetry.serviceName }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 500 })],
  });
  provider.register();
  $('telemetry').textContent = `Spans go to the Aspire dashboard as "${telemetry.serviceName}".`;
}

/**
 * A development token from the gateway (the page's origin is the one the gateway admits); asked again on every
 * reconnect, so an hour-old token never stops one.
 * @param {string} userName
 * @param {AbortSignal} signal aborted when the client no longer waits for it (a request a frozen replica holds)
 */
async function token(userName, signal) {
  const response = await fetch(settings.tokenUrl, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userName }), signal,
  });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    // The gateway names the request's field ("userName must be …"); a person typed a name.
    throw new Error(problem.detail?.replace(/^userName must be /, 'A user name is ') ?? `Sign-in failed (${response.status}).`);
  }

  return (await response.json()).token;
}

/**
 * The client's start() tries again by itself when a try is not answered (a frozen replica behind the proxy), for up
 * to its connect timeout (30 s), and fails in words.
 * @param {ChatClient} client
 * @returns {Promise<import('../index.js').ConnectionDetails | undefined>} what start() said of the connection
 */
async function connect(client) {
  $('sign-in-status').textContent = 'Connecting…';
  try {
    return await client.start();
  } finally {
    $('sign-in-status').textContent = ''; // a refusal (a bad name, a foreign origin, a full chat) is said in #error
  }
}

/** @param {string} userName */
async function signIn(userName) {
  const client = new ChatClient(settings.hubUrl, { accessTokenFactory: ({ signal }) => token(userName, signal) });
  client.on('messageReceived', (message) => {
    show(messageItem(message));
    const sent = outgoing.get(message.clientMessageId);
    if (sent) {
      forget(sent); // its own line is the message now
    }
  });
  client.on('privateMessage', (message) => show(privateItem(message)));
  client.on('roomReset', () => note('The server lost the room\'s earlier messages; what follows is new.'));
  client.on('messagesMissed', (_room, count) => note(missedSentence(count)));
  client.on('backgroundError', (error) => showError(error));
  client.on('stateChanged', async (state, error) => {
    const previous = $('connection-state').textContent;
    $('connection-state').textContent = state;
    $('connection-state').className = state.toLowerCase();
    $('on-replica').hidden = state !== HubConnectionState.Connected;
    if (error instanceof ReconnectGaveUpError) {
      // The client's own sentence is for programs (start() again); a person reloads.
      showError(`Disconnected: the gateway could not be reached for two minutes (the last try: ${/** @type {Error} */ (error.cause).message}) Reload the page to connect again.`);
    } else if (state === HubConnectionState.Disconnected && error) {
      showError(error); // the server's reason (a limit), or what broke the connection for good
    }
    if (signedIn && previous === HubConnectionState.Connected && state !== HubConnectionState.Connected) {
      connectionBroke(error, client.connection.serverTimeoutInMilliseconds);
    }
    if (state === HubConnectionState.Disconnected) {
      connectionNotBack();
    }
    if (state === HubConnectionState.Connected && signedIn) { // back after a break, perhaps on another replica
      $('replica').textContent = (await client.getConnectionInfo()).replica;
      connectionBack();
    }
  });

  let signedIn = false;
  const details = await connect(client);
  /** @type {import('../index.js').ChatMessage[]} */
  let history;
  try {
    $('replica').textContent = (details ?? await client.getConnectionInfo()).replica;
    signedIn = true;
    const joined = await client.joinRoom(room);
    // What was stored before the join is history, read once; everything after it arrives through messageReceived.
    history = (await client.getRecentMessages(room, 20))
      .filter((message) => message.epoch === joined.epoch && message.sequence <= joined.lastSequence);
  } catch (error) {
    signedIn = false; // its close is no break to show
    await client.stop().catch(() => {}); // signing in again makes a new connection: this one would be left open
    throw error;
  }

  $('messages').prepend(...history.map((message) => messageItem(message, 'history')));

  $('sign-in').hidden = true;
  $('chat').hidden = false;
  $('messages').scrollTop = $('messages').scrollHeight; // the newest in view
  $('user').textContent = userName;
  tabStorage.set(userName);
  $('message-input').focus(); // what is typed next is a message
  $('send').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = /** @type {HTMLTextAreaElement} */ ($('message-input'));
    if (!input.value.trim()) {
      return;
    }

    if (outgoing.size >= MaxOutgoing && !forgetOldestStored()) {
      $('send-status').textContent = `${MaxOutgoing} messages are still waiting: retry or edit them, or wait until they are stored, before sending more.`;
      return;
    }

    $('send-status').textContent = '';
    send(client, { clientMessageId: crypto.randomUUID(), text: withoutBlankEdges(input.value), item: document.createElement('li') });
    input.value = '';
  });
}

// A message as a person means it: without the blank lines and spaces around it (a copied text's last line break, a
// Shift+Enter too many), which the contract would keep and every reader see. The first line keeps its indent.
/** @param {string} text */
const withoutBlankEdges = (text) => text.replace(/^(?:[^\S\n]*\n)+/, '').trimEnd();

/** @typedef {{ clientMessageId: string, text: string, item: HTMLLIElement, stored?: boolean, mayBeStored?: boolean }} Outgoing */

// The messages sent from this page and not yet back from the room, by client message id, each with its own line:
// sending, stored (until the room delivers it), or failed with Retry. Several can fail during one break, and each
// keeps its id for its Retry. Bounded: a tab left sending into a dead connection does not grow without end.
/** @type {Map<string, Outgoing>} */
const outgoing = new Map();
const MaxOutgoing = 50;

/**
 * Sends and shows the outcome on the message's line. Whatever failed, Retry sends it again under the same client
 * message id, so it can never be stored twice: not even a refusal says for sure that nothing was stored (storage that
 * timed out may have done the write). Edit, for a message the gateway refused and no try of which was cut short,
 * takes the text back into the input to be mended and sent as a new message.
 * @param {ChatClient} client
 * @param {Outgoing} message
 */
async function send(client, message) {
  outgoing.set(message.clientMessageId, message);
  showOutgoing(message, 'sending', 'sending…');
  try {
    const ack = await client.sendMessage(room, message.clientMessageId, message.text);
    message.stored = true;
    showOutgoing(message, 'stored', `✓ stored as #${ack.sequence}`);
  } catch (error) {
    if (!outgoing.has(message.clientMessageId)) {
      return; // the room delivered it before the break: stored, whatever the call says
    }

    const notAnswered = error instanceof CallNotAnsweredError;
    message.mayBeStored ||= mayHaveBeenStored(error);
    // Said as the page says it (its state line), not as the library words it for programs.
    // An answer that storage timed out (or the gateway failed) does not mean nothing was stored: the write may still be
    // done, and the message then shows up; "not sent" would lead a person to type it again.
    const answer = error instanceof Error ? error.message : String(error);
    const status = !notAnswered && mayHaveBeenStored(error)
      ? `not confirmed: ${answer.split(';')[0].replace(/\.$/, '')}; it may still be stored, and then shows here. Retry sends it again, never twice.`
      : !notAnswered ? `not sent: ${answer}`
      : !error.mayHaveBeenDone ? 'failed: not connected to the gateway when it was sent.'
        : error.closedByServer ? `failed: the gateway closed the connection before it answered: ${error.message}`
          : 'failed: the connection broke before the gateway answered.';
    showOutgoing(message, notAnswered ? 'failed' : 'refused', status);
    const retry = button('Retry', 'retry', () => send(client, message));
    retry.title = 'Sends it again under the same id: it is stored once, whatever became of the try before.';
    message.item.append(' ', retry);
    if (!notAnswered && !message.mayBeStored) {
      message.item.append(' ', button('Edit', 'edit', () => edit(message)));
    }
  }
}

/**
 * @param {string} text
 * @param {string} testId
 * @param {() => unknown} onClick
 */
function button(text, testId, onClick) {
  const element = document.createElement('button');
  element.textContent = text;
  element.dataset.testid = testId;
  element.addEventListener('click', onClick);
  return element;
}

/**
 * A refused message's text goes back to the input (after what is typed there, which is kept) and its line goes.
 * @param {Outgoing} message
 */
function edit(message) {
  const input = /** @type {HTMLTextAreaElement} */ ($('message-input'));
  input.value = input.value ? `${input.value} ${message.text}` : message.text;
  input.focus();
  forget(message);
}

/**
 * Drops a message's line: delivered by the room, or taken back to be mended.
 * @param {Outgoing} message
 */
function forget(message) {
  message.item.remove();
  outgoing.delete(message.clientMessageId);
  if (outgoing.size < MaxOutgoing) {
    $('send-status').textContent = ''; // no longer full
  }
}

/**
 * @param {Outgoing} message
 * @param {string} state
 * @param {string} status
 */
function showOutgoing(message, state, status) {
  const item = message.item;
  if (state !== 'sending' && !outgoing.has(message.clientMessageId)) {
    return; // the room delivered it before the answer came: its line is the message now
  }

  item.className = `outgoing ${state}`;
  item.dataset.testid = 'outgoing';
  const text = document.createElement('span');
  text.className = 'text';
  text.dir = 'auto'; // a right-to-left message reads from its own side
  text.textContent = message.text;
  const line = document.createElement('span');
  line.className = 'status';
  line.textContent = status;
  item.replaceChildren(text, ' ', line);
  if (!item.isConnected) {
    $('outgoing').append(item);
    item.scrollIntoView({ block: 'nearest' }); // the list scrolls: a new line below its fold would go unseen
  }
}

/** Makes room by forgetting the oldest stored line (its message is in the room: the delivery may have been missed). */
function forgetOldestStored() {
  const stored = [...outgoing.values()].find((message) => message.stored);
  if (stored) {
    forget(stored);
  }

  return stored !== undefined;
}

/** The break not yet over: the line's words so far (lost where, when, why), and when it was noticed. */
/** @type {{ lost: string, at: Date } | undefined} */
let lastBreak;

/** A time of day as the Blazor page writes it (18:38:56), whatever the browser's locale would make of it. */
const clockTime = (/** @type {Date} */ date) => date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });

/**
 * A reconnect can take a fraction of a second: the break stays on the page, with its cause, so nobody misses it.
 * @param {Error | undefined} error
 * @param {number} serverTimeoutMs
 */
function connectionBroke(error, serverTimeoutMs) {
  const at = new Date();
  // A replica gone silent (frozen, or a network that drops everything) is noticed only once the client's server
  // timeout has run out after the last thing it sent: say since when nothing came, as the Blazor page does.
  const silentSince = error?.message.startsWith(SERVER_TIMEOUT_SENTENCE) ? new Date(at.getTime() - serverTimeoutMs) : undefined;
  const why = silentSince ? `: nothing came from it since ${clockTime(silentSince)}` : error ? `: ${error.message.replace(/\.$/, '')}` : '';
  lastBreak = { lost: `Connection to replica ${$('replica').textContent} lost at ${clockTime(at)}${why}`, at };
  const line = $('connection-break');
  line.hidden = false;
  line.dataset.lostAt = at.toISOString();
  line.textContent = `${lastBreak.lost}; reconnecting…`;
}

/** A connection closed for good (a refusal, a reconnect given up; the reason shows below the chat). */
function connectionNotBack() {
  if (lastBreak) {
    $('connection-break').textContent = `${lastBreak.lost}; not back.`;
    lastBreak = undefined;
  }
}

function connectionBack() {
  if (!lastBreak) {
    return;
  }

  const seconds = ((Date.now() - lastBreak.at.getTime()) / 1000).toFixed(1);
  const back = document.createElement('span');
  back.dataset.testid = 'connection-back';
  back.textContent = `; back on replica ${$('replica').textContent} after ${seconds} s, missed messages fetched.`;
  $('connection-break').replaceChildren(lastBreak.lost, back);
  lastBreak = undefined;
}

/**
 * @param {import('../index.js').ChatMessage} message
 * @param {string} [className]
 */
function messageItem(message, className = '') {
  const item = document.createElement('li');
  item.className = className;
  item.dataset.testid = 'message';
  item.dataset.messageId = message.id;
  const traceId = message.traceParent?.split('-')[1];
  if (traceId) {
    item.dataset.traceId = traceId;
  }

  return withText(item, `${message.user}: `, message.text, message.traceParent);
}

/**
 * A private message to this page's user: shown in the room's list, marked as private, so it is not lost on a page
 * that has no place of its own for them (the frontend's own page has).
 * @param {import('../index.js').PrivateChatMessage} message
 */
function privateItem(message) {
  const item = document.createElement('li');
  item.className = 'private';
  item.dataset.testid = 'private-message';
  return withText(item, `${message.from} (private, to you): `, message.text, message.traceParent);
}

/**
 * @param {HTMLLIElement} item
 * @param {string} from
 * @param {string} body
 * @param {string | null | undefined} traceParent its trace, linked when it was sampled
 */
function withText(item, from, body, traceParent) {
  const user = document.createElement('b');
  user.textContent = from;
  const text = document.createElement('span');
  text.className = 'text';
  text.dir = 'auto'; // a right-to-left message reads from its own side
  text.textContent = body;
  item.append(user, text);
  const traceId = traceParent?.split('-')[1];
  if (traceId && settings.traceUrlPrefix && traceParent?.endsWith('-01')) {
    const link = document.createElement('a');
    link.href = settings.traceUrlPrefix + traceId;
    link.target = '_blank';
    link.textContent = 'trace';
    item.append(' ', link);
  }

  return item;
}

/** @param {HTMLElement} item */
function show(item) {
  // The newest stays in view unless the person scrolled up to read older ones.
  const list = $('messages');
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 30;
  list.append(item);
  if (atBottom) {
    list.scrollTop = list.scrollHeight;
  }

  while (list.childElementCount > 200) {
    list.firstElementChild?.remove(); // a tab that stays open keeps a bounded list
  }
}

/** @param {number} count */
function missedSentence(count) {
  return `${count === 1 ? '1 message was' : `${count} messages were`} sent while this page was away and ${count === 1 ? 'is' : 'are'} no longer kept; what follows came after.`;
}

/** @param {string} text */
function note(text) {
  const item = document.createElement('li');
  item.className = 'note';
  item.textContent = text;
  show(item);
}

/** @param {unknown} error */
function showError(error) {
  $('error').textContent = error instanceof Error ? error.message : String(error);
}
