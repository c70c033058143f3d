using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Grains.Abstractions;
using Mpc.Protocol.KeyGen;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Signing;

namespace Mpc.Grains.Tests;

/// <summary>The cluster with a clock the tests move, keys allowed three signatures a minute, and users two certificate chains an hour.</summary>
public sealed class SigningRateFixture : GrainClusterFixture
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    public ManualTime Clock { get; } = new(DateTimeOffset.UtcNow);

    protected override TimeProvider Time => Clock;

    /// <summary>Sessions outlive the window, so a commitment held across it is still known.</summary>
    protected override SignerOptions Signer => new()
    {
        MaxSignaturesPerKey = 3, SignatureRateWindow = Window, SignSessionLifetime = 3 * Window, OpenedSignSessionLifetime = 3 * Window,
        MaxCertificateChainsPerUser = 2, CertificateChainRateWindow = TimeSpan.FromHours(1),
    };
}

/// <summary>
/// The per-key signing limit bounds the audit log too (review: a token holder looping BeginSign, SignNonce and a
/// garbage SignFinish had each refusal audited, without limit, and never met the signing limit).
/// </summary>
public sealed class SigningRateTests(SigningRateFixture fixture) : IClassFixture<SigningRateFixture>
{
    private const string Refused = "reached its limit of 3 signatures per minute; retry in ";

    [Fact]
    public async Task Refused_SignFinish_rounds_count_against_the_window_and_BeginSign_past_it_is_refused_unaudited_with_when_to_retry()
    {
        IUserKeysGrain grain = fixture.GrainFactory.GetGrain<IUserKeysGrain>("sign-rate-garbage");
        (KeySummary key, ClientKeyShare share) = await CreateKey(grain, "sign-rate-garbage");
        using ClientKeyShare owned = share;
        var device = new DeviceShare(share.DeviceId, share.ShareId);
        int auditedBefore = AuditedFor(key.KeyId);

        // The loop a token holder runs: a real nonce round, then a c3 that does not decode. Each refusal is audited.
        int finished = 0;
        SignerException? refused = null;
        for (int i = 0; i < 10 && refused is null; i++)
        {
            try
            {
                SignCommitment commitment = SignCommitment.Decode(await grain.BeginSign(key.KeyId, device));
                var client = new SignClientSession(share, Digest.Parse(RandomNumberGenerator.GetBytes(32)));
                await grain.SignNonce(key.KeyId, device, client.HandleCommitment(commitment).Encode());
                SignerException garbage = await Assert.ThrowsAsync<SignerException>(() =>
                    grain.SignFinish(key.KeyId, commitment.ServerSessionId, [1, 2, 3], wantNextCommitment: true));
                Assert.Equal(SignerErrorKind.InvalidArgument, garbage.Kind);
                finished++;
            }
            catch (SignerException e) when (e.Kind == SignerErrorKind.ResourceExhausted)
            {
                refused = e;
            }
        }

        // Three refused c3s filled the window; the fourth BeginSign is refused before any session, and not audited.
        Assert.Equal(3, finished);
        Assert.NotNull(refused);
        Assert.Equal(ErrorReasons.RateLimited, refused.Reason);
        Assert.Equal(SigningRateFixture.Window, refused.RetryAfter);
        Assert.Equal($"Key '{key.KeyId}' {Refused}60 s.", refused.Message);
        for (int i = 0; i < 5; i++)
        {
            SignerException again = await Assert.ThrowsAsync<SignerException>(() => grain.BeginSign(key.KeyId, device));
            Assert.Equal(SignerErrorKind.ResourceExhausted, again.Kind);
        }
        Assert.Equal(3, AuditedFor(key.KeyId) - auditedBefore);

        // The window slides: the key signs again.
        fixture.Clock.Now += SigningRateFixture.Window;
        await AssertSigns(grain, key, share, device);
    }

    [Fact]
    public async Task A_rate_limited_SignNonce_burns_every_commitment_of_the_key_and_the_last_signature_brings_no_next_commitment()
    {
        IUserKeysGrain grain = fixture.GrainFactory.GetGrain<IUserKeysGrain>("sign-rate-held");
        (KeySummary key, ClientKeyShare share) = await CreateKey(grain, "sign-rate-held");
        using ClientKeyShare owned = share;
        var device = new DeviceShare(share.DeviceId, share.ShareId);

        // Four commitments taken while the window is empty (the device's maximum); two opened, which lets the device
        // hold a fifth; a third opened: the window is full, and the device still holds two unopened commitments.
        List<SignCommitment> held = [];
        for (int i = 0; i < 4; i++)
        {
            held.Add(SignCommitment.Decode(await grain.BeginSign(key.KeyId, device)));
        }
        List<(SignClientSession Client, SignCommitment Commitment, byte[] Opening, byte[] Digest)> open = [];
        for (int i = 0; i < 3; i++)
        {
            if (i == 2)
            {
                held.Add(SignCommitment.Decode(await grain.BeginSign(key.KeyId, device)));
            }
            byte[] digest = RandomNumberGenerator.GetBytes(32);
            var client = new SignClientSession(share, Digest.Parse(digest));
            open.Add((client, held[i], await grain.SignNonce(key.KeyId, device, client.HandleCommitment(held[i]).Encode()), digest));
        }
        Assert.Equal(5, held.Select(c => Convert.ToHexString(c.ServerSessionId)).Distinct().Count());
        int auditedBefore = AuditedFor(key.KeyId);

        // The fourth is refused at its nonce round (audited), and the refusal burnt the key's other commitment: not audited again.
        SignerException limited = await Assert.ThrowsAsync<SignerException>(() => SignNonce(grain, key, share, device, held[3]));
        Assert.Equal(SignerErrorKind.ResourceExhausted, limited.Kind);
        Assert.Equal(SigningRateFixture.Window, limited.RetryAfter);
        Assert.Equal(1, AuditedFor(key.KeyId) - auditedBefore);
        SignerException burnt = await Assert.ThrowsAsync<SignerException>(() => SignNonce(grain, key, share, device, held[4]));
        Assert.Equal(SignerErrorKind.NotFound, burnt.Kind);

        // The sessions already opened still finish, but with no next commitment while the window is full.
        foreach ((SignClientSession client, SignCommitment commitment, byte[] opening, byte[] digest) in open)
        {
            SignCompletion completion = await grain.SignFinish(key.KeyId, commitment.ServerSessionId,
                client.HandleOpening(SignOpening.Decode(opening, key.Curve)).Encode(), wantNextCommitment: true);
            Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(key.Curve, key.PublicKey, digest, client.HandleResult(SignResult.Decode(completion.Result, key.Curve))));
            Assert.Null(completion.NextCommitment);
        }
        Assert.Equal(4, AuditedFor(key.KeyId) - auditedBefore);
        Assert.Equal(SignerErrorKind.ResourceExhausted, (await Assert.ThrowsAsync<SignerException>(() => grain.BeginSign(key.KeyId, device))).Kind);

        fixture.Clock.Now += SigningRateFixture.Window;
        await AssertSigns(grain, key, share, device);
    }

    [Fact]
    public async Task A_third_certificate_chain_in_the_hour_is_refused_with_when_to_retry_and_keeps_the_stored_one()
    {
        IUserKeysGrain grain = fixture.GrainFactory.GetGrain<IUserKeysGrain>("certificate-rate");
        (KeySummary key, ClientKeyShare share) = await CreateKey(grain, "certificate-rate");
        using ClientKeyShare owned = share;
        byte[] first = Certificate(key, "CN=First");
        byte[] second = Certificate(key, "CN=Second");
        await grain.SetCertificateChain(key.KeyId, [first]);
        fixture.Clock.Now += TimeSpan.FromMinutes(10);
        await grain.SetCertificateChain(key.KeyId, [second]);

        // Each write rewrites the user's record and adds an audit entry: the third in the hour is refused before either.
        SignerException refused = await Assert.ThrowsAsync<SignerException>(() => grain.SetCertificateChain(key.KeyId, [first]));
        Assert.Equal(SignerErrorKind.ResourceExhausted, refused.Kind);
        Assert.Equal(ErrorReasons.RateLimited, refused.Reason);
        Assert.Equal(TimeSpan.FromMinutes(50), refused.RetryAfter);
        Assert.Equal("This user reached its limit of 2 certificate chains set per 60 minutes; retry in 3000 s.", refused.Message);
        Assert.Equal([second], (await grain.GetKey(key.KeyId))!.CertificateChain);
        Assert.Equal(2, fixture.Audit.Events.Count(e => e.KeyId == key.KeyId && e.Kind == AuditEventKind.Certificate));

        fixture.Clock.Now += TimeSpan.FromMinutes(50);
        await grain.SetCertificateChain(key.KeyId, [first]);
        Assert.Equal([first], (await grain.GetKey(key.KeyId))!.CertificateChain);
    }

    /// <summary>A one-certificate chain for the key: its leaf holds the key's public key (an unrelated key signs it).</summary>
    private static byte[] Certificate(KeySummary key, string subject)
    {
        using var issuer = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName(subject), PublicKey.CreateFromSubjectPublicKeyInfo(key.PublicKey, out _), HashAlgorithmName.SHA256);
        using X509Certificate2 leaf = request.Create(new X500DistinguishedName("CN=Issuer"), X509SignatureGenerator.CreateForECDsa(issuer),
            DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30), RandomNumberGenerator.GetBytes(16));
        return leaf.RawData;
    }

    private int AuditedFor(string keyId) => fixture.Audit.Events.Count(e => e.KeyId == keyId);

    private static async Task<byte[]> SignNonce(IUserKeysGrain grain, KeySummary key, ClientKeyShare share, DeviceShare device, SignCommitment commitment)
    {
        var client = new SignClientSession(share, Digest.Parse(RandomNumberGenerator.GetBytes(32)));
        return await grain.SignNonce(key.KeyId, device, client.HandleCommitment(commitment).Encode());
    }

    private async Task<(KeySummary Key, ClientKeyShare Share)> CreateKey(IUserKeysGrain grain, string keyId)
    {
        using var client = new KeyGenClientSession(CurveKind.P256, fixture.RingPedersen, BigNumBackends.Default);
        byte[] commitment = await grain.BeginKeyGen(keyId, client.Start().Encode());
        KeyGenCompletion completion = await grain.CompleteKeyGen(keyId, client.HandleCommitment(KeyGenCommitment.Decode(commitment)).Encode());
        return (completion.Key, client.HandleServerShare(KeyGenServerShare.Decode(completion.ServerShare, CurveKind.P256)));
    }

    private static async Task AssertSigns(IUserKeysGrain grain, KeySummary key, ClientKeyShare share, DeviceShare device)
    {
        byte[] digest = RandomNumberGenerator.GetBytes(32);
        var client = new SignClientSession(share, Digest.Parse(digest));
        SignCommitment commitment = SignCommitment.Decode(await grain.BeginSign(key.KeyId, device));
        SignOpening opening = SignOpening.Decode(await grain.SignNonce(key.KeyId, device, client.HandleCommitment(commitment).Encode()), key.Curve);
        SignCompletion completion = await grain.SignFinish(key.KeyId, commitment.ServerSessionId, client.HandleOpening(opening).Encode(), wantNextCommitment: false);
        Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(key.Curve, key.PublicKey, digest, client.HandleResult(SignResult.Decode(completion.Result, key.Curve))));
    }
}
