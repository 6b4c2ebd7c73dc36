import { JsonHubProtocol, MessageType } from '@microsoft/signalr';
import { context } from '@opentelemetry/api';
import { traceContextHeaders } from './traceparent.js';

/**
 * SignalR's JSON hub protocol, plus the trace context of the active OpenTelemetry context in the headers of every
 * invocation it writes. The hub protocol defines those headers and the gateway continues the trace they name, but
 * the JavaScript client offers no way to set them: every message passes through the protocol, so they go in here.
 * HubConnection writes an invocation synchronously inside invoke() and send(), so the active context here is the
 * caller's.
 */
export class TraceContextHubProtocol extends JsonHubProtocol {
  /** @param {import('@microsoft/signalr').HubMessage} message */
  writeMessage(message) {
    if (message.type === MessageType.Invocation || message.type === MessageType.StreamInvocation) {
      const headers = traceContextHeaders(context.active());
      if (headers) {
        return super.writeMessage({ ...message, headers: { ...message.headers, ...headers } });
      }
    }

    return super.writeMessage(message);
  }
}
