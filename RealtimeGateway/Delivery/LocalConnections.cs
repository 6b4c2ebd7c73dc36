using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using RealtimeDemo.RealtimeGateway.Auth;
using RealtimeDemo.RealtimeGateway.HubPipeline;

namespace RealtimeDemo.RealtimeGateway.Delivery;

/// <summary>
/// This replica's connections and the rooms each is in: the authority for what a local connection may read,
/// send to and receive (the Redis registry is the cluster's view of the same fact, for presence and limits).
/// It also knows each user's local connections (private messages). Each connection has a gate that serialises its
/// membership changes with its disconnect, so a call still in flight when the connection drops can never register a
/// connection that is gone.
/// </summary>
public sealed class LocalConnections
{
    private readonly ConcurrentDictionary<string, Entry> _connections = new();
    // Guards the rooms, each connection's rooms and the users: they change together.
    private readonly Lock _membership = new();
    private readonly Dictionary<string, HashSet<string>> _rooms = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<HubConnectionContext>> _users = new(StringComparer.Ordinal);
    // Each room's members as one array, built at the first delivery after a change and shared by every delivery
    // until the next: rooms are delivered to far more often than they change. Dropped with the room.
    private readonly Dictionary<string, HubConnectionContext[]> _roomConnections = new(StringComparer.Ordinal);

    public void Add(HubConnectionContext connection)
    {
        _connections[connection.ConnectionId] = new Entry(connection);
        if (connection.UserIdentifier is { } user)
        {
            lock (_membership)
            {
                if (!_users.TryGetValue(user, out var connections))
                {
                    _users[user] = connections = [];
                }

                connections.Add(connection);
            }
        }
    }

    /// <summary>Forgets the connection; returns the rooms it was in.</summary>
    public IReadOnlyList<string> Remove(string connectionId)
    {
        if (!_connections.TryRemove(connectionId, out var entry))
        {
            return [];
        }

        lock (_membership)
        {
            foreach (var room in entry.Rooms)
            {
                RemoveFromRoom(room, connectionId);
            }

            if (entry.Connection.UserIdentifier is { } user && _users.TryGetValue(user, out var connections)
                && connections.Remove(entry.Connection) && connections.Count == 0)
            {
                _users.Remove(user);
            }

            return [.. entry.Rooms];
        }
    }

    /// <summary>
    /// Waits for the connection's gate. Null when the connection is gone or closing: nothing may be registered
    /// for it any more. Dispose the result to let the next change in.
    /// </summary>
    public async Task<IDisposable?> EnterAsync(string connectionId)
    {
        if (!_connections.TryGetValue(connectionId, out var entry))
        {
            return null;
        }

        await entry.Gate.WaitAsync();
        if (entry.Closed)
        {
            entry.Gate.Release();
            return null;
        }

        return new Release(entry.Gate);
    }

    /// <summary>
    /// Marks the connection closing, after any membership change in progress: every later
    /// <see cref="EnterAsync"/> answers null. Dispose the result once the registry cleanup is done.
    /// </summary>
    public async Task<IDisposable> CloseAsync(string connectionId)
    {
        if (!_connections.TryGetValue(connectionId, out var entry))
        {
            return new Release(null);
        }

        await entry.Gate.WaitAsync();
        entry.Closed = true;
        return new Release(entry.Gate);
    }

    /// <summary>
    /// Closes a local connection whose client connected again under the same client id (PresenceRegistry): the client
    /// left it behind without a close, and hears nothing on it, so this is for a client that is still reading it —
    /// one that shares its id with another — which is told why and not to reconnect, or the two would take turns.
    /// </summary>
    public void CloseReplaced(string connectionId) =>
        CloseSaying(connectionId, DisconnectReasons.Replaced, new OurCloseMessage(ReplacedSentence, allowReconnect: false));

    /// <summary>
    /// Closes a local connection whose token has expired, saying so, and letting its client reconnect (with a new
    /// token). False when the connection is not one of this replica's hub connections (still in its handshake).
    /// </summary>
    public bool CloseExpired(string connectionId) =>
        CloseSaying(connectionId, DisconnectReasons.TokenExpired, new OurCloseMessage(ChatAuthenticationExtensions.TokenExpiredSentence, allowReconnect: true));

    /// <summary>
    /// Closes a local connection that has sent nothing, not even a ping, for the client timeout, saying so and letting
    /// it reconnect (it may only have been held up); false when it is not one of this replica's hub connections.
    /// </summary>
    public bool CloseSilent(string connectionId) =>
        CloseSaying(connectionId, DisconnectReasons.Timeout, new OurCloseMessage(SilentSentence, allowReconnect: true));

    /// <summary>
    /// Closes a local connection because this replica is leaving (drained, or stopping), saying so and letting it
    /// reconnect: the proxy or the load balancer hands the reconnect to another replica.
    /// </summary>
    public bool CloseLeaving(string connectionId) =>
        CloseSaying(connectionId, DisconnectReasons.ServerShutdown, new OurCloseMessage(LeavingSentence, allowReconnect: true));

    public const string LeavingSentence = "This gateway replica is shutting down (drained or stopped); the connection moves to another replica as the client reconnects.";

    // WebSocket-level pings never reach the hub (the WebSocket answers them itself), so they cannot keep a connection open;
    // nor can part of a message trickled a byte at a time.
    public const string SilentSentence = "The client sent no whole hub message, not even a ping (a record of type 6), within the client timeout " +
        "(Chat:Limits:ClientTimeoutInterval); WebSocket pings and parts of a message do not count.";

    public const string ReplacedSentence = "This client connected again (a new connection with the same clientId), so this older connection is closed.";

    private static readonly TimeSpan ClosePatience = TimeSpan.FromSeconds(1);

    /// <summary>Writes the close, then aborts the connection, noting why; says whether the connection was local.</summary>
    private bool CloseSaying(string connectionId, string reason, CloseMessage close)
    {
        if (!_connections.TryGetValue(connectionId, out var entry))
        {
            return false;
        }

        // One already closing (a drain, a timeout) keeps its own reason. (Set as DisconnectReasons.Close sets it: a
        // reason noted at the same moment by a timeout may win, but nothing throws.)
        if (!entry.Closed && !entry.Connection.ConnectionAborted.IsCancellationRequested
            && !entry.Connection.Items.ContainsKey(DisconnectReasons.ItemKey))
        {
            entry.Connection.Items[DisconnectReasons.ItemKey] = reason;
            _ = WriteThenAbortAsync(entry.Connection, close);
        }

        return true;

        static async Task WriteThenAbortAsync(HubConnectionContext connection, CloseMessage close)
        {
            try
            {
                // Bounded: a client that vanished may never take it.
                await connection.WriteAsync(close).AsTask().WaitAsync(ClosePatience);
                connection.Features.Get<IEndsWithOurClose>()?.OurCloseWritten();
            }
            catch (Exception)
            {
                // Not sent (the client is gone, or slow): the abort below closes it all the same, and counts why.
            }
            finally
            {
                connection.Abort();
            }
        }
    }

    /// <summary>True when the connection is local and was not yet in the room.</summary>
    public bool Join(string connectionId, string room)
    {
        if (!_connections.TryGetValue(connectionId, out var entry))
        {
            return false;
        }

        lock (_membership)
        {
            if (!entry.Rooms.Add(room))
            {
                return false;
            }

            if (!_rooms.TryGetValue(room, out var members))
            {
                _rooms[room] = members = new HashSet<string>(StringComparer.Ordinal);
            }

            members.Add(connectionId);
            _roomConnections.Remove(room);
            return true;
        }
    }

    public bool Leave(string connectionId, string room)
    {
        if (!_connections.TryGetValue(connectionId, out var entry))
        {
            return false;
        }

        lock (_membership)
        {
            if (!entry.Rooms.Remove(room))
            {
                return false;
            }

            RemoveFromRoom(room, connectionId);
            return true;
        }
    }

    public ICollection<string> Ids => _connections.Keys;

    public int Count => _connections.Count;

    public IReadOnlyList<HubConnectionContext> All => [.. _connections.Values.Select(entry => entry.Connection)];

    public bool Contains(string connectionId) => _connections.ContainsKey(connectionId);

    /// <summary>What the hub filters keep about a connection, from its connect to the end of its disconnect.</summary>
    public ConnectionNotes NotesOf(string connectionId) =>
        _connections.TryGetValue(connectionId, out var entry) ? entry.Notes
            : throw new InvalidOperationException("A hub call on a connection this replica does not know.");

    public HubConnectionContext? Find(string connectionId) => _connections.TryGetValue(connectionId, out var entry) ? entry.Connection : null;

    public string? User(string connectionId) => _connections.TryGetValue(connectionId, out var entry) ? entry.Connection.UserIdentifier : null;

    public bool IsIn(string connectionId, string room)
    {
        lock (_membership)
        {
            return _connections.TryGetValue(connectionId, out var entry) && entry.Rooms.Contains(room);
        }
    }

    public IReadOnlyList<string> RoomsOf(string connectionId)
    {
        lock (_membership)
        {
            return _connections.TryGetValue(connectionId, out var entry) ? [.. entry.Rooms] : [];
        }
    }

    public bool HasMembers(string room)
    {
        lock (_membership)
        {
            return _rooms.ContainsKey(room);
        }
    }

    /// <summary>The user's connections on this replica.</summary>
    public IReadOnlyList<HubConnectionContext> OfUser(string user)
    {
        lock (_membership)
        {
            return _users.TryGetValue(user, out var connections) ? [.. connections] : [];
        }
    }

    /// <summary>The room's local members; the same array until its membership changes (do not modify it).</summary>
    public IReadOnlyList<HubConnectionContext> In(string room)
    {
        lock (_membership)
        {
            if (_roomConnections.TryGetValue(room, out var connections))
            {
                return connections;
            }

            if (!_rooms.TryGetValue(room, out var members))
            {
                return [];
            }

            connections = [.. members.Select(id => _connections.GetValueOrDefault(id)?.Connection).OfType<HubConnectionContext>()];
            _roomConnections[room] = connections;
            return connections;
        }
    }

    private void RemoveFromRoom(string room, string connectionId)
    {
        if (_rooms.TryGetValue(room, out var members) && members.Remove(connectionId))
        {
            _roomConnections.Remove(room);
            if (members.Count == 0)
            {
                _rooms.Remove(room);
            }
        }
    }

    private sealed class Entry(HubConnectionContext connection)
    {
        public HubConnectionContext Connection { get; } = connection;

        /// <summary>Guarded by the owner's membership lock.</summary>
        public HashSet<string> Rooms { get; } = new(StringComparer.Ordinal);

        public SemaphoreSlim Gate { get; } = new(1, 1);

        /// <summary>Written and read under <see cref="Gate"/>.</summary>
        public bool Closed { get; set; }

        public ConnectionNotes Notes { get; } = new();
    }

    private sealed class Release(SemaphoreSlim? gate) : IDisposable
    {
        private SemaphoreSlim? _gate = gate;

        public void Dispose() => Interlocked.Exchange(ref _gate, null)?.Release();
    }
}
