using RealtimeDemo.Client;
using RealtimeDemo.Contracts;

namespace RealtimeDemo.Tests.Fast.Unit;

/// <summary>The contract's client rules for one room: each message once, in order, gaps filled, epochs followed.</summary>
public sealed class RoomPositionTests
{
    private static readonly RoomPosition AtThree = new("300-0", 3, Epoch: 7);

    [Theory]
    [InlineData(4, 7, "Next")]
    [InlineData(6, 7, "AfterGap")]
    [InlineData(3, 7, "Repeat")]
    [InlineData(1, 7, "Repeat")]
    [InlineData(1, 8, "OtherEpoch")]
    [InlineData(9, 6, "OtherEpoch")]
    public void An_arriving_message_is_shown_dropped_or_needs_a_fill_or_a_resync(long sequence, long epoch, string expected)
    {
        Assert.Equal(expected, AtThree.Judge(Message(sequence, epoch)).ToString());
    }

    [Fact]
    public async Task A_gap_fill_shows_only_what_is_new_in_the_epoch_and_moves_on_past_pages_it_already_had()
    {
        // The history holds, page by page (pages of 2): 2, 3 (seen), then 4 of an older epoch and 5, then 6.
        ChatMessage[] history = [Message(2, 7), Message(3, 7), Message(4, 6), Message(5, 7), Message(6, 7)];
        var position = (RoomPosition?)new RoomPosition("100-0", 3, 7);
        var asked = new List<string?>();
        var shown = new List<long>();

        await HistoryGapFiller.RunAsync(
            () => position,
            after =>
            {
                asked.Add(after);
                var start = after is null ? 0 : Array.FindIndex(history, m => m.Id == after) + 1;
                return Task.FromResult<IReadOnlyList<ChatMessage>>([.. history.Skip(start).Take(2)]);
            },
            message =>
            {
                shown.Add(message.Sequence);
                position = RoomPosition.After(message);
                return Task.CompletedTask;
            },
            pageSize: 2);

        Assert.Equal([5L, 6L], shown);
        Assert.Equal(["100-0", Message(3, 7).Id, Message(5, 7).Id], asked); // the first page, all seen, still moved the cursor
    }

    [Fact]
    public async Task A_page_its_texts_size_cut_short_is_not_the_end_of_a_gap_fill()
    {
        // Sixty texts of 4,000 characters: the gateway's pages end at 25 of them (HistoryPages.MaxTextLength).
        ChatMessage[] history = [.. Enumerable.Range(4, 60).Select(i => Message(i, 7) with { Text = new string('x', 4_000) })];
        var position = (RoomPosition?)new RoomPosition("100-0", 3, 7);
        var shown = new List<long>();

        await HistoryGapFiller.RunAsync(
            () => position,
            after =>
            {
                var start = Array.FindIndex(history, m => m.Id == after) + 1;
                var page = history.Skip(start).Take(200).ToList();
                return Task.FromResult<IReadOnlyList<ChatMessage>>([.. page.Take(HistoryPages.CountWithin(page.Select(m => m.Text.Length)))]);
            },
            message =>
            {
                shown.Add(message.Sequence);
                position = RoomPosition.After(message);
                return Task.CompletedTask;
            },
            pageSize: 200);

        Assert.Equal(Enumerable.Range(4, 60).Select(i => (long)i), shown); // stopped after the first 25 before
    }

    [Fact]
    public async Task A_gap_fill_stops_when_the_room_is_left()
    {
        var calls = 0;

        await HistoryGapFiller.RunAsync(() => null, _ => Task.FromResult<IReadOnlyList<ChatMessage>>([Message(1, 1)]), _ => Task.FromResult(++calls), pageSize: 1);

        Assert.Equal(0, calls);
    }

    private static ChatMessage Message(long sequence, long epoch) =>
        new($"{epoch * 1000 + sequence}-0", "lobby", "alice", $"text {sequence}", DateTimeOffset.UnixEpoch, $"c-{epoch}-{sequence}", sequence, epoch);
}
