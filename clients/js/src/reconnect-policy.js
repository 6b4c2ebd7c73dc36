// When to try reconnecting after the connection broke, as the .NET client does (clients/dotnet/ReconnectPolicy.cs):
// at once, then 0.25, 0.5, 1, 2 s, then every 5 s, each with ±20 % jitter so that the clients of a replica that went
// away do not all arrive together; given up after two minutes. SignalR's default (0, 2, 10, 30 s) gave up 42 s after
// a break: a laptop whose network came back a minute later stayed disconnected.

const DELAYS_MS = [0, 250, 500, 1_000, 2_000];
const STEADY_MS = 5_000;
export const GIVE_UP_AFTER_MS = 120_000;

/** @type {import('@microsoft/signalr').IRetryPolicy} */
export const reconnectPolicy = {
  nextRetryDelayInMilliseconds({ previousRetryCount, elapsedMilliseconds }) {
    if (elapsedMilliseconds >= GIVE_UP_AFTER_MS) {
      return null;
    }

    const delay = previousRetryCount < DELAYS_MS.length ? DELAYS_MS[previousRetryCount] : STEADY_MS;
    return delay * (0.8 + 0.4 * Math.random());
  },
};
