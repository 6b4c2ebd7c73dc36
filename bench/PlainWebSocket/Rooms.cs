/// <summary>Room name → its members on this server.</summary>
internal sealed class Rooms
{
    private readonly Dictionary<string, HashSet<BareConnection>> _members = [];

    public void Join(string room, BareConnection connection)
    {
        lock (_members)
        {
            if (!_members.TryGetValue(room, out var members))
            {
                _members[room] = members = [];
            }

            members.Add(connection);
        }
    }

    public void Leave(string room, BareConnection connection)
    {
        lock (_members)
        {
            if (_members.TryGetValue(room, out var members) && members.Remove(connection) && members.Count == 0)
            {
                _members.Remove(room);
            }
        }
    }

    public BareConnection[] Members(string room)
    {
        lock (_members)
        {
            return _members.TryGetValue(room, out var members) ? [.. members] : [];
        }
    }
}
