using Grpc.Core;

namespace Mpc.Client;

/// <summary>The server refused a call. <see cref="Status"/> says why (NotFound, FailedPrecondition for a frozen key, ...).</summary>
public sealed class MpcSignerException : Exception
{
    public MpcSignerException(StatusCode status, string message, Exception? inner = null) : base(message, inner) => Status = status;

    public MpcSignerException()
    {
    }

    public MpcSignerException(string message) : base(message)
    {
    }

    public MpcSignerException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public StatusCode Status { get; }

    internal static MpcSignerException From(RpcException e) => new(e.StatusCode, $"{e.StatusCode}: {e.Status.Detail}", e);
}
