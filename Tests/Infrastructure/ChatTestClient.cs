using System.Net.Http.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;
using RealtimeDemo.Contracts;
using RealtimeDemo.Client;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>
/// A signed-in user on one gateway, through the same <see cref="ChatClient"/> the frontend uses; everything
/// the server pushes is queued so a test can wait for it.
/// </summary>
public sealed class ChatTestClient : IAsyncDisposable
{
    public static readonly TimeSpan Delivery = TimeSpan.FromSeconds(10);

    private readonly Channel<ChatMessage> _messages = Channel.CreateUnbounded<ChatMessage>();
    private readonly Channel<(string Room, string User)> _joined = Channel.CreateUnbounded<(string, string)>();
    private readonly Channel<(string Room, string User)> _left = Channel.CreateUnbounded<(string, string)>();
    private readonly Channel<PrivateChatMessage> _private = Channel.CreateUnbounded<PrivateChatMessage>();

    private ChatTestClient(string user, ChatClient chat)
    {
        User = user;
        Chat = chat;
        chat.MessageReceived += m => Write(_messages, m);
        chat.UserJoined += (room, u) => Write(_joined, (room, u));
        chat.UserLeft += (room, u) => Write(_left, (room, u));
        chat.PrivateMessageReceived += m => Write(_private, m);
        chat.StateChanged += (state, error) =>
        {
            NoteOutage(state);
            return Note($"{state}{(error is null ? "" : $" ({error.GetType().Name}: {error.Message})")}");
        };
        chat.BackgroundError += error =>
        {
            BackgroundErrors.Enqueue(error);
            return Note($"background error {error.GetType().Name}: {error.Message}");
        };
        chat.RoomReset += room =>
        {
            RoomResets.Enqueue(room);
            return Note($"room {room} reset");
        };
        chat.MessagesMissed += (room, count) =>
        {
            Missed.Enqueue((room, count));
            return Note($"{count} messages of {room} missed");
        };
    }

    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _history = new();

    /// <summary>Every error the client reported from work done on its own (rejoins, gap fills).</summary>
    public System.Collections.Concurrent.ConcurrentQueue<Exception> BackgroundErrors { get; } = new();

    /// <summary>Rooms whose storage lost their earlier history, as the client announced them.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> RoomResets { get; } = new();

    /// <summary>Messages the client said it could not show (no longer kept), per announcement.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<(string Room, long Count)> Missed { get; } = new();

    private DateTime? _cutOffAt;

    /// <summary>Each time the connection broke: how long until it was back (reconnected, rooms rejoined, gaps filled).</summary>
    public System.Collections.Concurrent.ConcurrentQueue<TimeSpan> Outages { get; } = new();

    /// <summary>Whether the connection is broken now (lost and not yet back).</summary>
    public bool CutOff => _cutOffAt is not null;

    private void NoteOutage(Microsoft.AspNetCore.SignalR.Client.HubConnectionState state)
    {
        if (state == Microsoft.AspNetCore.SignalR.Client.HubConnectionState.Reconnecting)
        {
            _cutOffAt ??= DateTime.UtcNow;
        }
        else if (state == Microsoft.AspNetCore.SignalR.Client.HubConnectionState.Connected && _cutOffAt is { } since)
        {
            Outages.Enqueue(DateTime.UtcNow - since);
            _cutOffAt = null;
        }
    }

    /// <summary>What happened to the connection, for failure messages.</summary>
    public string History => string.Join("; ", _history);

    private Task Note(string what)
    {
        _history.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {what}");
        return Task.CompletedTask;
    }

    public string User { get; }

    public ChatClient Chat { get; }

    public static async Task<string> GetTokenAsync(Uri gateway, string user, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = gateway };
        using var response = await http.PostAsJsonAsync(ChatHubPaths.Token, new TokenRequest(user), cancellationToken);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<TokenResponse>(cancellationToken))!.Token;
    }

    public static async Task<ChatTestClient> ConnectAsync(Uri gateway, string user, CancellationToken cancellationToken) =>
        await ConnectAsync(gateway, user, await GetTokenAsync(gateway, user, cancellationToken), cancellationToken);

    /// <summary>Connects with a token from elsewhere (an identity provider).</summary>
    public static async Task<ChatTestClient> ConnectAsync(Uri gateway, string user, string token, CancellationToken cancellationToken)
    {
        // Pings every second, so tests may run gateways with a short client timeout.
        return await StartAsync(user, new ChatClient(new Uri(gateway, ChatHubPaths.Hub), () => Task.FromResult<string?>(token), TimeSpan.FromSeconds(1)), cancellationToken);
    }

    /// <summary>Starts <paramref name="chat"/> (made however the test needs) and queues what it receives.</summary>
    public static async Task<ChatTestClient> StartAsync(string user, ChatClient chat, CancellationToken cancellationToken)
    {
        var client = new ChatTestClient(user, chat);
        client.LetInAs = await chat.StartAsync(cancellationToken);
        return client;
    }

    /// <summary>What the gateway said of the connection when it let it in (StartAsync's answer).</summary>
    public ConnectionDetails? LetInAs { get; private set; }

    public Task<ChatMessage> NextMessageAsync() => ReadAsync(_messages, "room message");

    public Task<(string Room, string User)> NextUserJoinedAsync() => ReadAsync(_joined, "UserJoined");

    public Task<(string Room, string User)> NextUserLeftAsync() => ReadAsync(_left, "UserLeft");

    public Task<PrivateChatMessage> NextPrivateMessageAsync() => ReadAsync(_private, "private message");

    /// <summary>Every room message received so far and not yet read.</summary>
    public IReadOnlyList<ChatMessage> DrainMessages()
    {
        var drained = new List<ChatMessage>();
        while (_messages.Reader.TryRead(out var message))
        {
            drained.Add(message);
        }

        return drained;
    }

    /// <summary>Reads room messages until one with <paramref name="sequence"/> arrives in <paramref name="room"/>.</summary>
    public async Task<IReadOnlyList<ChatMessage>> MessagesUntilAsync(string room, long sequence, TimeSpan timeout)
    {
        var received = new List<ChatMessage>();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (!received.Any(m => m.Room == room && m.Sequence >= sequence))
            {
                received.Add(await _messages.Reader.ReadAsync(cts.Token));
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{User} did not reach message {sequence} of '{room}' within {timeout.TotalSeconds:F0} s; got [{string.Join(", ", received.Select(m => m.Sequence))}]. Connection: {History}");
        }

        return received;
    }

    /// <summary>
    /// Sends, and resends under the same client message id while Redis or the gateway is still coming back (the
    /// client reconnects by itself), until the message is stored; returns its ack and why sends were refused.
    /// </summary>
    public async Task<(MessageAck Ack, IReadOnlyList<string> Refusals)> SendUntilStoredAsync(string room, string clientMessageId, string text, TimeSpan? patience = null)
    {
        var deadline = DateTime.UtcNow + (patience ?? TimeSpan.FromSeconds(45));
        var refusals = new List<string>();
        while (true)
        {
            try
            {
                return (await Chat.SendMessageAsync(room, clientMessageId, text), refusals);
            }
            // Refused, or the connection went (cut off, or told to reconnect) before the ack came: send it again.
            catch (Exception ex) when (ex is HubException or CallNotAnsweredException)
            {
                refusals.Add(ex.Message);
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"{User}'s message {clientMessageId} was not stored ({ex.GetType().Name}: {ex.Message}); connection: {History}", ex);
                }

                await Task.Delay(100);
            }
        }
    }

    /// <summary>Reads room messages until the one with <paramref name="id"/> arrives (whatever its epoch and sequence).</summary>
    public async Task<IReadOnlyList<ChatMessage>> MessagesUntilIdAsync(string id, TimeSpan timeout)
    {
        var received = new List<ChatMessage>();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (!received.Any(m => m.Id == id))
            {
                received.Add(await _messages.Reader.ReadAsync(cts.Token));
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{User} did not receive message {id} within {timeout.TotalSeconds:F0} s; got [{string.Join(", ", received.Select(m => $"{m.Epoch}:{m.Sequence}"))}]. Connection: {History}");
        }

        return received;
    }

    private async Task<T> ReadAsync<T>(Channel<T> channel, string what)
    {
        using var cts = new CancellationTokenSource(Delivery);
        try
        {
            return await channel.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{User} received no {what} within {Delivery.TotalSeconds:F0} s.");
        }
    }

    private static Task Write<T>(Channel<T> channel, T item)
    {
        channel.Writer.TryWrite(item);
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => Chat.DisposeAsync();
}
