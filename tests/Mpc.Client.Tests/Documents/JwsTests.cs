using System.Buffers.Text;
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Mpc.Client;
using Mpc.Client.Documents;
using Mpc.Crypto.Curves;

namespace Mpc.Client.Tests.Documents;

/// <summary>
/// Compact JWS made with a split key, checked by `openssl dgst` over the signing input (every curve), by
/// Microsoft.IdentityModel's JWT handler (ES256, ES384) and by <see cref="JwsSignature.Verify"/>; and the verifier's
/// refusals of altered or confusing JWS.
/// </summary>
[Collection("server")]
public sealed class JwsTests(ServerFixture server) : IDisposable
{
    private readonly TempDirectory _root = new("mpc-jws-");

    [Theory]
    [InlineData(CurveKind.P256, "ES256", "-sha256")]
    [InlineData(CurveKind.P384, "ES384", "-sha384")]
    [InlineData(CurveKind.Secp256k1, "ES256K", "-sha256")]
    public async Task A_split_key_jws_verifies_with_openssl_and_the_sdk(CurveKind curve, string algorithm, string digest)
    {
        using MpcSignerClient client = server.Client("jws-" + curve);
        using MpcKey key = await client.CreateKeyAsync(curve);
        byte[] payload = """{"filing":"2026-annual","amount":"1200.00"}"""u8.ToArray();

        string jws = await client.SignJwsAsync(key, payload, new JwsOptions { Type = "JOSE", KeyId = key.KeyId });

        string[] parts = jws.Split('.');
        Assert.Equal(3, parts.Length);
        Assert.Equal(payload, Base64Url.DecodeFromChars(parts[1]));
        using JsonDocument header = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0]));
        Assert.Equal(algorithm, header.RootElement.GetProperty("alg").GetString());
        Assert.Equal("JOSE", header.RootElement.GetProperty("typ").GetString());
        Assert.Equal(key.KeyId, header.RootElement.GetProperty("kid").GetString());

        // OpenSSL over the signing input, with r||s turned into DER: it knows nothing of JOSE.
        byte[] rs = Base64Url.DecodeFromChars(parts[2]);
        Assert.Equal(2 * (curve == CurveKind.P384 ? 48 : 32), rs.Length);
        string input = Write("input.txt", Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]));
        string signature = Write("signature.der", Der(rs));
        string publicKey = Write("public.pem", Encoding.ASCII.GetBytes(PemEncoding.WriteString("PUBLIC KEY", key.SubjectPublicKeyInfo)));
        ProcessResult openssl = ProcessRunner.OpenSsl("dgst", digest, "-verify", publicKey, "-signature", signature, input);
        Assert.True(openssl.ExitCode == 0, openssl.Stdout + openssl.Stderr);
        Assert.Contains("Verified OK", openssl.Stdout, StringComparison.Ordinal);

        JwsVerification verified = JwsSignature.Verify(jws, key.SubjectPublicKeyInfo);
        Assert.Equal(algorithm, verified.Algorithm);
        Assert.Equal(payload, verified.Payload);
        Assert.False(verified.PayloadWasDetached);
    }

    [Theory]
    [InlineData(CurveKind.P256)]
    [InlineData(CurveKind.P384)]
    public async Task A_split_key_jwt_validates_with_microsoft_identity_model(CurveKind curve)
    {
        using MpcSignerClient client = server.Client("jwt-" + curve);
        using MpcKey key = await client.CreateKeyAsync(curve);
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        byte[] claims = Encoding.UTF8.GetBytes($$"""{"iss":"https://filer.example","sub":"alice","aud":"https://tax.example","iat":{{now}},"exp":{{now + 300}}}""");
        string jwt = await client.SignJwsAsync(key, claims, new JwsOptions { Type = "JWT" });

        using ECDsa publicKey = ECDsa.Create();
        publicKey.ImportSubjectPublicKeyInfo(key.SubjectPublicKeyInfo, out _);
        TokenValidationResult result = await new JsonWebTokenHandler().ValidateTokenAsync(jwt, new TokenValidationParameters
        {
            ValidIssuer = "https://filer.example",
            ValidAudience = "https://tax.example",
            IssuerSigningKey = new ECDsaSecurityKey(publicKey),
        });
        Assert.True(result.IsValid, result.Exception?.Message);
        Assert.Equal("alice", result.Claims["sub"]);

        // The same handler refuses the token once one character of its payload changed.
        string[] parts = jwt.Split('.');
        string altered = parts[0] + "." + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[1])).Replace("alice", "mallo", StringComparison.Ordinal))) + "." + parts[2];
        Assert.False((await new JsonWebTokenHandler().ValidateTokenAsync(altered, new TokenValidationParameters
        {
            ValidIssuer = "https://filer.example",
            ValidAudience = "https://tax.example",
            IssuerSigningKey = new ECDsaSecurityKey(publicKey),
        })).IsValid);
        Assert.Throws<MpcSignerException>(() => JwsSignature.Verify(altered, key.SubjectPublicKeyInfo));
    }

    [Fact]
    public async Task A_detached_payload_is_left_out_and_verified_against_the_document_given()
    {
        using MpcSignerClient client = server.Client("jws-detached");
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        byte[] document = RandomNumberGenerator.GetBytes(500);
        using X509Certificate2 certificate = await client.CreateSelfSignedCertificateAsync(
            key, new X500DistinguishedName("CN=Judy"), DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));

        string jws = await client.SignJwsAsync(key, document, new JwsOptions { DetachedPayload = true, CertificateChain = [certificate] });

        Assert.Matches("^[A-Za-z0-9_-]+\\.\\.[A-Za-z0-9_-]+$", jws);
        using (JsonDocument header = JsonDocument.Parse(Base64Url.DecodeFromChars(jws.Split('.')[0])))
        {
            Assert.Equal(Convert.ToBase64String(certificate.RawData), Assert.Single(header.RootElement.GetProperty("x5c").EnumerateArray()).GetString());
        }
        JwsVerification verified = JwsSignature.VerifyDetached(jws, key.SubjectPublicKeyInfo, document);
        Assert.True(verified.PayloadWasDetached);
        Assert.Equal(document, verified.Payload);

        byte[] other = (byte[])document.Clone();
        other[0] ^= 1;
        Assert.Equal("The JWS does not verify: its signature does not verify under the public key.",
            Assert.Throws<MpcSignerException>(() => JwsSignature.VerifyDetached(jws, key.SubjectPublicKeyInfo, other)).Message);
        // Read as an attached JWS, its payload is empty: not what was signed.
        Assert.Throws<MpcSignerException>(() => JwsSignature.Verify(jws, key.SubjectPublicKeyInfo));
        // An attached JWS given with another document is refused before its signature is checked.
        string attached = await client.SignJwsAsync(key, document);
        Assert.Equal("The JWS does not verify: its payload is not the document.",
            Assert.Throws<MpcSignerException>(() => JwsSignature.VerifyDetached(attached, key.SubjectPublicKeyInfo, other)).Message);
    }

    [Fact]
    public void Confusing_or_altered_jws_are_refused_with_one_line_each()
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        byte[] spki = key.ExportSubjectPublicKeyInfo();
        byte[] payload = "pay 10"u8.ToArray();
        string SignedBytes(byte[] header)
        {
            string input = Base64Url.EncodeToString(header) + "." + Base64Url.EncodeToString(payload);
            return input + "." + Base64Url.EncodeToString(key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256));
        }
        string Signed(string headerJson) => SignedBytes(Encoding.UTF8.GetBytes(headerJson));
        string valid = Signed("""{"alg":"ES256"}""");
        Assert.Equal(payload, JwsSignature.Verify(valid, spki).Payload);

        string long1;
        (string Jws, string Why)[] refused =
        [
            (valid + ".x", "it has 4 dot-separated parts; the compact serialization has 3"),
            (valid[..valid.LastIndexOf('.')], "it has 2 dot-separated parts; the compact serialization has 3"),
            (Base64Url.EncodeToString("""{"alg":"none"}"""u8) + "." + Base64Url.EncodeToString(payload) + ".", "its header's alg is \"none\"; a key on this curve signs ES256"),
            (Signed("""{"alg":"ES384"}"""), "its header's alg is \"ES384\"; a key on this curve signs ES256"),
            (Signed("""{"alg":"HS256"}"""), "its header's alg is \"HS256\"; a key on this curve signs ES256"),
            (Signed("""{"typ":"JWT"}"""), "its header's alg is missing; a key on this curve signs ES256"),
            (Signed("""{"alg":"ES256","alg":"none"}"""), "its header names \"alg\" twice"),
            (Signed("""{"alg":"ES256","crit":["exp"],"exp":1}"""), "its header has \"crit\" extensions, which this verifier does not understand"),
            (Signed("""["ES256"]"""), "its header is not a JSON object"),
            (Signed("""{"alg":"ES256" """), "its header is not JSON"),
            (SignedBytes([.. """{"alg":"ES256","kid":" """u8, 0xC3, 0x28, .. "\"}"u8]), "its header is not UTF-8"),
            (Signed("""{"alg":"ES256","\ud800":1}"""), "its header has a name that is not valid Unicode"),
            (Signed("""{"alg":"ES256","b64":false}"""), "its header has \"b64\" (RFC 7797 unencoded payload), which this verifier does not support"),
            (long1 = Signed("""{"alg":"ES256","kid":""" + "\"" + new string('k', 49_200) + "\"}"), $"its header is {long1.IndexOf('.')} characters; at most {JwsSignature.MaxHeaderLength} are read"),
            ("\u00a0" + valid, "its header is not base64url"),
            (valid + "=", "its signature is not canonical unpadded base64url"),
            (valid.Replace('-', '+').Replace('_', '/') is var standard && standard != valid ? standard : valid[..^1] + "+", "its signature is not base64url"),
            (valid[..^2], "its signature is 63 bytes; ES256 signatures are 64 (r‖s)"),
            (valid[..(valid.LastIndexOf('.') + 1)] + Base64Url.EncodeToString(new byte[64]), "its signature does not verify under the public key"),
        ];
        foreach ((string jws, string why) in refused)
        {
            var refusal = Assert.Throws<MpcSignerException>(() => JwsSignature.Verify(jws, spki));
            Assert.Equal(MpcErrorReason.DocumentSignature, refusal.Reason);
            Assert.Equal($"The JWS does not verify: {why}.", refusal.Message);
        }

        // r = n (the group order) is out of range, and so is s = 0, whatever the rest.
        byte[] rs = Base64Url.DecodeFromChars(valid.AsSpan(valid.LastIndexOf('.') + 1));
        Convert.FromHexString("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551").CopyTo(rs, 0);
        Assert.Throws<MpcSignerException>(() => JwsSignature.Verify(valid[..(valid.LastIndexOf('.') + 1)] + Base64Url.EncodeToString(rs), spki));

        using ECDsa other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Assert.Equal("The JWS does not verify: its signature does not verify under the public key.",
            Assert.Throws<MpcSignerException>(() => JwsSignature.Verify(valid, other.ExportSubjectPublicKeyInfo())).Message);
        using ECDsa p521 = ECDsa.Create(ECCurve.NamedCurves.nistP521);
        Assert.Throws<ArgumentException>(() => JwsSignature.Verify(valid, p521.ExportSubjectPublicKeyInfo()));
        Assert.Throws<ArgumentException>(() => JwsSignature.Verify(valid, "not a key"u8));
        // Keys of other kinds, each of which BouncyCastle's key factory refuses in its own way.
        using RSA rsa = RSA.Create(2048);
        Assert.Throws<ArgumentException>(() => JwsSignature.Verify(valid, rsa.ExportSubjectPublicKeyInfo()));
        Assert.Throws<ArgumentException>(() => JwsSignature.Verify(valid, Convert.FromHexString("302a300506032b6570032100" + new string('1', 64)))); // Ed25519
        Assert.Throws<ArgumentException>(() => JwsSignature.Verify(valid, Convert.FromHexString("3013300706052b8104000a03080004" + "0102030405"))); // secp256k1, no point
        Assert.Throws<ArgumentException>(() => JwsSignature.Verify(valid, Convert.FromHexString("3009300706052b8104000a"))); // no key at all
        Assert.Throws<ArgumentException>(() => JwsSignature.Verify(valid, [.. spki, 0x00])); // trailing byte
        // Surrounding ASCII white space (a file's trailing newline) is not part of the JWS.
        Assert.Equal(payload, JwsSignature.Verify(" " + valid + "\r\n", spki).Payload);
    }

    private static byte[] Der(byte[] rs)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteInteger(new System.Numerics.BigInteger(rs.AsSpan(0, rs.Length / 2), isUnsigned: true, isBigEndian: true));
            writer.WriteInteger(new System.Numerics.BigInteger(rs.AsSpan(rs.Length / 2), isUnsigned: true, isBigEndian: true));
        }
        return writer.Encode();
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_root.Path, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public void Dispose() => _root.Dispose();
}
