using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>Tokens made by hand, to show which ones the gateway refuses.</summary>
public static class TestTokens
{
    public static string Create(string user, string signingKey = GatewayCluster.SigningKey, string issuer = "realtimedemo",
        string audience = "realtimedemo-chat", TimeSpan? expiresIn = null)
    {
        var now = DateTime.UtcNow;
        var expires = now + (expiresIn ?? TimeSpan.FromMinutes(10));
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = expires < now ? expires.AddMinutes(-5) : now,
            NotBefore = expires < now ? expires.AddMinutes(-5) : now,
            Expires = expires,
            Claims = new Dictionary<string, object> { ["sub"] = user, ["name"] = user },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(signingKey)), SecurityAlgorithms.HmacSha256),
        });
    }

    /// <summary>
    /// A token with the gateway's key, issuer and audience whose payload is written as given (claims the token
    /// handler would not write, such as an expiry past the calendar's end or a name given as an array).
    /// </summary>
    public static string WithPayload(string claimsJson)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = Base64UrlEncoder.Encode("""{"alg":"HS256","typ":"JWT"}""");
        var payload = Base64UrlEncoder.Encode($$"""{"iss":"realtimedemo","aud":"realtimedemo-chat","iat":{{now}},"nbf":{{now}},{{claimsJson}}}""");
        using var hmac = new System.Security.Cryptography.HMACSHA256(Encoding.UTF8.GetBytes(GatewayCluster.SigningKey));
        return $"{header}.{payload}.{Base64UrlEncoder.Encode(hmac.ComputeHash(Encoding.ASCII.GetBytes($"{header}.{payload}")))}";
    }
}
