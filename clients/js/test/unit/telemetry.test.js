import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { ClientTelemetry } from '../../src/telemetry.js';
import { recordSpans } from './tracing.js';

class CollectingReader extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}

function telemetry() {
  const recorded = recordSpans();
  const reader = new CollectingReader();
  const client = new ClientTelemetry('hubs/chat', { tracerProvider: recorded.tracerProvider, meterProvider: new MeterProvider({ readers: [reader] }) });
  /** @param {string} name */
  const points = async (name) => (await reader.collect()).resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics).filter((metric) => metric.descriptor.name === name)
    .flatMap((metric) => metric.dataPoints.map((point) => ({ attributes: point.attributes, value: point.value })));
  return { client, spans: recorded.spans, points };
}

test('a refused call is a CLIENT span marked as an error with its type; the caller gets the error', async () => {
  const { client, spans } = telemetry();
  const refused = new Error("Room name 'x!' is not valid.");

  await assert.rejects(client.call('JoinRoom', ROOT_CONTEXT, async () => { throw refused; }), refused);

  const [span] = spans();
  assert.equal(span.name, 'hubs/chat/JoinRoom');
  assert.equal(span.kind, SpanKind.CLIENT);
  assert.deepEqual(span.attributes, { 'rpc.system': 'signalr', 'rpc.service': 'hubs/chat', 'rpc.method': 'JoinRoom', 'error.type': 'Error' });
  assert.equal(span.status.code, SpanStatusCode.ERROR);
});

test('a send is a PRODUCER span that learns the id, sequence and epoch from the ack', async () => {
  const { client, spans } = telemetry();
  const ack = { messageId: '1764000000000-0', room: 'lobby', sentAt: '', sequence: 7, epoch: 1764000000000 };

  assert.equal(await client.send('lobby', 'héllo', ROOT_CONTEXT, async () => ack), ack);

  const [span] = spans();
  assert.equal(span.name, 'send room/{name}');
  assert.equal(span.kind, SpanKind.PRODUCER);
  assert.deepEqual(span.attributes, {
    'messaging.system': 'redis', 'messaging.operation.type': 'send', 'messaging.destination.name': 'lobby', 'messaging.message.body.size': 6,
    'messaging.message.id': ack.messageId, 'chat.message.sequence': 7, 'chat.room.epoch': ack.epoch,
  });
});

test("a handler's failure marks the receive span without error.type, which only calls carry", async () => {
  const { client, spans } = telemetry();
  const message = { id: '1-0', room: 'lobby', user: 'a', text: 't', sentAt: '', clientMessageId: 'c', sequence: 1, epoch: 1 };

  await assert.rejects(client.receive(message, false, ROOT_CONTEXT, async () => { throw new TypeError('handler'); }));

  const [span] = spans();
  assert.equal(span.status.code, SpanStatusCode.ERROR);
  assert.equal(span.attributes['error.type'], undefined);
});

test('gap fills are counted by reason, missed messages by number, and failed rejoins by error type', async () => {
  const { client, points } = telemetry();

  await client.gapFill('lobby', 'reconnect', ROOT_CONTEXT, async () => {});
  await client.gapFill('lobby', 'reconnect', ROOT_CONTEXT, async () => {});
  await client.gapFill('lobby', 'missed_delivery', ROOT_CONTEXT, async () => {});
  client.rejoinFailed(new TypeError('x'));
  client.messagesMissed(4);
  client.messagesMissed(2);

  assert.deepEqual(await points('chat.client.messages_missed'), [{ attributes: {}, value: 6 }]);
  assert.deepEqual(await points('chat.client.gap_fills'), [
    { attributes: { 'chat.gap.reason': 'reconnect' }, value: 2 }, { attributes: { 'chat.gap.reason': 'missed_delivery' }, value: 1 },
    { attributes: { 'chat.gap.reason': 'storage_reset' }, value: 0 },
  ]);
  assert.deepEqual(await points('chat.client.rejoin.failures'), [
    { attributes: {}, value: 0 }, { attributes: { 'error.type': 'TypeError' }, value: 1 },
  ]);
});

test('every counter is exported at 0 before its first event, so a dashboard shows none happened rather than nothing', async () => {
  const { points } = telemetry();

  assert.deepEqual(await points('chat.client.gap_fills'), [
    { attributes: { 'chat.gap.reason': 'reconnect' }, value: 0 }, { attributes: { 'chat.gap.reason': 'missed_delivery' }, value: 0 },
    { attributes: { 'chat.gap.reason': 'storage_reset' }, value: 0 },
  ]);
  assert.deepEqual(await points('chat.client.messages_missed'), [{ attributes: {}, value: 0 }]);
  assert.deepEqual(await points('chat.client.rejoin.failures'), [{ attributes: {}, value: 0 }]);
});
