using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The addresses a service listens at (ASPNETCORE_URLS or --urls; else the ports in ASPNETCORE_HTTP_PORTS and
/// ASPNETCORE_HTTPS_PORTS), checked before it starts: Kestrel reports one it
/// cannot parse or bind as "Hosting failed to start" with a stack trace, then the runtime's own. Running a service
/// twice on one port is the likeliest way to meet it.
/// </summary>
internal static class ListenAddresses
{
    private const string Setting = "ASPNETCORE_URLS";

    public static void Check(WebApplication app)
    {
        var urls = app.Configuration[WebHostDefaults.ServerUrlsKey];
        if (string.IsNullOrWhiteSpace(urls))
        {
            // Without addresses Kestrel listens on every interface at these ports (as .NET's container images set them).
            CheckPorts(app.Configuration[WebHostDefaults.HttpPortsKey], "ASPNETCORE_HTTP_PORTS");
            CheckPorts(app.Configuration[WebHostDefaults.HttpsPortsKey], "ASPNETCORE_HTTPS_PORTS");
            return;
        }

        foreach (var url in urls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [])
        {
            BindingAddress address;
            try
            {
                address = BindingAddress.Parse(url);
            }
            catch (FormatException)
            {
                throw new InvalidSettingException($"{Setting} lists '{url}', which is not an address to listen at such as http://0.0.0.0:8080 (several are separated by ';').");
            }

            if (!address.IsUnixPipe && address.Port > 0 && WhyNotListen(HostAddress(address.Host), address.Port) is { } reason)
            {
                throw new InvalidSettingException($"{Setting} lists {url}, and port {address.Port} {reason}: stop what holds it, or give this service another port.");
            }
        }
    }

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
