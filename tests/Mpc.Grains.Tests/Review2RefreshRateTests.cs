using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Grains.Abstractions;
using Mpc.Protocol.KeyGen;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Refresh;

namespace Mpc.Grains.Tests;

/// <summary>
/// Review 2 (security), finding: nothing bounds how often one user makes the server generate a fresh Paillier key and
/// prove it (Πmod, Πfac, Πlog*, Πprm). A device's BeginRefresh(Refresh) forgets its previous refresh in progress
/// (RefreshSessions.ReplaceRefreshOf), so Begin + Continue can be repeated without end: the 4-per-key cap never fills,
/// and the signing rate limit does not apply to refreshes. The client's side of each round is a scalar and a
/// ring-Pedersen set the server already names as verified (no Πprm), i.e. almost free.
/// </summary>
public sealed class Review2RefreshRateTests(GrainClusterFixture fixture) : IClassFixture<GrainClusterFixture>
{
    private const int Attempts = 12;

    [Fact]
    public async Task Repeated_abandoned_refreshes_of_one_device_are_eventually_refused()
    {
        IUserKeysGrain grain = fixture.GrainFactory.GetGrain<IUserKeysGrain>("review2-refresh-flood");
        using var client = new KeyGenClientSession(CurveKind.P256, fixture.RingPedersen, BigNumBackends.Default);
        const string keyId = "review2-flood";
        byte[] commitment = await grain.BeginKeyGen(keyId, client.Start().Encode());
        KeyGenCompletion completion = await grain.CompleteKeyGen(keyId, client.HandleCommitment(KeyGenCommitment.Decode(commitment)).Encode());
        using ClientKeyShare share = client.HandleServerShare(KeyGenServerShare.Decode(completion.ServerShare, CurveKind.P256));

        var moduli = new HashSet<string>();
        SignerException? refused = null;
        for (int i = 0; i < Attempts && refused is null; i++)
        {
            using var session = RefreshClientSession.FromShare(share, RefreshPurpose.Refresh, fixture.RingPedersen, BigNumBackends.Default);
            try
            {
                RefreshStarted started = await grain.BeginRefresh(keyId,
                    new RefreshStart(new DeviceShare(share.DeviceId, share.ShareId), RefreshPurpose.Refresh, "", session.Start().Encode()));
                byte[] reply = await grain.ContinueRefresh(keyId, started.RefreshId,
                    session.HandleCommitment(RefreshCommitment.Decode(started.Commitment)).Encode());
                // Each reply carries a fresh Paillier modulus and its proofs: the server's costliest work, done again.
                moduli.Add(RefreshServerShare.Decode(reply, CurveKind.P256).Setup.PaillierModulus.ToString(16));
                // Abandoned here: never completed.
            }
            catch (SignerException e) when (e.Kind == SignerErrorKind.ResourceExhausted)
            {
                refused = e;
            }
        }

        Assert.True(refused is not null,
            $"{Attempts} abandoned refreshes in a row were all served: {moduli.Count} fresh Paillier keys with their proofs were made for one user, one key, one device, with no limit.");
    }
}
