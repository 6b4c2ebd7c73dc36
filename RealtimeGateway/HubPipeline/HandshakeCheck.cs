using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;

namespace RealtimeDemo.RealtimeGateway.HubPipeline;

/// <summary>
/// Reads a new connection's first frame before SignalR does: a handshake that is not the JSON object SignalR
/// expects gets an answer in our words (SignalR's own would be a generic sentence, or name the exception with
/// detailed errors on). A good handshake is left unread, for SignalR.
/// </summary>
internal static class HandshakeCheck
{
    private const byte Separator = 0x1E;
    private const int MaxHandshakeBytes = 4096;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private const string Expected = "{\"protocol\":\"json\",\"version\":1} followed by the 0x1E separator";

    public static IConnectionBuilder UseHandshakeCheck(this IConnectionBuilder connections) =>
        connections.Use(next => async connection =>
        {
            if (await ProblemWithHandshakeAsync(connection.Transport.Input, connection.ConnectionClosed) is { } problem)
            {
                await RefuseAsync(connection.Transport.Output, problem);
                return;
            }

            await next(connection);
        });

    private static async Task<string?> ProblemWithHandshakeAsync(PipeReader input, CancellationToken closed)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(closed);
        timeout.CancelAfter(Timeout);
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                return $"No handshake within {Timeout.TotalSeconds:F0} s: send {Expected}.";
            }

            var buffer = result.Buffer;
            if (buffer.PositionOf(Separator) is { } end)
            {
                var problem = Check(buffer.Slice(0, end));
                input.AdvanceTo(buffer.Start, buffer.Start); // unread: SignalR reads the handshake itself
                return problem;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (buffer.Length > MaxHandshakeBytes)
            {
                return $"The handshake is larger than {MaxHandshakeBytes} bytes: send {Expected}.";
            }

            if (result.IsCompleted)
            {
                return null; // the client went away; nothing to answer
            }
        }
    }

    private static string? Check(ReadOnlySequence<byte> handshake)
    {
        try
        {
            using var document = JsonDocument.Parse(handshake);
            var root = document.RootElement;
            return root.ValueKind == JsonValueKind.Object
                // Read as SignalR will read it: an escaped lone surrogate fails only then, and SignalR's answer is not ours.
                && root.TryGetProperty("protocol", out var protocol) && protocol.ValueKind == JsonValueKind.String && protocol.GetString() is not null
                && root.TryGetProperty("version", out var version) && version.ValueKind == JsonValueKind.Number && version.TryGetInt32(out _)
                ? null
                : $"The handshake must be a JSON object like {Expected}.";
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException)
        {
            return $"The handshake is not valid JSON: send {Expected}.";
        }
    }

    private static async Task RefuseAsync(PipeWriter output, string problem)
    {
        var response = JsonSerializer.SerializeToUtf8Bytes(new { error = problem });
        await output.WriteAsync(response);
        await output.WriteAsync(new[] { Separator });
        await output.CompleteAsync();
    }
}
