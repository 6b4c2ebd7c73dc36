import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ChatClient } from '../../src/index.js';
import { connect, connectAwayFrom, eventually, gatewayUrl, unique } from './environment.js';

// The contract's rules (README, "The chat contract") through the gateway's replicas behind their non-sticky proxy:
// every client here connects with WebSockets only and negotiation skipped, or half its connections would fail.
describe('the chat contract', () => {
  /** @type {Awaited<ReturnType<typeof connect>>[]} */
  const clients = [];
  after(() => Promise.all(clients.map((c) => c.client.stop())));

  /** @param {string} user */
  const open = async (user) => { const c = await connect(user); clients.push(c); return c; };
  /** @param {string} user @param {string} replica */
  const openAwayFrom = async (user, replica) => { const c = await connectAwayFrom(user, replica); clients.push(c); return c; };

  test('each member gets every message once and in order, across replicas; a resend is stored and shown once', async () => {
    const room = unique('order');
    const alice = await open(unique('alice'));
    const bob = await openAwayFrom(unique('bob'), alice.replica);
    await alice.client.joinRoom(room);
    await bob.client.joinRoom(room);

    const acks = [];
    for (let i = 1; i <= 12; i++) {
      acks.push(await alice.client.sendMessage(room, `m${i}`, `message ${i}`));
    }

    const resent = await alice.client.sendMessage(room, 'm5', 'message 5');
    await alice.client.sendMessage(room, 'm13', 'message 13');

    assert.deepEqual(resent, acks[4], 'a resend returns the first ack');
    const expected = Array.from({ length: 13 }, (_, i) => `message ${i + 1}`);
    for (const member of [alice, bob]) {
      await eventually(() => member.received.texts(room).length >= 13, `13 messages at ${member.user}`);
      assert.deepEqual(member.received.texts(room), expected);
      assert.deepEqual(member.received.messages.map((m) => m.sequence), expected.map((_, i) => i + 1));
    }
  });

  test('a member who joins while messages are sent shows everything after its join position, once and in order', async () => {
    const room = unique('joining');
    const alice = await open(unique('alice'));
    const carol = await openAwayFrom(unique('carol'), alice.replica);
    await alice.client.joinRoom(room);

    const sends = [];
    let joined;
    for (let i = 1; i <= 30; i++) {
      sends.push(alice.client.sendMessage(room, `m${i}`, `message ${i}`));
      if (i === 10) {
        joined = carol.client.joinRoom(room); // its reply and the room's deliveries race
      }
    }

    await Promise.all(sends);
    const position = await joined;
    assert.ok(position);
    const after = Array.from({ length: 30 - position.lastSequence }, (_, i) => position.lastSequence + 1 + i);
    await eventually(() => carol.received.messages.length >= after.length, `${after.length} messages at carol`);
    await new Promise((resolve) => setTimeout(resolve, 300)); // nothing more arrives
    assert.deepEqual(carol.received.messages.map((m) => m.sequence), after);
  });

  test('presence, history, stats, private messages and refusals answer as the contract says', async () => {
    const room = unique('calls');
    const alice = await open(unique('alice'));
    const bob = await open(unique('bob'));
    await alice.client.joinRoom(room);
    await bob.client.joinRoom(room);
    await eventually(() => alice.received.events.includes(`joined ${room} ${bob.user}`), 'UserJoined for bob');

    const acks = [];
    for (let i = 1; i <= 5; i++) {
      acks.push(await alice.client.sendMessage(room, `m${i}`, `message ${i}`));
    }

    assert.deepEqual((await bob.client.getRoomMembers(room)).sort(), [alice.user, bob.user].sort());
    assert.deepEqual((await bob.client.getRecentMessages(room, 2)).map((m) => m.text), ['message 4', 'message 5']);
    assert.deepEqual((await bob.client.getOlderMessages(room, acks[2].messageId, 10)).map((m) => m.text), ['message 1', 'message 2']);
    assert.deepEqual((await bob.client.getMessages(room, acks[2].messageId, 10)).map((m) => m.text), ['message 4', 'message 5']);
    const stats = await bob.client.getRoomStats(room);
    assert.equal(stats.members, 2);
    assert.equal(stats.messages, 5);
    assert.ok((await bob.client.listRooms(200)).some((r) => r.room === room));
    const info = await bob.client.getConnectionInfo();
    assert.equal(info.user, bob.user);

    const ack = await alice.client.sendPrivateMessage(bob.user, 'just for bob');
    await eventually(() => bob.received.privateMessages.length === 1, 'the private message');
    assert.equal(bob.received.privateMessages[0].id, ack.messageId);
    assert.equal(bob.received.privateMessages[0].from, alice.user);

    await bob.client.leaveRoom(room);
    await bob.client.leaveRoom(room); // left already: the intent stands, nothing to refuse
    await eventually(() => alice.received.events.includes(`left ${room} ${bob.user}`), 'UserLeft for bob');
    await alice.client.sendMessage(room, 'm6', 'after bob left');
    await assert.rejects(alice.client.joinRoom('not a room name!'), /room/i);
    await assert.rejects(alice.client.sendPrivateMessage(unique('nobody'), 'hello?'), /not connected anywhere/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(!bob.received.texts(room).includes('after bob left'));
  });

  test("a connection the gateway refuses fails start() with the gateway's sentence: a token it does not take, a user's connection past the limit", async () => {
    const forged = new ChatClient(new URL('/hubs/chat', gatewayUrl).toString(), { accessTokenFactory: () => 'not-a-token', logger: 'none' });
    await assert.rejects(forged.start(), { message: 'The token is not one this chat accepts: its signature, issuer, audience or dates do not match.' });

    const user = unique('many');
    for (let i = 0; i < 5; i++) {
      await open(user);
    }

    await assert.rejects(connect(user), {
      message: 'Too many connections for this user (at most 5, Chat:Limits:MaxConnectionsPerUser). Close another tab or client first.',
    });
  });
});
