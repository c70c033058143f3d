using System.Formats.Asn1;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using Mpc.Text;

namespace Mpc.Client.Documents;

/// <summary>
/// An RFC 3161 time-stamping authority (TSA) reached over HTTP or HTTPS. It countersigns a CMS signature's value with
/// its own clock: the signature-time-stamp attribute of CAdES-B-T (ETSI EN 319 122-1), which proves that the signature
/// existed at that time, so it stays verifiable after the signer's certificate expires. Nothing secret is sent: the
/// request carries a digest of the (public) signature value and a fresh nonce. Use it through
/// <see cref="CadesSignature.AddTimestampAsync"/>.
/// </summary>
public sealed class TimestampAuthority : IDisposable
{
    /// <summary>The largest reply read (a token with its certificate chain is a few kilobytes).</summary>
    public const int MaxResponseBytes = 1 << 20;

    private const string QueryMediaType = "application/timestamp-query";
    private const string ReplyMediaType = "application/timestamp-reply";

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;

    /// <param name="url">The TSA's absolute http:// or https:// URL.</param>
    /// <param name="httpClient">The client to post with (proxies, authentication, timeouts); by default one of its own with a 30 s timeout.</param>
    public TimestampAuthority(Uri url, HttpClient? httpClient = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"The time-stamping authority's URL must be an absolute http:// or https:// URL, not {url}.", nameof(url));
        }
        Url = url;
        _ownsHttp = httpClient is null;
        _http = httpClient ?? new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>Where requests are posted.</summary>
    public Uri Url { get; }

    /// <summary>The URL as messages show it: scheme, host, port and path, without user information or query (which may carry credentials).</summary>
    internal string Shown => Url.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);

    /// <summary>
    /// Asks for a time-stamp token over <paramref name="signer"/>'s signature value and returns its DER (a CMS
    /// ContentInfo, as the TSA sent it), checked against the request: granted, over that value's
    /// <paramref name="digest"/>, with this request's nonce, and signed by the certificate it includes, which must carry
    /// the time-stamping usage (RFC 3161 §2.3; the caller's <see cref="CadesSignature.Verify"/> then requires it to be the
    /// only one, and the authority's trust when given anchors).
    /// </summary>
    /// <exception cref="MpcSignerException">
    /// <see cref="MpcErrorReason.TimestampUnavailable"/>: no answer within the client's timeout (the whole exchange), a
    /// connection cut, or an HTTP error status;
    /// <see cref="MpcErrorReason.TimestampRefused"/>: the TSA refused the request, or its answer does not match it.
    /// </exception>
    internal async Task<byte[]> TimestampAsync(SignerInfo signer, HashAlgorithmName digest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(signer);
        Rfc3161TimestampRequest request = Rfc3161TimestampRequest.CreateFromSignerInfo(
            signer, digest, requestedPolicyId: null, nonce: Nonce(), requestSignerCertificates: true);
        byte[] reply = await PostAsync(request.Encode(), cancellationToken).ConfigureAwait(false);

        // The status first, so that a refusal is reported with the TSA's own words rather than as a decoding failure.
        (string? refusal, ReadOnlyMemory<byte> tokenBytes) = ReadResponse(reply);
        if (refusal is not null)
        {
            throw Refused(refusal);
        }
        Rfc3161TimestampToken token;
        try
        {
            token = request.ProcessResponse(reply, out int consumed);
            if (consumed != reply.Length)
            {
                throw Refused("its reply has bytes after the response");
            }
        }
        catch (CryptographicException e)
        {
            // ProcessResponse refuses a token for another digest, nonce or version, or without the certificate asked for.
            throw Refused($"its token does not match the request ({e.Message.TrimEnd('.')})", e);
        }
        if (!token.VerifySignatureForSignerInfo(signer, out _))
        {
            throw Refused("its token's signature does not verify, or its certificate is not for time-stamping");
        }
        return tokenBytes.ToArray();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private async Task<byte[]> PostAsync(byte[] query, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(query);
        content.Headers.ContentType = new MediaTypeHeaderValue(QueryMediaType);
        using var message = new HttpRequestMessage(HttpMethod.Post, Url) { Content = content };
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(ReplyMediaType));
        // HttpClient's timeout ends when the headers arrive; the body must not stall the caller for ever either.
        using var exchange = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (_http.Timeout != Timeout.InfiniteTimeSpan)
        {
            exchange.CancelAfter(_http.Timeout);
        }
        try
        {
            using HttpResponseMessage response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, exchange.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new MpcSignerException(MpcErrorReason.TimestampUnavailable,
                    $"The time-stamping authority {Shown} answered HTTP {(int)response.StatusCode} {HiddenCharacters.Replace(response.ReasonPhrase ?? "", '?')}: check the URL.");
            }
            if (response.Content.Headers.ContentLength > MaxResponseBytes)
            {
                throw Refused($"its reply is {response.Content.Headers.ContentLength} bytes, more than the {MaxResponseBytes} read");
            }
            Stream body = await response.Content.ReadAsStreamAsync(exchange.Token).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                return await ReadBoundedAsync(body, exchange.Token).ConfigureAwait(false);
            }
        }
        catch (HttpRequestException e)
        {
            throw new MpcSignerException(MpcErrorReason.TimestampUnavailable,
                $"The time-stamping authority {Shown} could not be reached ({OneLine(e.Message)}): check the URL and the network.", e);
        }
        catch (IOException e)
        {
            // HttpIOException: the connection ended or broke while the reply was read.
            throw new MpcSignerException(MpcErrorReason.TimestampUnavailable,
                $"The time-stamping authority {Shown} broke off its reply ({OneLine(e.Message)}).", e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new MpcSignerException(MpcErrorReason.TimestampUnavailable,
                $"The time-stamping authority {Shown} did not answer within {_http.Timeout.TotalSeconds:0.#} s.", e);
        }
    }

    private static string OneLine(string text) => HiddenCharacters.Replace(text, ' ').TrimEnd('.');

    private async Task<byte[]> ReadBoundedAsync(Stream body, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxResponseBytes)
            {
                throw Refused($"its reply is longer than the {MaxResponseBytes} bytes read");
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    /// <summary>
    /// The reply's PKIStatusInfo (RFC 3161 §2.4.2: status, statusString, failInfo) as one line when it refuses, else
    /// null, and the token's DER as the TSA sent it. A reply that is not a TimeStampResp at all gives neither: it is
    /// left to ProcessResponse to refuse.
    /// </summary>
    private static (string? Refusal, ReadOnlyMemory<byte> Token) ReadResponse(byte[] reply)
    {
        try
        {
            AsnReader response = new AsnReader(reply, AsnEncodingRules.DER).ReadSequence();
            AsnReader statusInfo = response.ReadSequence();
            if (!statusInfo.TryReadInt32(out int status))
            {
                return ("its reply has a status out of range", default);
            }
            if (status is 0 or 1)
            {
                return (null, response.HasData ? response.ReadEncodedValue() : default);
            }
            var text = new List<string>();
            if (statusInfo.HasData && statusInfo.PeekTag().HasSameClassAndValue(Asn1Tag.Sequence))
            {
                AsnReader strings = statusInfo.ReadSequence();
                while (strings.HasData)
                {
                    text.Add(strings.ReadCharacterString(UniversalTagNumber.UTF8String));
                }
            }
            string? failure = statusInfo.HasData ? FailureNames(statusInfo.ReadBitString(out _)) : null;
            // The authority's own words, shown as text: nothing that moves a cursor or reorders a line, and no split pair.
            string said = HiddenCharacters.Replace(string.Join(" ", text), '?');
            if (said.Length > 200)
            {
                said = said[..(char.IsHighSurrogate(said[199]) ? 199 : 200)] + "...";
            }
            return ($"it refused the request: status {status} ({StatusName(status)})"
                + (failure is null ? "" : $", {failure}")
                + (said.Length == 0 ? "" : $": \"{said}\""), default);
        }
        catch (AsnContentException)
        {
            return (null, default);
        }
    }

    private static string StatusName(int status) => status switch
    {
        2 => "rejection",
        3 => "waiting",
        4 => "revocation warning",
        5 => "revocation notification",
        _ => "unknown",
    };

    /// <summary>The PKIFailureInfo bits RFC 3161 names (§2.4.2), by name.</summary>
    private static string? FailureNames(byte[] bits)
    {
        (int Bit, string Name)[] known =
        [
            (0, "badAlg"), (2, "badRequest"), (5, "badDataFormat"), (14, "timeNotAvailable"),
            (15, "unacceptedPolicy"), (16, "unacceptedExtension"), (17, "addInfoNotAvailable"), (25, "systemFailure"),
        ];
        string[] names = [.. known.Where(k => k.Bit / 8 < bits.Length && (bits[k.Bit / 8] & (0x80 >> (k.Bit % 8))) != 0).Select(k => k.Name)];
        return names.Length == 0 ? null : string.Join(", ", names);
    }

    /// <summary>A positive nonce with 63 random bits from the CSPRNG (RFC 3161 §2.4.1: a large random number), matched in the reply.</summary>
    private static byte[] Nonce()
    {
        byte[] nonce = RandomNumberGenerator.GetBytes(9);
        nonce[0] = 0; // DER INTEGER content, big-endian: a leading zero keeps it positive
        nonce[1] |= 0x80; // and exactly nine bytes long, so it round-trips unchanged
        return nonce;
    }

    private MpcSignerException Refused(string why, Exception? inner = null) =>
        new(MpcErrorReason.TimestampRefused, $"The time-stamping authority {Shown}: {why}.", inner);
}
