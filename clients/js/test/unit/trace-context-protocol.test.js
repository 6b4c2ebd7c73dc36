import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageType } from '@microsoft/signalr';
import { ROOT_CONTEXT, TraceFlags, context, createTraceState, trace } from '@opentelemetry/api';
import { TraceContextHubProtocol } from '../../src/trace-context-protocol.js';
import './tracing.js';

const protocol = new TraceContextHubProtocol();
const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const spanId = '00f067aa0ba902b7';
const sampled = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: TraceFlags.SAMPLED, traceState: createTraceState('rtd=js') });

/** @param {string} frame one JSON hub protocol frame */
const parse = (frame) => JSON.parse(frame.replace(/\x1e$/, ''));

test('an invocation written inside a span carries its traceparent and tracestate in the headers', () => {
  const frame = context.with(sampled, () => protocol.writeMessage({
    type: MessageType.Invocation, invocationId: '1', target: 'SendMessage', arguments: ['lobby', 'c1', 'hi'], streamIds: [],
  }));
  const message = parse(frame);
  assert.deepEqual(message.headers, { traceparent: `00-${traceId}-${spanId}-01`, tracestate: 'rtd=js' });
  assert.deepEqual(message.arguments, ['lobby', 'c1', 'hi']);
  assert.equal(message.target, 'SendMessage');
});

test('a stream invocation carries it too, beside headers already there', () => {
  const frame = context.with(sampled, () => protocol.writeMessage({
    type: MessageType.StreamInvocation, invocationId: '2', target: 'Counter', arguments: [], headers: { app: 'x' },
  }));
  assert.deepEqual(parse(frame).headers, { app: 'x', traceparent: `00-${traceId}-${spanId}-01`, tracestate: 'rtd=js' });
});

test('without an active span an invocation has no headers', () => {
  const frame = protocol.writeMessage({ type: MessageType.Invocation, invocationId: '3', target: 'JoinRoom', arguments: ['lobby'] });
  assert.equal(parse(frame).headers, undefined);
});

test('other messages are written as the JSON protocol writes them', () => {
  const frame = context.with(sampled, () => protocol.writeMessage({ type: MessageType.Ping }));
  assert.equal(frame, '{"type":6}\x1e');
  assert.equal(protocol.name, 'json');
});
