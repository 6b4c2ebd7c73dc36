using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;

namespace RealtimeDemo.RealtimeGateway.HubPipeline;

/// <summary>
/// Reads a new connection's first frame before SignalR does: a handshake that is not the JSON object SignalR
/// expects gets an answer in our words (SignalR's own would be a generic sentence, or name the exception with
/// detailed errors on). A good handshake is left unread, for SignalR. A connection beyond the replica's limit
/// (<see cref="ReplicaConnectionLimit"/>) is refused in the answer to its handshake, awaited for 2 s at most.
/// </summary>
internal static class HandshakeCheck
{
    private const byte Separator = 0x1E;
    private const int MaxHandshakeBytes = 4096;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan RefusedPatience = TimeSpan.FromSeconds(2);
    private const string Expected = "{\"protocol\":\"json\",\"version\":1} followed by the 0x1E separator";
    private static readonly string TooLarge = $"The handshake is larger than {MaxHandshakeBytes} bytes: send {Expected}.";

    /// <summary>The check, and the replica's connection count, which starts here: before the handshake.</summary>
    public static IConnectionBuilder UseHandshakeCheck(this IConnectionBuilder connections, ReplicaConnectionLimit limit) =>
        connections.Use(next => async connection =>
        {
            if (!limit.TryEnter())
            {
                // Answered as its handshake's answer, so that the client reads our words (closed before it has sent its
                // handshake, it would only see a disconnect); waited for briefly, as this connection is not counted.
                await ProblemWithHandshakeAsync(connection.Transport.Input, connection.ConnectionClosed, RefusedPatience);
                await RefuseAsync(connection.Transport.Output, ReplicaConnectionLimit.Refusal);
                return;
            }

            try
            {
                if (await ProblemWithHandshakeAsync(connection.Transport.Input, connection.ConnectionClosed, Timeout) is { } problem)
                {
                    await RefuseAsync(connection.Transport.Output, problem);
                    return;
                }

                await next(connection);
            }
            finally
            {
                limit.Leave();
            }
        });

    private static async Task<string?> ProblemWithHandshakeAsync(PipeReader input, CancellationToken closed, TimeSpan patience)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(closed);
        timeout.CancelAfter(patience);
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                return $"No handshake within {patience.TotalSeconds:F0} s: send {Expected}.";
            }

            var buffer = result.Buffer;
            if (buffer.PositionOf(Separator) is { } end)
            {
                // Whole or not, a handshake past the limit gets the same answer (SignalR's own, past 32 KB, was not ours).
                var handshake = buffer.Slice(0, end);
                var problem = handshake.Length > MaxHandshakeBytes ? TooLarge : Check(handshake);
                input.AdvanceTo(buffer.Start, buffer.Start); // unread: SignalR reads the handshake itself
                return problem;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (buffer.Length > MaxHandshakeBytes)
            {
                return TooLarge;
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
            if (root.ValueKind != JsonValueKind.Object)
            {
                return $"The handshake must be a JSON object like {Expected}.";
            }

            // Named twice, SignalR and a reader of the JSON could each take a different one (SignalR's answer was not ours).
            var named = root.EnumerateObject().Select(property => property.Name).Where(name => name is "protocol" or "version");
            if (named.GroupBy(name => name).FirstOrDefault(group => group.Count() > 1) is { } twice)
            {
                return $"The handshake names '{twice.Key}' twice: send {Expected}.";
            }

            // Read as SignalR will read it: an escaped lone surrogate fails only then, and SignalR's answer is not ours.
            if (!root.TryGetProperty("protocol", out var protocol) || protocol.ValueKind != JsonValueKind.String || protocol.GetString() is not { } protocolName
                || !root.TryGetProperty("version", out var version) || version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out var versionNumber))
            {
                return $"The handshake must be a JSON object like {Expected}.";
            }

            // SignalR's own answers repeated what the client sent; ours say what this gateway speaks.
            if (!string.Equals(protocolName, ChatJsonHubProtocol.ProtocolName, StringComparison.OrdinalIgnoreCase))
            {
                return $"This gateway speaks only the JSON hub protocol (no MessagePack or other): send {Expected}.";
            }

            return ChatJsonHubProtocol.SupportsVersion(versionNumber)
                ? null
                : $"This gateway speaks versions {ChatJsonHubProtocol.LowestVersion} to {ChatJsonHubProtocol.HighestVersion} of the JSON hub protocol: send {Expected}.";
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException)
        {
            return $"The handshake is not valid JSON: send {Expected}.";
        }
    }

    // One write: each flush leaves as a WebSocket message of its own, and the JavaScript client reads the handshake's
    // answer from one message (a separator arriving in a second one read "Message is incomplete", not our words).
    private static async Task RefuseAsync(PipeWriter output, string problem)
    {
        var response = JsonSerializer.SerializeToUtf8Bytes(new { error = problem });
        output.Write(response);
        output.Write([Separator]);
        await output.FlushAsync();
        await output.CompleteAsync();
    }
}
