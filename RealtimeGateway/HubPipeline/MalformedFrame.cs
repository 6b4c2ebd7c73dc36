using System.Buffers;
using System.Text.Json;

namespace RealtimeDemo.RealtimeGateway.HubPipeline;

/// <summary>
/// Says what is wrong with a record SignalR's JSON hub protocol could not read. SignalR's parser reports only that it
/// failed (in its own words, which a client must not read), so without this one sentence covered every mistake and
/// named none: an invocation written without "arguments" (as a hand-written client of another language may write a
/// call that takes none), a numeric invocation id, the handshake sent a second time. Read only on that failure.
/// </summary>
internal static class MalformedFrame
{
    public const string Generic =
        "A frame was not a valid SignalR JSON hub message (a JSON object with a known \"type\", ending in the 0x1E separator); the connection is closed.";

    private const string Closed = "; the connection is closed.";

    /// <param name="input">What the parser was given: the record it failed on, up to its 0x1E separator, comes first.</param>
    public static string Describe(ReadOnlySequence<byte> input)
    {
        var separator = input.PositionOf((byte)0x1E);
        var record = separator is { } end ? input.Slice(0, end) : input;
        try
        {
            using var document = JsonDocument.Parse(record);
            return Describe(document.RootElement) ?? Generic;
        }
        catch (JsonException)
        {
            return "A frame was not valid JSON (each message is one JSON object, at most 64 levels deep, followed by the 0x1E separator)" + Closed;
        }
        catch (InvalidOperationException)
        {
            return Generic; // a string that is not text (a lone surrogate, bytes that are not UTF-8) where a name was read
        }
    }

    private static string? Describe(JsonElement frame)
    {
        if (frame.ValueKind != JsonValueKind.Object)
        {
            return "A frame was not a JSON object (each message is one JSON object followed by the 0x1E separator)" + Closed;
        }

        if (frame.TryGetProperty("protocol", out _) && !frame.TryGetProperty("type", out _))
        {
            return "A frame was a second handshake: the handshake is sent once, first, and every message after it has a \"type\"" + Closed;
        }

        if (!frame.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.Number || !type.TryGetInt32(out var kind))
        {
            return "A frame's \"type\" was missing or not a whole number (1 to 9, saying which message it is)" + Closed;
        }

        if (NotAString(frame, "invocationId"))
        {
            return "A frame's \"invocationId\" was not a string (write the call's id in quotes)" + Closed;
        }

        if (frame.TryGetProperty("headers", out var headers)
            && (headers.ValueKind != JsonValueKind.Object || headers.EnumerateObject().Any(h => h.Value.ValueKind != JsonValueKind.String)))
        {
            return "A frame's \"headers\" was not a JSON object whose values are strings" + Closed;
        }

        if (frame.TryGetProperty("streamIds", out var streamIds)
            && (streamIds.ValueKind != JsonValueKind.Array || streamIds.EnumerateArray().Any(id => id.ValueKind != JsonValueKind.String)))
        {
            return "A frame's \"streamIds\" was not an array of strings" + Closed;
        }

        return kind switch
        {
            1 or 4 when !frame.TryGetProperty("target", out var target) || target.ValueKind != JsonValueKind.String =>
                $"An invocation (type {kind}) had no \"target\", the name of the method to call, as a string" + Closed,
            1 or 4 when !frame.TryGetProperty("arguments", out _) =>
                $"An invocation of '{Target(frame)}' had no \"arguments\": send the method's arguments as an array, [] for a method that takes none" + Closed,
            1 or 4 when frame.GetProperty("arguments").ValueKind != JsonValueKind.Array => // (present: the arm above took its absence)
                $"An invocation of '{Target(frame)}' had \"arguments\" that were not an array: send the method's arguments as an array, in order" + Closed,
            3 or 5 when !frame.TryGetProperty("invocationId", out _) =>
                $"A {(kind == 3 ? "completion (type 3)" : "cancel (type 5)")} had no \"invocationId\", the id of the call it is about" + Closed,
            7 when NotAString(frame, "error") => "A close (type 7) had an \"error\" that was not a string" + Closed,
            7 when frame.TryGetProperty("allowReconnect", out var allow) && allow.ValueKind is not (JsonValueKind.True or JsonValueKind.False) =>
                "A close (type 7) had an \"allowReconnect\" that was not true or false" + Closed,
            _ => null,
        };
    }

    private static bool NotAString(JsonElement frame, string property) =>
        frame.TryGetProperty(property, out var value) && value.ValueKind != JsonValueKind.String; // SignalR refuses null too

    // The method's name as the client wrote it, cut short: it is echoed to that client only.
    private static string Target(JsonElement frame)
    {
        var target = frame.GetProperty("target").GetString() ?? "";
        return target.Length <= 64 ? target : target[..64] + "…";
    }
}
