using RealtimeDemo.Contracts;

namespace RealtimeDemo.Client;

/// <summary>Where one room stands for this client: the epoch it counts in and the last message it has shown.</summary>
internal readonly record struct RoomPosition(string? MessageId, long Sequence, long Epoch)
{
    /// <summary>The contract's rule for an arriving message of this room.</summary>
    public Arrival Judge(ChatMessage message) =>
        message.Epoch != Epoch ? Arrival.OtherEpoch
        : message.Sequence <= Sequence ? Arrival.Repeat
        : message.Sequence == Sequence + 1 ? Arrival.Next
        : Arrival.AfterGap;

    /// <summary>Whether the message comes after what was shown, in the same epoch (so it is to be shown).</summary>
    public bool IsBehind(ChatMessage message) => message.Epoch == Epoch && message.Sequence > Sequence;

    public static RoomPosition After(ChatMessage message) => new(message.Id, message.Sequence, message.Epoch);
}

internal enum Arrival
{
    /// <summary>The next one: show it.</summary>
    Next,

    /// <summary>Newer than the next: fill the gap from the history first.</summary>
    AfterGap,

    /// <summary>Already shown (deliveries can repeat): drop it.</summary>
    Repeat,

    /// <summary>Of another epoch: ask the room which one it is in now.</summary>
    OtherEpoch,
}

/// <summary>
/// Filling a room's gap from its history, page by page, showing what comes after the room's position. The cursor
/// moves on with every page, even one whose messages were all shown already, so a fill always ends.
/// </summary>
internal static class HistoryGapFiller
{
    /// <param name="position">The room's position now (it moves as messages are shown); null once the room is left.</param>
    /// <param name="page">Up to <paramref name="pageSize"/> stored messages after an id (null: from the oldest kept).</param>
    /// <param name="show">Shows one message (and moves the position past it).</param>
    public static async Task RunAsync(Func<RoomPosition?> position, Func<string?, Task<IReadOnlyList<ChatMessage>>> page, Func<ChatMessage, Task> show, int pageSize)
    {
        var cursor = position()?.MessageId;
        while (position() is not null)
        {
            var messages = await page(cursor);
            foreach (var message in messages)
            {
                if (position() is { } now && now.IsBehind(message))
                {
                    await show(message);
                }
            }

            if (HistoryPages.IsLast(messages, pageSize))
            {
                return;
            }

            cursor = messages[^1].Id;
        }
    }
}
