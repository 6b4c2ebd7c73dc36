import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChatClient } from '../../src/index.js';

// Nothing listens there: the client is never connected.
const client = () => new ChatClient('http://127.0.0.1:9/hubs/chat', { accessTokenFactory: async () => 'token' });

test('a call made without a connection is refused in our words, a send told to keep its clientMessageId', async () => {
  await assert.rejects(client().sendMessage('lobby', 'm-1', 'hello'), {
    message: 'Not connected to the chat (disconnected): SendMessage was not sent. Resend it with the same clientMessageId once connected.',
  });
  await assert.rejects(client().listRooms(10), {
    message: 'Not connected to the chat (disconnected): ListRooms was not sent. Call it again once connected.',
  });
});
