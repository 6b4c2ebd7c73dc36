using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;

namespace RealtimeDemo.RealtimeGateway.Delivery;

/// <summary>This replica's connections and which rooms each is in, as the hub lifetime manager sees them.</summary>
public sealed class LocalConnections
{
    private readonly ConcurrentDictionary<string, HubConnectionContext> _connections = new();
    private readonly Dictionary<string, HashSet<string>> _rooms = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _roomsOf = new(StringComparer.Ordinal);

    public void Add(HubConnectionContext connection) => _connections[connection.ConnectionId] = connection;

    /// <summary>Forgets the connection; returns the rooms it was in.</summary>
    public IReadOnlyList<string> Remove(string connectionId)
    {
        _connections.TryRemove(connectionId, out _);
        lock (_rooms)
        {
            if (!_roomsOf.Remove(connectionId, out var rooms))
            {
                return [];
            }

            foreach (var room in rooms)
            {
                RemoveFromRoom(room, connectionId);
            }

            return [.. rooms];
        }
    }

    /// <summary>True when the connection is local and was not yet in the room.</summary>
    public bool Join(string connectionId, string room)
    {
        if (!_connections.ContainsKey(connectionId))
        {
            return false;
        }

        lock (_rooms)
        {
            if (!_roomsOf.TryGetValue(connectionId, out var rooms))
            {
                _roomsOf[connectionId] = rooms = new HashSet<string>(StringComparer.Ordinal);
            }

            if (!rooms.Add(room))
            {
                return false;
            }

            if (!_rooms.TryGetValue(room, out var members))
            {
                _rooms[room] = members = new HashSet<string>(StringComparer.Ordinal);
            }

            members.Add(connectionId);
            return true;
        }
    }

    public bool Leave(string connectionId, string room)
    {
        lock (_rooms)
        {
            if (!_roomsOf.TryGetValue(connectionId, out var rooms) || !rooms.Remove(room))
            {
                return false;
            }

            RemoveFromRoom(room, connectionId);
            return true;
        }
    }

    public ICollection<string> Ids => _connections.Keys;

    public bool Contains(string connectionId) => _connections.ContainsKey(connectionId);

    public string? User(string connectionId) => _connections.TryGetValue(connectionId, out var connection) ? connection.UserIdentifier : null;

    public IReadOnlyList<string> RoomsOf(string connectionId)
    {
        lock (_rooms)
        {
            return _roomsOf.TryGetValue(connectionId, out var rooms) ? [.. rooms] : [];
        }
    }

    public bool HasMembers(string room)
    {
        lock (_rooms)
        {
            return _rooms.ContainsKey(room);
        }
    }

    public IReadOnlyList<HubConnectionContext> In(string room)
    {
        lock (_rooms)
        {
            return _rooms.TryGetValue(room, out var members)
                ? [.. members.Select(id => _connections.GetValueOrDefault(id)).OfType<HubConnectionContext>()]
                : [];
        }
    }

    private void RemoveFromRoom(string room, string connectionId)
    {
        if (_rooms.TryGetValue(room, out var members) && members.Remove(connectionId) && members.Count == 0)
        {
            _rooms.Remove(room);
        }
    }
}
