// README.md's example ("JavaScript clients"), type-checked against index.d.ts by `npm run typecheck`;
// test/unit/readme-example.test.js keeps the two the same.
import { ChatClient } from '@realtimedemo/chat-client';

const gateway = 'http://localhost:5310';
const client = new ChatClient(`${gateway}/hubs/chat`, {
  // signal: aborted when the client stops waiting for this token (a try given up at a frozen replica)
  accessTokenFactory: async ({ signal }) => (await (await fetch(`${gateway}/auth/token`, { method: 'POST', signal,
    headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userName: 'alice' }) })).json()).token,
});
client.on('messageReceived', (m) => console.log(`#${m.sequence} ${m.user}: ${m.text}`));
await client.start();
await client.joinRoom('lobby');
await client.sendMessage('lobby', crypto.randomUUID(), 'hello from JavaScript');
