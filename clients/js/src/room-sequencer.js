import { ROOT_CONTEXT } from '@opentelemetry/api';
import { GAP_REASONS } from './telemetry.js';

export const GAP_FILL_PAGE_SIZE = 200;
// A history page's texts total at most this many characters (UTF-16 code units), but for the message that reaches
// it, its last (README, "The chat contract"): a page that came short with texts this long may not be the end.
export const PAGE_TEXT_LIMIT = 100_000;
const HELD_WHILE_JOINING_LIMIT = 1_000;

/**
 * @typedef {import('../index.js').ChatMessage} ChatMessage
 * @typedef {import('../index.js').JoinRoomResult} JoinRoomResult
 * @typedef {import('@opentelemetry/api').Context} Context
 * @typedef {{ messageId: string | null, sequence: number, epoch: number }} RoomPosition
 * @typedef {{
 *   joinRoom(room: string, ctx: Context): Promise<JoinRoomResult>,
 *   getMessages(room: string, afterMessageId: string | null, limit: number, ctx: Context): Promise<ChatMessage[]>,
 * }} RoomCalls
 */

/**
 * The contract's "No lost messages" rules for the rooms a client is in (README, "The chat contract"): each room's
 * epoch and the last sequence and id shown; deliveries held while a join is on its way; repeats dropped; gaps filled
 * from the history page by page; a new epoch starts the room over. Hands each room message on once, in order.
 * Every method must run in the client's work queue, one at a time: they all read and move the positions.
 */
export class RoomSequencer {
  /** @type {Map<string, RoomPosition>} */
  #rooms = new Map();
  /** @type {Map<string, ChatMessage[]>} */
  #joining = new Map();
  #calls;
  #telemetry;
  #deliver;
  #reset;
  #missed;

  /**
   * @param {RoomCalls} calls the hub calls it needs, each made under the given context
   * @param {import('./telemetry.js').ClientTelemetry} telemetry
   * @param {(message: ChatMessage, ctx: Context) => Promise<void>} deliver hands a message to the application, inside its receive span
   * @param {(room: string) => Promise<void>} reset tells the application the room's earlier history is gone
   * @param {(room: string, count: number) => Promise<void>} missed tells the application how many messages it cannot be
   *   shown: sent while it was away, and no longer kept in the room's history
   */
  constructor(calls, telemetry, deliver, reset, missed) {
    this.#calls = calls;
    this.#telemetry = telemetry;
    this.#deliver = deliver;
    this.#reset = reset;
    this.#missed = missed;
  }

  /** @returns {string[]} */
  get joinedRooms() {
    return [...this.#rooms.keys()];
  }

  /** @param {string} room */
  isJoined(room) {
    return this.#rooms.has(room);
  }

  /**
   * The server delivers the room's messages from the moment it admits the join, before its reply arrives: those
   * are held until the reply says where the room stood.
   * @param {string} room
   */
  beginJoin(room) {
    // A second join while one is pending (a double click) keeps what the first holds: its reply may say where the
    // room stood before them, and a fresh list would lose them.
    if (!this.#rooms.has(room) && !this.#joining.has(room)) {
      this.#joining.set(room, []);
    }
  }

  /** @param {string} room */
  abortJoin(room) {
    this.#joining.delete(room);
  }

  /**
   * History before the join is the caller's to read; live messages continue from the position the reply gives.
   * @param {string} room
   * @param {JoinRoomResult} joined
   */
  async endJoin(room, joined) {
    const held = this.#joining.get(room);
    if (!held) {
      return; // already a member: its position stands
    }

    this.#joining.delete(room);
    this.#rooms.set(room, { messageId: joined.lastMessageId, sequence: joined.lastSequence, epoch: joined.epoch });
    for (const message of held.sort((a, b) => a.sequence - b.sequence)) {
      await this.accept(message);
    }
  }

  /**
   * @param {string} room
   * @returns {RoomPosition | undefined} where the room stood, to put it back if the server refuses the leave
   */
  leave(room) {
    const position = this.#rooms.get(room);
    this.#rooms.delete(room);
    this.#joining.delete(room);
    return position;
  }

  /**
   * A leave the server refused: the room is joined again here where it stood, unless it was joined anew meanwhile.
   * @param {string} room
   * @param {RoomPosition} position
   */
  restore(room, position) {
    if (!this.#rooms.has(room) && !this.#joining.has(room)) {
      this.#rooms.set(room, position);
    }
  }

  /**
   * A live delivery.
   * @param {ChatMessage} message
   */
  async accept(message) {
    const held = this.#joining.get(message.room);
    if (held) {
      if (held.length < HELD_WHILE_JOINING_LIMIT) {
        held.push(message); // past the limit, the sequence jump fills the gap
      }

      return;
    }

    const position = this.#rooms.get(message.room);
    if (!position) {
      return; // not (or no longer) in the room
    }

    if (message.epoch !== position.epoch) {
      await this.#resync(message.room);
      return;
    }

    if (message.sequence <= position.sequence) {
      return; // already shown
    }

    if (message.sequence > position.sequence + 1) {
      await this.fillGap(message.room, GAP_REASONS.missedDelivery, ROOT_CONTEXT);
    }

    if (this.#isAfterPosition(message)) {
      await this.#show(message, false, ROOT_CONTEXT);
    }
  }

  /**
   * After a reconnect (which may land on another replica): joins the room again and fills its gap, or starts it
   * over when its epoch changed meanwhile.
   * @param {string} room
   * @param {Context} ctx
   */
  async rejoin(room, ctx) {
    const joined = await this.#calls.joinRoom(room, ctx);
    const position = this.#rooms.get(room);
    if (position && joined.epoch !== position.epoch) {
      await this.#startOver(room, joined.epoch, ctx);
    } else {
      await this.fillGap(room, GAP_REASONS.reconnect, ctx);
    }
  }

  /**
   * Delivers every stored message of the room's epoch after the last one shown, page by page. The cursor moves on
   * with every page, even one whose messages were all shown already, so a fill always ends.
   * @param {string} room
   * @param {string} reason
   * @param {Context} parent
   */
  fillGap(room, reason, parent) {
    return this.#telemetry.gapFill(room, reason, parent, async (ctx) => {
      let cursor = this.#rooms.get(room)?.messageId ?? null;
      while (this.#rooms.has(room)) {
        const page = await this.#calls.getMessages(room, cursor, GAP_FILL_PAGE_SIZE, ctx);
        for (const message of page) {
          if (this.#isAfterPosition(message)) {
            await this.#show(message, true, ctx);
          }
        }

        if (page.length < GAP_FILL_PAGE_SIZE && page.reduce((total, message) => total + message.text.length, 0) < PAGE_TEXT_LIMIT) {
          return;
        }

        cursor = page[page.length - 1].id;
      }
    });
  }

  /**
   * A message of another epoch: asks the server (JoinRoom, which a member may repeat) which epoch the room is in.
   * A late message of an older one is dropped; a new one means the storage lost the room's counter.
   * @param {string} room
   */
  async #resync(room) {
    const current = await this.#calls.joinRoom(room, ROOT_CONTEXT);
    const position = this.#rooms.get(room);
    if (position && current.epoch !== position.epoch) {
      await this.#startOver(room, current.epoch, ROOT_CONTEXT);
    }
  }

  /**
   * @param {string} room
   * @param {number} epoch
   * @param {Context} ctx
   */
  async #startOver(room, epoch, ctx) {
    // A room of which nothing was shown lost nothing the reader knew of: a room nobody wrote in gets a new epoch when
    // its counter expires an hour after its last member left (a laptop asleep in it), so no reset is announced.
    const showedAny = (this.#rooms.get(room)?.sequence ?? 0) > 0;
    this.#rooms.set(room, { messageId: null, sequence: 0, epoch });
    if (showedAny) {
      await this.#reset(room);
    }
    await this.fillGap(room, GAP_REASONS.storageReset, ctx);
  }

  /**
   * Whether the message comes after the room's position: in its epoch, past its sequence.
   * @param {ChatMessage} message
   */
  #isAfterPosition(message) {
    const position = this.#rooms.get(message.room);
    return position !== undefined && message.epoch === position.epoch && message.sequence > position.sequence;
  }

  /**
   * @param {ChatMessage} message
   * @param {boolean} fromHistory
   * @param {Context} ctx
   */
  async #show(message, fromHistory, ctx) {
    // Gaps are filled before a message is shown, so a jump left here is what the history no longer keeps.
    const position = this.#rooms.get(message.room);
    if (position && message.sequence > position.sequence + 1) {
      const count = message.sequence - position.sequence - 1;
      this.#telemetry.messagesMissed(count);
      await this.#missed(message.room, count);
    }

    this.#rooms.set(message.room, { messageId: message.id, sequence: message.sequence, epoch: message.epoch });
    await this.#telemetry.receive(message, fromHistory, ctx, (receiveCtx) => this.#deliver(message, receiveCtx));
  }
}
