using RealtimeDemo.Contracts;

namespace RealtimeDemo.Tests.Fast.Unit;

/// <summary>The room and user name rules every client and the gateway share.</summary>
public sealed class ChatNamesTests
{
    [Theory]
    [InlineData("lobby")]
    [InlineData("Room-2_b.c")]
    [InlineData("-9")]
    [InlineData("a")]
    public void Names_of_letters_digits_and_a_few_marks_are_rooms(string room) => Assert.True(ChatNames.IsValidRoom(room));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("-_.")]
    [InlineData("a b")]
    [InlineData("café")]
    [InlineData("a/b")]
    [InlineData("lobby\n")]
    public void Anything_else_is_not(string? room) => Assert.False(ChatNames.IsValidRoom(room));

    [Fact]
    public void Each_kind_of_name_has_its_length()
    {
        Assert.True(ChatNames.IsValidRoom(new string('r', ChatNames.MaxRoomLength)));
        Assert.False(ChatNames.IsValidRoom(new string('r', ChatNames.MaxRoomLength + 1)));
        Assert.True(ChatNames.IsValidUser(new string('u', ChatNames.MaxUserLength)));
        Assert.False(ChatNames.IsValidUser(new string('u', ChatNames.MaxUserLength + 1)));
    }

    [Theory]
    [InlineData("evil\u202Egnp.exe")] // right-to-left override: shown as "evilexe.png"
    [InlineData("pay \u202Dtlov\u202C now")] // left-to-right override, then its end
    [InlineData("a \u202Bb c\u202C")] // right-to-left embedding
    [InlineData("to \u2067alice 100\u2069")] // right-to-left isolate: reorders the words
    public void Text_that_reorders_how_it_reads_is_not_text(string text) => Assert.False(ChatNames.IsVisibleText(text));

    [Theory]
    [InlineData("שלום \u200Fworld")] // the marks a right-to-left writer uses reorder nothing
    [InlineData("abc\u200E123")]
    [InlineData("مرحبا\u061C!")]
    [InlineData("line one\r\nline two\tand a tab")]
    public void Right_to_left_writing_and_line_breaks_are_text(string text) => Assert.True(ChatNames.IsVisibleText(text));

    [Fact]
    public void Names_are_listed_as_a_person_counts_and_names_counted_alike_in_one_order() =>
        Assert.Equal(
            ["lobby", "room-01", "room-1", "room-2", "room-10", "Room-11"],
            new[] { "room-10", "Room-11", "room-2", "room-1", "lobby", "room-01" }.Order(ChatNames.DisplayOrder));
}
