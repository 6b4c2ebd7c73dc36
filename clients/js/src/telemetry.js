import { ROOT_CONTEXT, SpanKind, SpanStatusCode, metrics, trace } from '@opentelemetry/api';
import { contextFromTraceParent } from './traceparent.js';

// The names docs/telemetry.md lists: the .NET client's (clients/dotnet/ChatClientTelemetry.cs) under the same
// instrumentation scope, plus a span per hub call, which the .NET client gets from SignalR itself.
export const INSTRUMENTATION_NAME = 'RealtimeDemo.ChatClient';
export const SPAN_SEND = 'send room/{name}';
export const SPAN_SEND_PRIVATE = 'send user/{name}';
export const SPAN_RECEIVE = 'receive room/{name}';
export const SPAN_RECEIVE_PRIVATE = 'receive user/{name}';
export const SPAN_REJOIN = 'rejoin rooms';
export const SPAN_GAP_FILL = 'fill gap room/{name}';

/** Why the client fetched history (`chat.gap.reason`). */
export const GAP_REASONS = Object.freeze({ reconnect: 'reconnect', missedDelivery: 'missed_delivery', storageReset: 'storage_reset' });

const MESSAGING_SYSTEM = 'redis'; // as the gateway's and the .NET client's messaging spans say
const utf8 = new TextEncoder();

/**
 * The JavaScript client's spans and metrics. Every span takes its parent explicitly: in a browser the context
 * manager does not follow awaits, and the client's own background work (rejoins, gap fills) serves no caller.
 */
export class ClientTelemetry {
  #tracer;
  #gapFills;
  #missedMessages;
  #rejoinFailures;
  #hubPath;

  /**
   * @param {string} hubPath the hub's path, e.g. "hubs/chat": SignalR's .NET client names its call spans after it
   * @param {{ tracerProvider?: import('@opentelemetry/api').TracerProvider, meterProvider?: import('@opentelemetry/api').MeterProvider }} [providers]
   */
  constructor(hubPath, { tracerProvider, meterProvider } = {}) {
    this.#hubPath = hubPath;
    this.#tracer = (tracerProvider ?? trace).getTracer(INSTRUMENTATION_NAME);
    const meter = (meterProvider ?? metrics).getMeter(INSTRUMENTATION_NAME);
    this.#gapFills = meter.createCounter('chat.client.gap_fills', {
      unit: '{fill}', description: 'Times the client fetched history to fill a gap (a missed delivery or a reconnect).',
    });
    this.#missedMessages = meter.createCounter('chat.client.messages_missed', {
      unit: '{message}', description: "Room messages the client could not show: sent while it was away, and no longer kept in the room's history.",
    });
    this.#rejoinFailures = meter.createCounter('chat.client.rejoin.failures', {
      unit: '{failure}', description: 'Times rejoining a room after a reconnect failed (the client retries, then gives the room up).',
    });
    // A 0 for each series from the start, as the .NET client and the gateway have: a counter never added to is not
    // exported, which on a dashboard reads as telemetry missing, not as nothing happened.
    for (const reason of Object.values(GAP_REASONS)) {
      this.#gapFills.add(0, { 'chat.gap.reason': reason });
    }
    this.#missedMessages.add(0);
    this.#rejoinFailures.add(0);
  }

  /**
   * A hub call: CLIENT, named as SignalR's .NET client names its invocation spans.
   * @template T
   * @param {string} method
   * @param {import('@opentelemetry/api').Context} parent
   * @param {(ctx: import('@opentelemetry/api').Context) => Promise<T>} invoke
   */
  call(method, parent, invoke) {
    return this.#inSpan(`${this.#hubPath}/${method}`, {
      kind: SpanKind.CLIENT,
      attributes: { 'rpc.system': 'signalr', 'rpc.service': this.#hubPath, 'rpc.method': method },
    }, parent, invoke);
  }

  /**
   * Sending a room message: PRODUCER, the first span of the message's trace when the caller has none.
   * @param {string} room
   * @param {string} text
   * @param {import('@opentelemetry/api').Context} parent
   * @param {(ctx: import('@opentelemetry/api').Context) => Promise<import('../index.js').MessageAck>} invoke
   */
  send(room, text, parent, invoke) {
    return this.#inSpan(SPAN_SEND, {
      kind: SpanKind.PRODUCER,
      attributes: {
        ...messaging('send', room),
        'messaging.message.body.size': utf8.encode(text).length,
      },
    }, parent, async (ctx, span) => {
      const ack = await invoke(ctx);
      span.setAttributes({ 'messaging.message.id': ack.messageId, 'chat.message.sequence': ack.sequence, 'chat.room.epoch': ack.epoch });
      return ack;
    });
  }

  /**
   * @param {string} text
   * @param {import('@opentelemetry/api').Context} parent
   * @param {(ctx: import('@opentelemetry/api').Context) => Promise<import('../index.js').PrivateMessageAck>} invoke
   */
  sendPrivate(text, parent, invoke) {
    return this.#inSpan(SPAN_SEND_PRIVATE, {
      kind: SpanKind.PRODUCER,
      attributes: { ...messaging('send'), 'messaging.message.body.size': utf8.encode(text).length },
    }, parent, async (ctx, span) => {
      const ack = await invoke(ctx);
      span.setAttribute('messaging.message.id', ack.messageId);
      return ack;
    });
  }

  /**
   * Handing a room message to the application: CONSUMER, continuing the trace the message carries (else under
   * `current`, e.g. the gap fill that fetched it).
   * @param {import('../index.js').ChatMessage} message
   * @param {boolean} fromHistory
   * @param {import('@opentelemetry/api').Context} current
   * @param {(ctx: import('@opentelemetry/api').Context) => Promise<void>} handle
   */
  receive(message, fromHistory, current, handle) {
    return this.#inSpan(SPAN_RECEIVE, {
      kind: SpanKind.CONSUMER,
      attributes: {
        ...messaging('receive', message.room),
        'messaging.message.id': message.id,
        'chat.message.sequence': message.sequence,
        'chat.room.epoch': message.epoch,
        'chat.gap_fill': fromHistory,
      },
    }, contextFromTraceParent(message.traceParent) ?? current, handle);
  }

  /**
   * @param {import('../index.js').PrivateChatMessage} message
   * @param {(ctx: import('@opentelemetry/api').Context) => Promise<void>} handle
   */
  receivePrivate(message, handle) {
    return this.#inSpan(SPAN_RECEIVE_PRIVATE, {
      kind: SpanKind.CONSUMER,
      attributes: { ...messaging('receive'), 'messaging.message.id': message.id },
    }, contextFromTraceParent(message.traceParent) ?? ROOT_CONTEXT, handle);
  }

  /**
   * A reconnect's recovery, rejoining rooms and filling their gaps: a trace of its own.
   * @template T
   * @param {number} rooms
   * @param {(ctx: import('@opentelemetry/api').Context) => Promise<T>} work
   */
  rejoin(rooms, work) {
    return this.#inSpan(SPAN_REJOIN, { kind: SpanKind.INTERNAL, attributes: { 'chat.rooms': rooms } }, ROOT_CONTEXT, work);
  }

  /**
   * Fetching a room's missed messages: under a rejoin, or a trace of its own.
   * @template T
   * @param {string} room
   * @param {string} reason
   * @param {import('@opentelemetry/api').Context} parent
   * @param {(ctx: import('@opentelemetry/api').Context) => Promise<T>} work
   */
  gapFill(room, reason, parent, work) {
    this.#gapFills.add(1, { 'chat.gap.reason': reason });
    return this.#inSpan(SPAN_GAP_FILL, {
      kind: SpanKind.INTERNAL,
      attributes: { 'messaging.destination.name': room, 'chat.gap.reason': reason },
    }, parent, work);
  }

  /** @param {number} count */
  messagesMissed(count) {
    this.#missedMessages.add(count);
  }

  /** @param {unknown} error */
  rejoinFailed(error) {
    this.#rejoinFailures.add(1, { 'error.type': errorType(error) });
  }

  /**
   * @template T
   * @param {string} name
   * @param {import('@opentelemetry/api').SpanOptions} options
   * @param {import('@opentelemetry/api').Context} parent
   * @param {(ctx: import('@opentelemetry/api').Context, span: import('@opentelemetry/api').Span) => Promise<T>} work
   * @returns {Promise<T>}
   */
  async #inSpan(name, options, parent, work) {
    const span = this.#tracer.startSpan(name, options, parent);
    try {
      return await work(trace.setSpan(parent, span), span);
    } catch (error) {
      if (options.kind === SpanKind.CLIENT || options.kind === SpanKind.PRODUCER) {
        span.setAttribute('error.type', errorType(error)); // a call's outcome; other spans just fail
      }

      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  }
}

/**
 * @param {string} operation
 * @param {string} [room]
 */
function messaging(operation, room) {
  return {
    'messaging.system': MESSAGING_SYSTEM,
    'messaging.operation.type': operation,
    ...(room === undefined ? {} : { 'messaging.destination.name': room }),
  };
}

/** @param {unknown} error */
function errorType(error) {
  return error instanceof Error ? error.name : typeof error;
}
