using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The addresses a service listens at (Kestrel:Endpoints:*:Url; else ASPNETCORE_URLS or --urls; else the ports in
/// ASPNETCORE_HTTP_PORTS and ASPNETCORE_HTTPS_PORTS), checked before it starts: Kestrel reports one it cannot parse
/// or bind as "Hosting failed to start" with a stack trace, then the runtime's own, and one whose port is not a number
/// (http://localhost:abc) it reads as a host name and listens at port 80 instead, without a word. Running a service
/// twice on one port is the likeliest way to meet it.
/// </summary>
internal static class ListenAddresses
{
    private const string Setting = "ASPNETCORE_URLS";
    private const string Example = "such as http://0.0.0.0:8080";

    public static void Check(WebApplication app)
    {
        // Kestrel binds these instead of every other listen setting when there are any (it says so in a warning).
        var endpoints = app.Configuration.GetSection("Kestrel:Endpoints").GetChildren().ToList();
        if (endpoints.Count > 0)
        {
            foreach (var endpoint in endpoints)
            {
                var setting = $"Kestrel:Endpoints:{endpoint.Key}:Url";
                if (endpoint["Url"]?.Trim() is not { Length: > 0 } url)
                {
                    throw new InvalidSettingException($"{setting} is not set: each endpoint under Kestrel:Endpoints needs the address it listens at, {Example}.");
                }

                CheckAddress(url, $"{setting} is", $"which is not an address to listen at {Example}.");
            }

            return;
        }

        var urls = app.Configuration[WebHostDefaults.ServerUrlsKey];
        if (string.IsNullOrWhiteSpace(urls))
        {
            // Without addresses Kestrel listens on every interface at these ports (as .NET's container images set them).
            CheckPorts(app.Configuration[WebHostDefaults.HttpPortsKey], "ASPNETCORE_HTTP_PORTS");
            CheckPorts(app.Configuration[WebHostDefaults.HttpsPortsKey], "ASPNETCORE_HTTPS_PORTS");
            return;
        }

        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            CheckAddress(url, $"{Setting} lists", $"which is not an address to listen at {Example} (several are separated by ';').");
        }
    }

    private static void CheckAddress(string url, string named, string notAnAddress)
    {
        if (Parsed(url) is not { } address || (!address.IsUnixPipe && !IsHost(address.Host)))
        {
            throw new InvalidSettingException($"{named} '{url}', {notAnAddress}");
        }

        if (!address.IsUnixPipe && address.Port > 0 && WhyNotListen(HostAddress(address.Host), address.Port) is { } reason)
        {
            throw new InvalidSettingException($"{named} {url}, and port {address.Port} {reason}: stop what holds it, or give this service another port.");
        }
    }

    private static BindingAddress? Parsed(string url)
    {
        try
        {
            return BindingAddress.Parse(url);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    // The parser takes what it cannot read as a port ("localhost:abc") for part of the host.
    private static bool IsHost(string host) =>
        host is "*" or "+" || Uri.CheckHostName(host.Trim('[', ']')) != UriHostNameType.Unknown;

    // Kestrel passes over a port that is not a number without a word and listens at port 80 instead.
    private static void CheckPorts(string? ports, string setting)
    {
        foreach (var item in ports?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [])
        {
            if (!int.TryParse(item, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port > 65535)
            {
                throw new InvalidSettingException($"{setting} lists '{item}', which is not a port number from 1 to 65535 (0 for any free one; several are separated by ';').");
            }

            if (port > 0 && WhyNotListen(IPAddress.Any, port) is { } reason)
            {
                throw new InvalidSettingException($"{setting} lists {port}, and that port {reason}: stop what holds it, or give this service another port.");
            }
        }
    }

    // As Kestrel reads it: localhost is loopback, a host name other than an address is every interface.
    private static IPAddress HostAddress(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback
        : IPAddress.TryParse(host.Trim('[', ']'), out var ip) ? ip
        : IPAddress.Any;

    // A listener bound and let go at once. With SO_REUSEADDR, as Kestrel binds, so that connections of a process
    // that has just stopped (TIME_WAIT) do not count: only a socket that listens there does. Null: it can listen.
    private static string? WhyNotListen(IPAddress ip, int port)
    {
        try
        {
            using var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(new IPEndPoint(ip, port));
            socket.Listen();
            return null;
        }
        catch (SocketException error)
        {
            return error.SocketErrorCode switch
            {
                SocketError.AddressAlreadyInUse => "is in use by another process",
                SocketError.AccessDenied => "needs privileges this process does not have",
                _ => null, // anything else (no IPv6 here, no such interface, …) is Kestrel's to report as it does
            };
        }
    }
}
