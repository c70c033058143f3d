using System.Reflection;
using Mpc.Client;
using Mpc.Crypto;
using Mpc.Grains.Abstractions;

namespace Mpc.Client.Tests.Sdk;

/// <summary>
/// The SDK's public surface, read by reflection from Mpc.Client.dll: no BouncyCastle type may appear in it (callers
/// get SPKI bytes, <c>ECParameters</c>, an <c>ECDsa</c>, DER/P1363 bytes). Protocol-layer types that remain public
/// on purpose (ClientKeyShare, CurveKind) are not banned here; see the report of issue 12.
/// </summary>
public sealed class SdkPublicApiTests
{
    private static readonly string[] BannedNamespaces = ["Org.BouncyCastle"];

    [Fact]
    public void No_public_or_protected_member_of_the_SDK_exposes_a_BouncyCastle_type()
    {
        List<string> leaks = [];
        foreach (Type type in typeof(MpcSignerClient).Assembly.GetExportedTypes())
        {
            foreach ((string where, Type exposed) in Exposed(type))
            {
                if (Banned(exposed) is { } banned)
                {
                    leaks.Add($"{type.FullName}.{where} exposes {banned.FullName}");
                }
            }
        }
        Assert.True(leaks.Count == 0, "BouncyCastle in the SDK's public API:\n" + string.Join('\n', leaks.Distinct()));
    }

    [Fact]
    public void The_check_finds_a_BouncyCastle_type_where_one_is_exposed()
    {
        // The test above must be able to fail: the same walk over a type that exposes ECPoint finds it.
        Assert.Contains(Exposed(typeof(LeakyExample)), member => Banned(member.Type) is not null && member.Where.StartsWith("Point", StringComparison.Ordinal));
        Assert.Contains(Exposed(typeof(LeakyExample)), member => Banned(member.Type) is not null && member.Where.StartsWith("Take", StringComparison.Ordinal));
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
        foreach (Type implemented in type.GetInterfaces())
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

    private sealed class LeakyExample
    {
        public Org.BouncyCastle.Math.EC.ECPoint? Point { get; set; }

        public static void Take(IReadOnlyList<Org.BouncyCastle.Math.BigInteger> values) => _ = values;
    }
}
