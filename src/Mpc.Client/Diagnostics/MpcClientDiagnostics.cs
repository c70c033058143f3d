namespace Mpc.Client.Diagnostics;

/// <summary>
/// Names under which the SDK reports what it does. Traces: subscribe to the <see cref="ActivitySourceName"/> source
/// (<c>AddSource("Mpc.Client")</c> in OpenTelemetry). Logs: the <c>Mpc.Client.MpcSignerClient</c> category, through
/// <see cref="MpcSignerClientOptions.LoggerFactory"/> (AddMpcSigner passes the application's). Neither carries a
/// secret: no share, nonce, token, passphrase or randomiser, and no digest (it identifies the document signed).
/// </summary>
public static class MpcClientDiagnostics
{
    /// <summary>The <see cref="System.Diagnostics.ActivitySource"/> name: one activity per operation, one child per server call.</summary>
    public const string ActivitySourceName = "Mpc.Client";

    /// <summary>Tag: the key's id (public: the server and the key file show it).</summary>
    public const string KeyIdTag = "mpc.key_id";

    /// <summary>Tag: the curve (secp256k1, P-256, P-384).</summary>
    public const string CurveTag = "mpc.curve";

    /// <summary>Tag: the operation (keygen, sign, refresh, enrolment, restore, backup, import).</summary>
    public const string OperationTag = "mpc.operation";

    /// <summary>Tag: "ok" or "failed".</summary>
    public const string OutcomeTag = "mpc.outcome";

    /// <summary>Tag on a server call: the gRPC status code's name (OK, NotFound, ...).</summary>
    public const string StatusCodeTag = "rpc.grpc.status_code";
}
