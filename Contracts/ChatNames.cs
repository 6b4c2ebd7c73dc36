using System.Buffers;
using System.Globalization;
using System.Text;

namespace RealtimeDemo.Contracts;

/// <summary>The naming and text rules of the contract, shared by the gateway (which enforces them) and clients (which can check first).</summary>
public static class ChatNames
{
    public const int MaxRoomLength = 64;
    public const int MaxUserLength = 32;
    public const int MaxClientMessageIdLength = 64;
    public const int MinClientIdLength = 8;
    public const int MaxClientIdLength = 64;

    public const string RoomRule = "1-64 characters from A-Z, a-z, 0-9, '-', '_' and '.' (no spaces or accented letters), with at least one letter or digit";
    public const string UserRule = "1-32 characters from A-Z, a-z, 0-9, '-', '_' and '.' (no spaces or accented letters), with at least one letter or digit";
    public const string TextRule = "valid Unicode with at least one visible character, no control characters other than tab and line breaks, "
        + "and none of the bidirectional controls that reorder how text reads (U+202A-U+202E, U+2066-U+2069)";

    public const string ClientIdRule = "8-64 characters from A-Z, a-z, 0-9, '-' and '_'";

    private static readonly StringComparer NumericOrder = StringComparer.Create(CultureInfo.InvariantCulture, CompareOptions.NumericOrdering);

    /// <summary>
    /// The order a page lists names in: "room-2" before "room-10", as a person counts; names it counts as equal
    /// ("room-01", "room-1") in ordinal order, so a list never shuffles. Where the runtime has no ICU (invariant
    /// globalization) it is ordinal order, without an error.
    /// </summary>
    public static readonly IComparer<string> DisplayOrder = Comparer<string>.Create((a, b) =>
    {
        var counted = NumericOrder.Compare(a, b);
        return counted != 0 ? counted : string.CompareOrdinal(a, b);
    });

    public static bool IsValidRoom(string? room) => IsName(room, MaxRoomLength);

    /// <summary>A client's name for itself (<see cref="ChatHubPaths.ClientIdParameter"/>): random, so long enough not to meet another's.</summary>
    public static bool IsValidClientId(string? id) =>
        id is { Length: >= MinClientIdLength and <= MaxClientIdLength } && !id.AsSpan().ContainsAnyExcept(ClientIdCharacters);

    private static readonly SearchValues<char> ClientIdCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    public static bool IsValidUser(string? user) => IsName(user, MaxUserLength);

    private static readonly SearchValues<char> NameCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.");

    private static readonly SearchValues<char> LettersAndDigits =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");

    // "." and ".." are names of nothing, and would read as paths wherever a name becomes one. Checked on spans: the
    // gateway checks a room name on every hub call.
    private static bool IsName(string? name, int maxLength) =>
        !string.IsNullOrEmpty(name) && name.Length <= maxLength
        && !name.AsSpan().ContainsAnyExcept(NameCharacters)
        && name.AsSpan().ContainsAny(LettersAndDigits);

    /// <summary>
    /// True when the text would show something: valid UTF-16, at least one character that is neither white space
    /// nor invisible (format characters such as zero-width spaces and joiners, lone combining marks, blank
    /// "letters" such as the Hangul fillers), no control characters but tab, line feed and carriage return, and no
    /// bidirectional embedding, override or isolate: "evil\u202Egnp.exe" reads as "evilexe.png" (the marks a
    /// right-to-left writer needs, U+200E, U+200F and U+061C, reorder nothing and stay allowed).
    /// </summary>
    public static bool IsVisibleText(string text)
    {
        var visible = false;
        for (var rest = text.AsSpan(); !rest.IsEmpty;)
        {
            if (Rune.DecodeFromUtf16(rest, out var rune, out var length) != System.Buffers.OperationStatus.Done)
            {
                return false; // a lone surrogate
            }

            rest = rest[length..];
            var category = Rune.GetUnicodeCategory(rune);
            if ((category == UnicodeCategory.Control && rune.Value is not ('\t' or '\n' or '\r'))
                || rune.Value is (>= 0x202A and <= 0x202E) or (>= 0x2066 and <= 0x2069))
            {
                return false;
            }

            visible |= !Rune.IsWhiteSpace(rune) && !IsInvisible(rune, category);
        }

        return visible;
    }

    private static bool IsInvisible(Rune rune, UnicodeCategory category) =>
        category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark
            or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
            or UnicodeCategory.SpaceSeparator or UnicodeCategory.Surrogate or UnicodeCategory.OtherNotAssigned
        || rune.Value is 0x115F or 0x1160 or 0x3164 or 0xFFA0 or 0x2800 or 0x180E or 0x034F;
}
