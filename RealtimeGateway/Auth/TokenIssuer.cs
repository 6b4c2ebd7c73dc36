using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using RealtimeDemo.Contracts;

namespace RealtimeDemo.RealtimeGateway.Auth;

/// <summary>
/// The development token issuer: anyone may have a token for any valid user name. It stands in for a real
/// identity provider; the hub only trusts tokens signed with the configured key for the configured audience.
/// </summary>
internal sealed class TokenIssuer(IOptions<TokenOptions> options, TimeProvider time)
{
    public const string NameClaim = "name";

    public TokenResponse Issue(string userName)
    {
        var settings = options.Value;
        var now = time.GetUtcNow();
        var expiresAt = now + settings.TokenLifetime;
        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = settings.Issuer,
            Audience = settings.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expiresAt.UtcDateTime,
            Claims = new Dictionary<string, object> { ["sub"] = userName, [NameClaim] = userName },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(settings.SigningKeyBytes), SecurityAlgorithms.HmacSha256),
        });
        return new TokenResponse(token, expiresAt);
    }
}
