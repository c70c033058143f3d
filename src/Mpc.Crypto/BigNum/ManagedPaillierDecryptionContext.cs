using Org.BouncyCastle.Math;

namespace Mpc.Crypto.BigNum;

/// <summary>
/// The managed backend's Paillier CRT arithmetic in BouncyCastle: correct, but its reductions, divisions and
/// inversions take time that depends on the secret primes. Only for machines without libcrypto, and the
/// server runs it only when told to explicitly.
/// </summary>
internal sealed class ManagedPaillierDecryptionContext : IPaillierDecryptionContext
{
    private readonly IBigNumBackend _backend;
    private Values? _values;

    public ManagedPaillierDecryptionContext(IBigNumBackend backend, BigInteger p, BigInteger q)
    {
        _backend = backend;
        BigInteger pSquared = p.Multiply(p), qSquared = q.Multiply(q), n = p.Multiply(q);
        BigInteger qInverseModP, pInverseModQ, qSquaredInverse;
        try
        {
            qInverseModP = q.ModInverse(p);
            pInverseModQ = p.ModInverse(q);
            qSquaredInverse = qSquared.ModInverse(pSquared);
        }
        catch (ArithmeticException)
        {
            throw Error.Of(MpcErrorCode.InvalidPaillierModulus, "Paillier secret primes are not coprime primes.");
        }
        _values = new Values(
            p, q, pSquared, qSquared,
            // With g = N + 1, L_p(g^(p-1) mod p²) = (p-1)·q mod p, so hp is its inverse: -q⁻¹ mod p.
            Hp: p.Subtract(qInverseModP), Hq: q.Subtract(pInverseModQ),
            qInverseModP, qSquaredInverse,
            NModPhiPSquared: n.Mod(p.Multiply(p.Subtract(BigInteger.One))),
            NModPhiQSquared: n.Mod(q.Multiply(q.Subtract(BigInteger.One))));
    }

    public bool IsUnit(BigInteger ciphertext)
    {
        Values v = Live();
        return ciphertext.Mod(v.P).SignValue != 0 && ciphertext.Mod(v.Q).SignValue != 0;
    }

    public BigInteger Decrypt(BigInteger ciphertext)
    {
        Values v = Live();
        if (!IsUnit(ciphertext))
        {
            throw Error.Of(MpcErrorCode.InvalidCiphertext, "ciphertext is not a unit modulo N².");
        }
        BigInteger mp = L(_backend.ModPow(ciphertext.Mod(v.PSquared), v.P.Subtract(BigInteger.One), v.PSquared), v.P).Multiply(v.Hp).Mod(v.P);
        BigInteger mq = L(_backend.ModPow(ciphertext.Mod(v.QSquared), v.Q.Subtract(BigInteger.One), v.QSquared), v.Q).Multiply(v.Hq).Mod(v.Q);
        return mq.Add(v.Q.Multiply(mp.Subtract(mq).Multiply(v.QInverseModP).Mod(v.P)));
    }

    public (BigInteger PlaintextModP, BigInteger ProductModP) DecryptProductModP(BigInteger a, BigInteger c, BigInteger e)
    {
        Values v = Live();
        if (a.Mod(v.P).SignValue == 0 || c.Mod(v.P).SignValue == 0)
        {
            throw Error.Of(MpcErrorCode.InvalidCiphertext, "ciphertext is not a unit modulo N².");
        }
        BigInteger yp = a.Mod(v.PSquared).Multiply(_backend.ModPow(c.Mod(v.PSquared), e, v.PSquared)).Mod(v.PSquared);
        BigInteger mp = L(_backend.ModPow(yp, v.P.Subtract(BigInteger.One), v.PSquared), v.P).Multiply(v.Hp).Mod(v.P);
        return (mp, yp.Mod(v.P));
    }

    public (BigInteger First, BigInteger Second) PowPairModP(BigInteger first, BigInteger firstExponent, BigInteger second, BigInteger secondExponent)
    {
        Values v = Live();
        return (_backend.ModPow(first.Mod(v.P), firstExponent, v.P), _backend.ModPow(second.Mod(v.P), secondExponent, v.P));
    }

    public BigInteger ReduceModP(BigInteger value) => value.Mod(Live().P);

    public BigInteger MultiplyModP(BigInteger left, BigInteger right) => left.Multiply(right).Mod(Live().P);

    public BigInteger NoncePower(BigInteger nonce)
    {
        Values v = Live();
        BigInteger rp = _backend.ModPow(nonce.Mod(v.PSquared), v.NModPhiPSquared, v.PSquared);
        BigInteger rq = _backend.ModPow(nonce.Mod(v.QSquared), v.NModPhiQSquared, v.QSquared);
        return rq.Add(v.QSquared.Multiply(rp.Subtract(rq).Multiply(v.QSquaredInverseModPSquared).Mod(v.PSquared)));
    }

    /// <summary>Drops every CRT value. BouncyCastle's immutable BigInteger cannot be wiped in place.</summary>
    public void Dispose()
    {
        Volatile.Write(ref _values, null);
    }

    private Values Live() => Volatile.Read(ref _values) ?? throw new ObjectDisposedException(nameof(IPaillierDecryptionContext));

    private static BigInteger L(BigInteger x, BigInteger n) => x.Subtract(BigInteger.One).Divide(n);

    private sealed record Values(
        BigInteger P, BigInteger Q, BigInteger PSquared, BigInteger QSquared, BigInteger Hp, BigInteger Hq,
        BigInteger QInverseModP, BigInteger QSquaredInverseModPSquared, BigInteger NModPhiPSquared, BigInteger NModPhiQSquared)
    {
        // A record prints its members by default; these are the factorisation.
        public override string ToString() => nameof(Values);
    }
}
