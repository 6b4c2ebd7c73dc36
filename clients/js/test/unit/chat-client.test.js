import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { LogLevel } from '@microsoft/signalr';
import { CallNotAnsweredError, ChatClient, mayHaveBeenStored } from '../../src/index.js';
import { scriptedHub } from './scripted-hub.js';

// Nothing listens there: the client is never connected.
const client = () => new ChatClient('http://127.0.0.1:9/hubs/chat', { accessTokenFactory: async () => 'token', logger: LogLevel.None });

test('a call made without a connection is refused in our words, a send told to keep its clientMessageId', async () => {
  await assert.rejects(client().sendMessage('lobby', 'm-1', 'hello'), {
    name: 'CallNotAnsweredError', method: 'SendMessage', mayHaveBeenDone: false,
    message: 'Not connected to the chat (disconnected): SendMessage was not sent. Resend it with the same clientMessageId once connected.',
  });
  await assert.rejects(client().listRooms(10), {
    message: 'Not connected to the chat (disconnected): ListRooms was not sent. Call it again once connected.',
  });
});

test('a client built without a hub address, a token factory, a well-formed clientId or a connect timeout above 0, or with an attempt of its own, is refused at once, in our words', () => {
  assert.throws(() => new ChatClient('/hubs/chat', { accessTokenFactory: () => 'token' }),
    { message: "ChatClient needs the hub's absolute address, such as http://localhost:5310/hubs/chat; '/hubs/chat' is not one." });
  assert.throws(() => new ChatClient('http://localhost:5310/hubs/chat', /** @type {any} */ (undefined)),
    { message: /^ChatClient needs options\.accessTokenFactory/ });
  assert.throws(() => new ChatClient('http://localhost:5310/hubs/chat?clientId=no!', { accessTokenFactory: () => 'token' }),
    { message: "The clientId in the hub's address must be 8 to 64 letters, digits, '-' or '_'; 'no!' is not." });
  assert.throws(() => new ChatClient('http://localhost:5310/hubs/chat?attempt=1', { accessTokenFactory: () => 'token' }),
    { message: "The hub's address must not carry an attempt: the client numbers its connection attempts itself." });
  for (const timeout of [0, -1, Number.NaN, '5000', 2 ** 31]) {
    assert.throws(() => new ChatClient('http://localhost:5310/hubs/chat', { accessTokenFactory: () => 'token', connectTimeoutInMilliseconds: /** @type {any} */ (timeout) }),
      { message: `options.connectTimeoutInMilliseconds must be a number of milliseconds above 0 and at most 2147483647 (a timer's longest); '${String(timeout)}' is not.` });
  }
});

test('a handler for an event the client does not raise (a misspelt name), or one that is not a function, is refused at once, in our words', () => {
  const c = client();
  assert.throws(() => c.on(/** @type {any} */ ('messagereceived'), () => {}),
    { name: 'TypeError', message: /^The chat client has no event "messagereceived": it raises messageReceived, userJoined, / });
  assert.throws(() => c.on('messageReceived', /** @type {any} */ (undefined)),
    { name: 'TypeError', message: 'The handler given for messageReceived is not a function.' });
  assert.throws(() => c.off(/** @type {any} */ ('nope'), () => {}), { name: 'TypeError' });
  const off = c.on('messageReceived', () => {});
  off();
});

test('a gateway out of reach fails start() in our words, naming the address but not the token', async () => {
  await assert.rejects(client().start(), (error) => {
    assert.equal(/** @type {Error} */ (error).message,
      'Could not reach the chat at http://127.0.0.1:9/hubs/chat: nothing answered there (the gateway is down, or the address is wrong).');
    return true;
  });
});

describe('against a scripted hub', () => {
  /** @type {Awaited<ReturnType<typeof scriptedHub>>} */
  let hub;
  /** @type {ChatClient[]} */
  let clients;
  beforeEach(async () => {
    hub = await scriptedHub();
    clients = [];
  });
  afterEach(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    hub.stop();
  });

  /** @param {Partial<import('../../index.js').ChatClientOptions>} [options] */
  function open(options = {}) {
    const opened = new ChatClient(hub.url, { accessTokenFactory: () => 'the-token', logger: LogLevel.None, ...options });
    /** @type {string[]} */
    const states = [];
    /** @type {unknown[]} */
    const background = [];
    opened.on('stateChanged', (state, error) => { states.push(error ? `${state}: ${error.message}` : state); });
    opened.on('backgroundError', (error) => { background.push(error); });
    clients.push(opened);
    return { client: opened, states, background };
  }

  test('start() resolves with what the gateway said of the connection as it let it in, so a page need not ask again', async () => {
    /** @type {string[]} */
    const calls = [];
    hub.answer = (target) => {
      calls.push(target);
      return target === 'GetConnectionInfo' ? { connectionId: 'c1', user: 'alice', replica: 'gateway-b' } : null;
    };
    assert.deepEqual(await open().client.start(), { connectionId: 'c1', user: 'alice', replica: 'gateway-b' });
    assert.deepEqual(calls, ['GetConnectionInfo']);
  });

  test("a refused token fails start() with the gateway's sentence, which the WebSocket alone cannot read", async () => {
    hub.refusal = 'The token has expired: get a new one (POST /auth/token) and connect again.';
    await assert.rejects(open().client.start(), { message: hub.refusal });
  });

  test("a connection the gateway closes as it lets it in (a limit) fails start() with its reason, and is never reported Connected", async () => {
    const refusal = 'Too many connections for this user (at most 5, Chat:Limits:MaxConnectionsPerUser). Close another tab or client first.';
    hub.answer = (target, args, socket) => {
      hub.close(socket, refusal);
      return new Promise(() => {});
    };
    const { client: refused, states } = open();
    await assert.rejects(refused.start(), { message: refusal });
    await eventually(() => states.length > 0);
    assert.deepEqual(states, [`Disconnected: ${refusal}`]);
  });

  test('a connection attempt that hangs (a token that never comes, a WebSocket nobody answers) fails in words after the connect timeout, and stop() ends it at once', async () => {
    const { client: noToken } = open({ accessTokenFactory: () => new Promise(() => {}), connectTimeoutInMilliseconds: 300 });
    await assert.rejects(noToken.start(), { message: 'The access token function gave no token within 0.3 s, so the chat was not connected (is the sign-in service answering?).' });

    hub.hangUpgrades = true;
    const { client: unanswered } = open({ connectTimeoutInMilliseconds: 300 });
    await assert.rejects(unanswered.start(), {
      message: `The chat at ${hub.url} did not answer within 0.3 s: something there accepts connections but answers none (a stuck gateway or proxy). Try again in a moment.`,
    });

    for (const hanging of [open({ accessTokenFactory: () => new Promise(() => {}) }).client, open().client]) {
      const starting = hanging.start();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const stopped = Date.now();
      await hanging.stop();
      await assert.rejects(starting, { message: 'stop() was called before the connection to the chat was made.' });
      assert.ok(Date.now() - stopped < 1_000, 'stop() waited for the attempt');
    }
  });

  test('a start whose tries meet a frozen replica behind the proxy gives each 3 s and gets through on the next, asking for the token once', async () => {
    let tokensAsked = 0;
    const { client: patient, states } = open({ accessTokenFactory: () => { tokensAsked++; return 'the-token'; } });
    hub.holdNextUpgrades = 2;
    const began = Date.now();
    assert.deepEqual(await patient.start(), { connectionId: 'c1', user: 'alice', replica: 'scripted' });
    const waited = Date.now() - began;
    assert.equal(hub.heldUpgrades, 2);
    assert.ok(waited > 5_500 && waited < 9_000, `connected ${waited} ms after start(): two tries of 3 s given up`);
    assert.equal(tokensAsked, 1, 'the token the first try got served the next ones');
    await eventually(() => states.length > 0);
    assert.deepEqual(states, ['Connected']);

    // A token that does not come within a try is asked for again, the request given up told so through its signal
    // (a browser holds six requests to a host at once: those left waiting on frozen replicas stopped later tries').
    /** @type {AbortSignal[]} */
    const signals = [];
    const { client: slowToken } = open({
      accessTokenFactory: ({ signal }) => (signals.push(signal) === 1 ? new Promise(() => {}) : 'the-token'),
    });
    await slowToken.start();
    assert.deepEqual(signals.map((signal) => signal.aborted), [true, false]);

    // So is a try whose WebSocket opened and whose handshake nobody answers (a replica frozen just then).
    hub.handshakeDelay = 60_000;
    const { client: unansweredHandshake, states: handshakeStates } = open();
    const handshaking = Date.now();
    const starting = unansweredHandshake.start();
    await new Promise((resolve) => setTimeout(resolve, 500));
    hub.handshakeDelay = 0;
    await starting;
    assert.ok(Date.now() - handshaking > 2_500, 'connected by the first try: its handshake was answered');
    await eventually(() => handshakeStates.length > 0);
    assert.deepEqual(handshakeStates, ['Connected'], 'a try given up is no state of its own');
    hub.hangUpgrades = true;
    const { client: neverAnswered } = open({ connectTimeoutInMilliseconds: 7_000 });
    await assert.rejects(neverAnswered.start(), {
      message: `The chat at ${hub.url} did not answer within 7 s (2 tries): something there accepts connections but answers none (a stuck gateway or proxy). Try again in a moment.`,
    });
  });

  test("a replica that answered the handshake is live: its admission (which waits for its storage) is waited for, not tried again", async () => {
    /** @type {string[]} */
    const calls = [];
    const refusal = 'Chat storage (Redis) is unreachable right now; try again in a moment.';
    hub.answer = async (target, args, socket) => {
      calls.push(target);
      await new Promise((resolve) => setTimeout(resolve, 4_000)); // Redis out of reach: the gateway says so in seconds
      hub.close(socket, refusal);
      return new Promise(() => {});
    };
    await assert.rejects(open().client.start(), { message: refusal });
    assert.deepEqual(calls, ['GetConnectionInfo']);
  });

  test('stop() while a start makes its tries ends it: no try after, and start() says so', async () => {
    hub.hangUpgrades = true;
    const { client: stopped, states } = open();
    const starting = stopped.start();
    await eventually(() => hub.heldUpgrades === 1);
    await assert.rejects(stopped.start(), { message: /^The chat client is already connecting/ });
    await new Promise((resolve) => setTimeout(resolve, 3_100)); // the first try given up, the second on its way
    await stopped.stop();
    await assert.rejects(starting, { message: 'stop() was called before the connection to the chat was made.' });
    const held = hub.heldUpgrades;
    await new Promise((resolve) => setTimeout(resolve, 3_500)); // a third try, had there been one, would be held too
    assert.equal(hub.heldUpgrades, held, 'no try after the stop');
    assert.equal(hub.sockets.size, 0);
    assert.deepEqual(states, []);
  });

  test('reconnect tries nobody answers (a frozen replica behind the proxy) are given up after 3 s, then 10 s, whatever the connect timeout, so the next try can reach a live one', async () => {
    const { client: reconnecting, states } = open({ connectTimeoutInMilliseconds: 60_000 });
    await reconnecting.start();
    hub.holdNextUpgrades = 3;
    hub.breakAll();
    await eventually(() => hub.heldUpgrades === 1);
    const held = Date.now();
    await eventually(() => hub.heldUpgrades === 3, 10_000);
    const quickTries = Date.now() - held;
    assert.ok(quickTries > 5_500 && quickTries < 8_500, `the third try ${quickTries} ms after the first: two of 3 s`);
    await eventually(() => states.at(-1) === 'Connected' && states.length === 3, 20_000);
    const waited = Date.now() - held - quickTries;
    assert.ok(waited > 8_000 && waited < 14_000, `back ${waited} ms after the third try was held`);
    assert.equal(hub.heldUpgrades, 3, 'three tries held, the next answered');
  });

  test('a reconnect carries the token the connection was let in with while it has over five minutes left, one pick of the proxy a try, and asks anew once the gateway refused it', async () => {
    /** @param {string} name @param {number} secondsLeft */
    const jwt = (name, secondsLeft) => `header.${Buffer.from(JSON.stringify({ sub: name, exp: Math.floor(Date.now() / 1000) + secondsLeft })).toString('base64url')}.signature`;
    const began = Date.now();
    const tokens = [jwt('first', 3_600), jwt('second', 3_600)];
    let asked = 0;
    const { client, states } = open({ accessTokenFactory: () => tokens[Math.min(asked++, tokens.length - 1)] });
    await client.start();

    // A try that met a frozen replica is given up; the next carries the same token, and the application is not asked.
    hub.holdNextUpgrades = 1;
    hub.breakAll();
    await eventually(() => states.length === 3 && states[2] === 'Connected', 10_000);
    assert.equal(asked, 1, 'a token asked for on reconnect');
    assert.deepEqual(hub.upgradeTokens, [tokens[0], tokens[0], tokens[0]]);

    // Refused (a signing key changed, say): the next try asks for a new one, which the tries after carry.
    hub.refusedTokens.add(tokens[0]);
    hub.breakAll();
    await eventually(() => states.length === 5 && states[4] === 'Connected', 10_000);
    assert.equal(asked, 2);
    assert.deepEqual(hub.upgradeTokens.slice(3), [tokens[0], tokens[1]]);
    hub.breakAll();
    await eventually(() => states.length === 7 && states[6] === 'Connected', 10_000);
    assert.equal(asked, 2);
    assert.deepEqual(hub.upgradeTokens.slice(5), [tokens[1]]);

    // A stop() during a try that carried it, and a start() after: the next reconnect carries the start's token.
    hub.holdNextUpgrades = 1;
    hub.breakAll();
    await eventually(() => hub.heldUpgrades === 2);
    await client.stop();
    await client.start();
    assert.equal(asked, 3);
    hub.breakAll();
    await eventually(() => states.at(-1) === 'Connected' && hub.upgradeTokens.length === 9, 10_000);
    assert.equal(asked, 3);
    // Each WebSocket is numbered, so that the gateway can refuse a try given up here that reaches it after a later
    // one (both carry the client's id): it would otherwise replace the later connection.
    // (From the clock, so that they rise across client objects sharing a clientId the application chose.)
    const attempts = hub.upgradeAttempts.map(Number);
    assert.equal(attempts.length, 9);
    assert.ok(attempts.every((attempt, i) => attempt >= began && (i === 0 || attempt > attempts[i - 1])), attempts.join(' '));

    // A token within five minutes of its expiry, or one that is not a JWT, is asked for at every try, as SignalR does.
    for (const token of [jwt('expiring', 240), 'not-a-jwt']) {
      let thisAsked = 0;
      const { client: other, states: otherStates } = open({ accessTokenFactory: () => { thisAsked++; return token; } });
      await other.start();
      hub.breakAll();
      await eventually(() => otherStates.length === 3 && otherStates[2] === 'Connected', 10_000);
      assert.equal(thisAsked, 2, `asked for ${token} at the start and at the reconnect`);
    }
  });

  test('start() twice, or stop() during start(), is told in our words', async () => {
    hub.handshakeDelay = 200;
    const { client: twice } = open();
    const first = twice.start();
    await assert.rejects(twice.start(), { message: 'The chat client is already connecting: call start() once, or again after stop().' });
    await first;
    await assert.rejects(twice.start(), { message: 'The chat client is already connected: call start() once, or again after stop().' });

    const { client: stopped } = open();
    const starting = stopped.start();
    await stopped.stop();
    await assert.rejects(starting, { message: 'stop() was called before the connection to the chat was made.' });
  });

  test('a call the connection broke under fails in our words, a send told to keep its clientMessageId; the break is told in ours too', async () => {
    hub.answer = (target) => {
      if (target === 'SendMessage') {
        hub.breakAll();
        return new Promise(() => {});
      }

      return null;
    };
    const { client: cut, states } = open({ reconnectPolicy: [] });
    await cut.start();
    await assert.rejects(cut.sendMessage('lobby', 'm-1', 'hello'), {
      name: 'CallNotAnsweredError', method: 'SendMessage', mayHaveBeenDone: true, closedByServer: false,
      message: 'The connection broke before the chat answered SendMessage, which may or may not have been done. Resend it with the same clientMessageId once connected.',
    });
    await eventually(() => states.length === 2);
    assert.deepEqual(states, ['Connected', 'Disconnected: The connection to the chat broke: it ended without a close (the gateway or the network went away).']);
  });

  test("a call the server's close cut short fails with its reason as one not answered, and a refusal as the gateway's sentence alone", async () => {
    const leaving = 'This gateway replica is shutting down (drained or stopped); the connection moves to another replica as the client reconnects.';
    const refusal = 'A message needs at least one visible character.';
    hub.answer = (target, args, socket) => {
      if (target === 'SendMessage' && args[2] === 'refused') {
        throw new Error(refusal);
      }

      if (target === 'SendMessage') {
        hub.close(socket, leaving);
        return new Promise(() => {});
      }

      return target === 'GetConnectionInfo' ? { connectionId: 'c1', user: 'alice', replica: 'scripted' } : null;
    };
    const { client: cut } = open({ reconnectPolicy: [] });
    await cut.start();
    await assert.rejects(cut.sendMessage('lobby', 'm-1', 'refused'), (error) => {
      assert.ok(!(error instanceof CallNotAnsweredError), String(error));
      assert.equal(/** @type {Error} */ (error).message, refusal);
      assert.equal(mayHaveBeenStored(error), false);
      return true;
    });
    await assert.rejects(cut.sendMessage('lobby', 'm-2', 'hello'), (error) => {
      assert.ok(error instanceof CallNotAnsweredError, String(error));
      assert.deepEqual([error.message, error.method, error.mayHaveBeenDone, error.closedByServer], [leaving, 'SendMessage', true, true]);
      assert.equal(mayHaveBeenStored(error), true);
      return true;
    });
  });

  test("the gateway's answer that its storage was out of reach, or that it failed, may have stored the message: to be resent with its id only", async () => {
    const storage = 'Chat storage (Redis) is unreachable right now; try again in a moment. Resending with the same clientMessageId never stores a message twice.';
    const failed = "The server failed to handle 'SendMessage' (error id 7f3a9c2e1b).";
    hub.answer = (target, args) => {
      if (target === 'SendMessage') {
        throw new Error(args[1] === 'm-1' ? storage : failed);
      }

      return target === 'GetConnectionInfo' ? { connectionId: 'c1', user: 'alice', replica: 'scripted' } : null;
    };
    const { client: sender } = open();
    await sender.start();
    await assert.rejects(sender.sendMessage('lobby', 'm-1', 'hello'), (error) => {
      assert.equal(/** @type {Error} */ (error).message, storage);
      assert.equal(mayHaveBeenStored(error), true);
      return true;
    });
    await assert.rejects(sender.sendMessage('lobby', 'm-3', 'hello'), (error) => {
      assert.equal(/** @type {Error} */ (error).message, failed);
      assert.equal(mayHaveBeenStored(error), true);
      return true;
    });
    const notSent = await sender.stop().then(() => sender.sendMessage('lobby', 'm-2', 'hello')).catch((error) => error);
    assert.equal(mayHaveBeenStored(notSent), false);
  });

  test('giving up reconnecting is reported with how long it tried and why the last try failed', async () => {
    const { client: abandoned, states } = open({ reconnectPolicy: [0, 10] });
    await abandoned.start();
    hub.refusal = 'The token has expired: get a new one (POST /auth/token) and connect again.';
    hub.breakAll();
    await eventually(() => states.length === 3);
    assert.deepEqual(states.slice(0, 2), ['Connected', 'Reconnecting: The connection to the chat broke: it ended without a close (the gateway or the network went away).']);
    assert.match(states[2], /^Disconnected: Gave up reconnecting to the chat after 2 tries in \d+ s: (.*)$/);
    assert.ok(states[2].endsWith(hub.refusal), states[2]);
  });

  test('start() after stop() rejoins the rooms and delivers what was sent meanwhile before reporting Connected', async () => {
    /** @type {string[]} */
    const calls = [];
    let stored = 0;
    hub.answer = (target, args) => {
      calls.push(target);
      if (target === 'JoinRoom') {
        return { room: 'lobby', members: 1, lastMessageId: stored ? `id-${stored}` : null, lastSequence: stored, epoch: 1 };
      }

      return target === 'GetMessages' ? [message(1)] : {};
    };
    const { client: restarted, states } = open();
    /** @type {number[]} */
    const shown = [];
    restarted.on('messageReceived', (m) => { shown.push(m.sequence); });
    await restarted.start();
    await restarted.joinRoom('lobby');
    await restarted.stop();
    stored = 1; // sent while it was stopped
    await restarted.start();
    assert.deepEqual(shown, [1]);
    assert.deepEqual(calls, ['GetConnectionInfo', 'JoinRoom', 'GetConnectionInfo', 'JoinRoom', 'GetMessages']);
    assert.deepEqual(states, ['Connected', 'Disconnected', 'Connected']);
  });

  test('until its rooms are rejoined after a reconnect the client is not Connected, and refuses calls as it does while reconnecting', async () => {
    let joins = 0;
    /** @type {() => void} */
    let answerRejoin = () => {};
    hub.answer = (target) => {
      if (target !== 'JoinRoom') {
        return {};
      }

      const reply = { room: 'lobby', members: 1, lastMessageId: null, lastSequence: 0, epoch: 1 };
      return ++joins === 1 ? reply : new Promise((resolve) => { answerRejoin = () => resolve(reply); });
    };
    const { client: back, states } = open({ reconnectPolicy: [0] });
    await back.start();
    await back.joinRoom('lobby');
    hub.breakAll();
    await eventually(() => joins === 2);
    assert.equal(back.state, 'Reconnecting');
    await assert.rejects(back.sendMessage('lobby', 'm-1', 'hello'), {
      message: 'Not connected to the chat (rejoining its rooms): SendMessage was not sent. Resend it with the same clientMessageId once connected.',
    });
    answerRejoin();
    await eventually(() => states.length === 3);
    assert.equal(back.state, 'Connected');
    assert.deepEqual(await back.sendMessage('lobby', 'm-1', 'hello'), {});
  });

  test("a failing handler stops neither the client's work nor the other deliveries: the join resolves, every held message is shown, the failure goes to backgroundError", async () => {
    hub.answer = (target, args, socket) => {
      if (target === 'JoinRoom') {
        hub.send(socket, 'MessageReceived', [message(1)]);
        hub.send(socket, 'MessageReceived', [message(2)]);
        return new Promise((resolve) => setTimeout(() => resolve({ room: 'lobby', members: 2, lastMessageId: null, lastSequence: 0, epoch: 1 }), 50));
      }

      return target === 'GetConnectionInfo' ? {} : null;
    };
    const { client: joined, states, background } = open();
    joined.on('stateChanged', () => { throw new Error('the page could not draw its state'); });
    /** @type {number[]} */
    const shown = [];
    joined.on('messageReceived', (m) => {
      shown.push(m.sequence);
      if (m.sequence === 1) {
        throw new Error('the page could not draw message 1');
      }
    });
    await joined.start();
    assert.deepEqual(states, ['Connected']);
    await joined.joinRoom('lobby');
    assert.deepEqual(shown, [1, 2]);
    assert.deepEqual(background.map((e) => /** @type {Error} */ (e).message), ['the page could not draw its state', 'the page could not draw message 1']);
  });
});

/** A room message of lobby, epoch 1. @param {number} sequence */
function message(sequence) {
  return { id: `id-${sequence}`, room: 'lobby', user: 'bob', text: `message ${sequence}`, sentAt: '2026-12-04T00:00:00Z',
    clientMessageId: `c-${sequence}`, sequence, epoch: 1 };
}

/** @param {() => boolean} condition */
async function eventually(condition, timeoutMs = 5_000) {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) {
      throw new Error('not within the time allowed');
    }

    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
