using System.Reflection;
using Mpc.Client;
using Mpc.Crypto;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;
using Mpc.Grains.Abstractions;

namespace Mpc.Client.Tests.Sdk;

/// <summary>
/// The SDK's public surface, read by reflection from Mpc.Client.dll: no BouncyCastle type may appear in it (callers
/// get SPKI bytes, <c>ECParameters</c>, an <c>ECDsa</c>, DER/P1363 bytes). No exemptions: the walk follows every
/// project type the SDK shows (ClientKeyShare from Mpc.Protocol, CurveKind from Mpc.Crypto, ...) into its own public
/// members, so a lower-layer type the SDK hands out is held to the same rule. CurveKind stays: a plain enum. The
/// crypto engine is chosen through the opaque <see cref="MpcArithmetic"/> and the device's parameters come from an
/// <see cref="DeviceProfiles.IDeviceProfileStore"/>: neither a big-number backend nor ring-Pedersen parameters are reachable.
/// </summary>
public sealed class SdkPublicApiTests
{
    private static readonly string[] BannedNamespaces = ["Org.BouncyCastle"];

    [Fact]
    public void No_public_or_protected_member_of_the_SDK_exposes_a_BouncyCastle_type()
    {
        IReadOnlyList<string> leaks = Leaks(typeof(MpcSignerClient).Assembly.GetExportedTypes());
        Assert.True(leaks.Count == 0, "BouncyCastle in the SDK's public API:\n" + string.Join('\n', leaks));
    }

    [Fact]
    public void The_walk_reaches_the_lower_layer_types_the_SDK_hands_out()
    {
        // Without this the test above could pass by never looking at ClientKeyShare, the type that used to leak.
        Dictionary<Type, string> reached = Reachable(typeof(MpcSignerClient).Assembly.GetExportedTypes());
        Assert.Contains(typeof(Mpc.Protocol.Keys.ClientKeyShare), reached.Keys);
        Assert.Contains(typeof(CurveKind), reached.Keys);
        Assert.Contains(typeof(MpcArithmetic), reached.Keys);
        Assert.Contains(typeof(DeviceProfiles.InMemoryDeviceProfileStore), reached.Keys);
        // The engine types the SDK used to take from callers are no longer reachable at all.
        Assert.DoesNotContain(typeof(IBigNumBackend), reached.Keys);
        Assert.DoesNotContain(typeof(RingPedersenSecret), reached.Keys);
    }

    [Fact]
    public void The_check_finds_a_BouncyCastle_type_where_one_is_exposed()
    {
        // The test above must be able to fail: the same check over types that expose BouncyCastle types finds each.
        IReadOnlyList<string> leaks = Leaks([typeof(LeakyExample), typeof(LeakyBase), typeof(LeakyHandle)]);
        Assert.Contains(leaks, l => l.Contains("LeakyExample.Point exposes Org.BouncyCastle.Math.EC.ECPoint", StringComparison.Ordinal));
        Assert.Contains(leaks, l => l.Contains("LeakyExample.Take(values) exposes Org.BouncyCastle.Math.BigInteger", StringComparison.Ordinal));
        Assert.Contains(leaks, l => l.Contains("LeakyExample.Modulus exposes Org.BouncyCastle.Math.BigInteger", StringComparison.Ordinal));
        Assert.Contains(leaks, l => l.Contains("LeakyBase.(interface) exposes", StringComparison.Ordinal));
        // Reached only through LeakyExample.Handle: a non-BouncyCastle type whose own member leaks.
        Assert.Contains(leaks, l => l.Contains("LeakyHandle.X2 exposes Org.BouncyCastle.Math.BigInteger", StringComparison.Ordinal));
        Assert.Contains(Leaks([typeof(LeakyExample)]), l => l.Contains("LeakyHandle.X2", StringComparison.Ordinal));
        // CleanExample implements a non-visible interface with a BouncyCastle member: nothing outside can reach it.
        Assert.Empty(Leaks([typeof(CleanExample)]));
    }

    [Fact]
    public void Every_protocol_error_code_and_server_reason_has_an_SDK_reason_of_the_same_name()
    {
        foreach (MpcErrorCode code in Enum.GetValues<MpcErrorCode>())
        {
            Assert.True(Enum.TryParse(code.ToString(), out MpcErrorReason _), $"MpcErrorReason lacks {code}");
            Assert.Equal(code.ToString(), MpcSignerException.ParseReason(ErrorReasons.Of(code)).ToString());
        }
        foreach (FieldInfo field in typeof(ErrorReasons).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral && f.Name != nameof(ErrorReasons.Domain)))
        {
            string reason = (string)field.GetRawConstantValue()!;
            Assert.True(MpcSignerException.ParseReason(reason) is not null, $"the SDK cannot read the server's reason {reason}");
        }
        Assert.Equal(ErrorReasons.Domain, MpcSignerException.ErrorDomain);
        Assert.Null(MpcSignerException.ParseReason("SOMETHING_NEWER"));
    }

    [Fact]
    public void Both_unknown_outcomes_are_one_catchable_type_and_neither_proves_that_nothing_was_stored()
    {
        var lost = new MpcSignerException(Grpc.Core.StatusCode.Unavailable, "the reply was lost");
        Exception[] unknown =
        [
            new MpcKeyGenOutcomeUnknownException("Key k may or may not have been stored", lost),
            new MpcRefreshOutcomeUnknownException("The refresh may or may not have completed", lost),
        ];
        foreach (Exception e in unknown)
        {
            Assert.Equal(MpcErrorReason.OutcomeUnknown, Assert.IsAssignableFrom<MpcOutcomeUnknownException>(e).Reason);
            Assert.False(MpcOutcomeUnknownException.ProvesNothingStored(e));
        }
        // A checked refusal proves nothing was stored; a failure in transport or storage, a timeout or a cancellation does not.
        Assert.True(MpcOutcomeUnknownException.ProvesNothingStored(new MpcSignerException(Grpc.Core.StatusCode.NotFound, "unknown key generation")));
        Assert.True(MpcOutcomeUnknownException.ProvesNothingStored(new MpcSignerException(Grpc.Core.StatusCode.ResourceExhausted, "too many")));
        Assert.False(MpcOutcomeUnknownException.ProvesNothingStored(new MpcSignerException(Grpc.Core.StatusCode.Internal, "the write failed")));
        Assert.False(MpcOutcomeUnknownException.ProvesNothingStored(new MpcSignerException(Grpc.Core.StatusCode.DeadlineExceeded, "timed out")));
        Assert.False(MpcOutcomeUnknownException.ProvesNothingStored(lost));
        Assert.False(MpcOutcomeUnknownException.ProvesNothingStored(new OperationCanceledException()));
    }

    [Fact]
    public void Every_public_SDK_type_is_documented_in_the_generated_xml()
    {
        Assembly sdk = typeof(MpcSignerClient).Assembly;
        string xml = Path.ChangeExtension(sdk.Location, ".xml");
        Assert.True(File.Exists(xml), $"no documentation file beside {sdk.Location}");
        string text = File.ReadAllText(xml);
        string[] undocumented = [.. sdk.GetExportedTypes()
            .Where(t => !t.Namespace!.StartsWith("Mpc.Transport", StringComparison.Ordinal))
            .Select(t => "T:" + t.FullName!.Replace('+', '.'))
            .Where(id => !text.Contains($"\"{id}\"", StringComparison.Ordinal))];
        Assert.True(undocumented.Length == 0, "public SDK types without a doc comment: " + string.Join(", ", undocumented));
    }

    /// <summary>Every type a public or protected member of <paramref name="type"/> shows, with the member's name.</summary>
    private static IEnumerable<(string Where, Type Type)> Exposed(Type type)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        if (type.BaseType is { } baseType)
        {
            yield return ("(base type)", baseType);
        }
        // An internal interface (IDeviceProfilePeek) cannot be named, cast to or called outside the SDK, so it shows nothing.
        foreach (Type implemented in type.GetInterfaces().Where(i => i.IsVisible))
        {
            yield return ("(interface)", implemented);
        }
        foreach (Type argument in type.IsGenericTypeDefinition ? type.GetGenericArguments().SelectMany(a => a.GetGenericParameterConstraints()) : [])
        {
            yield return ("(generic constraint)", argument);
        }
        foreach (MemberInfo member in type.GetMembers(all))
        {
            switch (member)
            {
                case MethodBase method when method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly:
                    foreach (ParameterInfo parameter in method.GetParameters())
                    {
                        yield return ($"{method.Name}({parameter.Name})", parameter.ParameterType);
                    }
                    if (method is MethodInfo returning)
                    {
                        yield return ($"{method.Name} (return)", returning.ReturnType);
                        foreach (Type argument in returning.IsGenericMethodDefinition ? returning.GetGenericArguments().SelectMany(a => a.GetGenericParameterConstraints()) : [])
                        {
                            yield return ($"{method.Name} (generic constraint)", argument);
                        }
                    }
                    break;
                case PropertyInfo property when property.GetMethod is { } get && (get.IsPublic || get.IsFamily || get.IsFamilyOrAssembly)
                    || property.SetMethod is { } set && (set.IsPublic || set.IsFamily || set.IsFamilyOrAssembly):
                    yield return (property.Name, property.PropertyType);
                    break;
                case FieldInfo field when field.IsPublic || field.IsFamily || field.IsFamilyOrAssembly:
                    yield return (field.Name, field.FieldType);
                    break;
                case EventInfo e when e.AddMethod is { } add && (add.IsPublic || add.IsFamily):
                    yield return (e.Name, e.EventHandlerType!);
                    break;
            }
        }
    }

    /// <summary>The banned type inside <paramref name="type"/> (itself, an element, a generic argument), or null.</summary>
    private static Type? Banned(Type type)
    {
        if (type.HasElementType)
        {
            return Banned(type.GetElementType()!);
        }
        if (type.IsGenericType && !type.IsGenericTypeDefinition)
        {
            foreach (Type argument in type.GetGenericArguments())
            {
                if (Banned(argument) is { } inner)
                {
                    return inner;
                }
            }
        }
        return type.Namespace is { } ns && BannedNamespaces.Any(b => ns == b || ns.StartsWith(b + ".", StringComparison.Ordinal)) ? type : null;
    }

    /// <summary>Every leak in <paramref name="roots"/> and in the project types they expose, one line each, with how it was reached.</summary>
    private static List<string> Leaks(IEnumerable<Type> roots)
    {
        List<string> leaks = [];
        foreach ((Type type, string via) in Reachable(roots))
        {
            foreach ((string where, Type exposed) in Exposed(type))
            {
                if (Banned(exposed) is { } banned)
                {
                    leaks.Add($"{type.FullName}.{where} exposes {banned.FullName}{via}");
                }
            }
        }
        return [.. leaks.Distinct()];
    }

    /// <summary>
    /// <paramref name="roots"/> and, transitively, every type of this project (an Mpc.* assembly) that a public member of
    /// a reached type shows (a caller holding such a value can reach its public members too), each with the member that led to it.
    /// </summary>
    private static Dictionary<Type, string> Reachable(IEnumerable<Type> roots)
    {
        Dictionary<Type, string> reached = [];
        Queue<(Type Type, string Via)> pending = new(roots.Select(r => (r, "")));
        while (pending.TryDequeue(out (Type Type, string Via) next))
        {
            if (!reached.TryAdd(next.Type, next.Via))
            {
                continue;
            }
            foreach ((string where, Type exposed) in Exposed(next.Type))
            {
                foreach (Type part in Parts(exposed).Where(IsProjectType).Where(p => !reached.ContainsKey(p)))
                {
                    pending.Enqueue((part, $" (reached through {next.Type.Name}.{where})"));
                }
            }
        }
        return reached;
    }

    private static bool IsProjectType(Type type) =>
        !type.IsGenericParameter && (type.Assembly.GetName().Name?.StartsWith("Mpc.", StringComparison.Ordinal) ?? false);

    /// <summary>The type itself, its element type and its generic arguments, as definitions.</summary>
    private static IEnumerable<Type> Parts(Type type)
    {
        if (type.HasElementType)
        {
            return Parts(type.GetElementType()!);
        }
        if (type.IsGenericType && !type.IsGenericTypeDefinition)
        {
            return [type.GetGenericTypeDefinition(), .. type.GetGenericArguments().SelectMany(Parts)];
        }
        return [type];
    }

    private sealed class LeakyExample
    {
        public Org.BouncyCastle.Math.EC.ECPoint? Point { get; set; }

        public Org.BouncyCastle.Math.BigInteger? Modulus = Org.BouncyCastle.Math.BigInteger.Two;

        public LeakyHandle? Handle { get; set; }

        public static void Take(IReadOnlyList<Org.BouncyCastle.Math.BigInteger> values) => _ = values;
    }

    private sealed class LeakyHandle
    {
        public Org.BouncyCastle.Math.BigInteger X2 => Org.BouncyCastle.Math.BigInteger.One;
    }

    private abstract class LeakyBase : IComparable<Org.BouncyCastle.Math.BigInteger>
    {
        public abstract int CompareTo(Org.BouncyCastle.Math.BigInteger? other);
    }

    private interface IHiddenLeak
    {
        Org.BouncyCastle.Math.BigInteger Value { get; }
    }

    private sealed class CleanExample : IHiddenLeak
    {
        Org.BouncyCastle.Math.BigInteger IHiddenLeak.Value => Org.BouncyCastle.Math.BigInteger.One;

        public byte[] SubjectPublicKeyInfo { get; } = [];

        public CurveKind Curve { get; }

        internal Org.BouncyCastle.Math.BigInteger Hidden => Org.BouncyCastle.Math.BigInteger.One;
    }
}
