using System.Text.Json;
using System.Text.Json.Serialization;
namespace RealtimeDemo.ServerShared;

/// <summary>
/// What travels on a room's delivery channel (<see cref="ChatRedisKeys.RoomDeliveryChannel"/>), as JSON: a stored
/// message (no "type"; the gateway's append script publishes it), a user's first connection joining ("joined",
/// the joining connection named in "except") or last one leaving ("left"; both from the registry's scripts), or
/// the worker's moderation of a message ("moderated"). Every replica with members in the room writes each to
/// them as the matching hub event.
/// </summary>
public sealed record RoomEvent(
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("room")] string Room,
    [property: JsonPropertyName("id")] string? Id = null,
    [property: JsonPropertyName("user")] string? User = null,
    [property: JsonPropertyName("text")] string? Text = null,
    [property: JsonPropertyName("clientMessageId")] string? ClientMessageId = null,
    [property: JsonPropertyName("sequence")] long Sequence = 0,
    [property: JsonPropertyName("epoch")] long Epoch = 0,
    [property: JsonPropertyName("traceParent")] string? TraceParent = null,
    [property: JsonPropertyName("except")] string? Except = null,
    [property: JsonPropertyName("messageId")] string? MessageId = null,
    [property: JsonPropertyName("reason")] string? Reason = null)
{
    public const string Joined = "joined";
    public const string Left = "left";
    public const string Moderated = "moderated";

    public static RoomEvent Parse(ReadOnlySpan<byte> payload) =>
        JsonSerializer.Deserialize<RoomEvent>(payload) ?? throw new JsonException("An empty room event.");
}
