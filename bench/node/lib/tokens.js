'use strict';
// HS256 tokens the gateway accepts, minted by the generator with the key the orchestrator gave the gateway,
// so that connecting 10,000 clients does not first cost the server 10,000 token requests.
const { createHmac } = require('node:crypto');

const base64Url = (value) => Buffer.from(value).toString('base64url');

function mintToken(userName, signingKey, { issuer = 'realtimedemo', audience = 'realtimedemo-chat' } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const header = base64Url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = base64Url(JSON.stringify({ iss: issuer, aud: audience, sub: userName, name: userName, iat: now, nbf: now, exp: now + 3600 }));
  const signature = createHmac('sha256', signingKey).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

module.exports = { mintToken };
