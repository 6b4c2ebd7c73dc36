// Types of @realtimedemo/chat-client: the chat contract (README, "The chat contract") as JavaScript sees it —
// SignalR's JSON protocol, camelCase names, ISO 8601 dates as strings.
import type { HubConnection, HubConnectionState, IRetryPolicy, ILogger, LogLevel, JsonHubProtocol, HubMessage } from '@microsoft/signalr';
import type { MeterProvider, TracerProvider } from '@opentelemetry/api';

/** A room message as every member receives it; `sequence` counts 1, 2, 3, … within the room's `epoch`. */
export interface ChatMessage {
  id: string;
  room: string;
  user: string;
  text: string;
  sentAt: string;
  clientMessageId: string;
  sequence: number;
  epoch: number;
  /** The W3C trace context of the delivery that brought it; the client's receive span continues it. */
  traceParent?: string | null;
  moderation?: string | null;
}

export interface MessageAck { messageId: string; room: string; sentAt: string; sequence: number; epoch: number }
export interface JoinRoomResult { room: string; members: number; lastMessageId: string | null; lastSequence: number; epoch: number }
export interface PrivateChatMessage { id: string; from: string; to: string; text: string; sentAt: string; traceParent?: string | null }
export interface PrivateMessageAck { messageId: string; to: string; sentAt: string }
export interface ModerationNotice { room: string; messageId: string; reason: string; traceParent?: string | null }
export interface RoomStats {
  room: string; members: number; messages: number; lastMessageId: string | null; lastMessageAt: string | null;
  processedMessages: number; activeSenders: number; moderatedMessages: number; epoch: number;
}
export interface RoomSummary { room: string; members: number }
export interface ConnectionDetails { connectionId: string; user: string; replica: string }

export interface ChatClientOptions {
  /**
   * Returns a current token (POST /auth/token on the gateway, or your identity provider's). Reconnect tries carry the
   * token the connection was let in with while it is a JWT with over five minutes left before its exp (each try is
   * then one pick of the proxy's, not two); once a try with it failed other than by its WebSocket going unanswered
   * (the gateway may have refused it) this is asked again, and its token serves the tries after. Any other token is
   * asked for at every reconnect try. Its signal aborts once the token is no longer waited for (a try given up): pass
   * it to fetch, for a browser holds at most six requests to a host at once.
   */
  accessTokenFactory: (request: { signal: AbortSignal }) => string | Promise<string>;
  /** How often to ping when idle (SignalR's default 15 s); keep it under half of the gateway's Chat:Limits:ClientTimeoutInterval. */
  keepAliveIntervalInMilliseconds?: number;
  /**
   * How long start() tries to connect (default 30 s): a try not answered within 3 s (the token, the WebSocket, the
   * handshake; the last try gets what is left) is made again, for behind a proxy the next may reach a live replica;
   * past it start() rejects in words. A reconnect try's token and WebSocket wait at most 3 s, from the third try
   * 10 s (or this, if shorter), then it counts as failed.
   */
  connectTimeoutInMilliseconds?: number;
  /** Reconnect delays or policy (default `reconnectPolicy`: 0, 0.25, 0.5, 1, 2 s, then every 5 s, with jitter, for 2 minutes). */
  reconnectPolicy?: number[] | IRetryPolicy;
  /** SignalR's logging (default: warnings and errors; at Information and below SignalR writes the hub URL, which in a browser carries the access token). */
  logger?: LogLevel | string | ILogger;
  /** Defaults to the global ones the application's OpenTelemetry SDK registered. */
  tracerProvider?: TracerProvider;
  meterProvider?: MeterProvider;
}

export interface ChatClientEvents {
  /** Each room message once, in the room's order (live, or fetched to fill a gap). */
  messageReceived: (message: ChatMessage) => unknown;
  userJoined: (room: string, user: string) => unknown;
  userLeft: (room: string, user: string) => unknown;
  privateMessage: (message: PrivateChatMessage) => unknown;
  /** The worker moderated a room message (it may already have been shown). */
  messageModerated: (notice: ModerationNotice) => unknown;
  /** The room's storage lost its earlier history (a new epoch) after some of it was shown: what is still kept follows through messageReceived. */
  roomReset: (room: string) => unknown;
  /**
   * Messages of the room that cannot be shown, with how many: sent while the client was away, they are no longer kept
   * in the room's history (Chat:History:MaxMessagesPerRoom). Comes before the first message after them.
   */
  messagesMissed: (room: string, count: number) => unknown;
  /**
   * Each transition once, in order; Connected after a reconnect comes once every room was tried
   * (rejoined and its gap filled; a room that failed is reported through backgroundError and retried). The error says why
   * the connection dropped or closed, when it did: a reason the server gave comes as its sentence alone, a break or
   * a give-up of reconnecting (a ReconnectGaveUpError: how many tries, the last one's reason) in the client's words.
   */
  stateChanged: (state: HubConnectionState, error?: Error) => unknown;
  /**
   * Work done on the application's behalf (a rejoin, a gap fill) or a handler of these events failed; the client goes
   * on (a failing handler stops neither the other handlers nor the work that raised the event).
   */
  backgroundError: (error: unknown) => unknown;
}

/**
 * The chat client: WebSockets with negotiation skipped, automatic reconnect, each room message once and in order,
 * a span per call and per delivered message (instrumentation scope "RealtimeDemo.ChatClient").
 * Handlers may be async; the client waits for each before the next event.
 */
export class ChatClient {
  /** Throws a TypeError, in words, for a hub address that is not absolute http(s), a malformed clientId in it, or no accessTokenFactory. */
  constructor(hubUrl: string, options: ChatClientOptions);
  readonly state: HubConnectionState;
  /** The underlying SignalR connection, for calls this class does not wrap. */
  readonly connection: HubConnection;
  /**
   * Returns a function that removes the handler. Handlers run one at a time with the client's own work, so a handler
   * that awaits joinRoom or leaveRoom would wait for itself: start those without awaiting them there. Throws a
   * TypeError, in words, for an event the client does not raise (a misspelt name) or a handler that is not a function.
   */
  on<E extends keyof ChatClientEvents>(event: E, handler: ChatClientEvents[E]): () => void;
  off<E extends keyof ChatClientEvents>(event: E, handler: ChatClientEvents[E]): void;
  /**
   * Resolves once the gateway has let the connection in, with what it said of the connection (undefined in the rare
   * case it let it in but refused that one call, at a rate limit). Rejects with the gateway's sentence when it refuses it (a
   * token it does not accept, a connection limit), with the client's when it cannot be reached, when the client is
   * already started, or when stop() came first.
   */
  start(): Promise<ConnectionDetails | undefined>;
  /** Closes the connection (reported Disconnected without an error); a pending start() rejects. */
  stop(): Promise<void>;
  getConnectionInfo(): Promise<ConnectionDetails>;
  /** Joins the room; it is rejoined after every reconnect until leaveRoom. */
  joinRoom(room: string): Promise<JoinRoomResult>;
  /**
   * Forgets the room; if the server refuses the leave on a connection still open (too many room changes), the room is
   * still joined and kept: call it again later. A room the connection is not in (left already, or never joined)
   * resolves: the connection is not in it, which is what was asked.
   */
  leaveRoom(room: string): Promise<void>;
  /**
   * Resolves once the message is stored; after a failure resend with the same clientMessageId. Rejects with a
   * CallNotAnsweredError at once without a connection (while reconnecting), and when the connection broke or the
   * server closed it (a drain) under the call; with a plain Error in the gateway's words when it refused the message
   * or could not store it (a rule the text breaks, a rate limit, storage out of reach). Resending with the same
   * clientMessageId is always safe: a message is stored once.
   */
  sendMessage(room: string, clientMessageId: string, text: string): Promise<MessageAck>;
  sendPrivateMessage(toUser: string, text: string): Promise<PrivateMessageAck>;
  getRoomStats(room: string): Promise<RoomStats>;
  /**
   * Pages of history hold up to `limit` messages, fewer when their texts reach 100,000 characters (README, "The chat
   * contract"): a page is the last only when it came short of `limit` and its texts total less than that.
   */
  getMessages(room: string, afterMessageId: string | null, limit: number): Promise<ChatMessage[]>;
  getRecentMessages(room: string, limit: number): Promise<ChatMessage[]>;
  getOlderMessages(room: string, beforeMessageId: string, limit: number): Promise<ChatMessage[]>;
  getRoomMembers(room: string): Promise<string[]>;
  listRooms(limit: number): Promise<RoomSummary[]>;
}

/** Rejoining a room after a reconnect failed (reported through backgroundError). */
export class RoomRejoinError extends Error {
  readonly room: string;
  readonly willRetry: boolean;
}

/**
 * A call the chat did not answer for want of a connection (a refusal is a plain Error with the gateway's sentence):
 * not sent, as no connection was there (`mayHaveBeenDone` false), or cut short by a break or the server's close
 * (`mayHaveBeenDone` true; the message is the server's reason when it gave one). Make it again once connected: a
 * send with the same clientMessageId is stored once whatever happened to the first.
 */
export class CallNotAnsweredError extends Error {
  readonly method: string;
  readonly mayHaveBeenDone: boolean;
  /** The server's close cut the call short (a drain, an expired token): the message is its reason. */
  readonly closedByServer: boolean;
}

/**
 * Whether a failed sendMessage may have stored the message after all: a CallNotAnsweredError that may have been done,
 * or the gateway's answer that its storage was out of reach (a write that timed out may still have been done) or that
 * it failed unexpectedly. Resend such a message with the same clientMessageId only, never as a new one.
 */
export function mayHaveBeenStored(error: unknown): boolean;

/** The client stopped reconnecting, its policy having given up (reported with stateChanged Disconnected); start() connects again. The cause is why the last try failed. */
export class ReconnectGaveUpError extends Error {
  readonly tries: number;
  readonly elapsedMilliseconds: number;
}

/** SignalR's JSON hub protocol that puts the active OpenTelemetry context's traceparent/tracestate into each invocation's headers. */
export class TraceContextHubProtocol extends JsonHubProtocol {
  writeMessage(message: HubMessage): string;
}

/** The instrumentation scope of the client's spans and metrics. */
export const INSTRUMENTATION_NAME: 'RealtimeDemo.ChatClient';

/** The reconnect schedule ChatClient uses unless given another: 0, 0.25, 0.5, 1, 2 s, then every 5 s, with ±20 % jitter. */
export const reconnectPolicy: IRetryPolicy;
/** How long reconnectPolicy keeps trying after a break (two minutes). */
export const GIVE_UP_AFTER_MS: number;
