using System.Text.Json;
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

        var body = new MemoryStream();
        var buffer = new byte[1024];
        int read;
        while ((read = await request.Body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            if (body.Length + read > MaxBodyBytes)
            {
                return (null, "body", $"The body must be at most {MaxBodyBytes} bytes, like {Example}.");
            }

            body.Write(buffer, 0, read);
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
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (null, "body", $"The body must be a JSON object like {Example}.");
            }

            if (!TryGetProperty(document.RootElement, "userName", out var userName))
            {
                return (null, "userName", $"userName is required: {ChatNames.UserRule}.");
            }

            if (userName.ValueKind != JsonValueKind.String)
            {
                return (null, "userName", $"userName must be a string: {ChatNames.UserRule}.");
            }

            var name = userName.GetString();
            return ChatNames.IsValidUser(name) ? (name, "userName", null) : (null, "userName", $"userName must be {ChatNames.UserRule}.");
        }
    }

    // JSON property names from web clients vary in case ("userName", "UserName"); accept any.
    private static bool TryGetProperty(JsonElement body, string name, out JsonElement value)
    {
        foreach (var property in body.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                value = property.Value;
                return true;
            }
        }

        value = default;
        return false;
    }
}
