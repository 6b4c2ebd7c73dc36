import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { HubConnectionState } from '@microsoft/signalr';
import { connect, connectAwayFrom, eventually, unique } from './environment.js';
import { killReplica } from './gateway-processes.js';
import { dashboardTrace } from './dashboard.js';
import { serviceName, spans } from './tracing.js';

// Kills a replica: run it after the tests that need every replica.
describe('a replica dies under a client', () => {
  /** @type {Awaited<ReturnType<typeof connect>>[]} */
  const clients = [];
  after(() => Promise.all(clients.map((c) => c.client.stop())));

  test('the client reconnects elsewhere, rejoins and fills the gap: every message once and in order; a failed send resent with its id is stored once', async () => {
    const room = unique('crash');
    // Alice waits 2 s before reconnecting, so that what bob sends meanwhile can only reach her by the gap fill.
    const alice = await connect(unique('alice'), { reconnectPolicy: [2000, 1000, 1000, 2000, 2000, 5000, 5000, 10000] });
    const bob = await connectAwayFrom(unique('bob'), alice.replica);
    clients.push(alice, bob);
    await alice.client.joinRoom(room);
    await bob.client.joinRoom(room);
    await bob.client.sendMessage(room, 'b0', 'before the crash');
    await eventually(() => alice.received.texts(room).length === 1, 'the first message at alice');

    killReplica(alice.replica);
    await eventually(() => alice.received.states.includes(HubConnectionState.Reconnecting), 'alice reconnecting', 5_000);
    await assert.rejects(alice.client.sendMessage(room, 'a1', 'from alice, sent during the break'));
    for (let i = 1; i <= 5; i++) {
      await bob.client.sendMessage(room, `b${i}`, `while alice is away ${i}`);
    }

    await eventually(() => alice.received.states.at(-1) === HubConnectionState.Connected, 'alice connected again', 30_000);
    await alice.client.sendMessage(room, 'a1', 'from alice, sent during the break');
    await alice.client.sendMessage(room, 'a2', 'after the break');

    const expected = ['before the crash', ...[1, 2, 3, 4, 5].map((i) => `while alice is away ${i}`),
      'from alice, sent during the break', 'after the break'];
    for (const member of [alice, bob]) {
      await eventually(() => member.received.texts(room).length >= expected.length, `every message at ${member.user}`);
      await new Promise((resolve) => setTimeout(resolve, 300)); // nothing more arrives
      assert.deepEqual(member.received.texts(room), expected);
    }

    assert.notEqual((await alice.client.getConnectionInfo()).replica, alice.replica);
    assert.deepEqual(alice.received.states, ['Connected', 'Reconnecting', 'Connected']);
    assert.deepEqual(alice.received.errors, []);
    const filled = alice.received.messages.filter((m) => m.text.startsWith('while alice is away')).map((m) => m.id);
    // Bob's receives of the same messages (live, this process too) are in spans() beside alice's gap-filled ones.
    const filledReceives = spans().filter((s) => s.name === 'receive room/{name}' && s.attributes['chat.gap_fill'] === true
      && filled.includes(String(s.attributes['messaging.message.id'])));
    assert.deepEqual(filledReceives.map((s) => String(s.attributes['messaging.message.id'])), filled, 'what bob sent meanwhile came to alice by the gap fill');

    // The recovery is a trace of its own: the rejoin, the fill, and their hub calls on the replica alice landed on.
    const rejoin = spans().find((s) => s.name === 'rejoin rooms');
    assert.ok(rejoin);
    const held = await dashboardTrace(rejoin.spanContext().traceId, (all) =>
      all.some((s) => s.name.endsWith('ChatHub/JoinRoom')) && all.some((s) => s.name.endsWith('ChatHub/GetMessages')));
    const fill = held.find((s) => s.name === 'fill gap room/{name}');
    assert.equal(fill?.attributes['chat.gap.reason'], 'reconnect');
    assert.deepEqual(held.filter((s) => !s.parentSpanId).map((s) => `${s.service}: ${s.name}`), [`${serviceName}: rejoin rooms`]);
  });
});
