using Mpc.Crypto.Paillier;
using Mpc.Crypto.Proofs;
using static Mpc.Crypto.Tests.Proofs.ProofFixture;

namespace Mpc.Crypto.Tests.Proofs;

/// <summary>Πprm commitments made ahead (the server's pool): each set fresh, used by one proof only, bound to its parameters.</summary>
[Collection(ProofCollection.Name)]
public sealed class RingPedersenCommitmentsTests(ProofFixture fixture)
{
    [Fact]
    public void A_proof_from_precomputed_commitments_verifies_and_uses_them_up()
    {
        using RingPedersenCommitments commitments = RingPedersenCommitments.Compute(fixture.RingPedersen);
        Assert.False(commitments.IsUsed);

        RingPedersenProof proof = RingPedersenProof.Prove(fixture.RingPedersen, fixture.ClientContext, commitments);

        proof.Verify(fixture.Parameters, fixture.ClientContext, fixture.Backend);
        Assert.True(commitments.IsUsed);
        Assert.Throws<InvalidOperationException>(() => RingPedersenProof.Prove(fixture.RingPedersen, NewContext(Mpc.Crypto.Hashing.PartyRole.Client, "key-2"), commitments));
    }

    [Fact]
    public void Two_sets_share_no_commitment()
    {
        using RingPedersenCommitments first = RingPedersenCommitments.Compute(fixture.RingPedersen);
        using RingPedersenCommitments second = RingPedersenCommitments.Compute(fixture.RingPedersen);
        RingPedersenProof a = RingPedersenProof.Prove(fixture.RingPedersen, fixture.ClientContext, first);
        RingPedersenProof b = RingPedersenProof.Prove(fixture.RingPedersen, fixture.ClientContext, second);
        Assert.Empty(a.Commitments.Intersect(b.Commitments));
        Assert.Equal(128, a.Commitments.Distinct().Count());
    }

    [Fact]
    public void Commitments_for_other_parameters_are_refused()
    {
        using PaillierPrivateKey key = PaillierPrivateKey.Generate(fixture.Backend);
        using RingPedersenSecret other = RingPedersenSecret.DeriveFromPaillier(key);
        using RingPedersenCommitments commitments = RingPedersenCommitments.Compute(other);

        Assert.Throws<ArgumentException>(() => RingPedersenProof.Prove(fixture.RingPedersen, fixture.ClientContext, commitments));
        Assert.False(commitments.IsUsed);
    }

    [Fact]
    public void A_discarded_set_cannot_be_used()
    {
        RingPedersenCommitments commitments = RingPedersenCommitments.Compute(fixture.RingPedersen);
        commitments.Dispose();
        Assert.True(commitments.IsUsed);
        Assert.Throws<InvalidOperationException>(() => RingPedersenProof.Prove(fixture.RingPedersen, fixture.ClientContext, commitments));
    }
}
