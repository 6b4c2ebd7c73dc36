using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Trace;
using RealtimeDemo.Contracts;
using StackExchange.Redis;

namespace RealtimeDemo.ServerShared;

public static partial class ChatRedisClientExtensions
{
    /// <summary>
    /// Redis through Aspire's client integration (connection string, health check, reconnects), a CLIENT span per
    /// Redis command, and the check that notices when it lost its data. The gateway and the worker share this one
    /// connection setup.
    /// </summary>
    public static IHostApplicationBuilder AddChatRedisClient(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString(ConnectionNames.Redis);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidSettingException(
                $"ConnectionStrings:{ConnectionNames.Redis} is not set: run under the AppHost, which sets it, or set ConnectionStrings__{ConnectionNames.Redis} (host:port).");
        }

        CheckConnectionString(connectionString);

        var traced = !builder.Configuration.GetValue<bool>(RealtimeTelemetry.RedisTracingOffSetting);

        // StackExchange.Redis's default socket manager runs its own pool of dedicated threads; on a process
        // sized to one or two cores they cost a third of its CPU per message (bench/, "Top costs") for no gain.
        // Aspire's copy of the Redis instrumentation turns the profiled commands into spans every 10 s, in one burst
        // that holds up deliveries on a busy core. Its own package drains every 100 ms while commands come (every
        // second at most): a lower delivery p99 in every repeat at W1 and W4 for the same CPU (bench/findings.md,
        // "Redis spans"). Measured without the three timing events (enqueued, sent, received) each span would
        // carry: its duration stays.
        builder.AddRedisClient(ConnectionNames.Redis,
            configureSettings: settings => settings.DisableTracing = true,
            configureOptions: options => options.SocketManager = SocketManager.ThreadPool);
        if (traced)
        {
            builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing.AddRedisInstrumentation(redis =>
            {
                redis.FlushInterval = TimeSpan.FromSeconds(1);
                redis.EnrichActivityWithTimingEvents = false;
            }));
        }

        builder.Services.AddSingleton<StorageGeneration>();
        return builder;
    }

    // Read here as the client will read it, so that a mistyped option or port stops the service with a sentence
    // instead of an exception at its first connection (or a retry forever against an address that cannot exist).
    private static void CheckConnectionString(string connectionString)
    {
        const string Expected = "host:port, then options as ,name=value (such as localhost:6379,password=…,ssl=true)";
        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(connectionString);
        }
        catch (ArgumentException unreadable)
        {
            // The client's reason names the option and, for a number or a flag, the value (never a password); its
            // first line without the parameter's name, which repeats the option.
            var reason = ParameterSuffix().Replace(unreadable.Message.Split('\n')[0], "").Trim();
            throw new InvalidSettingException($"ConnectionStrings:{ConnectionNames.Redis} is not a Redis connection string ({Expected}): {reason}");
        }

        if (options.EndPoints.Count == 0)
        {
            throw new InvalidSettingException($"ConnectionStrings:{ConnectionNames.Redis} names no Redis server ({Expected}).");
        }

        if (options.EndPoints.FirstOrDefault(endpoint => endpoint is DnsEndPoint { Host: var host } && Uri.CheckHostName(host) == UriHostNameType.Unknown) is DnsEndPoint bad)
        {
            throw new InvalidSettingException($"ConnectionStrings:{ConnectionNames.Redis} names '{bad.Host}', which is not a host name or address ({Expected}).");
        }
    }

    [GeneratedRegex(@"\s*\(Parameter '[^']*'\)")]
    private static partial Regex ParameterSuffix();
}
