using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Org.BouncyCastle.Asn1.Cmp;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tsp;
using Org.BouncyCastle.Utilities.Collections;

namespace Mpc.Testing.Server;

/// <summary>
/// An RFC 3161 time-stamping authority on 127.0.0.1 (POST /), answering with BouncyCastle's TSP generator, an
/// implementation independent of the .NET code under test. Its certificate is issued by a CA of its own
/// (<see cref="Ca"/>) with the critical time-stamping usage RFC 3161 requires. <see cref="Mode"/> makes it misbehave
/// the ways a TSA or the network between can.
/// </summary>
public sealed class TestTimestampAuthority : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TimeStampTokenGenerator _tokens;
    private int _requests;

    private TestTimestampAuthority(WebApplication app, X509Certificate2 ca, X509Certificate2 certificate, TimeStampTokenGenerator tokens)
    {
        _app = app;
        Ca = ca;
        Certificate = certificate;
        _tokens = tokens;
    }

    public enum Answer
    {
        /// <summary>A token for the request.</summary>
        Grant,

        /// <summary>Status rejection, failure badAlg, with a status text.</summary>
        Reject,

        /// <summary>A granted token over another digest (same nonce).</summary>
        OtherImprint,

        /// <summary>A granted token for the request's digest with another nonce.</summary>
        OtherNonce,

        /// <summary>HTTP 500.</summary>
        HttpError,

        /// <summary>200 with bytes that are no TimeStampResp.</summary>
        Garbage,

        /// <summary>Answers after 10 s.</summary>
        Slow,

        /// <summary>Sends its headers and 10 bytes of a 1000-byte body, then nothing for 10 s.</summary>
        StallBody,

        /// <summary>Sends its headers and 10 bytes of a 1000-byte body, then drops the connection.</summary>
        CutBody,

        /// <summary>Announces a 2 MiB body (Content-Length) and sends it.</summary>
        HugeDeclared,

        /// <summary>Streams 1.5 MiB without a Content-Length.</summary>
        HugeStreamed,
    }

    public Answer Mode { get; set; } = Answer.Grant;

    /// <summary>The status text of <see cref="Answer.Reject"/>.</summary>
    public string RejectText { get; set; } = "this authority does not take that digest";

    /// <summary>Added to this machine's clock for the tokens' time (a TSA whose clock is wrong).</summary>
    public TimeSpan ClockOffset { get; set; }

    public Uri Url { get; private set; } = null!;

    /// <summary>The TSA's issuing CA: the trust anchor a verifier is given.</summary>
    public X509Certificate2 Ca { get; }

    /// <summary>The TSA's own certificate (time-stamping only).</summary>
    public X509Certificate2 Certificate { get; }

    public int Requests => Volatile.Read(ref _requests);

    public static async Task<TestTimestampAuthority> StartAsync(string name = "Test TSA")
    {
        using ECDsa caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest($"CN={name} Root", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        DateTimeOffset now = DateTimeOffset.UtcNow;
        X509Certificate2 ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddYears(5));

        using ECDsa tsaKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var tsaRequest = new CertificateRequest($"CN={name}", tsaKey, HashAlgorithmName.SHA256);
        tsaRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation, true));
        tsaRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.8")], critical: true));
        using X509Certificate2 issued = tsaRequest.Create(ca, now.AddDays(-1), now.AddYears(1), RandomNumberGenerator.GetBytes(8));
        X509Certificate2 certificate = issued.CopyWithPrivateKey(tsaKey);

        Org.BouncyCastle.X509.X509Certificate bcCertificate = DotNetUtilities.FromX509Certificate(certificate);
        var tokens = new TimeStampTokenGenerator(
            PrivateKeyFactory.CreateKey(tsaKey.ExportPkcs8PrivateKey()), bcCertificate, TspAlgorithms.Sha256, "1.3.6.1.4.1.99999.1");
        tokens.SetCertificates(CollectionUtilities.CreateStore(new[] { bcCertificate, DotNetUtilities.FromX509Certificate(ca) }));

        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        WebApplication app = builder.Build();
        var authority = new TestTimestampAuthority(app, ca, certificate, tokens);
        app.MapPost("/", authority.AnswerAsync);
        await app.StartAsync();
        authority.Url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
        return authority;
    }

    private async Task AnswerAsync(HttpContext context)
    {
        Interlocked.Increment(ref _requests);
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        var request = new TimeStampRequest(body.ToArray());
        byte[] reply;
        switch (Mode)
        {
            case Answer.HttpError:
                context.Response.StatusCode = (int)HttpStatusCode.InternalServerError;
                return;
            case Answer.Garbage:
                reply = RandomNumberGenerator.GetBytes(300);
                break;
            case Answer.StallBody or Answer.CutBody:
                context.Response.ContentType = "application/timestamp-reply";
                context.Response.ContentLength = 1000;
                await context.Response.Body.WriteAsync(new byte[10], context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                if (Mode == Answer.CutBody)
                {
                    context.Abort();
                    return;
                }
                await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
                return;
            case Answer.HugeDeclared:
                context.Response.ContentLength = 2 << 20;
                await context.Response.Body.WriteAsync(new byte[2 << 20], context.RequestAborted);
                return;
            case Answer.HugeStreamed:
                for (int i = 0; i < 24; i++)
                {
                    await context.Response.Body.WriteAsync(new byte[64 << 10], context.RequestAborted);
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                }
                return;
            case Answer.Slow:
                await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
                reply = Grant(request);
                break;
            case Answer.Reject:
                reply = new TimeStampResponseGenerator(_tokens, TspAlgorithms.Allowed)
                    .GenerateFailResponse(PkiStatus.Rejection, PkiFailureInfo.BadAlg, RejectText).GetEncoded();
                break;
            case Answer.OtherImprint:
                reply = Grant(new TimeStampRequestGenerator { }.Generate(
                    TspAlgorithms.Sha256, RandomNumberGenerator.GetBytes(32), request.Nonce));
                break;
            case Answer.OtherNonce:
                reply = Grant(new TimeStampRequestGenerator().Generate(
                    request.MessageImprintAlgOid, request.GetMessageImprintDigest(), request.Nonce.Add(Org.BouncyCastle.Math.BigInteger.One)));
                break;
            default:
                reply = Grant(request);
                break;
        }
        context.Response.ContentType = "application/timestamp-reply";
        await context.Response.Body.WriteAsync(reply, context.RequestAborted);
    }

    private byte[] Grant(TimeStampRequest request)
    {
        var generator = new TimeStampRequestGenerator();
        generator.SetCertReq(true);
        // The request as asked for, certificate included (the test's variants change only the digest or the nonce).
        TimeStampRequest asked = generator.Generate(request.MessageImprintAlgOid, request.GetMessageImprintDigest(), request.Nonce);
        return new TimeStampResponseGenerator(_tokens, TspAlgorithms.Allowed)
            .Generate(asked, new Org.BouncyCastle.Math.BigInteger(64, new Org.BouncyCastle.Security.SecureRandom()), DateTime.UtcNow + ClockOffset)
            .GetEncoded();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        Ca.Dispose();
        Certificate.Dispose();
    }
}
