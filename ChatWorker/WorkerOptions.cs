using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace RealtimeDemo.ChatWorker;

/// <summary>How the worker consumes the message stream; section "Worker". Checked at start-up.</summary>
public sealed class WorkerOptions
{
    public const string Section = "Worker";

    /// <summary>Entries read at once.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 100;

    /// <summary>How long one read waits for new entries (also the longest a shutdown waits for it).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:00:30")]
    public TimeSpan BlockTime { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>An entry delivered but not acknowledged for this long (its worker died, or it failed) is taken over.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan ClaimIdleTime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Failed attempts after which an entry goes to the dead-letter stream.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>The worker reports unhealthy when its oldest unprocessed entry is older than this.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan LagThreshold { get; set; } = TimeSpan.FromSeconds(30);

    [Required]
    public ModerationOptions Moderation { get; set; } = new();
}

public sealed class ModerationOptions
{
    /// <summary>Words (whole words, any case) that get a message moderated.</summary>
    public string[] BlockedWords { get; set; } = [];
}

[OptionsValidator]
internal sealed partial class WorkerOptionsValidator : IValidateOptions<WorkerOptions>;

/// <summary>
/// A blocked word is matched as a whole word (between \b and \b): a blank one would hide every message, and one that
/// begins or ends with what cannot border a word ("c++") could never match.
/// </summary>
internal sealed class BlockedWordsValidator : IValidateOptions<WorkerOptions>
{
    public ValidateOptionsResult Validate(string? name, WorkerOptions options)
    {
        var words = options.Moderation.BlockedWords;
        var bad = Array.FindIndex(words, word => string.IsNullOrWhiteSpace(word)
            || !System.Text.RegularExpressions.Regex.IsMatch(word, $@"\b{System.Text.RegularExpressions.Regex.Escape(word)}\b")); // the rule it is matched by
        return bad < 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{WorkerOptions.Section}:Moderation:BlockedWords:{bad} must be a word that begins and ends with a letter, digit or '_' (it is matched as a whole word, in any case); " +
                (string.IsNullOrWhiteSpace(words[bad]) ? "it is blank." : $"'{words[bad]}' is not one."));
    }
}
