using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Services;

/// <summary>
/// Settings are input: a service started with one it cannot run with stops at once with one line that names the
/// setting and the rule, and exit code 1; never the runtime's "Unhandled exception" with a stack trace.
/// </summary>
public sealed class BadSettingsTests
{
    private const string OpsKey = "an-ops-access-key-of-at-least-32-characters";
    private const string RedisExpected = "host:port, then options as ,name=value (such as localhost:6379,password=…,ssl=true)";

    public static TheoryData<string, string, string, string> Cases => new()
    {
        { "RealtimeGateway", "Chat__Limits__MessagesPerSecond", "abc", "Chat:Limits:MessagesPerSecond is 'abc', which is not a number." },
        { "RealtimeGateway", "Chat__Limits__MaxConnections", "1.5", "Chat:Limits:MaxConnections is '1.5', which is not a whole number." },
        { "RealtimeGateway", "Chat__Limits__MaxMessageBytes", "99999999999999",
            "Chat:Limits:MaxMessageBytes is '99999999999999', which is not a whole number from -2147483648 to 2147483647." },
        { "RealtimeGateway", "Chat__Limits__MaxMessageBytes", "--5", "Chat:Limits:MaxMessageBytes is '--5', which is not a whole number." },
        { "RealtimeGateway", "Chat__History__MaxAppendBatch", "0", "Chat:History:MaxAppendBatch must be between 1 and 1000." },
        { "RealtimeGateway", "Chat__Limits__MaxPageSize", "50", "Chat:Limits:MaxPageSize must be between 200 and 10000." },
        { "RealtimeGateway", "Chat__Limits__MaxTextLength", "20000",
            "Chat:Limits:MaxMessageBytes must be at least 121024 for Chat:Limits:MaxTextLength 20000 (6 bytes a character, as .NET clients escape non-ASCII text, and 1 KB for the rest of a send); it is 32768." },
        { "RealtimeGateway", "Chat__Limits__KeepAliveInterval", "00:01:00",
            "Chat:Limits:KeepAliveInterval must be between 00:00:01 and 00:00:15." },
        { "RealtimeGateway", "Auth__TokenLifetime", "00:00:01", "Auth:TokenLifetime must be between 00:01:00 and 7.00:00:00." },
        { "RealtimeGateway", "Auth__Audience", "", "Auth:Audience is required." },
        { "RealtimeGateway", "Ops__AccessKey", "short", "Ops:AccessKey must be at least 32 characters (the AppHost generates one)." },
        { "RealtimeGateway", "Telemetry__TraceSampleRatio", "2", "Telemetry:TraceSampleRatio must be a number from 0 to 1; it is '2'." },
        { "RealtimeGateway", "Chat__AllowedOrigins__0", "chat.example.com/app",
            "Chat:AllowedOrigins must list origins such as https://chat.example.com (http or https, a host, a port if not the default, nothing after); 'chat.example.com/app' is not one." },
        { "RealtimeGateway", "ConnectionStrings__redis", " ", "ConnectionStrings:redis is not set: run under the AppHost, which sets it, or set ConnectionStrings__redis (host:port)." },
        { "ChatWorker", "ConnectionStrings__redis", " ", "ConnectionStrings:redis is not set: run under the AppHost, which sets it, or set ConnectionStrings__redis (host:port)." },
        { "RealtimeGateway", "ConnectionStrings__redis", "localhost:6379,passwrd=x",
            $"ConnectionStrings:redis: its part 2 is not an option StackExchange.Redis reads (an unknown name, or a value of the wrong kind) ({RedisExpected})." },
        { "ChatWorker", "ConnectionStrings__redis", "localhost:6379,connectTimeout=soon",
            $"ConnectionStrings:redis: its part 2 is not an option StackExchange.Redis reads (an unknown name, or a value of the wrong kind) ({RedisExpected})." },
        { "RealtimeGateway", "ConnectionStrings__redis", "redis-0:6379,redis-1:63x9",
            $"ConnectionStrings:redis: its part 2 is not a server as host:port, with a port from 1 to 65535 ({RedisExpected})." },
        { "RealtimeGateway", "ConnectionStrings__redis", "::::,ssl=true",
            $"ConnectionStrings:redis: its part 1 is not a server as host:port, with a port from 1 to 65535 ({RedisExpected})." },
        { "RealtimeGateway", "ConnectionStrings__redis", "ssl=true", $"ConnectionStrings:redis names no Redis server ({RedisExpected})." },
        { "ChatWorker", "Worker__LagThreshold", "banana", "Worker:LagThreshold is 'banana', which is not a time span such as 00:00:30 (hours:minutes:seconds)." },
        { "ChatWorker", "Worker__MaxAttempts", "-1", "Worker:MaxAttempts must be between 1 and 100." },
        { "ChatWorker", "Worker__Moderation__BlockedWords__0", " ",
            "Worker:Moderation:BlockedWords:0 must be a word that begins and ends with a letter, digit or '_' (it is matched as a whole word, in any case); it is blank." },
        { "ChatWorker", "Worker__Moderation__BlockedWords__0", "c++",
            "Worker:Moderation:BlockedWords:0 must be a word that begins and ends with a letter, digit or '_' (it is matched as a whole word, in any case); 'c++' is not one." },
        { "ChatWorker", "Telemetry__Rooms__0", "bad room!",
            "Telemetry:Rooms must list room names (1-64 characters from A-Z, a-z, 0-9, '-', '_' and '.' (no spaces or accented letters), with at least one letter or digit); 'bad room!' is not one." },
        { "RealtimeGateway", "Telemetry__Rooms", "lobby,general",
            "Telemetry:Rooms is a list: set its items as Telemetry:Rooms:0, Telemetry:Rooms:1, … (Telemetry__Rooms__0=lobby in the environment), not one value." },
        { "WebFrontend", "Frontend__MessagesPerRoom", "5", "Frontend:MessagesPerRoom must be between 10 and 10000." },
        { "WebFrontend", "Gateway__Url", "not a url", "Gateway:Url is 'not a url', which is not an absolute http(s) URL such as http://localhost:5310." },
        { "WebFrontend", "Gateway__BrowserUrl", "garbage", "Gateway:BrowserUrl is 'garbage', which is not an absolute http(s) URL such as http://localhost:5310." },
        // With whole-number bounds the check converted the value to an int: this one overflowed (a stack trace), 0.6 passed.
        { "RealtimeGateway", "Chat__Limits__ItemsReadPerSecond", "1e309", "Chat:Limits:ItemsReadPerSecond must be between 1 and 10000000." },
        { "RealtimeGateway", "Chat__Limits__ItemsReadPerSecond", "0.6", "Chat:Limits:ItemsReadPerSecond must be between 1 and 10000000." },
        // What the configuration binder passed over without a word, leaving the default in force.
        { "RealtimeGateway", "Chat__AllowedOrigins", "https://chat.example.com",
            "Chat:AllowedOrigins is a list: set its items as Chat:AllowedOrigins:0, Chat:AllowedOrigins:1, … (Chat__AllowedOrigins__0=… in the environment), not one value." },
        { "ChatWorker", "Worker__Moderation__BlockedWords", "spam",
            "Worker:Moderation:BlockedWords is a list: set its items as Worker:Moderation:BlockedWords:0, Worker:Moderation:BlockedWords:1, … (Worker__Moderation__BlockedWords__0=… in the environment), not one value." },
        { "RealtimeGateway", "Chat__Limits", "abc",
            "Chat:Limits is a section, not one value: set the settings in it, such as Chat:Limits:MaxMessageBytes (Chat__Limits__MaxMessageBytes=… in the environment)." },
        { "RealtimeGateway", "Chat__Limits__MaxConnections__0", "5",
            "Chat:Limits:MaxConnections is one value: set Chat:Limits:MaxConnections (Chat__Limits__MaxConnections in the environment), not Chat:Limits:MaxConnections:0." },
        { "RealtimeGateway", "Auth__TokenRequests__PermitsPerMinit", "60",
            "Auth:TokenRequests:PermitsPerMinit is not a setting: Auth:TokenRequests has PermitsPerMinute, Burst." },
        { "ChatWorker", "Worker__Moderation__BlockedWords__first", "spam",
            "Worker:Moderation:BlockedWords:first is not an item of Worker:Moderation:BlockedWords: its items are Worker:Moderation:BlockedWords:0, Worker:Moderation:BlockedWords:1 and so on." },
        // Accepted at start, then a server error for every token request (or every page's settings).
        { "RealtimeGateway", "Auth__Authority", "http://idp.example.com/realms/chat",
            "Auth:Authority must be the identity provider's issuer as an https URL (http only for a test issuer, with Auth:RequireHttpsMetadata=false); it is 'http://idp.example.com/realms/chat'." },
        { "WebFrontend", "BrowserTelemetry__OtlpEndpoint", "garbage",
            "BrowserTelemetry:OtlpEndpoint is 'garbage', which is not an absolute http(s) URL such as http://localhost:4318." },
        { "WebFrontend", "Dashboard__Url", "localhost:15080",
            "Dashboard:Url is 'localhost:15080', which is not an absolute http(s) URL such as http://localhost:15080." },
        { "ChatWorker", "OTEL_EXPORTER_OTLP_ENDPOINT", "garbage",
            "OTEL_EXPORTER_OTLP_ENDPOINT is 'garbage', which is not an absolute http(s) URL such as http://localhost:4317." },
        { "WebFrontend", "Frontend__MessagesPerRoom", "2000",
            "Frontend:MessagesPerRoom (2000) cannot be more than Frontend:MaxMessagesPerRoom (1000), the most a room shows." },
        // The host's own settings, which Kestrel and logging reported with stack traces.
        { "RealtimeGateway", "Logging__LogLevel__Default", "verbose",
            "A log level under Logging (such as Logging:LogLevel:Default) is 'verbose', which is not one of Trace, Debug, Information, Warning, Error, Critical and None." },
        { "ChatWorker", "ASPNETCORE_URLS", "garbage",
            "ASPNETCORE_URLS lists 'garbage', which is not an address to listen at such as http://0.0.0.0:8080 (several are separated by ';')." },
        // Kestrel read the port that is not a number as part of the host name and listened at port 80, without a word.
        { "ChatWorker", "ASPNETCORE_URLS", "http://localhost:abc",
            "ASPNETCORE_URLS lists 'http://localhost:abc', which is not an address to listen at such as http://0.0.0.0:8080 (several are separated by ';')." },
        { "ChatWorker", "Kestrel__Endpoints__Web__Url", "http://localhost:abc",
            "Kestrel:Endpoints:Web:Url is 'http://localhost:abc', which is not an address to listen at such as http://0.0.0.0:8080." },
        { "RealtimeGateway", "Kestrel__Endpoints__Web__Url", "garbage",
            "Kestrel:Endpoints:Web:Url is 'garbage', which is not an address to listen at such as http://0.0.0.0:8080." },
        { "ChatWorker", "Kestrel__Endpoints__Web__Protocols", "Http1",
            "Kestrel:Endpoints:Web:Url is not set: each endpoint under Kestrel:Endpoints needs the address it listens at, such as http://0.0.0.0:8080." },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public Task A_service_with_a_bad_setting_stops_with_one_line_naming_it(string service, string setting, string value, string problem) =>
        StopsWithOneLine(service, setting, value, problem);

    [Theory]
    [InlineData("ASPNETCORE_URLS", "lists")]
    [InlineData("Kestrel__Endpoints__Web__Url", "is")]
    public async Task A_service_started_on_a_port_another_process_listens_at_stops_with_one_line_saying_so(string setting, string verb)
    {
        // As when a service is started twice by hand.
        using var other = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        other.Start();
        var port = ((System.Net.IPEndPoint)other.LocalEndpoint).Port;

        await StopsWithOneLine("RealtimeGateway", setting, $"http://127.0.0.1:{port}",
            $"{setting.Replace("__", ":")} {verb} http://127.0.0.1:{port}, and port {port} is in use by another process: stop what holds it, or give this service another port.");
    }

    [Fact]
    public async Task A_service_started_from_another_directory_reads_its_own_settings_file()
    {
        // The worker's appsettings.json lists blocked words (spam, scam); the second one is replaced here. Without that
        // file (read from the current directory alone, as it was) the first item would be missing, and moderation off.
        var elsewhere = Directory.CreateTempSubdirectory("realtimedemo-cwd-").FullName;
        try
        {
            await StopsWithOneLine("ChatWorker", "Worker__Moderation__BlockedWords__1", "c++",
                "Worker:Moderation:BlockedWords:1 must be a word that begins and ends with a letter, digit or '_' (it is matched as a whole word, in any case); 'c++' is not one.",
                elsewhere);
        }
        finally
        {
            Directory.Delete(elsewhere, recursive: true);
        }
    }

    [Fact]
    public Task A_bad_trace_sample_ratio_stops_a_service_that_has_traces_turned_off_too() =>
        // Else it waits, accepted, for the day traces are turned on.
        StopsWithOneLine("ChatWorker", "Telemetry__TraceSampleRatio", "1,5", "Telemetry:TraceSampleRatio must be a number from 0 to 1; it is '1,5'.",
            more: new() { ["Telemetry__Traces"] = "false" });

    // Without ASPNETCORE_URLS Kestrel listens at these ports; one that is not a number it passed over, listening at port 80.
    [Theory]
    [InlineData("ASPNETCORE_HTTP_PORTS", "abc")]
    [InlineData("ASPNETCORE_HTTPS_PORTS", "x;443")]
    public Task A_listen_port_that_is_not_a_number_stops_the_service_with_one_line(string setting, string ports) =>
        StopsWithOneLine("ChatWorker", setting, ports,
            $"{setting} lists '{ports.Split(';')[0]}', which is not a port number from 1 to 65535 (0 for any free one; several are separated by ';').",
            more: new() { ["ASPNETCORE_URLS"] = "" });

    private static async Task StopsWithOneLine(string service, string setting, string value, string problem, string? workingDirectory = null,
        Dictionary<string, string>? more = null)
    {
        await using var redis = await RedisServerProcess.StartAsync(TestContext.Current.CancellationToken);
        var environment = new Dictionary<string, string>
        {
            // Everything else as a bare run needs it.
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["ConnectionStrings__redis"] = redis.ConnectionString,
            ["Auth__SigningKey"] = GatewayCluster.SigningKey,
            ["Ops__AccessKey"] = OpsKey,
            ["Gateway__Url"] = "http://127.0.0.1:1",
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{FreePort.Next()}",
            [setting] = value,
        };
        foreach (var (name, also) in more ?? [])
        {
            environment[name] = also;
        }

        var run = await Command.RunAsync("dotnet", [Repository.ServiceAssembly(service)], workingDirectory ?? Path.Combine(Repository.Root, service),
            TestContext.Current.CancellationToken, environment, TimeSpan.FromSeconds(60));

        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"{service} cannot start: {problem}", run.Errors.Trim());
        // Nor anywhere in the log before it: no exception's name with its message, no stack frame.
        Assert.DoesNotContain("Exception:", run.Output + run.Errors, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Output + run.Errors, StringComparison.Ordinal);
    }
}
