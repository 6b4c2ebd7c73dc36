using System.Text;
using System.Text.Json;
using Microsoft.Net.Http.Headers;
using RealtimeDemo.Contracts;

namespace RealtimeDemo.RealtimeGateway.Auth;

/// <summary>
/// Reads the body of POST /auth/token by hand, so that every way it can be wrong gets a 400 problem naming the
/// field and the rule — never the framework's binding exception (with a stack trace in Development).
/// </summary>
internal static class TokenRequestReader
{
    private const int MaxBodyBytes = 4096;
    private const string Example = "{\"userName\":\"alice\"}";

    /// <summary>The user name asked for, or the problem: the field it concerns and what is wrong, in our words.</summary>
    public static async Task<(string? UserName, string Field, string? Problem)> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!request.HasJsonContentType())
        {
            return (null, "body", $"Send the body as application/json, like {Example}.");
        }

        // A compressed body would otherwise be read as it is and refused as "not valid JSON", naming the wrong fault.
        if (request.Headers.ContentEncoding is { Count: > 0 } contentEncoding && !string.Equals(contentEncoding.ToString().Trim(), "identity", StringComparison.OrdinalIgnoreCase))
        {
            return (null, "body", $"The gateway does not read compressed bodies (Content-Encoding); send the body as it is, like {Example}.");
        }

        var labelled = Encoding.UTF8;
        if (MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
            && mediaType.Charset.ToString().Trim('"') is { Length: > 0 } charset)
        {
            if (!Readable.TryGetValue(charset, out var named))
            {
                return (null, "body", $"The gateway does not read the charset the body is labelled with; send it in UTF-8 (charset=utf-8, or no charset), like {Example}.");
            }

            labelled = named;
        }

        var body = new MemoryStream();
        var buffer = new byte[1024];
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                if (body.Length + read > MaxBodyBytes)
                {
                    return (null, "body", $"The body must be at most {MaxBodyBytes} bytes, like {Example}.");
                }

                body.Write(buffer, 0, read);
            }
        }
        catch (BadHttpRequestException tooLarge) when (tooLarge.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, "body", $"The body must be at most {MaxBodyBytes} bytes, like {Example}.");
        }
        catch (BadHttpRequestException)
        {
            // Kestrel's: the body stopped short of its Content-Length, or came slower than its minimum data rate.
            return (null, "body", $"The body did not arrive whole (it ended before its Content-Length, or came too slowly); send an object like {Example}.");
        }

        var utf8 = body.GetBuffer().AsMemory(0, (int)body.Length);
        var (marked, markLength) = ByteOrderMark(utf8.Span);
        var encoding = marked ?? labelled;
        utf8 = utf8[markLength..];
        if (encoding is not UTF8Encoding)
        {
            try
            {
                utf8 = Encoding.UTF8.GetBytes(encoding.GetString(utf8.Span));
            }
            catch (DecoderFallbackException)
            {
                return (null, "body", $"The body is not valid text in the charset it is labelled with; send an object like {Example}.");
            }
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException)
        {
            return (null, "body", $"The body is not valid JSON; send an object like {Example}.");
        }

        using (document)
        {
            try
            {
                return Read(document.RootElement);
            }
            catch (InvalidOperationException)
            {
                // The parser checks a string's escapes only when the string is read: "\ud800" alone is not text.
                return (null, "body", $"The body's strings must be valid Unicode (an escaped surrogate must come in a pair), like {Example}.");
            }
        }
    }

    private static (string? UserName, string Field, string? Problem) Read(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            return (null, "body", $"The body must be a JSON object like {Example}.");
        }

        // JSON property names from web clients vary in case ("userName", "UserName"); accept any, but only one.
        var userNames = body.EnumerateObject().Where(p => string.Equals(p.Name, "userName", StringComparison.OrdinalIgnoreCase)).Take(2).ToList();
        if (userNames.Count == 0)
        {
            return (null, "userName", $"userName is required: {ChatNames.UserRule}.");
        }

        if (userNames.Count > 1)
        {
            return (null, "userName", $"userName must be given once: {ChatNames.UserRule}.");
        }

        if (userNames[0].Value.ValueKind != JsonValueKind.String)
        {
            return (null, "userName", $"userName must be a string: {ChatNames.UserRule}.");
        }

        var name = userNames[0].Value.GetString();
        return ChatNames.IsValidUser(name) ? (name, "userName", null) : (null, "userName", $"userName must be {ChatNames.UserRule}.");
    }

    // JSON is UTF-8 on the wire (RFC 8259), but clients label bodies otherwise (UTF-16 from .NET's StringContent,
    // Latin-1 by default in some libraries): the body is read in the charset it is labelled with, strictly (a byte that
    // is not text in it is refused, not read as a replacement character). UTF-16 and UTF-32 with no byte-order mark are
    // read little-endian, as .NET and Windows write them.
    private static readonly Dictionary<string, Encoding> Readable = new(StringComparer.OrdinalIgnoreCase)
    {
        ["utf-8"] = Encoding.UTF8,
        ["utf8"] = Encoding.UTF8,
        ["utf-16"] = new UnicodeEncoding(bigEndian: false, byteOrderMark: false, throwOnInvalidBytes: true),
        ["utf-16le"] = new UnicodeEncoding(bigEndian: false, byteOrderMark: false, throwOnInvalidBytes: true),
        ["utf-16be"] = new UnicodeEncoding(bigEndian: true, byteOrderMark: false, throwOnInvalidBytes: true),
        ["utf-32"] = new UTF32Encoding(bigEndian: false, byteOrderMark: false, throwOnInvalidCharacters: true),
        ["utf-32le"] = new UTF32Encoding(bigEndian: false, byteOrderMark: false, throwOnInvalidCharacters: true),
        ["utf-32be"] = new UTF32Encoding(bigEndian: true, byteOrderMark: false, throwOnInvalidCharacters: true),
        ["us-ascii"] = Encoding.GetEncoding("us-ascii", EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback),
        ["iso-8859-1"] = Encoding.Latin1,
        ["latin1"] = Encoding.Latin1,
    };

    // A byte-order mark says which encoding and byte order the body is in, whatever the label (RFC 2781), and is not
    // part of the JSON.
    private static (Encoding? Encoding, int Length) ByteOrderMark(ReadOnlySpan<byte> body) => body switch
    {
        [0xEF, 0xBB, 0xBF, ..] => (Encoding.UTF8, 3),
        [0xFF, 0xFE, 0, 0, ..] => (Readable["utf-32le"], 4),
        [0, 0, 0xFE, 0xFF, ..] => (Readable["utf-32be"], 4),
        [0xFE, 0xFF, ..] => (Readable["utf-16be"], 2),
        [0xFF, 0xFE, ..] => (Readable["utf-16le"], 2),
        _ => (null, 0),
    };
}
