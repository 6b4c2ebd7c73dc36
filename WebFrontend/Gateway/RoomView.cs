using RealtimeDemo.Contracts;

namespace RealtimeDemo.WebFrontend.Gateway;

/// <summary>
/// One joined room as the page shows it: its latest messages (at most <see cref="FrontendOptions.MessagesPerRoom"/>,
/// more when the user asks for older ones, never more than <see cref="FrontendOptions.MaxMessagesPerRoom"/>),
/// members, and this user's messages on their way. Updated from the connection's event loop and read by the
/// renderer, so every access takes its lock and reads return copies.
/// </summary>
public sealed class RoomView(string room, FrontendOptions options)
{
    private readonly Lock _gate = new();

    // Display order: epoch, then sequence (a storage reset starts the count again under a later epoch).
    private readonly SortedDictionary<(long Epoch, long Sequence), ChatMessage> _messages = [];
    private readonly HashSet<string> _members = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OutgoingMessage> _outgoing = new(StringComparer.Ordinal);
    private int _capacity = options.MessagesPerRoom;
    // A break (the storage lost the room, messages no longer kept) is announced just before the first message after
    // it (ChatClient): it waits here for that message, then stays with it, and goes when the message drops off.
    private readonly List<RoomNotice> _pending = [];
    private readonly Dictionary<(long Epoch, long Sequence), RoomNotice[]> _notices = [];

    public string Room { get; } = room;

    public IReadOnlyList<ChatMessage> Messages
    {
        get
        {
            lock (_gate)
            {
                return [.. _messages.Values];
            }
        }
    }

    /// <summary>The oldest message shown, to ask for what came before it; null when none is shown.</summary>
    public string? OldestId
    {
        get
        {
            lock (_gate)
            {
                return _messages.Count > 0 ? _messages.First().Value.Id : null;
            }
        }
    }

    /// <summary>Whether asking for older messages may bring some: a page came back full or messages dropped off, and there is room for more.</summary>
    public bool MayHaveOlder { get; private set; }

    /// <summary>The breaks in the room's story shown just before a message: where the gap is. Bounded with the messages.</summary>
    public IReadOnlyList<RoomNotice> NoticesBefore(ChatMessage message)
    {
        lock (_gate)
        {
            return _notices.TryGetValue((message.Epoch, message.Sequence), out var notices) ? notices : [];
        }
    }

    /// <summary>Breaks announced that no message has followed yet: shown after the last message.</summary>
    public IReadOnlyList<RoomNotice> PendingNotices
    {
        get
        {
            lock (_gate)
            {
                return [.. _pending];
            }
        }
    }

    public IReadOnlyList<string> Members
    {
        get
        {
            lock (_gate)
            {
                return [.. _members.Order(ChatNames.DisplayOrder)];
            }
        }
    }

    /// <summary>This user's messages not yet seen back from the room (sending, acknowledged, or failed).</summary>
    public IReadOnlyList<OutgoingMessage> Outgoing
    {
        get
        {
            lock (_gate)
            {
                return [.. _outgoing.Values];
            }
        }
    }

    /// <summary>Adds a message once (history and live deliveries overlap), retires the matching outgoing one, and drops the oldest past the capacity.</summary>
    public void Add(ChatMessage message)
    {
        lock (_gate)
        {
            if (_messages.TryAdd((message.Epoch, message.Sequence), message) && _pending.Count > 0)
            {
                _notices[(message.Epoch, message.Sequence)] = [.. _pending];
                _pending.Clear();
            }

            _outgoing.Remove(message.ClientMessageId);
            while (_messages.Count > _capacity)
            {
                DropOldest();
                MayHaveOlder = true;
            }
        }
    }

    /// <summary>
    /// The room's recent history when it opens, asked for with one message more than <paramref name="pageSize"/>
    /// (oldest first): that one, when it came, is not shown, and says there is more before; so does a page its
    /// texts' size cut short (<see cref="HistoryPages"/>).
    /// </summary>
    public void Opened(IReadOnlyList<ChatMessage> history, int pageSize)
    {
        var older = history.Count > pageSize || HistoryPages.ReachedTextLimit(history);
        foreach (var message in older ? history.Skip(history.Count - pageSize) : history)
        {
            Add(message);
        }

        MayHaveOlder |= older;
    }

    /// <summary>
    /// Adds a page of older messages, asked for as <see cref="Opened"/> asks (one more than shown), making room for
    /// them up to the hard limit.
    /// </summary>
    public void AddOlder(IReadOnlyList<ChatMessage> page, int pageSize)
    {
        var older = page.Count > pageSize || HistoryPages.ReachedTextLimit(page);
        var shown = older ? page.Skip(page.Count - pageSize).ToList() : page;
        lock (_gate)
        {
            _capacity = Math.Min(options.MaxMessagesPerRoom, _capacity + shown.Count);
            foreach (var message in shown)
            {
                _messages.TryAdd((message.Epoch, message.Sequence), message);
            }

            while (_messages.Count > _capacity)
            {
                DropOldest();
            }

            MayHaveOlder = older && _capacity < options.MaxMessagesPerRoom;
        }
    }

    /// <summary>The storage lost the room's earlier messages: what follows is numbered anew.</summary>
    public void HistoryReset() => Announce(new RoomNotice(RoomNoticeKind.HistoryReset, 0));

    /// <summary>Messages sent while the page was away that the room no longer keeps: the next message comes after them.</summary>
    public void Missed(long count) => Announce(new RoomNotice(RoomNoticeKind.MessagesMissed, count));

    private void Announce(RoomNotice notice)
    {
        lock (_gate)
        {
            // One gap announced twice before its message (a rejoin and a resync) is one notice.
            if (_pending.Count < MaxPendingNotices && !_pending.Contains(notice))
            {
                _pending.Add(notice);
            }
        }
    }

    private const int MaxPendingNotices = 4;

    private void DropOldest()
    {
        var oldest = _messages.First().Key;
        _messages.Remove(oldest);
        _notices.Remove(oldest);
    }

    /// <summary>
    /// As many messages on their way as a tab keeps (<see cref="FrontendOptions.OutgoingKept"/>), none of them stored:
    /// a new one is not taken until one is stored, retried into place or taken back, so the list stays bounded.
    /// </summary>
    public bool OutgoingFull
    {
        get
        {
            lock (_gate)
            {
                return _outgoing.Count >= options.OutgoingKept && !_outgoing.Values.Any(m => m.State == OutgoingState.Acknowledged);
            }
        }
    }

    public void Track(OutgoingMessage message)
    {
        lock (_gate)
        {
            _outgoing[message.ClientMessageId] = message;
            // Acknowledged ones normally leave when the room echoes them; keep failed and sending ones first.
            while (_outgoing.Count > options.OutgoingKept
                && _outgoing.Values.FirstOrDefault(m => m.State == OutgoingState.Acknowledged) is { } stale)
            {
                _outgoing.Remove(stale.ClientMessageId);
            }
        }
    }

    /// <summary>Drops a refused message's line, its text going back into the box to be mended; false if it had gone already.</summary>
    public bool Forget(OutgoingMessage message)
    {
        lock (_gate)
        {
            return _outgoing.Remove(message.ClientMessageId);
        }
    }

    /// <summary>The room's members as the gateway lists them now, replacing what the page had (it may have missed a leave).</summary>
    public void SetMembers(IEnumerable<string> users)
    {
        lock (_gate)
        {
            _members.Clear();
            foreach (var user in users)
            {
                MemberJoined(user);
            }
        }
    }

    public void MemberJoined(string user)
    {
        lock (_gate)
        {
            if (_members.Count < options.MembersShown)
            {
                _members.Add(user);
            }
        }
    }

    public void MemberLeft(string user)
    {
        lock (_gate)
        {
            _members.Remove(user);
        }
    }

    public void Moderated(string messageId, string reason)
    {
        lock (_gate)
        {
            var hit = _messages.FirstOrDefault(m => m.Value.Id == messageId);
            if (hit.Value is not null)
            {
                _messages[hit.Key] = hit.Value with { Moderation = reason };
            }
        }
    }
}

/// <summary>A message this user sent, and how far it got.</summary>
public sealed class OutgoingMessage(string clientMessageId, string text)
{
    public string ClientMessageId { get; } = clientMessageId;

    public string Text { get; } = text;

    public OutgoingState State { get; private set; }

    /// <summary>When it did not go through, the line the page shows: "failed: …", or "not confirmed: …" when it may still be stored.</summary>
    public string? Error { get; private set; }

    public string? MessageId { get; private set; }

    /// <summary>
    /// Refused by the gateway, and no try of it may have been stored: its text may be taken back to be mended and sent
    /// as a new message (a text too long, a character not allowed), which Retry, sending the same text, never would.
    /// </summary>
    public bool Editable => State == OutgoingState.Failed && _refused && !_mayBeStored;

    private bool _refused;
    private bool _mayBeStored; // once a try may have been stored, it stays so: only Retry, under the same id, is safe

    public void Sending() => (State, Error) = (OutgoingState.Sending, null);

    public void Acknowledged(string messageId) => (State, MessageId) = (OutgoingState.Acknowledged, messageId);

    /// <param name="refused">The gateway answered no (rather than the call going unanswered).</param>
    /// <param name="mayBeStored">This try may still have been stored (a break after sending it, storage that timed out).</param>
    public void Failed(string error, bool refused, bool mayBeStored)
    {
        (State, Error, _refused) = (OutgoingState.Failed, error, refused);
        _mayBeStored |= mayBeStored;
    }
}

public enum OutgoingState
{
    Sending,
    Acknowledged,
    Failed,
}

public enum RoomNoticeKind
{
    HistoryReset,
    MessagesMissed,
}

/// <summary>A break in a room's story; <see cref="Count"/> is the number of messages missed.</summary>
public sealed record RoomNotice(RoomNoticeKind Kind, long Count);
