using RealtimeDemo.Contracts;
using RealtimeDemo.ServerShared;
using StackExchange.Redis;

namespace RealtimeDemo.ChatWorker.Processing;

/// <summary>One entry of <see cref="ChatRedisKeys.MessageStream"/> as the gateway wrote it.</summary>
public sealed record StreamMessage(string Id, string Room, string User, string Text, long SentAtMs, string? TraceParent)
{
    public static StreamMessage From(StreamEntry entry)
    {
        var id = (string)entry.Id!;
        var (room, user) = (Required(entry, "room"), Required(entry, "user"));
        // Names make key names: one the gateway could never have written would make keys outside the layout.
        if (!ChatNames.IsValidRoom(room) || !ChatNames.IsValidUser(user))
        {
            throw new MalformedEntryException($"entry {entry.Id} has a 'room' or 'user' that is not a valid name");
        }

        return new StreamMessage(id, room, user, Required(entry, "text"), long.Parse(id.AsSpan(0, id.IndexOf('-'))), NullIfEmpty((string?)entry["tp"]));
    }

    /// <summary>The trace context of an entry without parsing the rest (which may be what is broken).</summary>
    public static string? TraceParentOf(StreamEntry entry) => NullIfEmpty((string?)entry["tp"]);

    public static string? RoomOf(StreamEntry entry) => NullIfEmpty((string?)entry["room"]);

    private static string Required(StreamEntry entry, string field) =>
        NullIfEmpty((string?)entry[field]) ?? throw new MalformedEntryException($"entry {entry.Id} has no '{field}' field");

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}

/// <summary>An entry no retry can fix.</summary>
public sealed class MalformedEntryException(string message) : Exception(message);
