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

    private const string NotText =
        "A frame held a string that is not valid Unicode text (an escaped surrogate without its pair, or bytes that are not UTF-8) outside its arguments"
        + Closed;

    private const string CallId = "invocationId";

    // The protocol's fields, which its parser reads whatever the message's type, spelled exactly.
    private static readonly string[] Fields =
        ["type", CallId, "target", "arguments", "streamIds", "headers", "item", "result", "error", "allowReconnect", "sequenceId"];

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
            return NotText; // where a name was read
        }
    }

    /// <summary>
    /// For a call the parser read as one that wants no answer: its sentence when the frame has its id under another
    /// case ("InvocationId"), which the parser does not read, so the call would run and its client wait in vain; else
    /// null. Reads the record's top-level names only.
    /// </summary>
    /// <param name="record">The record without its separator.</param>
    public static string? MisspeltCallId(ReadOnlySequence<byte> record)
    {
        var reader = new Utf8JsonReader(record);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                // Only a name as long as the field's can be it in another case (an escaped name is read to see).
                var length = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
                if ((reader.ValueIsEscaped || length == CallId.Length)
                    && reader.GetString() is { } name && name != CallId && name.Equals(CallId, StringComparison.OrdinalIgnoreCase))
                {
                    return Misspelt(name, CallId);
                }

                if (!reader.Read() || !reader.TrySkip())
                {
                    return null;
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // The parser read the frame: not for this check to refuse.
        }

        return null;
    }

    private static string Misspelt(string written, string field) =>
        $"A frame's \"{Cut(written)}\" is spelled \"{field}\" in the protocol: its field names match exactly, unlike the property names inside \"arguments\"" + Closed;

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
            return "A frame's \"type\" was missing or not a whole number (1 to 9, saying which message it is)" + Closed + OtherCase(frame, "type");
        }

        if (NotAString(frame, CallId))
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

        if (NotAString(frame, "target") && kind is not (1 or 4))
        {
            return "A frame's \"target\" was not a string" + Closed; // read whatever the type, as every field the protocol has
        }

        if (frame.TryGetProperty("arguments", out var arguments) && arguments.ValueKind != JsonValueKind.Array && kind is not (1 or 4))
        {
            return "A frame's \"arguments\" was not an array" + Closed;
        }

        if (NotAString(frame, "error"))
        {
            return (kind == 7 ? "A close (type 7) had an \"error\" that was not a string" : "A frame's \"error\" was not a string") + Closed;
        }

        if (frame.TryGetProperty("allowReconnect", out var allow) && allow.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            return kind == 7 ? "A close (type 7) had an \"allowReconnect\" that was not true or false" + Closed
                : "A frame's \"allowReconnect\" was not true or false" + Closed;
        }

        // The parser takes null for no sequence id.
        if (frame.TryGetProperty("sequenceId", out var sequence) && sequence.ValueKind != JsonValueKind.Null
            && !(sequence.ValueKind == JsonValueKind.Number && sequence.TryGetInt64(out _)))
        {
            return "A frame's \"sequenceId\" was not a whole number" + Closed;
        }

        return kind switch
        {
            1 or 4 when !frame.TryGetProperty("target", out var target) || target.ValueKind != JsonValueKind.String =>
                $"An invocation (type {kind}) had no \"target\", the name of the method to call, as a string" + Closed + OtherCase(frame, "target"),
            1 or 4 when !frame.TryGetProperty("arguments", out _) =>
                $"An invocation of '{Target(frame)}' had no \"arguments\": send the method's arguments as an array, [] for a method that takes none"
                + Closed + OtherCase(frame, "arguments"),
            1 or 4 when frame.GetProperty("arguments").ValueKind != JsonValueKind.Array => // (present: the arm above took its absence)
                $"An invocation of '{Target(frame)}' had \"arguments\" that were not an array: send the method's arguments as an array, in order" + Closed,
            4 when !HasId(frame) =>
                $"A stream invocation (type 4) had no \"invocationId\"; the chat hub has no streaming methods anyway: call '{Target(frame)}' with an invocation (message type 1)"
                + Closed + OtherCase(frame, CallId),
            2 when !HasId(frame) || !frame.TryGetProperty("item", out _) =>
                "A stream item (type 2) needs an \"invocationId\" naming its stream and an \"item\"; the chat hub's methods take no streams"
                + Closed + OtherCase(frame, HasId(frame) ? "item" : CallId),
            3 or 5 when !HasId(frame) =>
                $"A {(kind == 3 ? "completion (type 3)" : "cancel (type 5)")} had no \"invocationId\", the id of the call it is about" + Closed + OtherCase(frame, CallId),
            3 when frame.TryGetProperty("result", out _) && frame.TryGetProperty("error", out _) =>
                "A completion (type 3) had both a \"result\" and an \"error\": it carries one or the other" + Closed,
            8 or 9 when sequence.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null =>
                $"{(kind == 8 ? "An ack (type 8)" : "A sequence message (type 9)")} had no \"sequenceId\", a whole number" + Closed + OtherCase(frame, "sequenceId"),
            _ when Fields.Any(field => frame.TryGetProperty(field, out var value) && field is not ("arguments" or "item" or "result") && HoldsNotText(value)) =>
                NotText,
            _ => Fields.Select(field => OtherCase(frame, field)).FirstOrDefault(hint => hint.Length > 0) is { } hint
                ? $"A frame was not a valid SignalR JSON hub message{Closed}{hint}"
                : null,
        };
    }

    // A non-empty string id (the parser refuses an empty one where an id is needed).
    private static bool HasId(JsonElement frame) =>
        frame.TryGetProperty(CallId, out var id) && id.ValueKind == JsonValueKind.String && id.GetString() is { Length: > 0 };

    /// <summary>" It had …, spelled otherwise" when the frame has the field under another case, which the parser does not read; else empty.</summary>
    private static string OtherCase(JsonElement frame, string field)
    {
        if (frame.TryGetProperty(field, out _))
        {
            return "";
        }

        foreach (var property in frame.EnumerateObject())
        {
            if (property.Name.Equals(field, StringComparison.OrdinalIgnoreCase))
            {
                return " " + Misspelt(property.Name, field).Replace("; the connection is closed.", ".", StringComparison.Ordinal);
            }
        }

        return "";
    }

    // A string read as text that cannot be: GetString throws where JSON escapes a lone surrogate or a binary frame holds bytes that are not UTF-8.
    private static bool HoldsNotText(JsonElement value)
    {
        try
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.String:
                    value.GetString();
                    break;
                case JsonValueKind.Object:
                    foreach (var property in value.EnumerateObject())
                    {
                        _ = property.Name;
                        if (HoldsNotText(property.Value))
                        {
                            return true;
                        }
                    }

                    break;
                case JsonValueKind.Array:
                    return value.EnumerateArray().Any(HoldsNotText);
            }

            return false;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    private static bool NotAString(JsonElement frame, string property) =>
        frame.TryGetProperty(property, out var value) && value.ValueKind != JsonValueKind.String; // SignalR refuses null too

    // The method's name as the client wrote it, cut short: it is echoed to that client only.
    private static string Target(JsonElement frame) => Cut(frame.GetProperty("target").GetString() ?? "");

    private static string Cut(string written) => written.Length <= 64 ? written : written[..64] + "…";
}
