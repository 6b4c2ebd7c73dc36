using System.Text.Json;

namespace RealtimeDemo.ServerShared;

/// <summary>
/// What travels on a room's delivery channel (<see cref="ChatRedisKeys.RoomDeliveryChannel"/>), as JSON: a stored
/// message (no "type"; the gateway's append script publishes it), a user's first connection joining ("joined",
/// the joining connection named in "except") or last one leaving ("left"; both from the registry's scripts), or
/// the worker's moderation of a message ("moderated"). Every replica with members in the room writes each to
/// them as the matching hub event. The JSON fields are the parameters' names in camelCase (<see cref="Parse"/>).
/// </summary>
public sealed record RoomEvent(
    string? Type,
    string Room,
    string? Id = null,
    string? User = null,
    string? Text = null,
    string? ClientMessageId = null,
    long Sequence = 0,
    long Epoch = 0,
    string? TraceParent = null,
    string? Except = null,
    string? MessageId = null,
    string? Reason = null)
{
    public const string Joined = "joined";
    public const string Left = "left";
    public const string Moderated = "moderated";

    /// <summary>
    /// Reads one event; a payload that is not a JSON object, or has a field of the wrong kind, throws. Read by hand
    /// rather than by the serializer: every message is read once per replica, and the serializer's path for a
    /// record with this many constructor parameters allocated as much again as the strings themselves.
    /// </summary>
    public static RoomEvent Parse(ReadOnlySpan<byte> payload)
    {
        try
        {
            return Read(payload);
        }
        catch (Exception error) when (error is JsonException or InvalidOperationException or FormatException && error.GetType() != typeof(JsonException))
        {
            // One error type (error.type on the delivery's span) whatever the reader found wrong.
            throw new JsonException("A room event is not valid JSON of the expected shape.", error);
        }
    }

    private static RoomEvent Read(ReadOnlySpan<byte> payload)
    {
        var reader = new Utf8JsonReader(payload);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("A room event is not a JSON object.");
        }

        string? type = null, room = null, id = null, user = null, text = null, clientMessageId = null, traceParent = null,
            except = null, messageId = null, reason = null;
        long sequence = 0, epoch = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var field = reader;
            reader.Read();
            if (field.ValueTextEquals("type"u8)) type = reader.GetString();
            else if (field.ValueTextEquals("room"u8)) room = reader.GetString();
            else if (field.ValueTextEquals("id"u8)) id = reader.GetString();
            else if (field.ValueTextEquals("user"u8)) user = reader.GetString();
            else if (field.ValueTextEquals("text"u8)) text = reader.GetString();
            else if (field.ValueTextEquals("clientMessageId"u8)) clientMessageId = reader.GetString();
            else if (field.ValueTextEquals("sequence"u8)) sequence = reader.GetInt64();
            else if (field.ValueTextEquals("epoch"u8)) epoch = reader.GetInt64();
            else if (field.ValueTextEquals("traceParent"u8)) traceParent = reader.GetString();
            else if (field.ValueTextEquals("except"u8)) except = reader.GetString();
            else if (field.ValueTextEquals("messageId"u8)) messageId = reader.GetString();
            else if (field.ValueTextEquals("reason"u8)) reason = reader.GetString();
            else reader.Skip();
        }

        if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
        {
            throw new JsonException("A room event is not one JSON object.");
        }

        return new RoomEvent(type, room ?? throw new JsonException("A room event names no room."), id, user, text, clientMessageId,
            sequence, epoch, traceParent, except, messageId, reason);
    }
}
