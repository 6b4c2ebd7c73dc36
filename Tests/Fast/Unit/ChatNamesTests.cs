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
}
