export { ChatClient, RoomRejoinError } from './chat-client.js';
export { TraceContextHubProtocol } from './trace-context-protocol.js';
export { INSTRUMENTATION_NAME } from './telemetry.js';
