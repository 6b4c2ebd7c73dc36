using Microsoft.Extensions.Hosting;
using RealtimeDemo.Contracts;
namespace RealtimeDemo.ServerShared;

/// <summary>
/// How a room appears in metric attributes and span names: well-known rooms by name ("room/lobby"), every
/// other room as "room/{name}", so user-made room names never multiply metric series.
/// Configured with Telemetry:Rooms (default: lobby).
/// </summary>
public sealed class RoomTemplate(IEnumerable<string> wellKnownRooms)
{
    public const string Setting = "Telemetry:Rooms";
    public const string AnyRoom = "room/{name}";

    private readonly Dictionary<string, string> _wellKnown =
        wellKnownRooms.Distinct(StringComparer.Ordinal).ToDictionary(r => r, r => $"room/{r}", StringComparer.Ordinal);

    public static RoomTemplate Default { get; } = new(["lobby"]);

    /// <summary>The rooms Telemetry:Rooms lists; a name no room can have is a mistake that would never match, so it stops the service.</summary>
    public static RoomTemplate FromConfiguration(Microsoft.Extensions.Configuration.IConfiguration configuration)
    {
        var section = configuration.GetSection(Setting);
        if (section.Value is not null)
        {
            throw new InvalidSettingException(SettingsShape.ListSentence(Setting, "lobby"));
        }

        var rooms = section.GetChildren().Select(c => c.Value).OfType<string>().ToList();
        if (rooms.FirstOrDefault(room => !ChatNames.IsValidRoom(room)) is { } bad)
        {
            throw new InvalidSettingException($"{Setting} must list room names ({ChatNames.RoomRule}); '{bad}' is not one.");
        }

        return new(rooms.DefaultIfEmpty("lobby"));
    }

    /// <summary>Every template a room can map to: the well-known rooms' and <see cref="AnyRoom"/>.</summary>
    public IEnumerable<string> Templates => _wellKnown.Values.Append(AnyRoom);

    public string For(string? room) => room is not null && _wellKnown.TryGetValue(room, out var template) ? template : AnyRoom;
}
