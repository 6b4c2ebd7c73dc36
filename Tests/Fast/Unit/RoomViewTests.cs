using RealtimeDemo.Contracts;
using RealtimeDemo.WebFrontend.Gateway;

namespace RealtimeDemo.Tests.Fast.Unit;

/// <summary>A browser tab's room keeps a bounded window of messages, in order, each once, whatever the traffic.</summary>
public sealed class RoomViewTests
{
    private static readonly FrontendOptions Options = new() { MessagesPerRoom = 20, MaxMessagesPerRoom = 50 };

    [Fact]
    public void A_room_keeps_its_latest_messages_only_whatever_arrives()
    {
        var view = new RoomView("lobby", Options);

        foreach (var message in Messages(1, 1000))
        {
            view.Add(message);
        }

        Assert.Equal(Enumerable.Range(981, 20).Select(i => (long)i), view.Messages.Select(m => m.Sequence));
        Assert.True(view.MayHaveOlder);
        Assert.Equal(Id(981), view.OldestId);
    }

    // Pages are asked for with one message more than shown (ChatSession): the extra one says there is more before.
    [Fact]
    public void Older_pages_make_room_up_to_the_hard_limit_and_say_when_there_is_no_more()
    {
        var view = new RoomView("lobby", Options);
        view.Opened(Messages(980, 1000), pageSize: 20);
        Assert.Equal(Id(981), view.OldestId);
        Assert.True(view.MayHaveOlder);

        view.AddOlder(Messages(960, 980), pageSize: 20);
        Assert.Equal(40, view.Messages.Count);
        Assert.Equal(961, view.Messages[0].Sequence);
        Assert.True(view.MayHaveOlder);

        view.AddOlder(Messages(940, 960), pageSize: 20);
        Assert.Equal(50, view.Messages.Count); // the hard limit
        Assert.Equal(951, view.Messages[0].Sequence);
        Assert.False(view.MayHaveOlder);
    }

    [Fact]
    public void A_room_of_exactly_a_page_has_nothing_older_to_offer_nor_does_the_page_that_reaches_its_first_message()
    {
        var whole = new RoomView("lobby", Options);
        whole.Opened(Messages(1, 20), pageSize: 20);
        Assert.False(whole.MayHaveOlder);

        var view = new RoomView("lobby", Options);
        view.Opened(Messages(20, 40), pageSize: 20);
        Assert.True(view.MayHaveOlder);
        view.AddOlder(Messages(1, 20), pageSize: 20);
        Assert.Equal(40, view.Messages.Count);
        Assert.False(view.MayHaveOlder);
    }

    [Fact]
    public void A_page_its_texts_size_cut_short_still_offers_older_messages()
    {
        // Texts of 4,000 characters: the history's pages end at 25 of them (HistoryPages.MaxTextLength).
        static IReadOnlyList<ChatMessage> Long(IReadOnlyList<ChatMessage> page) => [.. page.Select(m => m with { Text = new string('x', 4_000) })];
        var view = new RoomView("lobby", new FrontendOptions { MessagesPerRoom = 30, MaxMessagesPerRoom = 100 });

        view.Opened(Long(Messages(76, 100)), pageSize: 30);
        Assert.Equal(25, view.Messages.Count);
        Assert.True(view.MayHaveOlder); // said there was nothing older before

        view.AddOlder(Long(Messages(51, 75)), pageSize: 30);
        Assert.True(view.MayHaveOlder);
    }

    [Fact]
    public void Repeats_show_once_and_a_new_epoch_follows_the_old_one()
    {
        var view = new RoomView("lobby", Options);
        foreach (var message in Messages(1, 5).Concat(Messages(3, 5)))
        {
            view.Add(message);
        }

        view.HistoryReset();
        foreach (var message in Messages(1, 2, epoch: 2))
        {
            view.Add(message);
        }

        Assert.Equal([(1L, 1L), (1, 2), (1, 3), (1, 4), (1, 5), (2, 1), (2, 2)], view.Messages.Select(m => (m.Epoch, m.Sequence)));
        Assert.Equal([(2L, 1L)], NoticeAnchors(view, RoomNoticeKind.HistoryReset));
    }

    // The notices sat at the top of the room, far from the gap they were about.
    [Fact]
    public void A_break_is_shown_just_before_the_first_message_after_it_and_goes_when_that_message_drops_off()
    {
        var view = new RoomView("lobby", Options);
        view.Opened(Messages(1, 5), pageSize: 20);
        view.Missed(7);
        Assert.Equal([new RoomNotice(RoomNoticeKind.MessagesMissed, 7)], view.PendingNotices); // nothing followed yet: shown last

        foreach (var message in Messages(13, 14))
        {
            view.Add(message);
        }

        Assert.Empty(view.PendingNotices);
        Assert.Equal([(1L, 13L)], NoticeAnchors(view, RoomNoticeKind.MessagesMissed));
        Assert.Equal(7, view.NoticesBefore(view.Messages.Single(m => m.Sequence == 13)).Single().Count);

        foreach (var message in Messages(15, 40))
        {
            view.Add(message);
        }

        Assert.Empty(NoticeAnchors(view, RoomNoticeKind.MessagesMissed)); // 13 dropped off the top, and its notice with it
    }

    private static IEnumerable<(long, long)> NoticeAnchors(RoomView view, RoomNoticeKind kind) =>
        view.Messages.Where(m => view.NoticesBefore(m).Any(n => n.Kind == kind)).Select(m => (m.Epoch, m.Sequence));

    [Fact]
    public void A_room_that_opens_with_less_than_a_page_has_nothing_older_to_offer()
    {
        var view = new RoomView("lobby", Options);

        view.Opened(Messages(1, 6), pageSize: 50);

        Assert.False(view.MayHaveOlder);
    }

    // Read again after a reconnect: whoever left while the connection was down is gone from the list.
    [Fact]
    public void Members_read_again_replace_the_list_the_page_had()
    {
        var view = new RoomView("lobby", Options);
        view.SetMembers(["alice", "bob", "carol"]);

        view.SetMembers(["alice", "erin"]);

        Assert.Equal(["alice", "erin"], view.Members);
    }

    // A tab sending into a broken connection kept every failed message: the list grew with each one sent.
    [Fact]
    public void Messages_on_their_way_are_bounded_and_a_stored_one_makes_room_first()
    {
        var view = new RoomView("lobby", new FrontendOptions { OutgoingKept = 3 });
        var sent = Enumerable.Range(1, 3).Select(i => new OutgoingMessage($"c-{i}", $"text {i}")).ToList();
        foreach (var message in sent)
        {
            view.Track(message);
            message.Failed("failed: not connected", refused: false, mayBeStored: false);
        }

        Assert.True(view.OutgoingFull); // three failed: a fourth is not taken

        sent[0].Acknowledged("1-0");
        Assert.False(view.OutgoingFull); // a stored one goes to make room
        view.Track(new OutgoingMessage("c-4", "text 4"));
        Assert.Equal(["c-2", "c-3", "c-4"], view.Outgoing.Select(m => m.ClientMessageId));
        Assert.True(view.OutgoingFull);

        sent[1].Failed("not sent: too long", refused: true, mayBeStored: false);
        Assert.True(sent[1].Editable);
        view.Forget(sent[1]); // taken back to be mended
        Assert.False(view.OutgoingFull);
    }

    [Fact]
    public void A_refused_message_that_an_earlier_try_may_have_stored_is_not_offered_for_editing()
    {
        var message = new OutgoingMessage("c-1", "hello");

        message.Failed("failed: the connection broke before the gateway answered", refused: false, mayBeStored: true);
        message.Sending();
        message.Failed("not sent: too many sends", refused: true, mayBeStored: false);

        Assert.False(message.Editable); // the first try may be stored: only Retry, under the same id, is safe
    }

    private static IReadOnlyList<ChatMessage> Messages(int from, int to, long epoch = 1) =>
        [.. Enumerable.Range(from, to - from + 1).Select(i => new ChatMessage(Id(i, epoch), "lobby", "alice", $"text {i}", DateTimeOffset.UnixEpoch, $"c-{epoch}-{i}", i, epoch))];

    private static string Id(int sequence, long epoch = 1) => $"{epoch * 1_000_000 + sequence}-0";
}
