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

        // JSON is UTF-8 on the wire (RFC 8259); a body said to be in another encoding would be misread, not refused.
        if (MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
            && mediaType.Charset.ToString().Trim('"') is { Length: > 0 } charset
            && !charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) && !charset.Equals("utf8", StringComparison.OrdinalIgnoreCase))
        {
            return (null, "body", $"Send the body in UTF-8 (charset=utf-8, or no charset), like {Example}.");
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

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.GetBuffer().AsMemory(0, (int)body.Length), new JsonDocumentOptions { MaxDepth = 8 });
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
}
