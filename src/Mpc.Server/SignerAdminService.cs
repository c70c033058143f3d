using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Mpc.Grains;
using Mpc.Grains.Abstractions;
using Mpc.Protocol;
using Mpc.Transport.V1;

namespace Mpc.Server;

/// <summary>
/// Operator calls. Only tokens with the scope <see cref="AdminScope"/> (and, when Mpc__Auth__AdminSubjects is set, a
/// listed subject) reach them; the operator acts on a user's key without owning it, and every such act is logged
/// with the operator's subject.
/// </summary>
[Authorize(Policy = AdminPolicy)]
internal sealed class SignerAdminService(IGrainFactory grains, ILogger<SignerAdminService> logger) : SignerAdmin.SignerAdminBase
{
    public const string AdminPolicy = "mpc-admin";
    public const string AdminScope = "mpc.admin";

    public override async Task<KeyInfo> UnfreezeKey(UnfreezeKeyRequest request, ServerCallContext context)
    {
        string operatorName = context.GetHttpContext().User.FindFirst("sub")?.Value ?? "unknown";
        if (!KeyIds.IsValid(request.KeyId))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, KeyIds.Invalid));
        }
        string? owner = await grains.GetGrain<IKeyOwnerGrain>(request.KeyId).GetOwner();
        if (owner is null || owner != request.UserId)
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"User '{ClientText.Quote(request.UserId)}' has no key '{request.KeyId}'."));
        }
        KeySummary key;
        try
        {
            key = await grains.GetGrain<IUserKeysGrain>(owner).Unfreeze(
                request.KeyId, string.IsNullOrEmpty(request.RevokeDeviceId) ? null : request.RevokeDeviceId, operatorName);
        }
        catch (Exception e)
        {
            // Logged only as what happened: a refusal's message is safe to show (SignerException), anything else by type.
            logger.LogWarning("Operator {Operator} could not unfreeze key {KeyId} of a user: {Reason}",
                operatorName, request.KeyId, e is SignerException refusal ? refusal.Message : e.GetType().Name);
            throw;
        }
        logger.LogWarning("Operator {Operator} unfroze key {KeyId} of a user", operatorName, request.KeyId);
        return SignerService.ToKeyInfo(key);
    }

    /// <summary>True when the token's "scope" claim (space-separated, or repeated) includes <see cref="AdminScope"/>.</summary>
    public static bool HasAdminScope(System.Security.Claims.ClaimsPrincipal user) =>
        user.FindAll("scope").Concat(user.FindAll("http://schemas.microsoft.com/identity/claims/scope"))
            .SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Contains(AdminScope, StringComparer.Ordinal);
}
