import { HttpTransportType, HubConnectionBuilder, HubConnectionState, LogLevel } from '@microsoft/signalr';
import { context } from '@opentelemetry/api';
import { Listeners } from './listeners.js';
import { RoomSequencer } from './room-sequencer.js';
import { ClientTelemetry } from './telemetry.js';
import { TraceContextHubProtocol } from './trace-context-protocol.js';
import { WorkQueue } from './work-queue.js';
import { reconnectPolicy as defaultReconnectPolicy } from './reconnect-policy.js';

const NOTICES_REMEMBERED = 10_000;
const REJOIN_ATTEMPTS = 4;
const FIRST_REJOIN_RETRY_MS = 1_000;
const NOT_IN_ROOM = 'This connection is not in room'; // the gateway's refusal of a LeaveRoom (ChatHubMethods.NotInRoomRefusal)

/**
 * @typedef {import('../index.js').ChatClientOptions} ChatClientOptions
 * @typedef {import('../index.js').ChatMessage} ChatMessage
 * @typedef {import('@opentelemetry/api').Context} Context
 */

/**
 * A JavaScript chat client that never shows a room message twice or silently misses one, and whose calls and
 * deliveries are spans of the traces they belong to. The JavaScript twin of clients/dotnet/ChatClient.cs: it
 * connects the only way the replicated gateway allows (WebSockets, negotiation skipped: the proxy in front of the
 * replicas is not sticky), rejoins its rooms after a reconnect and fills every gap from the room history.
 */
export class ChatClient {
  #connection;
  #telemetry;
  #rooms;
  #events = new Listeners();
  #queue = new WorkQueue((error) => this.#raiseBackgroundError(error));
  /** @type {Set<string>} */
  #noticesSeen = new Set();
  /** @type {Set<ReturnType<typeof setTimeout>>} */
  #retries = new Set();
  /** The last state raised (the work queue's alone). @type {string} */
  #reported = HubConnectionState.Disconnected;

  /**
   * @param {string} hubUrl the hub, e.g. http://localhost:5310/hubs/chat
   * @param {ChatClientOptions} options
   */
  constructor(hubUrl, { accessTokenFactory, keepAliveIntervalInMilliseconds, reconnectPolicy, logger, tracerProvider, meterProvider }) {
    const builder = new HubConnectionBuilder()
      .withUrl(withClientId(hubUrl), { transport: HttpTransportType.WebSockets, skipNegotiation: true, accessTokenFactory })
      .withHubProtocol(new TraceContextHubProtocol());
    builder.withAutomaticReconnect(/** @type {any} */ (reconnectPolicy ?? defaultReconnectPolicy));

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
      joinRoom: (room, ctx) => this.#call('JoinRoom', [room], ctx),
      getMessages: (room, after, limit, ctx) => this.#call('GetMessages', [room, after, limit], ctx),
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
    connection.onreconnected(() => this.#queue.enqueue(() => this.#rejoinAndFill()));
    connection.onclose((error) => this.#queue.enqueue(() => this.#raiseState(HubConnectionState.Disconnected, error)));
  }

  /** The connection's state: Connected, Reconnecting, Disconnected, … */
  get state() {
    return this.#connection.state;
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
    return this.#events.on(event, handler);
  }

  /**
   * @param {string} event
   * @param {(...args: any[]) => unknown} handler
   */
  off(event, handler) {
    this.#events.off(event, handler);
  }

  async start() {
    await this.#connection.start();
    // Only if still connected: a close right after the handshake (a refusal) is queued by then, and Connected
    // reported after it would leave a page saying so.
    await this.#queue.run(async () => {
      if (this.#connection.state === HubConnectionState.Connected) {
        await this.#raiseState(HubConnectionState.Connected);
      }
    });
  }

  /** Closes the connection; rejoin retries still waiting are dropped, queued work finishes first. */
  async stop() {
    for (const retry of this.#retries) {
      clearTimeout(retry);
    }

    this.#retries.clear();
    await this.#connection.stop();
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
        return;
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
      (ctx) => context.with(ctx, () => this.#invoke('SendMessage', room, clientMessageId, text)));
  }

  /**
   * @param {string} toUser
   * @param {string} text
   */
  sendPrivateMessage(toUser, text) {
    return this.#telemetry.sendPrivate(text, context.active(),
      (ctx) => context.with(ctx, () => this.#invoke('SendPrivateMessage', toUser, text)));
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
  #call(method, args, parent) {
    return this.#telemetry.call(method, parent, (ctx) => context.with(ctx, () => this.#invoke(method, ...args)));
  }

  /**
   * A call the server's close cut short fails with the server's reason in its words, like stateChanged; one made
   * without a connection, or cut short by a broken one, with ours (SignalR's name its internal states).
   * @param {string} method
   * @param {unknown[]} args
   * @returns {Promise<any>}
   */
  async #invoke(method, ...args) {
    const retry = method === 'SendMessage' ? 'Resend it with the same clientMessageId' : 'Call it again';
    if (this.#connection.state !== HubConnectionState.Connected) {
      throw new Error(`Not connected to the chat (${this.#connection.state.toLowerCase()}): ${method} was not sent. ${retry} once connected.`);
    }

    try {
      return await this.#connection.invoke(method, ...args);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith(SIGNALR_CALL_CUT_SHORT)) {
        throw new Error(`The connection broke before the chat answered ${method}, which may or may not have been done. ${retry} once connected.`, { cause: error });
      }

      throw error instanceof Error ? inServerWords(error) : error;
    }
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
      return;
    }

    const rooms = this.#rooms.joinedRooms;
    try {
      await this.#telemetry.rejoin(rooms.length, (ctx) => this.#rejoin(rooms, 1, ctx));
    } catch (error) {
      if (this.#connection.state !== HubConnectionState.Connected) {
        return;
      }

      throw error;
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
    return this.#events.emit('stateChanged', state, inServerWords(error));
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

const SERVER_CLOSED_PREFIX = 'Server returned an error on close: ';
const SIGNALR_CALL_CUT_SHORT = 'Invocation canceled due to the underlying connection being closed';

/**
 * A close the server gave a reason for reaches the handlers as the server's sentence alone ("Too many connections for
 * this user …"), without the SignalR client's preamble, so a page can show it as it is.
 * @param {Error} [error]
 * @returns {Error | undefined}
 */
function inServerWords(error) {
  return error?.message?.startsWith(SERVER_CLOSED_PREFIX)
    ? new Error(error.message.slice(SERVER_CLOSED_PREFIX.length), { cause: error })
    : error;
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
