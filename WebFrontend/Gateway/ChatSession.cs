using RealtimeDemo.Contracts;
using RealtimeDemo.Contracts.Client;

namespace RealtimeDemo.WebFrontend.Gateway;

/// <summary>
/// This circuit's sign-in and its one connection to the gateway, disposed with the circuit. The token is
/// renewed before it expires: the gateway closes a connection whose token has expired, and the reconnect
/// asks for a fresh one.
/// </summary>
public sealed class ChatSession(GatewayAddress gateway, GatewayTokens tokens, TimeProvider time) : IAsyncDisposable
{
    private static readonly TimeSpan RenewBefore = TimeSpan.FromMinutes(2);

    private TokenResponse? _token;

    public string? UserName { get; private set; }

    public ChatClient? Client { get; private set; }

    public async Task SignInAsync(string userName, CancellationToken cancellationToken)
    {
        _token = await tokens.GetAsync(userName, cancellationToken);
        UserName = userName;
        Client = new ChatClient(gateway.HubUrl, GetTokenAsync);
        await Client.StartAsync(cancellationToken);
    }

    private async Task<string?> GetTokenAsync()
    {
        if (_token is null || _token.ExpiresAt - time.GetUtcNow() < RenewBefore)
        {
            _token = await tokens.GetAsync(UserName!, CancellationToken.None);
        }

        return _token.Token;
    }

    public async ValueTask DisposeAsync()
    {
        if (Client is not null)
        {
            await Client.DisposeAsync();
        }
    }
}
