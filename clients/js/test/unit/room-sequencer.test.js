import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import { GAP_FILL_PAGE_SIZE, PAGE_TEXT_LIMIT, RoomSequencer } from '../../src/room-sequencer.js';
import { ClientTelemetry, SPAN_GAP_FILL, SPAN_RECEIVE } from '../../src/telemetry.js';
import { recordSpans } from './tracing.js';

// The contract's rules against a room history held here: what the server stored, and what a client shows.
const room = 'lobby';
const epoch = 1764000000000;

/** @type {ReturnType<typeof server>} */
let history;
/** @type {{ message: import('../../index.js').ChatMessage }[]} */
let shown;
/** @type {string[]} */
let resets;
/** @type {string[]} what the application was told, in order: a sequence shown, or "missed n" */
let told;
/** @type {ReturnType<typeof recordSpans>} */
let recorded;
/** @type {RoomSequencer} */
let rooms;

beforeEach(() => {
  history = server();
  shown = [];
  resets = [];
  told = [];
  recorded = recordSpans();
  rooms = new RoomSequencer(history.calls, new ClientTelemetry('hubs/chat', { tracerProvider: recorded.tracerProvider }),
    async (message) => { shown.push({ message }); told.push(String(message.sequence)); }, async (r) => { resets.push(r); },
    async (r, count) => { assert.equal(r, room); told.push(`missed ${count}`); });
});

/** A room's stored messages, and the two calls the client makes for it. */
function server() {
  /** @type {import('../../index.js').ChatMessage[]} */
  const stored = [];
  let current = epoch;
  let counted = 0; // the room's counter: trimming the history does not move it
  /** @type {(string | null)[]} */
  const cursors = [];
  return {
    stored,
    cursors,
    /** @param {number} count */
    store(count) {
      for (let i = 0; i < count; i++) {
        counted += 1;
        stored.push(message(counted, current));
      }

      return stored.slice(-count);
    },
    /** The history keeps only its newest messages (Chat:History:MaxMessagesPerRoom): the oldest go. @param {number} count */
    trim(count) {
      stored.splice(0, count);
    },
    /** The storage lost the room's counter: what was stored is gone, the count starts again under a new epoch. */
    lose() {
      stored.length = 0;
      counted = 0;
      current += 1000;
      return current;
    },
    calls: {
      /** @param {string} r */
      joinRoom: async (r) => {
        const last = stored.at(-1);
        return { room: r, members: 1, lastMessageId: last?.id ?? null, lastSequence: last?.sequence ?? 0, epoch: current };
      },
      /**
       * @param {string} _room
       * @param {string | null} after
       * @param {number} limit
       */
      getMessages: async (_room, after, limit) => {
        cursors.push(after);
        const start = after === null ? 0 : stored.findIndex((m) => m.id === after) + 1;
        const page = stored.slice(start, start + limit);
        // As the gateway pages: up to the message whose text brings the page's texts to PAGE_TEXT_LIMIT.
        let total = 0;
        const reaching = page.findIndex((m) => (total += m.text.length) >= PAGE_TEXT_LIMIT);
        return reaching < 0 ? page : page.slice(0, reaching + 1);
      },
    },
  };
}

/**
 * @param {number} sequence
 * @param {number} [messageEpoch]
 * @param {string} [traceParent]
 * @returns {import('../../index.js').ChatMessage}
 */
function message(sequence, messageEpoch = epoch, traceParent = undefined) {
  return {
    id: `${messageEpoch + sequence}-0`, room, user: 'alice', text: `m${sequence}`, sentAt: new Date().toISOString(),
    clientMessageId: `c${messageEpoch}-${sequence}`, sequence, epoch: messageEpoch, traceParent,
  };
}

const sequences = () => shown.map((s) => s.message.sequence);

/** Joins at the history's current end. */
async function join() {
  rooms.beginJoin(room);
  await rooms.endJoin(room, await history.calls.joinRoom(room));
}

test('live messages are shown once and in order; repeats and older ones are dropped', async () => {
  history.store(2);
  await join();
  const [third, fourth] = history.store(2);
  for (const m of [third, third, fourth, history.stored[1], fourth]) {
    await rooms.accept(m);
  }

  assert.deepEqual(sequences(), [3, 4]);
});

test('a jump in the sequence fills the gap from the history before showing more', async () => {
  history.store(2);
  await join();
  const later = history.store(5);
  await rooms.accept(later[3]); // 6 arrives, 3-5 never did
  await rooms.accept(later[4]); // 7 was in the history already

  assert.deepEqual(sequences(), [3, 4, 5, 6, 7]);
  assert.deepEqual(history.cursors, [history.stored[1].id]);
  const fill = recorded.spans().find((s) => s.name === SPAN_GAP_FILL);
  assert.equal(fill?.attributes['chat.gap.reason'], 'missed_delivery');
  assert.equal(fill?.parentSpanContext, undefined, 'a missed delivery is a trace of its own');
});

test('a fill goes page by page, moving its cursor to the last id of each page', async () => {
  await join();
  const stored = history.store(2 * GAP_FILL_PAGE_SIZE + 50);
  await rooms.accept(stored.at(-1));

  assert.deepEqual(sequences(), stored.map((m) => m.sequence));
  assert.deepEqual(history.cursors, [null, stored[GAP_FILL_PAGE_SIZE - 1].id, stored[2 * GAP_FILL_PAGE_SIZE - 1].id]);
});

test('a page its texts\' size cut short is not the end: the fill asks for the next one', async () => {
  await join();
  const stored = history.store(60);
  for (const m of stored) {
    m.text = 'x'.repeat(4_000); // 25 of them reach the page's limit
  }

  await rooms.accept(stored.at(-1));

  assert.deepEqual(sequences(), stored.map((m) => m.sequence));
  assert.deepEqual(history.cursors, [null, stored[24].id, stored[49].id]);
});

test('deliveries during a join are held, and those after the position its reply gives are shown in order', async () => {
  history.store(3);
  rooms.beginJoin(room);
  const [fourth, fifth] = history.store(2);
  for (const m of [fifth, history.stored[2], fourth]) {
    await rooms.accept(m);
  }

  assert.deepEqual(sequences(), [], 'nothing before the reply');
  await rooms.endJoin(room, { room, members: 2, lastMessageId: history.stored[2].id, lastSequence: 3, epoch });
  assert.deepEqual(sequences(), [4, 5]);
});

test('a second join while the first is pending keeps what the first holds', async () => {
  history.store(3);
  rooms.beginJoin(room);
  const [fourth] = history.store(1);
  await rooms.accept(fourth); // delivered before either reply
  rooms.beginJoin(room); // joined again at once (a double click)
  await rooms.endJoin(room, { room, members: 2, lastMessageId: history.stored[2].id, lastSequence: 3, epoch });
  await rooms.endJoin(room, { room, members: 2, lastMessageId: fourth.id, lastSequence: 4, epoch });

  assert.deepEqual(sequences(), [4]);
});

test('a message of an older epoch is late: the server confirms the epoch and it is dropped', async () => {
  history.store(5);
  await join();
  await rooms.accept(message(9, epoch - 1000));

  assert.deepEqual(sequences(), []);
  assert.deepEqual(resets, []);
});

test('a message of a new epoch starts the room over from the start of what is kept', async () => {
  history.store(5);
  await join();
  const newEpoch = history.lose();
  const [first, second] = history.store(2);
  await rooms.accept(second);
  await rooms.accept(first);

  assert.deepEqual(resets, [room]);
  assert.deepEqual(shown.map((s) => [s.message.epoch, s.message.sequence]), [[newEpoch, 1], [newEpoch, 2]]);
  assert.deepEqual(history.cursors, [null]);
  assert.equal(recorded.spans().find((s) => s.name === SPAN_GAP_FILL)?.attributes['chat.gap.reason'], 'storage_reset');
});

test('a rejoin after a reconnect fills what was stored meanwhile, or starts over on a new epoch', async () => {
  history.store(2);
  await join();
  history.store(3);
  await rooms.rejoin(room, ROOT_CONTEXT);
  assert.deepEqual(sequences(), [3, 4, 5]);

  history.lose();
  history.store(1);
  await rooms.rejoin(room, ROOT_CONTEXT);
  assert.deepEqual(resets, [room]);
  assert.deepEqual(sequences(), [3, 4, 5, 1]);
});

test('a new epoch of a room nothing was shown of (a quiet room\'s counter expired) starts over without a reset', async () => {
  await join();
  const newEpoch = history.lose();
  history.store(1);
  await rooms.rejoin(room, ROOT_CONTEXT);
  await rooms.accept(history.store(1)[0]);

  assert.deepEqual(resets, []);
  assert.deepEqual(shown.map((s) => [s.message.epoch, s.message.sequence]), [[newEpoch, 1], [newEpoch, 2]]);
});

test('messages the history no longer keeps are reported, with how many, before what came after them', async () => {
  history.store(2);
  await join();
  history.store(10); // 3-12 while away
  history.trim(6); // 1-6 no longer kept: 3-6 cannot be shown
  await rooms.rejoin(room, ROOT_CONTEXT);
  await rooms.accept(history.store(1)[0]);

  assert.deepEqual(told, ['missed 4', '7', '8', '9', '10', '11', '12', '13']);
});

test('a leave the server refused puts the room back where it stood, unless it was joined anew meanwhile', async () => {
  history.store(2);
  await join();
  const held = rooms.leave(room);
  assert.deepEqual(rooms.joinedRooms, []);
  assert.ok(held);
  rooms.restore(room, held);
  await rooms.accept(history.store(1)[0]);
  assert.deepEqual(sequences(), [3]);

  const again = rooms.leave(room);
  rooms.beginJoin(room); // joined anew before the refusal came back
  rooms.restore(room, /** @type {NonNullable<typeof again>} */ (again));
  assert.deepEqual(rooms.joinedRooms, []);
});

test('a room left is not shown and not rejoined', async () => {
  await join();
  rooms.leave(room);
  await rooms.accept(history.store(1)[0]);

  assert.deepEqual(sequences(), []);
  assert.deepEqual(rooms.joinedRooms, []);
});

test("each shown message has a receive span continuing the trace it carries, else under the fill that fetched it", async () => {
  const traceParent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  await join();
  history.stored.push(message(1, epoch, traceParent), message(2));
  history.stored.push(message(3, epoch, traceParent));
  await rooms.accept(history.stored[2]);

  const receives = recorded.spans().filter((s) => s.name === SPAN_RECEIVE);
  const fill = recorded.spans().find((s) => s.name === SPAN_GAP_FILL);
  assert.deepEqual(receives.map((s) => s.attributes['chat.message.sequence']), [1, 2, 3]);
  assert.ok(receives.every((s) => s.kind === SpanKind.CONSUMER));
  assert.deepEqual(receives.map((s) => s.attributes['chat.gap_fill']), [true, true, true]);
  assert.equal(receives[0].spanContext().traceId, '0af7651916cd43dd8448eb211c80319c');
  assert.equal(receives[0].parentSpanContext?.spanId, 'b7ad6b7169203331');
  assert.equal(receives[1].parentSpanContext?.spanId, fill?.spanContext().spanId);
  assert.deepEqual(receives[0].attributes, {
    'messaging.system': 'redis', 'messaging.operation.type': 'receive', 'messaging.destination.name': room,
    'messaging.message.id': history.stored[0].id, 'chat.message.sequence': 1, 'chat.room.epoch': epoch, 'chat.gap_fill': true,
  });
});
