using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using RealtimeDemo.RealtimeGateway.Delivery;
using RealtimeDemo.RealtimeGateway.HubPipeline;

namespace RealtimeDemo.RealtimeGateway.Auth;

/// <summary>
/// Closes a connection once its token has expired, telling the client so and letting it reconnect (ours ask for a
/// new token on every reconnect). SignalR's own <c>CloseOnAuthenticationExpiration</c> closes it without a word, so a
/// client could not tell an expired token from a network fault. Checked on the connection's heartbeat (once a second),
/// against the expiry claim the connection's user keeps.
/// </summary>
internal static class TokenExpiryClose
{
    public static IConnectionBuilder UseTokenExpiryClose(this IConnectionBuilder connections, LocalConnections local, TimeProvider time) =>
        connections.Use(next => connection =>
        {
            // Seconds since 1970, compared as such: a validly signed token may carry an expiry beyond what a DateTimeOffset holds.
            var expiry = connection.Features.Get<IConnectionUserFeature>()?.User?.FindFirst(ChatAuthenticationExtensions.ExpiryClaim)?.Value;
            if (long.TryParse(expiry, out var expiresAt))
            {
                // A static callback with the watch as its state: no closure or delegate is kept per connection.
                connection.Features.Get<IConnectionHeartbeatFeature>()?.OnHeartbeat(
                    static watch => ((ExpiryWatch)watch).CloseIfExpired(), new ExpiryWatch(connection, expiresAt, local, time));
            }

            return next(connection);
        });

    private sealed class ExpiryWatch(ConnectionContext connection, long expiresAt, LocalConnections local, TimeProvider time)
    {
        private bool _closing;

        public void CloseIfExpired()
        {
            if (_closing || time.GetUtcNow().ToUnixTimeSeconds() < expiresAt)
            {
                return;
            }

            _closing = true;
            // A hub connection is told why; one still in its handshake has no hub protocol to be told in.
            if (!local.CloseExpired(connection.ConnectionId))
            {
                DisconnectReasons.Close(connection, DisconnectReasons.TokenExpired, ChatAuthenticationExtensions.TokenExpiredSentence);
            }
        }
    }
}
