import { HttpTransportType, HubConnectionBuilder, HubConnectionState, LogLevel } from '@microsoft/signalr';
import { context } from '@opentelemetry/api';
import { Listeners } from './listeners.js';
import { RoomSequencer } from './room-sequencer.js';
import { ClientTelemetry } from './telemetry.js';
import { TraceContextHubProtocol } from './trace-context-protocol.js';
import { WorkQueue } from './work-queue.js';
import { reconnectPolicy as defaultReconnectPolicy } from './reconnect-policy.js';
import { explainConnectFailure, inOurWords, isServerClose } from './connection-errors.js';
import { boundedWebSocket } from './bounded-websocket.js';

const NOTICES_REMEMBERED = 10_000;
const REJOIN_ATTEMPTS = 4;
const FIRST_REJOIN_RETRY_MS = 1_000;
const NOT_IN_ROOM = 'This connection is not in room'; // the gateway's refusal of a LeaveRoom (ChatHubMethods.NotInRoomRefusal)
// How the gateway's answer begins when its storage did not answer in time (ChatHubMethods.StorageUnavailableRefusal):
// the write may still have been done.
const STORAGE_UNAVAILABLE = 'Chat storage (Redis) is unreachable right now';
// How its answer begins when it failed unexpectedly (ChatHubMethods.ServerFailure): it cannot say how far the call got.
const SERVER_FAILURE = 'The server failed to handle';
const CLIENT_ID = /^[A-Za-z0-9_-]{8,64}$/; // the gateway's rule (README, "The chat contract")
// How long start() tries, unless told otherwise: an attempt that hangs would hold start() (and stop(), which waits
// for it) for minutes.
const CONNECT_TIMEOUT_MS = 30_000;
// A start's try (token, WebSocket, handshake) gets this long, the last one all that is left: behind a
// proxy that picks a replica per connection, the next try may reach a live one, where one that met a frozen replica
// held the start for the whole timeout. A live gateway answers a try in well under a second.
const START_TRY_MS = 3_000;
// A reconnect try's steps wait at most this long (#stepTimeoutMs), the first QUICK_RECONNECT_TRIES tries' a start
// try's START_TRY_MS: a try that met a frozen replica held a page Reconnecting for 10 s where the next try would have
// been back at once; the later tries are given longer in case the replicas are only slow (a crowd reconnecting).
const RECONNECT_STEP_MS = 10_000;
const QUICK_RECONNECT_TRIES = 2;
// A reconnect try carries the token it has while that has longer than this left: the gateway closes a connection at
// its token's expiry (a connection back on a token about to expire would break again), and clocks differ.
const TOKEN_REUSE_MARGIN_MS = 5 * 60_000;
const STOPPED_BEFORE_CONNECTED = 'stop() was called before the connection to the chat was made.';
const LONGEST_TIMER_MS = 2 ** 31 - 1; // setTimeout fires at once past it

/**
 * @typedef {import('../index.js').ChatClientOptions} ChatClientOptions
 * @typedef {import('../index.js').ChatMessage} ChatMessage
 * @typedef {import('@opentelemetry/api').Context} Context
 */

// The events on() takes (index.d.ts, ChatClientEvents): a misspelt name would otherwise wait for an event that never comes.
const EVENTS = ['messageReceived', 'userJoined', 'userLeft', 'privateMessage', 'messageModerated', 'roomReset', 'messagesMissed',
  'stateChanged', 'backgroundError'];

/** @param {unknown} event @param {unknown} handler */
function checkHandler(event, handler) {
  if (typeof event !== 'string' || !EVENTS.includes(event)) {
    throw new TypeError(`The chat client has no event ${JSON.stringify(event) ?? String(event)}: it raises ${EVENTS.join(', ')}.`);
  }

  if (typeof handler !== 'function') {
    throw new TypeError(`The handler given for ${event} is not a function.`);
  }
}

/**
 * A JavaScript chat client that never shows a room message twice or silently misses one, and whose calls and
 * deliveries are spans of the traces they belong to. The JavaScript twin of clients/dotnet/ChatClient.cs: it
 * connects the only way the replicated gateway allows (WebSockets, negotiation skipped: the proxy in front of the
 * replicas is not sticky), rejoins its rooms after a reconnect and fills every gap from the room history.
 */
export class ChatClient {
  #connection;
  #hubUrl;
  #telemetry;
  #rooms;
  #events = new Listeners((error, event) => event === 'backgroundError' ? undefined : this.#raiseBackgroundError(error));
  #queue = new WorkQueue((error) => this.#raiseBackgroundError(error));
  /** @type {Set<string>} */
  #noticesSeen = new Set();
  /** @type {Set<ReturnType<typeof setTimeout>>} */
  #retries = new Set();
  /** The last state raised (the work queue's alone). @type {string} */
  #reported = HubConnectionState.Disconnected;
  /** The token the last connection attempt carried, to ask the gateway why it refused one. @type {string | undefined} */
  #token;
  /**
   * The token reconnect tries carry while it has time left (#reusableToken), so that each try is one pick of the
   * proxy's, its WebSocket, not two: the one the gateway let the connection in with, or the last one the token
   * function gave while reconnecting. @type {string | undefined}
   */
  #reconnectToken;
  /** Whether the current reconnect try carried #reconnectToken, and whether its WebSocket was given up unanswered. */
  #tryCarriedReconnectToken = false;
  #tryGivenUp = false;
  /**
   * The number the last WebSocket to the hub carried (boundedWebSocket's attempt): the clock's milliseconds, or one
   * more than the last, so that it rises across client objects that share a caller's clientId too.
   */
  #attempt = 0;
  /** What the reconnect policy was last asked, since the connection broke: the try's bound, how a give-up is explained. */
  /** @type {import('@microsoft/signalr').RetryContext | undefined} */
  #lastRetry;
  #stopRequested = false;
  /** While the rooms are rejoined after a (re)connect: the client is not Connected yet. */
  #rejoining = false;
  /** @type {Set<WebSocket>} */
  #opening = new Set();
  /** Aborted by stop(), or when a start's try is given up: a token still awaited is not waited for. */
  #connecting = new AbortController();
  #connectTimeoutMs;
  /** While start() runs: the token one of its tries got, for the next; and what its current try waits for. */
  #starting = false;
  /** @type {string | undefined} */
  #startToken;
  /** @type {'token' | 'chat'} */
  #tryWaitsFor = 'token';
  /** Set when a start's try was given up unanswered: what it had waited for. @type {'token' | 'chat' | undefined} */
  #unanswered;

  /**
   * @param {string} hubUrl the hub, e.g. http://localhost:5310/hubs/chat
   * @param {ChatClientOptions} options
   */
  constructor(hubUrl, options) {
    const { accessTokenFactory, keepAliveIntervalInMilliseconds, reconnectPolicy, logger, tracerProvider, meterProvider,
      connectTimeoutInMilliseconds = CONNECT_TIMEOUT_MS } = checkOptions(options);
    this.#connectTimeoutMs = connectTimeoutInMilliseconds;
    this.#hubUrl = withClientId(checkHubUrl(hubUrl));
    const builder = new HubConnectionBuilder()
      .withUrl(this.#hubUrl, /** @type {import('@microsoft/signalr').IHttpConnectionOptions} */ ({
        transport: HttpTransportType.WebSockets,
        skipNegotiation: true,
        accessTokenFactory: async () => {
          this.#token = await this.#tokenInTime(accessTokenFactory);
          if (this.#connection.state === HubConnectionState.Reconnecting) {
            this.#reconnectToken = this.#token; // a token given now serves the next tries too
          }

          this.#tryWaitsFor = 'chat';
          return this.#token;
        },
        // An option SignalR reads, not in its types.
        WebSocket: boundedWebSocket(() => this.#stepTimeoutMs(), this.#opening, () => { this.#tryGivenUp = true; }, () => (this.#attempt = Math.max(this.#attempt + 1, Date.now()))),
      }))
      .withHubProtocol(new TraceContextHubProtocol());
    builder.withAutomaticReconnect(this.#recordingRetries(reconnectPolicy ?? defaultReconnectPolicy));

    if (keepAliveIntervalInMilliseconds) {
      // The gateway drops a client it has not heard from within Chat:Limits:ClientTimeoutInterval (30 s).
      builder.withKeepAliveInterval(keepAliveIntervalInMilliseconds);
    }

    // SignalR's own default (Information) writes the hub URL at every connect, and in a browser the URL carries the
    // access token: a console is not a place for it.
    builder.configureLogging(logger ?? LogLevel.Warning);

    this.#connection = builder.build();
    this.#telemetry = new ClientTelemetry(new URL(hubUrl).pathname.replace(/^\/|\/$/g, ''), { tracerProvider, meterProvider });
    this.#rooms = new RoomSequencer({
      joinRoom: (room, ctx) => this.#call('JoinRoom', [room], ctx, false),
      getMessages: (room, after, limit, ctx) => this.#call('GetMessages', [room, after, limit], ctx, false),
    }, this.#telemetry, (message) => this.#events.emit('messageReceived', message), (room) => this.#events.emit('roomReset', room),
    (room, count) => this.#events.emit('messagesMissed', room, count));

    // Handlers only queue work: a gap fill waits for server replies, and everything that moves a room's position
    // takes its turn.
    const connection = this.#connection;
    connection.on('MessageReceived', (message) => this.#queue.enqueue(() => this.#rooms.accept(message)));
    connection.on('UserJoined', (room, user) => this.#queue.enqueue(() => this.#events.emit('userJoined', room, user)));
    connection.on('UserLeft', (room, user) => this.#queue.enqueue(() => this.#events.emit('userLeft', room, user)));
    connection.on('PrivateMessage', (message) => this.#queue.enqueue(() => this.#telemetry.receivePrivate(
      message, () => this.#events.emit('privateMessage', message))));
    connection.on('MessageModerated', (notice) => this.#queue.enqueue(() => this.#acceptNotice(notice)));
    // Each transition is reported with its own state: by the time the queue gets to it the connection may be back
    // already (the proxy hands a reconnect to a live replica in a fraction of a second).
    connection.onreconnecting((error) => this.#queue.enqueue(() => this.#raiseState(HubConnectionState.Reconnecting, error)));
    connection.onreconnected(() => {
      this.#lastRetry = undefined;
      this.#reconnectToken = this.#token;
      this.#tryCarriedReconnectToken = false;
      this.#queueRejoin();
    });
    connection.onclose((error) => {
      // SignalR closes without a reason when the policy gives up.
      const gaveUp = !error && !this.#stopRequested && this.#lastRetry?.previousRetryCount ? this.#lastRetry : undefined;
      this.#lastRetry = undefined;
      this.#queue.enqueue(async () => this.#raiseState(HubConnectionState.Disconnected, gaveUp ? await this.#gaveUpError(gaveUp) : error));
    });
  }

  /** The connection's state: Connected, Reconnecting, Disconnected, …; Reconnecting until its rooms are rejoined. */
  get state() {
    const state = this.#connection.state;
    return this.#rejoining && state === HubConnectionState.Connected ? HubConnectionState.Reconnecting : state;
  }

  /** The underlying SignalR connection, for calls this class does not wrap. */
  get connection() {
    return this.#connection;
  }

  /**
   * @param {string} event
   * @param {(...args: any[]) => unknown} handler
   */
  on(event, handler) {
    checkHandler(event, handler);
    return this.#events.on(event, handler);
  }

  /**
   * @param {string} event
   * @param {(...args: any[]) => unknown} handler
   */
  off(event, handler) {
    checkHandler(event, handler);
    this.#events.off(event, handler);
  }

  /**
   * Connects, and resolves once the gateway has let the connection in, with what it said of the connection (its id,
   * user and replica; undefined in the rare case it let it in but refused that one call, at a rate limit): a refusal
   * (a connection limit) rejects with the gateway's sentence, as does a token it does not accept; a gateway out of
   * reach with ours. Rooms joined before a stop() (or a reconnect given up) are rejoined, and what was sent meanwhile
   * is delivered, before Connected is reported.
   * @returns {Promise<import('../index.js').ConnectionDetails | undefined>}
   */
  async start() {
    const state = this.#starting ? HubConnectionState.Connecting : this.#connection.state; // between two tries: Disconnected
    if (state !== HubConnectionState.Disconnected) {
      throw new Error(`The chat client is already ${state === HubConnectionState.Connected ? 'connected' : 'connecting'}: call start() once, or again after stop().`);
    }

    this.#stopRequested = false;
    this.#starting = true;
    this.#startToken = undefined;
    this.#tryCarriedReconnectToken = false; // a stop() may have ended a reconnect try before it was counted
    let details;
    try {
      details = await this.#connectInTries();
    } finally {
      this.#starting = false;
      this.#startToken = undefined;
    }

    // Through the queue, and only if still connected: a close right after (a break) is queued by then, and
    // Connected reported after it would leave a page saying so.
    await this.#queueRejoin();
    return details;
  }

  /**
   * Rejoins the rooms and fills their gaps, then reports Connected (with no rooms, at once). Until then the client
   * is not Connected and refuses the application's calls as it does while reconnecting: the server would refuse
   * those for rooms not rejoined yet ("Join room … before …"), and a call waiting for the rejoin from a handler the
   * rejoin runs would wait for itself.
   */
  #queueRejoin() {
    this.#rejoining = true;
    return this.#queue.run(() => this.#rejoinAndFill()).catch((error) => this.#raiseBackgroundError(error));
  }

  /**
   * Tries to connect until a try is let in or refused, or the connect timeout has passed: a try nobody answers in
   * time (START_TRY_MS, the last one what is left) is given up and made again.
   * @returns {Promise<import('../index.js').ConnectionDetails | undefined>}
   */
  async #connectInTries() {
    const deadline = Date.now() + this.#connectTimeoutMs;
    for (let tries = 1; ; tries++) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw this.#notAnswered(this.#unanswered ?? 'chat', tries - 1); // the last try's ending took the rest
      }

      const last = left <= 2 * START_TRY_MS;
      let admitting = false;
      this.#connecting = new AbortController();
      this.#unanswered = undefined;
      this.#tryWaitsFor = this.#startToken === undefined ? 'token' : 'chat';
      let giveUp = setTimeout(() => this.#giveUpTry(), last ? left : START_TRY_MS);
      try {
        await this.#connection.start();
        this.#reconnectToken = this.#token;
        // Answered: a live replica has the connection. Its admission can wait for that replica's storage (while
        // Redis is out of reach, a few seconds, then a refusal in the gateway's words): it gets what is left of the
        // timeout, and is not tried again.
        clearTimeout(giveUp);
        admitting = true;
        giveUp = setTimeout(() => this.#giveUpTry(), Math.max(deadline - Date.now(), START_TRY_MS));
        return await this.#admitted();
      } catch (error) {
        clearTimeout(giveUp);
        if (this.#stopRequested) {
          throw new Error(STOPPED_BEFORE_CONNECTED, { cause: error });
        }

        if (this.#unanswered === undefined) {
          throw inOurWords(await explainConnectFailure(error, this.#hubUrl, this.#token));
        }

        if (last || admitting) {
          throw this.#notAnswered(this.#unanswered, tries, error);
        }
      } finally {
        clearTimeout(giveUp);
      }

      await this.#connection.stop(); // a try given up in its handshake left the connection starting
      if (this.#stopRequested) {
        throw new Error(STOPPED_BEFORE_CONNECTED); // stop() came between two tries
      }
    }
  }

  /** Gives the current try of a start up, noting what it waited for. */
  #giveUpTry() {
    this.#unanswered = this.#tryWaitsFor;
    this.#abandonAttempt().catch(() => {}); // the try's own failure is what start() reports
  }

  /**
   * @param {'token' | 'chat'} waitedFor
   * @param {number} tries
   * @param {unknown} [cause]
   */
  #notAnswered(waitedFor, tries, cause) {
    const within = `within ${this.#connectTimeoutMs / 1000} s${tries > 1 ? ` (${tries} tries)` : ''}`;
    if (waitedFor === 'token') {
      return tokenNotGiven(within, cause);
    }

    const url = new URL(this.#hubUrl);
    return new Error(`The chat at ${url.origin}${url.pathname} did not answer ${within}: something there accepts connections but answers `
      + 'none (a stuck gateway or proxy). Try again in a moment.', { cause });
  }

  /** Ends a connection attempt in progress: its wait for a token, its WebSocket still opening, its handshake. */
  #abandonAttempt() {
    this.#connecting.abort();
    for (const socket of this.#opening) {
      socket.close(); // a browser opens one WebSocket to a host at a time: the next try's waits for this one
    }

    return this.#connection.stop();
  }

  /**
   * The gateway answers the handshake before it decides whether to keep the connection (the limits are checked
   * once it is open, so that a browser can be told why), and it answers calls only after deciding: one round trip
   * tells. A refusal closes the connection, failing the call with the gateway's sentence.
   */
  async #admitted() {
    try {
      return await this.#connection.invoke('GetConnectionInfo');
    } catch (error) {
      if (this.#connection.state !== HubConnectionState.Connected) {
        throw error;
      }
      // Answered (even with a refusal of the call itself, a rate limit): the connection was let in.
      return undefined;
    }
  }

  /** Closes the connection; rejoin retries still waiting are dropped, queued work finishes first. */
  async stop() {
    this.#stopRequested = true;
    this.#token = undefined;
    this.#reconnectToken = undefined;
    // SignalR's stop waits for a start in progress: end its wait for a token or a WebSocket.
    const stopped = this.#abandonAttempt();
    for (const retry of this.#retries) {
      clearTimeout(retry);
    }

    this.#retries.clear();
    await stopped;
    await this.#queue.run(() => {});
  }

  getConnectionInfo() {
    return this.#call('GetConnectionInfo', [], context.active());
  }

  /**
   * Joins the room; it is rejoined after every reconnect until leaveRoom.
   * @param {string} room
   */
  async joinRoom(room) {
    const parent = context.active();
    await this.#queue.run(() => this.#rooms.beginJoin(room));
    let joined;
    try {
      joined = await this.#call('JoinRoom', [room], parent);
    } catch (error) {
      await this.#queue.run(() => this.#rooms.abortJoin(room));
      throw error;
    }

    await this.#queue.run(() => this.#rooms.endJoin(room, joined));
    return joined;
  }

  /**
   * Leaves the room. It is forgotten here first (a rejoin or a resync racing the leave would join it again on the
   * server); a leave the server refuses on a connection still open (too many room changes) puts it back, as the
   * connection is still a member: call it again later. A room the server does not count this connection in has been
   * left already.
   * @param {string} room
   */
  async leaveRoom(room) {
    const parent = context.active();
    const held = await this.#queue.run(() => this.#rooms.leave(room));
    const connectionId = this.#connection.connectionId;
    try {
      await this.#call('LeaveRoom', [room], parent);
    } catch (error) {
      if (String(/** @type {Error} */ (error)?.message).includes(NOT_IN_ROOM)) {
        return; // left already, or never joined: the connection is not in the room, which is what was asked
      }

      // What arrived meanwhile was dropped; the next message's sequence jump fills the gap.
      const connection = this.#connection;
      await this.#queue.run(() => {
        if (held && connection.state === HubConnectionState.Connected && connection.connectionId === connectionId) {
          this.#rooms.restore(room, held);
        }
      });
      throw error;
    }
  }

  /**
   * Resolves once the message is stored; resend with the same clientMessageId after a failure, never a new one.
   * @param {string} room
   * @param {string} clientMessageId
   * @param {string} text
   */
  sendMessage(room, clientMessageId, text) {
    return this.#telemetry.send(room, text, context.active(),
      (ctx) => context.with(ctx, () => this.#invoke('SendMessage', [room, clientMessageId, text])));
  }

  /**
   * @param {string} toUser
   * @param {string} text
   */
  sendPrivateMessage(toUser, text) {
    return this.#telemetry.sendPrivate(text, context.active(),
      (ctx) => context.with(ctx, () => this.#invoke('SendPrivateMessage', [toUser, text])));
  }

  /** @param {string} room */
  getRoomStats(room) {
    return this.#call('GetRoomStats', [room], context.active());
  }

  /**
   * @param {string} room
   * @param {string | null} afterMessageId
   * @param {number} limit
   */
  getMessages(room, afterMessageId, limit) {
    return this.#call('GetMessages', [room, afterMessageId, limit], context.active());
  }

  /**
   * @param {string} room
   * @param {number} limit
   */
  getRecentMessages(room, limit) {
    return this.#call('GetRecentMessages', [room, limit], context.active());
  }

  /**
   * @param {string} room
   * @param {string} beforeMessageId
   * @param {number} limit
   */
  getOlderMessages(room, beforeMessageId, limit) {
    return this.#call('GetOlderMessages', [room, beforeMessageId, limit], context.active());
  }

  /** @param {string} room */
  getRoomMembers(room) {
    return this.#call('GetRoomMembers', [room], context.active());
  }

  /** @param {number} limit */
  listRooms(limit) {
    return this.#call('ListRooms', [limit], context.active());
  }

  /**
   * @param {string} method
   * @param {unknown[]} args
   * @param {Context} parent
   * @returns {Promise<any>}
   */
  #call(method, args, parent, afterRejoin = true) {
    return this.#telemetry.call(method, parent, (ctx) => context.with(ctx, () => this.#invoke(method, args, afterRejoin)));
  }

  /**
   * A call the server's close cut short fails with the server's reason in its words, like stateChanged; one made
   * without a connection, or cut short by a broken one, with ours (SignalR's name its internal states).
   * @param {string} method
   * @param {unknown[]} args
   * @param {boolean} [afterRejoin] the application's calls are refused during a rejoin; the rejoin's own are not
   * @returns {Promise<any>}
   */
  async #invoke(method, args, afterRejoin = true) {
    const retry = method === 'SendMessage' ? 'Resend it with the same clientMessageId' : 'Call it again';
    const state = afterRejoin ? this.state : this.#connection.state;
    if (state !== HubConnectionState.Connected) {
      throw new CallNotAnsweredError(
        `Not connected to the chat (${this.#rejoining ? 'rejoining its rooms' : state.toLowerCase()}): ${method} was not sent. ${retry} once connected.`,
        { method, mayHaveBeenDone: false });
    }

    const connectionId = this.#connection.connectionId;
    try {
      return await this.#connection.invoke(method, ...args);
    } catch (error) {
      // The server's close cut the call short: its reason, in its words; the call may or may not have been done.
      if (isServerClose(error)) {
        throw new CallNotAnsweredError(inOurWords(error).message, { method, mayHaveBeenDone: true, closedByServer: true, cause: error });
      }

      // The server's answer to the call: a refusal, in its words.
      if (error instanceof Error && this.#connection.state === HubConnectionState.Connected && this.#connection.connectionId === connectionId) {
        throw inOurWords(error);
      }

      // The connection went from under the call: SignalR says so in the transport's words ("WebSocket closed with
      // status code: 1006", "Invocation canceled …"), or rejects a send with a bare string.
      throw new CallNotAnsweredError(`The connection broke before the chat answered ${method}, which may or may not have been done. ${retry} once connected.`,
        { method, mayHaveBeenDone: true, cause: error });
    }
  }

  /**
   * How long a step of a connection attempt (the token, the WebSocket's opening) may take: for a reconnect try
   * START_TRY_MS, after QUICK_RECONNECT_TRIES tries RECONNECT_STEP_MS, for behind a proxy the next try may reach a
   * live replica (each try that met a frozen one held the page Reconnecting for the whole bound; the .NET client
   * gives the token and the WebSocket one bound together). A start's tries have bounds of their own (#connectInTries),
   * which come first.
   * @returns {number}
   */
  #stepTimeoutMs() {
    if (this.#connection?.state !== HubConnectionState.Reconnecting) {
      return this.#connectTimeoutMs;
    }

    const quick = (this.#lastRetry?.previousRetryCount ?? 0) < QUICK_RECONNECT_TRIES;
    return Math.min(quick ? START_TRY_MS : RECONNECT_STEP_MS, this.#connectTimeoutMs);
  }

  /**
   * The application's token, or a failure in words after the step's bound, a start's try given up, or a stop(). The
   * factory is given a signal that aborts then: a browser holds at most six requests to a host at once, and requests
   * left waiting on frozen replicas took them all, so that no later try's token request went out.
   * @param {(request: { signal: AbortSignal }) => string | Promise<string>} factory
   * @returns {Promise<string>}
   */
  #tokenInTime(factory) {
    if (this.#starting && this.#startToken !== undefined) {
      return Promise.resolve(this.#startToken); // an earlier try of this start got it: only the WebSocket failed
    }

    if (this.#connection?.state === HubConnectionState.Reconnecting) {
      this.#tryCarriedReconnectToken = true; // the one it reuses, or the one it is given now
      this.#tryGivenUp = false;
      const reusable = this.#reusableToken();
      if (reusable !== undefined) {
        return Promise.resolve(reusable);
      }
    }

    const connecting = this.#connecting.signal;
    const notWaitedFor = new AbortController();
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let timer;
    /** @type {() => void} */
    let stopped = () => {};
    const asked = Promise.resolve().then(() => factory({ signal: notWaitedFor.signal }));
    if (this.#starting) {
      // One that comes after its try was given up still serves the next try of the start.
      asked.then((token) => {
        if (this.#starting && token) {
          this.#startToken = token;
        }
      }, () => {});
    }

    return Promise.race([
      asked,
      new Promise((_, reject) => {
        const patience = this.#stepTimeoutMs();
        timer = setTimeout(() => reject(tokenNotGiven(`within ${patience / 1000} s`)), patience);
        stopped = () => reject(new Error(STOPPED_BEFORE_CONNECTED));
        connecting.addEventListener('abort', stopped, { once: true });
      }),
    ]).catch((error) => {
      notWaitedFor.abort();
      throw error;
    }).finally(() => {
      clearTimeout(timer);
      connecting.removeEventListener('abort', stopped); // a reconnect try's would stay on the last start's signal
    });
  }

  /**
   * #reconnectToken, for a reconnect try, while it is a JWT with more than TOKEN_REUSE_MARGIN_MS left before its exp
   * (any other token is asked for at each try, as SignalR does); undefined once a try that carried it failed other
   * than by its WebSocket going unanswered (the gateway may have refused it; a dead replica's port, if a proxy passes
   * that on, costs the next try a token request).
   * @returns {string | undefined}
   */
  #reusableToken() {
    const token = this.#reconnectToken;
    const expiresAt = token === undefined ? undefined : jwtExpiresAtMs(token);
    return expiresAt !== undefined && expiresAt - Date.now() > TOKEN_REUSE_MARGIN_MS ? token : undefined;
  }

  /**
   * The policy the application chose (or ours), noting what it was last asked: SignalR closes without a reason when
   * the policy gives up.
   * @param {number[] | import('@microsoft/signalr').IRetryPolicy} policy
   * @returns {import('@microsoft/signalr').IRetryPolicy}
   */
  #recordingRetries(policy) {
    const next = Array.isArray(policy)
      ? (/** @type {import('@microsoft/signalr').RetryContext} */ retry) => policy[retry.previousRetryCount] ?? null
      : (/** @type {import('@microsoft/signalr').RetryContext} */ retry) => policy.nextRetryDelayInMilliseconds(retry);
    return {
      nextRetryDelayInMilliseconds: (retry) => {
        // Asked at the break (0 tries), then after each failed try: not after a try a stop() ended.
        if (retry.previousRetryCount > 0 && this.#tryCarriedReconnectToken && !this.#tryGivenUp) {
          this.#reconnectToken = undefined; // the try failed with it, not for want of an answer: ask for a new one
        }

        this.#tryCarriedReconnectToken = false;
        this.#lastRetry = retry;
        return next(retry);
      },
    };
  }

  /** @param {import('@microsoft/signalr').RetryContext} retry */
  async #gaveUpError(retry) {
    const last = inOurWords(await explainConnectFailure(retry.retryReason, this.#hubUrl, this.#token));
    return new ReconnectGaveUpError(retry.previousRetryCount, retry.elapsedMilliseconds, last);
  }

  // The worker sends a notice at least once; a retry after its crash could repeat one.
  /** @param {import('../index.js').ModerationNotice} notice */
  async #acceptNotice(notice) {
    if (!this.#rooms.isJoined(notice.room) || this.#noticesSeen.has(notice.messageId)) {
      return;
    }

    this.#noticesSeen.add(notice.messageId);
    if (this.#noticesSeen.size > NOTICES_REMEMBERED) {
      this.#noticesSeen.delete(/** @type {string} */ (this.#noticesSeen.values().next().value));
    }

    await this.#events.emit('messageModerated', notice);
  }

  // A connection closed before or during the rejoin (a refusal, a break) has its own transition in the queue, which
  // says why; the next reconnect rejoins.
  async #rejoinAndFill() {
    if (this.#connection.state !== HubConnectionState.Connected) {
      this.#rejoining = false;
      return;
    }

    const rooms = this.#rooms.joinedRooms;
    try {
      if (rooms.length > 0) {
        await this.#telemetry.rejoin(rooms.length, (ctx) => this.#rejoin(rooms, 1, ctx));
      }
    } catch (error) {
      if (this.#connection.state !== HubConnectionState.Connected) {
        return;
      }

      throw error;
    } finally {
      this.#rejoining = false;
    }

    await this.#raiseState(HubConnectionState.Connected);
  }

  /**
   * Rejoins each room and fills its gap. A room that fails does not stop the others: it is reported, counted and
   * tried again a little later; after REJOIN_ATTEMPTS failures it is given up (reported so). A connection that
   * drops meanwhile ends the whole attempt: the next reconnect rejoins every room anyway.
   * @param {string[]} rooms
   * @param {number} attempt
   * @param {Context} ctx
   */
  async #rejoin(rooms, attempt, ctx) {
    /** @type {string[]} */
    const failed = [];
    for (const room of rooms.filter((r) => this.#rooms.isJoined(r))) {
      try {
        await this.#rooms.rejoin(room, ctx);
      } catch (error) {
        if (this.#connection.state !== HubConnectionState.Connected) {
          throw error;
        }

        this.#telemetry.rejoinFailed(error);
        const retry = attempt < REJOIN_ATTEMPTS;
        if (retry) {
          failed.push(room);
        } else {
          this.#rooms.leave(room);
        }

        await this.#raiseBackgroundError(new RoomRejoinError(room, retry, error));
      }
    }

    if (failed.length > 0) {
      const retry = setTimeout(() => {
        this.#retries.delete(retry);
        this.#queue.enqueue(async () => {
          if (this.#connection.state === HubConnectionState.Connected) {
            await this.#telemetry.rejoin(failed.length, (retryCtx) => this.#rejoin(failed, attempt + 1, retryCtx));
          }
        });
      }, FIRST_REJOIN_RETRY_MS * 2 ** (attempt - 1));
      this.#retries.add(retry);
    }
  }

  /**
   * @param {HubConnectionState} state
   * @param {Error} [error]
   */
  #raiseState(state, error) {
    // Connected once per connection: a break and a reconnect before start()'s report ran would report it twice.
    if (state === HubConnectionState.Connected && this.#reported === HubConnectionState.Connected) {
      return Promise.resolve();
    }

    this.#reported = state;
    return this.#events.emit('stateChanged', state, error && inOurWords(error));
  }

  /** @param {unknown} error */
  async #raiseBackgroundError(error) {
    try {
      await this.#events.emit('backgroundError', error);
    } catch {
      // A failing error handler must not stop the delivery queue.
    }
  }
}

/** Rejoining a room after a reconnect failed; willRetry says whether the client tries again or has given the room up. */
export class RoomRejoinError extends Error {
  /**
   * @param {string} room
   * @param {boolean} willRetry
   * @param {unknown} cause
   */
  constructor(room, willRetry, cause) {
    super(`Rejoining room '${room}' failed${willRetry ? '; retrying' : '; gave up'}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'RoomRejoinError';
    this.room = room;
    this.willRetry = willRetry;
  }
}

/**
 * A call the chat did not answer for want of a connection: not sent (no connection when it was made) or cut short
 * (the connection broke, or the server closed it, before the answer came: it may or may not have been done).
 * Unlike a refusal it is worth making again once connected; a send with the same clientMessageId is stored once.
 */
export class CallNotAnsweredError extends Error {
  /**
   * @param {string} message
   * @param {{ method: string, mayHaveBeenDone: boolean, closedByServer?: boolean, cause?: unknown }} what
   */
  constructor(message, { method, mayHaveBeenDone, closedByServer = false, cause }) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'CallNotAnsweredError';
    this.method = method;
    this.mayHaveBeenDone = mayHaveBeenDone;
    this.closedByServer = closedByServer;
  }
}

/**
 * Whether a failed sendMessage may have stored the message after all: a call not answered that may have been done,
 * or the gateway's answer that its storage was out of reach (a write that timed out may still have been done) or that
 * it failed unexpectedly. Such a message is to be resent with the same clientMessageId only, never as a new message;
 * a refusal (a rule, a limit) was not stored.
 * @param {unknown} error
 */
export function mayHaveBeenStored(error) {
  return error instanceof CallNotAnsweredError ? error.mayHaveBeenDone
    : error instanceof Error && (error.message.startsWith(STORAGE_UNAVAILABLE) || error.message.startsWith(SERVER_FAILURE));
}

/**
 * When a JWT expires (its exp claim, in ms since 1970), read without checking it (the gateway does that); undefined
 * for a token that is not a JWT or has no exp.
 * @param {string} token
 * @returns {number | undefined}
 */
function jwtExpiresAtMs(token) {
  const parts = token.split('.');
  if (parts.length !== 3) {
    return undefined;
  }

  try {
    const base64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const exp = JSON.parse(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '='))).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The application's token function did not give a token in time (a start's tries, or a reconnect try's step).
 * @param {string} within how long, and how many tries
 * @param {unknown} [cause]
 */
function tokenNotGiven(within, cause) {
  return new Error(`The access token function gave no token ${within}, so the chat was not connected (is the sign-in service answering?).`,
    cause === undefined ? undefined : { cause });
}

/** The client stopped reconnecting (its policy gave up): start() connects again. */
export class ReconnectGaveUpError extends Error {
  /**
   * @param {number} tries
   * @param {number} elapsedMilliseconds since the connection broke
   * @param {Error} lastFailure why the last try failed
   */
  constructor(tries, elapsedMilliseconds, lastFailure) {
    super(`Gave up reconnecting to the chat after ${tries} ${tries === 1 ? 'try' : 'tries'} in ${Math.round(elapsedMilliseconds / 1000)} s: ${lastFailure.message}`,
      { cause: lastFailure });
    this.name = 'ReconnectGaveUpError';
    this.tries = tries;
    this.elapsedMilliseconds = elapsedMilliseconds;
  }
}

/**
 * @param {unknown} hubUrl
 * @returns {string}
 */
function checkHubUrl(hubUrl) {
  /** @type {URL | undefined} */
  let url;
  try {
    url = new URL(String(hubUrl));
  } catch {
    // not absolute
  }

  if (typeof hubUrl !== 'string' || !url || !['http:', 'https:'].includes(url.protocol)) {
    throw new TypeError(`ChatClient needs the hub's absolute address, such as http://localhost:5310/hubs/chat; '${String(hubUrl)}' is not one.`);
  }

  const clientId = url.searchParams.get('clientId');
  if (clientId !== null && !CLIENT_ID.test(clientId)) {
    throw new TypeError(`The clientId in the hub's address must be 8 to 64 letters, digits, '-' or '_'; '${clientId}' is not.`);
  }

  if (url.searchParams.has('attempt')) {
    throw new TypeError("The hub's address must not carry an attempt: the client numbers its connection attempts itself.");
  }

  return hubUrl;
}

/**
 * @param {ChatClientOptions | undefined} options
 * @returns {ChatClientOptions}
 */
function checkOptions(options) {
  if (typeof options?.accessTokenFactory !== 'function') {
    throw new TypeError('ChatClient needs options.accessTokenFactory, a function that returns a token (POST /auth/token on the gateway gives one in development).');
  }

  const timeout = options.connectTimeoutInMilliseconds;
  if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0 && timeout <= LONGEST_TIMER_MS)) {
    throw new TypeError(`options.connectTimeoutInMilliseconds must be a number of milliseconds above 0 and at most ${LONGEST_TIMER_MS} (a timer's longest); '${String(timeout)}' is not.`);
  }

  return options;
}

/**
 * The hub address with a random id for this client object, on every connection it makes: a reconnect then replaces
 * a connection that broke without the gateway hearing of it, which would otherwise count against the user's limit
 * until the gateway's client timeout (a user at the limit could not get back in). Not stored: a duplicated tab gets
 * its own. (getRandomValues, not randomUUID: pages served over plain http have only the first.) The query is kept
 * as the caller wrote it.
 * @param {string} hubUrl
 */
function withClientId(hubUrl) {
  if (new URL(hubUrl).searchParams.has('clientId')) {
    return hubUrl; // the caller named it
  }

  // Node 18 has no global crypto; the id need only differ from the user's other clients' ids.
  const random = globalThis.crypto?.getRandomValues
    ? globalThis.crypto.getRandomValues(new Uint8Array(16))
    : Uint8Array.from({ length: 16 }, () => Math.floor(Math.random() * 256));
  const clientId = Array.from(random, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hubUrl}${hubUrl.includes('?') ? '&' : '?'}clientId=${clientId}`;
}
