using System.Globalization;
using System.Numerics;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

/// <summary>A setting with a value the service cannot run with; its message names the setting and the rule.</summary>
public sealed class InvalidSettingException(string message) : InvalidOperationException(message);

/// <summary>Settings that hold an address another process listens at.</summary>
public static class HttpUrlSetting
{
    /// <summary>The setting's value as an absolute http(s) URL; any other value stops the service, naming the setting.</summary>
    public static Uri Read(string setting, string value, string example) =>
        Uri.TryCreate(value, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
            ? url
            : throw new InvalidSettingException($"{setting} is '{value}', which is not an absolute http(s) URL such as {example}.");
}

/// <summary>
/// A service that cannot start because of a setting stops with one line on standard error naming the setting and
/// what it must be, and exit code 1: not the runtime's "Unhandled exception" with an exception's name and a stack
/// trace. Settings are input like any other. Any other failure still ends the process as before: it is a defect
/// (and a background service's failure, which stops the host, ends it with exit code 1).
/// </summary>
public static partial class StartupErrors
{
    /// <summary>Builds the app, checks every setting validated at start, and runs it.</summary>
    public static int Run(Func<WebApplication> build)
    {
        WebApplication app;
        try
        {
            app = build();
            // The checks ValidateOnStart registers, run here rather than inside the host's start, which would
            // first log the failure with its stack trace.
            app.Services.GetService<IStartupValidator>()?.Validate();
            ListenAddresses.Check(app);
        }
        catch (Exception ex) when (Explain(ex) is { } problem)
        {
            Console.Error.WriteLine($"{AppDomain.CurrentDomain.FriendlyName} cannot start: {problem}");
            return 1;
        }

        // A background service that failed (or was cancelled by something other than the stop) stopped the host
        // (BackgroundServiceExceptionBehavior.StopHost): that is a crash, and the exit code must say so for whatever
        // restarts the process (the host itself exits with 0). Noted when the stop begins: a service that ended before
        // it, other than by completing, ended on its own; the stop then cancels the rest.
        var backgroundServices = app.Services.GetServices<IHostedService>().OfType<BackgroundService>().ToList();
        var crashed = false;
        app.Lifetime.ApplicationStopping.Register(() =>
            crashed = backgroundServices.Any(service => service.ExecuteTask is { IsCompleted: true, IsCompletedSuccessfully: false }));
        app.Run();
        return crashed ? 1 : 0;
    }

    /// <summary>The failure in our words when it is a setting's; null when it is anything else.</summary>
    private static string? Explain(Exception error) => error switch
    {
        InvalidSettingException setting => setting.Message,
        OptionsValidationException invalid => string.Join(" ", invalid.Failures.Select(failure => Reword(invalid.OptionsType, failure))),
        AggregateException { InnerExceptions: var inner } when inner.Select(Explain).ToList() is var explained && explained.All(e => e is not null) =>
            string.Join(" ", explained),
        InvalidOperationException conversion when FailedConversion().Match(conversion.Message) is { Success: true } match =>
            $"{match.Groups["key"].Value} is '{match.Groups["value"].Value}', which is not {Kind(match.Groups["type"].Value, match.Groups["value"].Value)}.",
        InvalidOperationException level when UnknownLogLevel().Match(level.Message) is { Success: true } match =>
            $"A log level under Logging (such as Logging:LogLevel:Default) is '{match.Groups["value"].Value}', which is not one of Trace, Debug, Information, Warning, Error, Critical and None.",
        _ => null,
    };

    // The validators' messages name the options class and the property path ("The field ChatOptions.Limits.X must
    // be between 1 and 2."); say the setting instead, as it is written in configuration ("Chat:Limits:X").
    private static string Reword(Type options, string failure)
    {
        var section = options.GetField("Section", BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue() as string ?? options.Name;
        var message = DataAnnotationsFailure().Match(failure) is { Success: true } annotation ? annotation.Groups["message"].Value
            : failure.IndexOf(": ", StringComparison.Ordinal) is var colon and > 0 && !failure[..colon].Contains(' ') ? failure[(colon + 2)..]
            : failure;
        var setting = (Match field) => $"{section}:{field.Groups["path"].Value.Replace('.', ':')}";
        message = RangeMessage().Replace(message, field => $"{setting(field)} must be");
        message = RequiredMessage().Replace(message, field => $"{setting(field)} is required");
        return message.EndsWith('.') ? message : message + ".";
    }

    // A whole number too large for the setting's type fails the same conversion as "1.5": say which it was.
    private static string Kind(string type, string value) => type switch
    {
        "System.Int32" when IsWholeNumber(value) => $"a whole number from {int.MinValue} to {int.MaxValue}",
        "System.Int64" when IsWholeNumber(value) => $"a whole number from {long.MinValue} to {long.MaxValue}",
        "System.Int32" or "System.Int64" => "a whole number",
        "System.Double" => "a number",
        "System.Boolean" => "true or false",
        "System.TimeSpan" => "a time span such as 00:00:30 (hours:minutes:seconds)",
        "System.Uri" => "a URL",
        _ => "a value of the kind it takes",
    };

    private static bool IsWholeNumber(string value) =>
        BigInteger.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _);

    [GeneratedRegex(@"^Failed to convert configuration value '(?<value>.*)' at '(?<key>[^']+)' to type '(?<type>[^']+)'\.$", RegexOptions.Singleline)]
    private static partial Regex FailedConversion();

    // How Microsoft.Extensions.Logging words a level it cannot read; it does not say where the value was.
    [GeneratedRegex(@"^Configuration value '(?<value>.*)' is not supported\.$", RegexOptions.Singleline)]
    private static partial Regex UnknownLogLevel();

    // ValidateDataAnnotations words a failure so; the source-generated validators give "Member: message".
    [GeneratedRegex(@"^DataAnnotation validation failed for '\w+' members: '[^']*' with the error: '(?<message>.*)'\.$", RegexOptions.Singleline)]
    private static partial Regex DataAnnotationsFailure();

    // The options class first when a source-generated validator words it ("ChatOptions.Limits.X"), not otherwise ("X").
    [GeneratedRegex(@"The field (?:\w+\.)?(?<path>[\w.]+) must be")]
    private static partial Regex RangeMessage();

    [GeneratedRegex(@"The (?:\w+\.)?(?<path>[\w.]+) field is required")]
    private static partial Regex RequiredMessage();
}
