using System.Buffers.Text;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Mpc.Crypto.Curves;

namespace Mpc.Client.Documents;

/// <summary>
/// JSON Web Signatures (RFC 7515) in the compact serialization, <c>BASE64URL(header).BASE64URL(payload).BASE64URL(r‖s)</c>,
/// with the algorithm the key's curve fixes: ES256 (P-256), ES384 (P-384) or ES256K (secp256k1, RFC 8812). Made by
/// <see cref="MpcSignerClient.SignJwsAsync"/>; any JOSE library verifies them, and so does <see cref="Verify"/>.
/// </summary>
public static class JwsSignature
{
    /// <summary>
    /// The longest protected header <see cref="Verify"/> reads, in base64url characters (48 KiB of JSON): room for an
    /// "x5c" chain of several certificates, not for a header built to make the parser work.
    /// </summary>
    public const int MaxHeaderLength = 64 * 1024;

    // Strict: a header that is not UTF-8 is refused rather than read with replacement characters.
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The JWS "alg" for a key on <paramref name="curve"/>.</summary>
    public static string AlgorithmFor(CurveKind curve) => curve switch
    {
        CurveKind.P256 => "ES256",
        CurveKind.P384 => "ES384",
        CurveKind.Secp256k1 => "ES256K",
        _ => throw new ArgumentOutOfRangeException(nameof(curve), curve, "No JWS algorithm for this curve."),
    };

    /// <summary>
    /// The protected header: "alg" first, then "typ", "kid" and "x5c" (standard base64 DER, leaf first) when given. The
    /// one header writer, so that what is signed is what <see cref="Verify"/> reads back.
    /// </summary>
    internal static byte[] Header(CurveKind curve, JwsOptions options)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("alg", AlgorithmFor(curve));
            if (options.Type is { } type)
            {
                writer.WriteString("typ", type);
            }
            if (options.KeyId is { } keyId)
            {
                writer.WriteString("kid", keyId);
            }
            if (options.CertificateChain is { Count: > 0 } chain)
            {
                writer.WriteStartArray("x5c");
                foreach (X509Certificate2 certificate in chain)
                {
                    writer.WriteStringValue(Convert.ToBase64String(certificate.RawData));
                }
                writer.WriteEndArray();
            }
            writer.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>
    /// Verifies a compact JWS under <paramref name="subjectPublicKeyInfo"/> (a P-256, P-384 or secp256k1 public key,
    /// DER SubjectPublicKeyInfo with the named curve and the uncompressed point, as .NET and OpenSSL write it) and returns its header and payload. Surrounding ASCII white space is ignored. In this
    /// order: three parts of canonical unpadded base64url, the header at most <see cref="MaxHeaderLength"/> characters; a
    /// header that is UTF-8 JSON, one object with unique names, whose "alg" is the key's algorithm (no "none", no other
    /// algorithm), with no "crit" (no extension is understood here) and no "b64" (RFC 7797's unencoded payload); for a
    /// detached check, a payload part that is empty or the document; a signature of exactly twice the scalar length; r
    /// and s in [1, n − 1] and the signature valid over the signing input.
    /// </summary>
    /// <exception cref="MpcSignerException"><see cref="MpcErrorReason.DocumentSignature"/> on any failure.</exception>
    /// <exception cref="ArgumentException"><paramref name="subjectPublicKeyInfo"/> is not a key on one of those curves.</exception>
    public static JwsVerification Verify(string jws, ReadOnlySpan<byte> subjectPublicKeyInfo) => VerifyCompact(jws, subjectPublicKeyInfo, detachedPayload: null);

    /// <summary>
    /// As <see cref="Verify(string, ReadOnlySpan{byte})"/> for a JWS over <paramref name="payload"/>: its payload part is
    /// empty (a detached payload, RFC 7515 appendix F) or encodes exactly these bytes.
    /// </summary>
    public static JwsVerification VerifyDetached(string jws, ReadOnlySpan<byte> subjectPublicKeyInfo, ReadOnlySpan<byte> payload) =>
        VerifyCompact(jws, subjectPublicKeyInfo, payload.ToArray());

    private static JwsVerification VerifyCompact(string jws, ReadOnlySpan<byte> subjectPublicKeyInfo, byte[]? detachedPayload)
    {
        ArgumentNullException.ThrowIfNull(jws);
        (EcCurve curve, Org.BouncyCastle.Math.EC.ECPoint publicKey) = ReadPublicKey(subjectPublicKeyInfo);
        // Only ASCII white space (a trailing newline in a file): string.Trim would also drop characters the JWS must not contain.
        string[] parts = jws.Trim(' ', '\t', '\r', '\n').Split('.');
        if (parts.Length != 3)
        {
            throw Refused($"it has {parts.Length} dot-separated parts; the compact serialization has 3");
        }
        if (parts[0].Length > MaxHeaderLength)
        {
            throw Refused($"its header is {parts[0].Length} characters; at most {MaxHeaderLength} are read");
        }
        byte[] header = Decode(parts[0], "header");
        byte[] payload = Decode(parts[1], "payload");
        byte[] signature = Decode(parts[2], "signature");
        string algorithm = AlgorithmFor(curve.Kind);
        string headerText = ReadHeader(header, algorithm);
        if (detachedPayload is not null)
        {
            if (parts[1].Length > 0 && !payload.AsSpan().SequenceEqual(detachedPayload))
            {
                throw Refused("its payload is not the document");
            }
            payload = detachedPayload;
        }
        if (signature.Length != 2 * curve.ScalarLength)
        {
            throw Refused($"its signature is {signature.Length} bytes; {algorithm} signatures are {2 * curve.ScalarLength} (r‖s)");
        }
        var r = new Org.BouncyCastle.Math.BigInteger(1, signature, 0, curve.ScalarLength);
        var s = new Org.BouncyCastle.Math.BigInteger(1, signature, curve.ScalarLength, curve.ScalarLength);
        // The signing input is the JWS's own text, so a detached payload is signed in its base64url form.
        string signingInput = parts[0] + "." + (parts[1].Length > 0 ? parts[1] : Base64Url.EncodeToString(payload));
        byte[] digest = MpcSignerClient.HashFor(curve.Kind, Encoding.ASCII.GetBytes(signingInput));
        // EcCurve.Verify refuses r or s outside [1, n - 1].
        if (!curve.Verify(publicKey, Digest.Parse(digest), r, s))
        {
            throw Refused("its signature does not verify under the public key");
        }
        return new JwsVerification(algorithm, headerText, payload, PayloadWasDetached: parts[1].Length == 0);
    }

    private static (EcCurve Curve, Org.BouncyCastle.Math.EC.ECPoint Point) ReadPublicKey(ReadOnlySpan<byte> subjectPublicKeyInfo)
    {
        try
        {
            return PublicKeyEncoding.FromSubjectPublicKeyInfo(subjectPublicKeyInfo);
        }
        catch (FormatException)
        {
            throw new ArgumentException("The public key is not a P-256, P-384 or secp256k1 SubjectPublicKeyInfo.", nameof(subjectPublicKeyInfo));
        }
    }

    /// <summary>The header's text, once it is known to be a header this verifier reads as its signer meant it.</summary>
    private static string ReadHeader(byte[] header, string algorithm)
    {
        string text;
        try
        {
            text = StrictUtf8.GetString(header);
        }
        catch (DecoderFallbackException)
        {
            throw Refused("its header is not UTF-8");
        }
        try
        {
            using JsonDocument document = JsonDocument.Parse(header);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Refused("its header is not a JSON object");
            }
            string? alg = null;
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty property in document.RootElement.EnumerateObject())
            {
                // RFC 7515 §4: header parameter names must be unique; a parser that took the last one would see another header.
                if (!names.Add(property.Name))
                {
                    throw Refused($"its header names \"{property.Name}\" twice");
                }
                if (property.Name == "alg")
                {
                    alg = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : null;
                }
            }
            if (names.Contains("crit"))
            {
                throw Refused("its header has \"crit\" extensions, which this verifier does not understand");
            }
            if (names.Contains("b64"))
            {
                // RFC 7797: "b64": false changes what is signed; this verifier reads only the RFC 7515 signing input.
                throw Refused("its header has \"b64\" (RFC 7797 unencoded payload), which this verifier does not support");
            }
            if (alg != algorithm)
            {
                throw Refused($"its header's alg is {(alg is null ? "missing" : "\"" + alg + "\"")}; a key on this curve signs {algorithm}");
            }
        }
        catch (JsonException)
        {
            throw Refused("its header is not JSON");
        }
        catch (InvalidOperationException)
        {
            // A name escaping half a surrogate pair ("\ud800") is JSON that no string can hold.
            throw Refused("its header has a name that is not valid Unicode");
        }
        return text;
    }

    /// <summary>Unpadded base64url, canonical: re-encoding gives the same text (no stray bits in the last character).</summary>
    private static byte[] Decode(string part, string name)
    {
        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(part);
        }
        catch (FormatException)
        {
            throw Refused($"its {name} is not base64url");
        }
        return part.Contains('=') || Base64Url.EncodeToString(bytes) != part
            ? throw Refused($"its {name} is not canonical unpadded base64url")
            : bytes;
    }

    private static MpcSignerException Refused(string why) => new(MpcErrorReason.DocumentSignature, $"The JWS does not verify: {why}.");
}

/// <summary>What a JWS made by <see cref="MpcSignerClient.SignJwsAsync"/> carries in its protected header besides "alg".</summary>
public sealed record JwsOptions
{
    /// <summary>"typ", e.g. "JWT" or an application's media type; none by default.</summary>
    public string? Type { get; init; }

    /// <summary>"kid": a key identifier for the verifier (the split key's id is a natural choice); none by default.</summary>
    public string? KeyId { get; init; }

    /// <summary>"x5c": the signer's certificate first, then its issuers; none by default.</summary>
    public IReadOnlyList<X509Certificate2>? CertificateChain { get; init; }

    /// <summary>Leave the payload out (RFC 7515 appendix F, "header..signature"); the verifier supplies it.</summary>
    public bool DetachedPayload { get; init; }
}

/// <summary>A verified JWS: its algorithm, its protected header as JSON text, and the payload it signs.</summary>
public sealed record JwsVerification(string Algorithm, string Header, byte[] Payload, bool PayloadWasDetached);
