import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GIVE_UP_AFTER_MS, reconnectPolicy } from '../../src/reconnect-policy.js';

const next = (previousRetryCount, elapsedMilliseconds) =>
  reconnectPolicy.nextRetryDelayInMilliseconds({ previousRetryCount, elapsedMilliseconds, retryReason: new Error('broken') });

test('the first retry is at once, then soon, then every 5 s, each within 20 % of its step', () => {
  assert.equal(next(0, 0), 0);
  for (const [count, step] of [[1, 250], [2, 500], [3, 1_000], [4, 2_000], [5, 5_000], [30, 5_000]]) {
    const delay = next(count, 1_000);
    assert.ok(delay >= step * 0.8 && delay <= step * 1.2, `retry ${count}: ${delay} ms`);
  }
});

test('it keeps trying for two minutes, past the 42 s after which SignalR gives up, and then stops', () => {
  assert.notEqual(next(8, 60_000), null);
  assert.equal(next(30, GIVE_UP_AFTER_MS), null);
});
