using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;

/// <summary>One client: reads records, answers the hub calls, and writes what its rooms deliver.</summary>
internal sealed class BareConnection(WebSocket socket, string user, Rooms rooms)
{
    private const byte RecordSeparator = 0x1e;
    private static long s_nextId;

    // One write at a time, as a WebSocket requires; deliveries from several rooms' senders meet here.
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private List<string>? _joined;
    private byte[]? _leftover;

    public async Task RunAsync()
    {
        var handshaken = false;
        try
        {
            while (true)
            {
                // A read of nothing first, as SignalR's transport does: an idle connection holds no buffer.
                if ((await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None)).MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                var buffer = ArrayPool<byte>.Shared.Rent(4096);
                try
                {
                    var received = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                    if (received.MessageType == WebSocketMessageType.Close)
                    {
                        break;
                    }

                    handshaken = await ReadRecordsAsync(Join(buffer.AsMemory(0, received.Count)), handshaken);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }

            if (socket.State == WebSocketState.CloseReceived)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            }
        }
        catch (Exception error) when (error is WebSocketException or OperationCanceledException or IOException)
        {
            // The client went away without a close: nothing to answer.
        }
        finally
        {
            foreach (var room in _joined ?? [])
            {
                rooms.Leave(room, this);
            }
        }
    }

    /// <summary>Writes one whole message; a connection that has gone drops it (its own read loop ends it).</summary>
    public async Task WriteAsync(ReadOnlyMemory<byte> message)
    {
        await _writeLock.WaitAsync();
        try
        {
            await socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }
        catch (Exception error) when (error is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // Gone: its own read loop ends it.
        }
        finally
        {
            _writeLock.Release();
        }
    }

    // A record may end in a later read than the one it began in: what follows the last separator waits for it.
    private ReadOnlyMemory<byte> Join(ReadOnlyMemory<byte> received)
    {
        if (_leftover is null)
        {
            return received;
        }

        var joined = new byte[_leftover.Length + received.Length];
        _leftover.CopyTo(joined, 0);
        received.CopyTo(joined.AsMemory(_leftover.Length));
        _leftover = null;
        return joined;
    }

    private async Task<bool> ReadRecordsAsync(ReadOnlyMemory<byte> bytes, bool handshaken)
    {
        int end;
        while ((end = bytes.Span.IndexOf(RecordSeparator)) >= 0)
        {
            var record = bytes[..end];
            bytes = bytes[(end + 1)..];
            if (!handshaken)
            {
                handshaken = true;
                await WriteAsync("{}\u001e"u8.ToArray());
                continue;
            }

            await AnswerAsync(record);
        }

        _leftover = bytes.IsEmpty ? null : bytes.ToArray();
        return handshaken;
    }

    private async Task AnswerAsync(ReadOnlyMemory<byte> record)
    {
        using var json = JsonDocument.Parse(record);
        var root = json.RootElement;
        if (root.GetProperty("type").GetInt32() != 1)
        {
            return; // pings, and anything else the generator does not expect an answer to
        }

        var invocationId = root.TryGetProperty("invocationId", out var id) ? id.GetString() : null;
        var arguments = root.GetProperty("arguments");
        var room = arguments[0].GetString()!;
        switch (root.GetProperty("target").GetString())
        {
            case "JoinRoom":
                (_joined ??= []).Add(room);
                rooms.Join(room, this);
                await CompleteAsync(invocationId, new { room, members = Array.Empty<string>(), lastMessageId = (string?)null, lastSequence = 0 });
                break;
            case "LeaveRoom":
                _joined?.Remove(room);
                rooms.Leave(room, this);
                await CompleteAsync(invocationId, null);
                break;
            case "SendMessage":
                var messageId = Interlocked.Increment(ref s_nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
                var sentAt = DateTimeOffset.UtcNow;
                var delivery = Record(new
                {
                    type = 1,
                    target = "MessageReceived",
                    arguments = new object[] { new { id = messageId, room, user, text = arguments[2].GetString(), sentAt, clientMessageId = arguments[1].GetString() } },
                });
                await Task.WhenAll(rooms.Members(room).Select(member => member.WriteAsync(delivery)));
                await CompleteAsync(invocationId, new { messageId, room, sentAt });
                break;
            default:
                await CompleteAsync(invocationId, null, "no such method");
                break;
        }
    }

    private Task CompleteAsync(string? invocationId, object? result, string? error = null) => invocationId is null
        ? Task.CompletedTask
        : WriteAsync(Record(error is null ? new { type = 3, invocationId, result } : new { type = 3, invocationId, error }));

    private static byte[] Record(object value)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(value);
        var record = new byte[json.Length + 1];
        json.CopyTo(record, 0);
        record[^1] = RecordSeparator;
        return record;
    }
}
