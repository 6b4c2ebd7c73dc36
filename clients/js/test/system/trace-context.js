import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ROOT_CONTEXT, SpanKind, TraceFlags, context, createTraceState, trace } from '@opentelemetry/api';
import { dashboardTrace } from './dashboard.js';
import { connect, connectAwayFrom, eventually, unique } from './environment.js';
import { serviceName, spans } from './tracing.js';

const OTLP_KIND = { [SpanKind.INTERNAL]: 1, [SpanKind.SERVER]: 2, [SpanKind.CLIENT]: 3, [SpanKind.PRODUCER]: 4, [SpanKind.CONSUMER]: 5 };

// Trace context both ways, checked where a person would look: the Aspire dashboard.
describe('trace context', () => {
  /** @type {Awaited<ReturnType<typeof connect>>[]} */
  const clients = [];
  after(() => Promise.all(clients.map((c) => c.client.stop())));

  test("a send is one trace rooted in the client's span: the gateway's call and send, every replica with members, the worker, and each client's receive", async () => {
    const room = unique('traced');
    const alice = await connect(unique('alice'));
    const bob = await connectAwayFrom(unique('bob'), alice.replica);
    clients.push(alice, bob);
    await alice.client.joinRoom(room);
    await bob.client.joinRoom(room);

    const ack = await alice.client.sendMessage(room, 'traced-1', 'follow me');
    await eventually(() => bob.received.messages.length === 1 && alice.received.messages.length === 1, 'the message at both clients');

    const send = spans().find((s) => s.name === 'send room/{name}' && s.attributes['messaging.message.id'] === ack.messageId);
    assert.ok(send, 'the client made a send span');
    assert.equal(send.kind, SpanKind.PRODUCER);
    assert.equal(send.parentSpanContext, undefined, 'nothing was active: the send starts the trace');
    const traceId = send.spanContext().traceId;
    for (const member of [alice, bob]) {
      assert.equal(member.received.messages[0].traceParent?.split('-')[1], traceId, `the message at ${member.user} carries the trace`);
    }

    const held = await dashboardTrace(traceId, (all) =>
      all.some((s) => s.service === 'realtime-gateway' && s.name.endsWith('ChatHub/SendMessage'))
      && all.some((s) => s.service === 'realtime-gateway' && s.name === 'send room/{name}')
      && new Set(all.filter((s) => s.service === 'realtime-gateway' && s.name === 'process room/{name}').map((s) => s.instance)).size === 2
      && all.some((s) => s.service === 'chat-worker' && s.name === 'process room/{name}')
      && all.filter((s) => s.service === serviceName && s.name === 'receive room/{name}').length === 2);

    const roots = held.filter((s) => !s.parentSpanId);
    assert.deepEqual(roots.map((s) => `${s.service}: ${s.name}`), [`${serviceName}: send room/{name}`], 'one root: the client\'s send');
    assert.equal(roots[0].kind, OTLP_KIND[SpanKind.PRODUCER]);
    const hubCall = held.find((s) => s.name.endsWith('ChatHub/SendMessage'));
    assert.equal(hubCall?.parentSpanId, send.spanContext().spanId, "the gateway's call continues the client's span");
    const processes = held.filter((s) => s.service === 'realtime-gateway' && s.name === 'process room/{name}');
    for (const receive of held.filter((s) => s.service === serviceName && s.name === 'receive room/{name}')) {
      assert.ok(processes.some((p) => p.spanId === receive.parentSpanId), "each receive continues a replica's process span");
      assert.equal(receive.kind, OTLP_KIND[SpanKind.CONSUMER]);
      assert.equal(receive.attributes['messaging.message.id'], ack.messageId);
      assert.equal(String(receive.attributes['chat.gap_fill']), 'false'); // the dashboard answers with every value as a string
    }
  });

  test('every call carries the caller\'s trace context, trace state included, and the gateway continues it', async () => {
    const room = unique('called');
    const alice = await connect(unique('alice'));
    clients.push(alice);
    const parent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: randomHex(32), spanId: randomHex(16), traceFlags: TraceFlags.SAMPLED, isRemote: true, traceState: createTraceState('rtd=js-client'),
    });

    await context.with(parent, () => alice.client.joinRoom(room));

    const traceId = /** @type {NonNullable<ReturnType<typeof trace.getSpanContext>>} */ (trace.getSpanContext(parent)).traceId;
    const call = spans().find((s) => s.spanContext().traceId === traceId);
    assert.equal(call?.name, 'hubs/chat/JoinRoom');
    assert.equal(call?.kind, SpanKind.CLIENT);
    const held = await dashboardTrace(traceId, (all) =>
      all.some((s) => s.name.endsWith('ChatHub/JoinRoom')) && all.some((s) => s.name === 'join room/{name}'));
    const server = held.find((s) => s.name.endsWith('ChatHub/JoinRoom'));
    assert.equal(server?.parentSpanId, call?.spanContext().spanId);
    assert.equal(server?.traceState, 'rtd=js-client');
  });

  test("a private message's receive span continues the sender's send", async () => {
    const alice = await connect(unique('alice'));
    const bob = await connect(unique('bob'));
    clients.push(alice, bob);

    const ack = await alice.client.sendPrivateMessage(bob.user, 'psst');
    await eventually(() => bob.received.privateMessages.length === 1, 'the private message');

    const send = spans().find((s) => s.name === 'send user/{name}' && s.attributes['messaging.message.id'] === ack.messageId);
    const receive = spans().find((s) => s.name === 'receive user/{name}' && s.attributes['messaging.message.id'] === ack.messageId);
    assert.ok(send && receive);
    assert.equal(receive.spanContext().traceId, send.spanContext().traceId);
    const held = await dashboardTrace(send.spanContext().traceId, (all) => all.some((s) => s.name === 'receive user/{name}'));
    assert.deepEqual(held.filter((s) => !s.parentSpanId).map((s) => s.name), ['send user/{name}']);
  });
});

/** @param {number} length */
function randomHex(length) {
  return Array.from(crypto.getRandomValues(new Uint8Array(length / 2)), (b) => b.toString(16).padStart(2, '0')).join('');
}
