using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;
using RealtimeDemo.Contracts;
using StackExchange.Redis;

namespace RealtimeDemo.ServerShared;

public static class ChatRedisClientExtensions
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
        builder.Services.AddOptions<ConfigurationOptions>().PostConfigure<ILoggerFactory>((options, loggers) =>
            options.LoggerFactory = new QuietReconnectTries(options.LoggerFactory ?? loggers));
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

    // Read here part by part, as the client will read it, so that a mistyped option or port stops the service with a
    // sentence instead of an exception at its first connection, a retry forever against an address that cannot
    // exist, or a server silently left out (the client drops a part it cannot read as a server). The sentence names
    // the part by its place, never by its text: a password with a comma in it would be cut into parts.
    private static void CheckConnectionString(string connectionString)
    {
        const string Expected = "host:port, then options as ,name=value (such as localhost:6379,password=…,ssl=true)";
        var setting = $"ConnectionStrings:{ConnectionNames.Redis}";
        var parts = connectionString.Split(',', StringSplitOptions.TrimEntries);
        var servers = 0;
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            if (part.Length == 0)
            {
                continue;
            }

            if (part.Contains('='))
            {
                try
                {
                    ConfigurationOptions.Parse($"localhost,{part}");
                }
                catch (ArgumentException)
                {
                    throw new InvalidSettingException(
                        $"{setting}: its part {i + 1} is not an option StackExchange.Redis reads (an unknown name, or a value of the wrong kind) ({Expected}).");
                }
            }
            else if (IsServer(part))
            {
                servers++;
            }
            else
            {
                throw new InvalidSettingException($"{setting}: its part {i + 1} is not a server as host:port, with a port from 1 to 65535 ({Expected}).");
            }
        }

        if (servers == 0)
        {
            throw new InvalidSettingException($"{setting} names no Redis server ({Expected}).");
        }
    }

    // Read by the client's own endpoint parser; a name it takes must still be one a host can have (it takes '::::').
    private static bool IsServer(string part)
    {
        try
        {
            return EndPointCollection.TryParse(part) switch
            {
                DnsEndPoint { Host: var host } => host.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_'),
                { } => true, // an IP address, or a Unix socket's path
                null => false,
            };
        }
        catch (ArgumentException)
        {
            return false; // a port out of range
        }
    }
}
