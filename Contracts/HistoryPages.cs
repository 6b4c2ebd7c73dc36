namespace RealtimeDemo.Contracts;

/// <summary>
/// How large one page of history (GetMessages, GetRecentMessages, GetOlderMessages) may be, and so how a client tells
/// the last page from one that only came short.
/// </summary>
public static class HistoryPages
{
    /// <summary>
    /// A page's texts total at most this many characters (UTF-16 code units), but for the message that reaches it,
    /// which is the page's last. Two hundred texts of 4,000 emoji came to 4.9 MB in one frame, past the 1 MiB a
    /// WebSocket library commonly takes by default; bounded so, a page of texts of up to 4,000 units stays under
    /// 0.8 MB (6 bytes a unit at most, escaped) — fixed by the contract, not a setting, as clients need it to page.
    /// </summary>
    public const int MaxTextLength = 100_000;

    /// <summary>
    /// Whether a page asked for with <paramref name="limit"/> ends the history on its side: it came short of the
    /// limit, and not because its texts reached <see cref="MaxTextLength"/> (then the next page may hold more).
    /// </summary>
    public static bool IsLast(IReadOnlyCollection<ChatMessage> page, int limit) => page.Count < limit && !ReachedTextLimit(page);

    /// <summary>Whether the page's texts reached <see cref="MaxTextLength"/>, which may have ended it early.</summary>
    public static bool ReachedTextLimit(IEnumerable<ChatMessage> page) => page.Sum(message => (long)message.Text.Length) >= MaxTextLength;

    /// <summary>How many of <paramref name="textLengths"/>, in reading order, make a page: up to and including the one whose text reaches the limit.</summary>
    public static int CountWithin(IEnumerable<int> textLengths)
    {
        var (count, total) = (0, 0L);
        foreach (var length in textLengths)
        {
            count++;
            total += length;
            if (total >= MaxTextLength)
            {
                break;
            }
        }

        return count;
    }
}
