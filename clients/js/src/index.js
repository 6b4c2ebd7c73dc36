export { CallNotAnsweredError, ChatClient, ReconnectGaveUpError, RoomRejoinError, mayHaveBeenStored } from './chat-client.js';
export { TraceContextHubProtocol } from './trace-context-protocol.js';
export { INSTRUMENTATION_NAME } from './telemetry.js';
export { reconnectPolicy, GIVE_UP_AFTER_MS } from './reconnect-policy.js';
