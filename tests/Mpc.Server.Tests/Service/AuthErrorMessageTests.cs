using Grpc.Core;
using Mpc.Client;

namespace Mpc.Server.Tests.Service;

/// <summary>
/// What a user reads when the server refuses a token, through the real `mpc` program and the SDK: an expired token
/// says when it expired and what to do; a user's token on an operator command names the scope it lacks.
/// </summary>
[Collection("server")]
public sealed class AuthErrorMessageTests(ServerFixture server) : IDisposable
{
    private readonly TempDirectory _root = new("mpc-auth-errors-");

    private string[] Connection(string token)
    {
        string file = Path.Combine(_root.Path, $"token-{Guid.NewGuid():N}");
        File.WriteAllText(file, token + "\n");
        return ["--server", server.Address.ToString(), "--token-file", file];
    }

    private static string ErrorLine(ProcessResult result)
    {
        Assert.NotEqual(0, result.ExitCode);
        return Assert.Single(result.Stderr.Trim().Split('\n'));
    }

    private string ExpiredToken(out DateTime expiredAt)
    {
        string token = server.Token("auth-errors", TimeSpan.FromMinutes(-5));
        expiredAt = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(token).ValidTo;
        return token;
    }

    [Fact]
    public void The_CLI_says_when_a_token_expired_and_to_get_a_new_one()
    {
        string token = ExpiredToken(out DateTime expiredAt);
        ProcessResult result = ProcessRunner.Mpc(null, ["device", "list", .. Connection(token), "--key-id", "any-key"]);
        Assert.Equal(
            $"error: the server refused: Unauthenticated: token expired at {expiredAt:yyyy-MM-dd HH:mm:ss} UTC; get a new token",
            ErrorLine(result));
    }

    [Fact]
    public async Task The_SDK_reports_an_expired_token_with_its_expiry()
    {
        string token = ExpiredToken(out DateTime expiredAt);
        using var client = new MpcSignerClient(server.Address, token);
        MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(() => client.ListKeysAsync());
        Assert.Equal(StatusCode.Unauthenticated, refused.Status);
        Assert.Equal($"Unauthenticated: token expired at {expiredAt:yyyy-MM-dd HH:mm:ss} UTC; get a new token", refused.Message);
    }

    [Fact]
    public async Task A_missing_or_forged_token_says_so()
    {
        using var anonymous = new MpcSignerClient(server.Address, "");
        MpcSignerException missing = await Assert.ThrowsAsync<MpcSignerException>(() => anonymous.ListKeysAsync());
        Assert.Equal("Unauthenticated: a bearer token is required (authorization: Bearer <JWT>)", missing.Message);

        string token = server.Token("auth-errors");
        using var forged = new MpcSignerClient(server.Address, token[..^4] + (token.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA"));
        MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(() => forged.ListKeysAsync());
        Assert.Equal(StatusCode.Unauthenticated, refused.Status);
        Assert.StartsWith("Unauthenticated: the token was refused: ", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("a.b.c")]
    [InlineData("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")]
    public async Task A_token_that_is_not_a_jwt_or_is_unsigned_is_refused_for_what_it_is_not_as_a_passing_failure(string token)
    {
        // "try again later" belongs to a server that could not fetch its identity provider's keys: a token that can
        // never pass must say so, or a user retries it forever.
        using var client = new MpcSignerClient(server.Address, token);
        MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(() => client.ListKeysAsync());
        Assert.Equal(StatusCode.Unauthenticated, refused.Status);
        Assert.StartsWith("Unauthenticated: the token was refused: ", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("try again", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_user_token_on_admin_unfreeze_names_the_missing_mpc_admin_scope()
    {
        ProcessResult result = ProcessRunner.Mpc(null, ["admin", "unfreeze", .. Connection(server.Token("not-an-operator")), "--user", "someone", "--key-id", "some-key"]);
        Assert.Equal(
            "error: the server refused: PermissionDenied: this call is for operators: the token needs the scope 'mpc.admin'",
            ErrorLine(result));
    }

    [Fact]
    public void Mpc_server_with_an_unreadable_token_key_stops_with_one_line_naming_the_setting_and_the_file()
    {
        string keyFile = _root.File("idp.pem");
        using (var rsa = System.Security.Cryptography.RSA.Create(2048))
        {
            // The case: an RSA key (here its private half, which the server must not hold).
            File.WriteAllText(keyFile, rsa.ExportRSAPrivateKeyPem());
        }
        ProcessResult result = ProcessRunner.Server(
            new Dictionary<string, string> { ["Mpc__Auth__PublicKeyFile"] = keyFile },
            ["--data", _root.File("data"), "--urls", "http://127.0.0.1:0"]);
        Assert.Equal(
            $"error: Mpc__Auth__PublicKeyFile: '{keyFile}' holds a private key; give the server only the identity provider's public key (openssl pkey -pubout).",
            ErrorLine(result));
    }

    public void Dispose()
    {
        _root.Dispose();
    }
}
