using System.Reflection;
using System.Runtime.CompilerServices;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Proofs;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Tests.Proofs;

/// <summary>A record prints every member by default: the ones holding secrets must not.</summary>
public sealed class SecretRecordTests
{
    [Fact]
    public void PrimeHalves_prints_none_of_its_values()
    {
        // WRoot alone factors N: gcd(WRoot⁴ ∓ w, N) = p.
        var halves = new BlumPrimeArithmetic.PrimeHalves(
            [BigInteger.ValueOf(123456789)], [BigInteger.ValueOf(987654321)], [-1], BigInteger.ValueOf(24680), -1, BigInteger.ValueOf(13579), 1);

        Assert.DoesNotMatch("[0-9]", halves.ToString());
        Assert.DoesNotMatch("[0-9]", $"{halves}");
        Assert.DoesNotContain(nameof(halves.WRoot), halves.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_internal_record_holding_integers_or_bytes_writes_its_own_ToString()
    {
        Type[] records = [.. typeof(WireWriter).Assembly.GetTypes().Where(t => !t.IsVisible && IsRecord(t) && HoldsNumbersOrBytes(t))];

        Assert.Contains(typeof(BlumPrimeArithmetic.PrimeHalves), records);
        Assert.All(records, record =>
        {
            MethodInfo toString = record.GetMethod(nameof(ToString), BindingFlags.Public | BindingFlags.Instance, Type.EmptyTypes)!;
            Assert.True(toString.DeclaringType == record && toString.GetCustomAttribute<CompilerGeneratedAttribute>() is null,
                $"{record.FullName} prints its members: override ToString");
        });
    }

    private static bool IsRecord(Type type) =>
        type.GetMethod("PrintMembers", BindingFlags.NonPublic | BindingFlags.Instance, [typeof(System.Text.StringBuilder)]) is { } printMembers
        && printMembers.GetCustomAttribute<CompilerGeneratedAttribute>() is not null;

    private static bool HoldsNumbersOrBytes(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance)
            .Any(p => p.PropertyType == typeof(BigInteger) || p.PropertyType == typeof(BigInteger[]) || p.PropertyType == typeof(byte[]));
}
