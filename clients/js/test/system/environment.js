import { randomUUID } from 'node:crypto';
import { ChatClient } from '../../src/index.js';

// Where the system under test is: Tests/Clients/JavaScriptClientTests.cs starts the AppHost (with the dashboard)
// and runs this suite with these variables set.
// The keys are empty when the dashboard asks for none.
const names = ['CHAT_GATEWAY_URL', 'DASHBOARD_URL', 'OTLP_ENDPOINT'];
const missing = names.filter((name) => !process.env[name]);
if (missing.length > 0) {
  throw new Error(`${missing.join(', ')} not set: these tests run against the system the AppHost starts; `
    + 'run them through `dotnet test` (Tests/Clients/JavaScriptClientTests.cs) or ./test.sh.');
}

export const gatewayUrl = /** @type {string} */ (process.env.CHAT_GATEWAY_URL);
export const dashboard = { url: /** @type {string} */ (process.env.DASHBOARD_URL), headers: keyHeader('x-api-key', process.env.DASHBOARD_API_KEY) };
export const otlp = { endpoint: /** @type {string} */ (process.env.OTLP_ENDPOINT), headers: keyHeader('x-otlp-api-key', process.env.OTLP_API_KEY) };

/**
 * @param {string} name
 * @param {string | undefined} key
 * @returns {Record<string, string>}
 */
function keyHeader(name, key) {
  return key ? { [name]: key } : {};
}

/** A room or user name no other test uses. @param {string} prefix */
export const unique = (prefix) => `${prefix}-${randomUUID().slice(0, 8)}`;

/** @param {string} userName */
async function token(userName) {
  const response = await fetch(new URL('/auth/token', gatewayUrl), {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userName }),
  });
  if (!response.ok) {
    throw new Error(`POST /auth/token for ${userName}: ${response.status} ${await response.text()}`);
  }

  return /** @type {{ token: string }} */ (await response.json()).token;
}

/**
 * A started client signed in as `user`, with what it receives collected.
 * @param {string} user
 * @param {Partial<import('../../index.js').ChatClientOptions>} [options]
 */
export async function connect(user, options = {}) {
  const client = new ChatClient(new URL('/hubs/chat', gatewayUrl).toString(), { accessTokenFactory: () => token(user), ...options });
  const received = new Inbox(client);
  await client.start();
  return { client, received, user, replica: (await client.getConnectionInfo()).replica };
}

/**
 * The proxy balances per connection: connects (each time as a new user like `user`) until a client lands on a
 * replica other than `replica`.
 * @param {string} user
 * @param {string} replica
 */
export async function connectAwayFrom(user, replica) {
  for (let attempt = 0; attempt < 20; attempt++) {
    const connected = await connect(`${user}${attempt}`);
    if (connected.replica !== replica) {
      return connected;
    }

    await connected.client.stop();
  }

  throw new Error('20 connections all landed on one replica.');
}

/** Everything a client hands to the application, in order. */
export class Inbox {
  /** @type {import('../../index.js').ChatMessage[]} */
  messages = [];
  /** @type {import('../../index.js').PrivateChatMessage[]} */
  privateMessages = [];
  /** @type {string[]} */
  events = [];
  /** @type {string[]} */
  states = [];
  /** @type {unknown[]} */
  errors = [];

  /** @param {ChatClient} client */
  constructor(client) {
    client.on('messageReceived', (message) => { this.messages.push(message); });
    client.on('privateMessage', (message) => { this.privateMessages.push(message); });
    client.on('userJoined', (room, user) => { this.events.push(`joined ${room} ${user}`); });
    client.on('userLeft', (room, user) => { this.events.push(`left ${room} ${user}`); });
    client.on('stateChanged', (state) => { this.states.push(state); });
    client.on('backgroundError', (error) => { this.errors.push(error); });
  }

  /** @param {string} room */
  texts(room) {
    return this.messages.filter((m) => m.room === room).map((m) => m.text);
  }
}

/**
 * Polls until `condition` holds; fails naming what was not seen.
 * @param {() => boolean | Promise<boolean>} condition
 * @param {string | (() => string)} what
 * @param {number} [timeoutMs]
 */
export async function eventually(condition, what, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`No ${typeof what === 'function' ? what() : what} within ${timeoutMs / 1000} s.`);
    }

    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
