using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Hashing;
using Mpc.Crypto.Paillier;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;

namespace Mpc.Crypto.Proofs;

/// <summary>
/// What both verifiers of <see cref="SignCiphertextProof"/> check the same way (shapes and ranges, the challenge, the
/// group equations), and the one transcript the prover and the verifiers share.
/// </summary>
internal sealed class SignCiphertextChecks(
    EcCurve curve, PaillierPublicKey key, RingPedersenParameters parameters, BigInteger encryptedShare, BigInteger c3,
    ECPoint r2, ECPoint x1Point, ECPoint x2Point, ProofContext context, Func<BigInteger, bool> isUnitModN)
{
    public static void RequireValidOrIdentity(EcCurve curve, ECPoint point, string field)
    {
        // X2 = m'·G is the identity only for a digest ≡ 0 (mod q); the statement still holds (β ≡ 0), so it is allowed.
        if (!point.IsInfinity)
        {
            curve.ValidatePoint(point, field);
        }
        else if (!point.Curve.Equals(curve.G.Curve))
        {
            throw new MpcProtocolException(MpcErrorCode.InvalidPoint, $"{field} is not a {curve.Name} point.");
        }
    }

    public static BigInteger Challenge(
        EcCurve curve, BigInteger n, BigInteger c, BigInteger d, ECPoint r2, ECPoint x1, ECPoint x2,
        RingPedersenParameters parameters, ReadOnlySpan<byte> binding,
        BigInteger a, ReadOnlySpan<byte> bx, ReadOnlySpan<byte> by, BigInteger e, BigInteger f, BigInteger s, BigInteger t,
        ProofContext context) =>
        Transcript.Start(SignCiphertextProof.Purpose, context)
            .Append("Πaff-g/N", n)
            .Append("Πaff-g/C", c)
            .Append("Πaff-g/D", d)
            .Append("Πaff-g/R2", r2)
            .Append("Πaff-g/X1", x1)
            .Append("Πaff-g/X2", x2)
            .Append("Πaff-g/N̂", parameters.N)
            .Append("Πaff-g/s", parameters.S)
            .Append("Πaff-g/t", parameters.T)
            .Append("Πaff-g/binding", binding)
            .Append("Πaff-g/A", a)
            .Append("Πaff-g/Bx", bx)
            .Append("Πaff-g/By", by)
            .Append("Πaff-g/E", e)
            .Append("Πaff-g/F", f)
            .Append("Πaff-g/S", s)
            .Append("Πaff-g/T", t)
            .ChallengeBelow("Πaff-g/e", BigInteger.One.ShiftLeft(SignCiphertextProofParameters.ChallengeBits));

    private ECPoint? _bx;
    private ECPoint? _by;

    /// <summary>Step 1 (every field's shape and range) and step 2 (the challenge e).</summary>
    public BigInteger Prepare(SignCiphertextProof proof, ReadOnlySpan<byte> binding, bool validateParameters)
    {
        ArgumentNullException.ThrowIfNull(curve);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(encryptedShare);
        ArgumentNullException.ThrowIfNull(c3);
        ArgumentNullException.ThrowIfNull(r2);
        ArgumentNullException.ThrowIfNull(x1Point);
        ArgumentNullException.ThrowIfNull(x2Point);
        ArgumentNullException.ThrowIfNull(context);
        if (context.Curve != curve.Kind)
        {
            throw Error.ProofFailed(SignCiphertextProof.Name, "the context names another curve");
        }
        if (context.Prover != PartyRole.Client)
        {
            throw Error.ProofFailed(SignCiphertextProof.Name, "the context does not name the client as prover");
        }
        SignCiphertextProofParameters.RequirePaillierBits(curve, key.BitLength);
        if (validateParameters)
        {
            parameters.Validate();
        }
        curve.ValidatePoint(r2, "R2");
        curve.ValidatePoint(x1Point, "X1");
        RequireValidOrIdentity(curve, x2Point, "X2");
        RequireUnits(proof);
        _bx = DecodePoint(proof.EncodedBx, "Bx");
        _by = DecodePoint(proof.EncodedBy, "By");
        if (proof.Z1.Abs().BitLength > SignCiphertextProofParameters.Z1Bits(curve))
        {
            throw Error.ProofFailed(SignCiphertextProof.Name, "range check: |z1| is not below 2^(A_α+κ+σ+1)");
        }
        if (proof.Z2.Abs().BitLength > SignCiphertextProofParameters.Z2Bits(curve))
        {
            throw Error.ProofFailed(SignCiphertextProof.Name, "range check: |z2| is not below 2^(A_β+κ+σ+1)");
        }
        int z3Bits = SignCiphertextProofParameters.Z3Bits(parameters.N.BitLength);
        if (proof.Z3.Abs().BitLength > z3Bits || proof.Z4.Abs().BitLength > z3Bits)
        {
            throw Error.ProofFailed(SignCiphertextProof.Name, "z3 or z4 is too large");
        }
        return Challenge(
            curve, key.N, encryptedShare, c3, r2, x1Point, x2Point, parameters, binding,
            proof.A, proof.EncodedBx, proof.EncodedBy, proof.E, proof.F, proof.S, proof.T, context);
    }

    /// <summary>
    /// Step 4: z1·R2 = Bx + e·X1 and z2·R2 = By + e·X2 (scalars mod q; all public). The multiplications go through
    /// <see cref="EcCurve.MultiplySecret"/> only because OpenSSL's is ten times faster than BouncyCastle's.
    /// </summary>
    public void Group(SignCiphertextProof proof, BigInteger e)
    {
        if (!Times(r2, proof.Z1).Equals(_bx!.Add(Times(x1Point, e)).Normalize()))
        {
            throw Error.ProofFailed(SignCiphertextProof.Name, "group equality z1·R2 = Bx + e·X1");
        }
        if (!Times(r2, proof.Z2).Equals(_by!.Add(Times(x2Point, e)).Normalize()))
        {
            throw Error.ProofFailed(SignCiphertextProof.Name, "group equality z2·R2 = By + e·X2");
        }
    }

    /// <summary>k·P for any integer k (reduced mod q) and a valid point or the identity.</summary>
    private ECPoint Times(ECPoint point, BigInteger k)
    {
        BigInteger reduced = k.Mod(curve.Order);
        return reduced.SignValue == 0 || point.IsInfinity ? curve.G.Curve.Infinity : curve.MultiplySecret(point, reduced);
    }

    private ECPoint DecodePoint(byte[] encoded, string field)
    {
        try
        {
            return curve.DecodePoint(encoded, $"{SignCiphertextProof.Name} {field}");
        }
        catch (MpcProtocolException)
        {
            throw Error.ProofFailed(SignCiphertextProof.Name, $"{field} is not a valid non-identity point");
        }
    }

    /// <summary>
    /// c_key, c3, A ∈ Z*_{N²} and E, F, S, T ∈ Z*_N̂, w ∈ Z*_N: each in range, and one gcd for all of them (a product
    /// of residues is a unit exactly when each is); only a failure looks at them one by one, to name the culprit.
    /// </summary>
    private void RequireUnits(SignCiphertextProof proof)
    {
        BigInteger n = key.N, nSquared = key.NSquared, nHat = parameters.N;
        (BigInteger Value, BigInteger Bound, string Failure)[] paillier =
        [
            (encryptedShare, nSquared, "c_key is not in Z*_{N²}"),
            (c3, nSquared, "c3 is not in Z*_{N²}"),
            (proof.A, nSquared, "A is not in Z*_{N²}"),
            (proof.W, n, "w is not a unit in [1, N)"),
        ];
        (BigInteger Value, BigInteger Bound, string Failure)[] ringPedersen =
        [
            (proof.E, nHat, "E is not a unit in [1, N̂)"),
            (proof.F, nHat, "F is not a unit in [1, N̂)"),
            (proof.S, nHat, "S is not a unit in [1, N̂)"),
            (proof.T, nHat, "T is not a unit in [1, N̂)"),
        ];
        foreach ((BigInteger value, BigInteger bound, string failure) in paillier.Concat(ringPedersen))
        {
            if (value.SignValue <= 0 || value.CompareTo(bound) >= 0)
            {
                throw Error.ProofFailed(SignCiphertextProof.Name, failure);
            }
        }
        BigInteger paillierProduct = Product(paillier, n);
        BigInteger ringPedersenProduct = Product(ringPedersen, nHat);
        bool allUnits = nHat.Equals(n)
            ? isUnitModN(key.Backend.ModMultiply(paillierProduct, ringPedersenProduct, n))
            : isUnitModN(paillierProduct) && NumericsArithmetic.AreCoprime(ringPedersenProduct, nHat);
        if (allUnits)
        {
            return;
        }
        foreach ((BigInteger value, _, string failure) in paillier)
        {
            if (!NumericsArithmetic.AreCoprime(value, n))
            {
                throw Error.ProofFailed(SignCiphertextProof.Name, failure);
            }
        }
        foreach ((BigInteger value, _, string failure) in ringPedersen)
        {
            if (!NumericsArithmetic.AreCoprime(value, nHat))
            {
                throw Error.ProofFailed(SignCiphertextProof.Name, failure);
            }
        }
        throw new InvalidOperationException("A product of units was not a unit.");
    }

    private BigInteger Product((BigInteger Value, BigInteger Bound, string Failure)[] values, BigInteger modulus)
    {
        BigInteger product = BigInteger.One;
        foreach ((BigInteger value, _, _) in values)
        {
            product = key.Backend.ModMultiply(product, value, modulus);
        }
        return product;
    }
}
