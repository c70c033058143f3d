using System.Diagnostics;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Mpc.Server;
using StackExchange.Redis;
using YamlDotNet.RepresentationModel;

namespace Mpc.Deploy.Tests;

/// <summary>
/// The Helm chart in deploy/helm/mpc-signer, rendered with each of its ci/*-values.yaml files: the PIN
/// mount passes the server's own PIN file rule, the NetworkPolicy admits exactly the server's ports but the probe
/// port, Redis requires a password from a Secret and the signer connects with it, and tls.secretName serves gRPC over
/// https with the probes on the plain probe port. <see cref="DeploymentManifestTests"/>
/// checks the rest (ports, probes, images, environment names) against the same rendering.
/// </summary>
public sealed class HelmChartTests
{
    private const string Release = "mpc-signer";
    private const string Namespace = "signing";
    private static readonly string Root = Repository.Root;
    private static readonly string Chart = Path.Combine(Root, "deploy", "helm", "mpc-signer");

    public static TheoryData<string> CiValueFiles() =>
        new(Directory.EnumerateFiles(Path.Combine(Chart, "ci"), "*-values.yaml").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal));

    private static List<YamlMappingNode> Render(string ciValues) =>
        HelmTemplate.Render(Chart, Release, Namespace, Path.Combine(Chart, "ci", ciValues)).Select(o => o.Document).ToList();

    private static YamlMappingNode Object(List<YamlMappingNode> objects, string kind, string name) =>
        Assert.Single(objects, o => Scalar(o, "kind") == kind && Scalar(o, "metadata", "name") == name);

    private static YamlMappingNode SignerContainer(List<YamlMappingNode> objects) =>
        Assert.IsType<YamlMappingNode>(Assert.Single(Sequence(Object(objects, "StatefulSet", Release), "spec", "template", "spec", "containers")));

    private static List<YamlMappingNode> Env(YamlMappingNode container) => Sequence(container, "env").Cast<YamlMappingNode>().ToList();

    private static string? EnvValue(YamlMappingNode container, string name) =>
        Env(container).Where(e => Scalar(e, "name") == name).Select(e => Scalar(e, "value")).SingleOrDefault();

    /// <summary>
    /// The volume of Secret <paramref name="secretName"/> in <paramref name="pod"/>, mounted read-only into
    /// <paramref name="container"/> with mode 0440: the mount's directory and the Secret's keys by the file names they get.
    /// </summary>
    private static (string Directory, Dictionary<string, string> Items) SecretMount(YamlMappingNode pod, YamlMappingNode container, string secretName)
    {
        YamlMappingNode volume = Assert.Single(Sequence(pod, "volumes").Cast<YamlMappingNode>(), v => Scalar(v, "secret", "secretName") == secretName);
        YamlMappingNode mount = Assert.Single(Sequence(container, "volumeMounts").Cast<YamlMappingNode>(), m => Scalar(m, "name") == Scalar(volume, "name"));
        Assert.Equal("true", Scalar(mount, "readOnly"));
        Assert.Equal("0440", Scalar(volume, "secret", "defaultMode"));
        return (Scalar(mount, "mountPath")!, Sequence(volume, "secret", "items").Cast<YamlMappingNode>().ToDictionary(i => Scalar(i, "key")!, i => Scalar(i, "path")!));
    }

    [Theory]
    [MemberData(nameof(CiValueFiles))]
    public void Every_template_renders_objects_in_the_release_namespace(string ciValues)
    {
        List<HelmTemplate.RenderedObject> rendered = HelmTemplate.Render(Chart, Release, Namespace, Path.Combine(Chart, "ci", ciValues));
        Assert.Contains(rendered, o => o.Template == "signer.yaml");
        Assert.Contains(rendered, o => o.Template == "networkpolicy.yaml");
        Assert.All(rendered, o => Assert.Equal(Namespace, Scalar(o.Document, "metadata", "namespace")));
        Assert.All(rendered, o => Assert.Equal("mpc-signer", Scalar(o.Document, "metadata", "labels", "app.kubernetes.io/part-of")));
        string[] names = rendered.Select(o => Scalar(o.Document, "kind") + "/" + Scalar(o.Document, "metadata", "name")).ToArray();
        Assert.Equal(names.Length, names.Distinct().Count());
    }

    [Fact]
    public void Default_values_alone_do_not_render_a_signer_without_its_hsm_and_issuer()
    {
        var ex = Assert.Throws<RequiredValueException>(() => HelmTemplate.Render(Chart, Release, Namespace));
        Assert.Contains("auth.publicKey", ex.Message);

        using var directory = new TempDirectory();
        string authOnly = Path.Combine(directory.Path, "auth-only.yaml");
        File.WriteAllText(authOnly, "auth:\n  authority: https://login.example.com\n");
        ex = Assert.Throws<RequiredValueException>(() => HelmTemplate.Render(Chart, Release, Namespace, authOnly));
        Assert.Contains("hsm.modulePath", ex.Message);
    }

    [Theory]
    [MemberData(nameof(CiValueFiles))]
    public void Pin_secret_mount_passes_the_servers_pin_file_rule(string ciValues)
    {
        List<YamlMappingNode> objects = Render(ciValues);
        YamlMappingNode pod = Assert.IsType<YamlMappingNode>(Node(Object(objects, "StatefulSet", Release), "spec", "template", "spec"));
        YamlMappingNode container = SignerContainer(objects);
        string pinFile = EnvValue(container, "Mpc__KeyEncryption__Pkcs11__PinFile")!;

        YamlMappingNode mount = Assert.Single(Sequence(container, "volumeMounts").Cast<YamlMappingNode>(),
            m => Scalar(m, "mountPath") == Path.GetDirectoryName(pinFile));
        Assert.Equal("true", Scalar(mount, "readOnly"));
        YamlMappingNode volume = Assert.Single(Sequence(pod, "volumes").Cast<YamlMappingNode>(), v => Scalar(v, "name") == Scalar(mount, "name"));
        YamlMappingNode item = Assert.IsType<YamlMappingNode>(Assert.Single(Sequence(volume, "secret", "items")));
        Assert.Equal(Path.GetFileName(pinFile), Scalar(item, "path"));

        // What the kubelet makes of it: the file's group is fsGroup and its mode defaultMode | 0440
        // (a read-only volume with fsGroup); the container runs in runAsGroup and, as a supplementary
        // group, in fsGroup.
        UnixFileMode defaultMode = (UnixFileMode)ParseMode(Scalar(volume, "secret", "defaultMode")!);
        uint fsGroup = uint.Parse(Scalar(pod, "securityContext", "fsGroup")!);
        uint runAsGroup = uint.Parse(Scalar(pod, "securityContext", "runAsGroup")!);
        UnixFileMode mounted = defaultMode | UnixFileMode.UserRead | UnixFileMode.GroupRead;
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.GroupRead, mounted);
        Assert.Null(PinFileAccess.Refusal(mounted, fsGroup, [runAsGroup, fsGroup]));

        // The same check fails where it should: Kubernetes' default mode (0644) or no fsGroup at all.
        Assert.NotNull(PinFileAccess.Refusal((UnixFileMode)Convert.ToInt32("644", 8), fsGroup, [runAsGroup, fsGroup]));
        Assert.NotNull(PinFileAccess.Refusal(mounted, fileGroup: 0, [runAsGroup]));
    }

    [Theory]
    [MemberData(nameof(CiValueFiles))]
    public void Network_policy_admits_grpc_from_outside_and_the_silo_port_only_from_signer_pods(string ciValues)
    {
        List<YamlMappingNode> objects = Render(ciValues);
        YamlMappingNode statefulSet = Object(objects, "StatefulSet", Release);
        var podLabels = Labels(Node(statefulSet, "spec", "template", "metadata", "labels"));
        YamlMappingNode container = SignerContainer(objects);
        var containerPorts = Sequence(container, "ports").Cast<YamlMappingNode>()
            .ToDictionary(p => Scalar(p, "name")!, p => int.Parse(Scalar(p, "containerPort")!));
        // The ports the server listens on, as it is configured by the same rendering.
        int grpc = new Uri(EnvValue(container, "Mpc__Urls")!).Port;
        int silo = int.Parse(EnvValue(container, "Mpc__Cluster__SiloPort")!);
        int metrics = int.Parse(EnvValue(container, "Mpc__Metrics__Port")!);
        var serverPorts = new Dictionary<string, int> { ["grpc"] = grpc, ["silo"] = silo, ["metrics"] = metrics };
        if (EnvValue(container, HealthOptions.PortSetting) is { } health)
        {
            serverPorts["health"] = int.Parse(health);
        }
        Assert.Equal(serverPorts, containerPorts);
        YamlNode annotations = Node(statefulSet, "spec", "template", "metadata", "annotations")!;
        Assert.Equal(metrics.ToString(System.Globalization.CultureInfo.InvariantCulture), Scalar(annotations, "prometheus.io/port"));

        YamlMappingNode policy = Object(objects, "NetworkPolicy", Release);
        AssertSelects(Labels(Node(policy, "spec", "podSelector", "matchLabels")), podLabels);
        Assert.Equal(["Ingress"], Sequence(policy, "spec", "policyTypes").Select(n => ((YamlScalarNode)n).Value));
        List<YamlMappingNode> rules = Sequence(policy, "spec", "ingress").Cast<YamlMappingNode>().ToList();
        Assert.Equal(3, rules.Count);

        // Rule 1: gRPC only; from anyone or from the configured peers, never from a pod selector of its own making.
        YamlMappingNode grpcRule = Assert.Single(rules, r => Ports(r).SequenceEqual([grpc]));
        Assert.All(rules.SelectMany(r => Sequence(r, "ports").Cast<YamlMappingNode>()), p => Assert.Equal("TCP", Scalar(p, "protocol")));

        // Rule 3: the Prometheus scrape port alone.
        YamlMappingNode metricsRule = Assert.Single(rules, r => Ports(r).SequenceEqual([metrics]));

        // Rule 2: the silo port (unencrypted silo-to-silo traffic), from signer pods only.
        YamlMappingNode clusterRule = Assert.Single(rules, r => r != grpcRule && r != metricsRule);
        Assert.Equal([silo], Ports(clusterRule));
        YamlMappingNode peer = Assert.IsType<YamlMappingNode>(Assert.Single(Sequence(clusterRule, "from")));
        Assert.Equal(["podSelector"], peer.Children.Keys.Select(k => ((YamlScalarNode)k).Value));
        AssertSelects(Labels(Node(peer, "podSelector", "matchLabels")), podLabels);

        // No port of the signer is left out of the policy but the probe port (the kubelet probes from the node, which a
        // NetworkPolicy never blocks; other pods have no business there), and none is open that the server does not use.
        Assert.Equal(containerPorts.Where(p => p.Key != "health").Select(p => p.Value).Order(), rules.SelectMany(Ports).Order());
    }

    [Fact]
    public void Grpc_sources_come_from_the_values_when_given()
    {
        YamlMappingNode policy = Object(Render("authority-external-redis-values.yaml"), "NetworkPolicy", Release);
        YamlMappingNode grpcRule = Sequence(policy, "spec", "ingress").Cast<YamlMappingNode>().First();
        YamlMappingNode peer = Assert.IsType<YamlMappingNode>(Assert.Single(Sequence(grpcRule, "from")));
        Assert.Equal("payments", Scalar(peer, "namespaceSelector", "matchLabels", "kubernetes.io/metadata.name"));

        YamlMappingNode open = Object(Render("static-key-values.yaml"), "NetworkPolicy", Release);
        Assert.Null(Node(Sequence(open, "spec", "ingress").Cast<YamlMappingNode>().First(), "from"));
    }

    [Fact]
    public void Bundled_redis_requires_the_password_from_the_secret_and_the_signer_connects_with_it()
    {
        List<YamlMappingNode> objects = Render("static-key-values.yaml");
        string redisName = Release + "-redis";
        YamlMappingNode redisSet = Object(objects, "StatefulSet", redisName);
        YamlMappingNode redis = Assert.IsType<YamlMappingNode>(Assert.Single(Sequence(redisSet, "spec", "template", "spec", "containers")));
        string[] args = Sequence(redis, "args").Select(n => ((YamlScalarNode)n).Value!).ToArray();
        int requirepass = Array.IndexOf(args, "--requirepass");
        Assert.True(requirepass >= 0, "redis-server runs without --requirepass");
        Assert.Equal("$(REDIS_PASSWORD)", args[requirepass + 1]);
        (string secret, string key) = SecretRef(redis, "REDIS_PASSWORD");
        Assert.Equal(("mpc-signer-redis", "password"), (secret, key));
        Assert.Equal((secret, key), SecretRef(redis, "REDISCLI_AUTH"));
        int port = int.Parse(args[Array.IndexOf(args, "--port") + 1]);

        YamlMappingNode service = Object(objects, "Service", redisName);
        Assert.Equal(port.ToString(), Scalar(Assert.IsType<YamlMappingNode>(Assert.Single(Sequence(service, "spec", "ports"))), "port"));

        // The signer reads the same Secret into a variable defined before the connection string that
        // refers to it (Kubernetes expands $(VAR) only for variables defined earlier in the list).
        YamlMappingNode signer = SignerContainer(objects);
        Assert.Equal((secret, key), SecretRef(signer, "MPC_REDIS_PASSWORD"));
        List<string?> order = Env(signer).Select(e => Scalar(e, "name")).ToList();
        Assert.True(order.IndexOf("MPC_REDIS_PASSWORD") < order.IndexOf("Mpc__Cluster__RedisConnectionString"));
        string connection = EnvValue(signer, "Mpc__Cluster__RedisConnectionString")!;
        ConfigurationOptions parsed = ConfigurationOptions.Parse(connection.Replace("$(MPC_REDIS_PASSWORD)", "0123abcd", StringComparison.Ordinal));
        Assert.Equal("0123abcd", parsed.Password);
        Assert.Equal($"{redisName}:{port}", Assert.Single(parsed.EndPoints).ToString()!.Replace("Unspecified/", "", StringComparison.Ordinal));

        // Only signer pods reach Redis.
        YamlMappingNode policy = Object(objects, "NetworkPolicy", redisName);
        YamlMappingNode rule = Assert.IsType<YamlMappingNode>(Assert.Single(Sequence(policy, "spec", "ingress")));
        Assert.Equal([port], Ports(rule));
        YamlMappingNode peer = Assert.IsType<YamlMappingNode>(Assert.Single(Sequence(rule, "from")));
        AssertSelects(Labels(Node(peer, "podSelector", "matchLabels")),
            Labels(Node(Object(objects, "StatefulSet", Release), "spec", "template", "metadata", "labels")));
    }

    [Fact]
    public void Authority_and_external_redis_values_change_only_what_they_name()
    {
        List<YamlMappingNode> objects = Render("authority-external-redis-values.yaml");
        YamlMappingNode signer = SignerContainer(objects);
        Assert.Equal("https://login.example.com/realms/signing", EnvValue(signer, "Mpc__Auth__Authority"));
        Assert.Equal("ops-alice;ops-bob", EnvValue(signer, "Mpc__Auth__AdminSubjects"));
        Assert.DoesNotContain(Env(signer), e => Scalar(e, "name") == "Mpc__Auth__PublicKeyFile");
        Assert.DoesNotContain(objects, o => Scalar(o, "kind") == "ConfigMap");
        Assert.DoesNotContain(objects, o => Scalar(o, "metadata", "name") == Release + "-redis");
        Assert.Equal("redis.storage.svc.cluster.local:6379,password=$(MPC_REDIS_PASSWORD)", EnvValue(signer, "Mpc__Cluster__RedisConnectionString"));
        Assert.Equal("5", Scalar(Object(objects, "StatefulSet", Release), "spec", "replicas"));
        Assert.Equal("/opt/pkcs11/libvendor.so", EnvValue(signer, "Mpc__KeyEncryption__Pkcs11__LibraryPath"));
        Assert.Equal("signing-partition", EnvValue(signer, "Mpc__KeyEncryption__Pkcs11__TokenLabel"));

        List<YamlMappingNode> staticKey = Render("static-key-values.yaml");
        YamlMappingNode configMap = Object(staticKey, "ConfigMap", Release + "-auth");
        string pem = Scalar(configMap, "data", "issuer.pem")!;
        using var key = System.Security.Cryptography.ECDsa.Create();
        key.ImportFromPem(pem); // the PEM survives the template's indentation intact
        Assert.Equal("/etc/mpc-signer/auth/issuer.pem", EnvValue(SignerContainer(staticKey), "Mpc__Auth__PublicKeyFile"));
        Assert.DoesNotContain(Env(SignerContainer(staticKey)), e => Scalar(e, "name") == "Mpc__Auth__AdminSubjects");
    }

    [Fact]
    public void Silo_tls_values_mount_the_secret_read_only_and_point_the_three_settings_at_its_files()
    {
        List<YamlMappingNode> objects = Render("silo-tls-values.yaml");
        YamlMappingNode pod = Assert.IsType<YamlMappingNode>(Node(Object(objects, "StatefulSet", Release), "spec", "template", "spec"));
        YamlMappingNode signer = SignerContainer(objects);
        Assert.DoesNotContain(Env(signer), e => Scalar(e, "name") == ClusterOptions.PlainSiloTrafficSetting);

        // The keys of a kubernetes.io/tls Secret with its CA, as cert-manager writes it, each at the path a setting names.
        (string directory, Dictionary<string, string> items) = SecretMount(pod, signer, "mpc-signer-silo-tls");
        Assert.Equal(
            new Dictionary<string, string?>
            {
                [ClusterTlsOptions.CertificatePathSetting] = $"{directory}/{items["tls.crt"]}",
                [ClusterTlsOptions.KeyPathSetting] = $"{directory}/{items["tls.key"]}",
                [ClusterTlsOptions.CaPathSetting] = $"{directory}/{items["ca.crt"]}",
            },
            new[] { ClusterTlsOptions.CertificatePathSetting, ClusterTlsOptions.KeyPathSetting, ClusterTlsOptions.CaPathSetting }
                .ToDictionary(name => name, name => EnvValue(signer, name)));
        Assert.Equal(3, items.Count);

        // The server's own settings check accepts the rendering (the files themselves are read at start-up).
        MpcServerOptions options = MpcServerConfiguration.Bind(Configuration(signer));
        Assert.True(options.Cluster.IsRedis && options.Cluster.Tls.IsSet && !options.Cluster.PlainSiloTraffic);
    }

    [Theory]
    [InlineData("static-key-values.yaml")]
    [InlineData("authority-external-redis-values.yaml")]
    public void Without_silo_tls_the_chart_says_plain_silo_traffic_and_the_network_policy_guards_the_silo_port(string ciValues)
    {
        List<YamlMappingNode> objects = Render(ciValues);
        YamlMappingNode signer = SignerContainer(objects);
        Assert.Equal("true", EnvValue(signer, ClusterOptions.PlainSiloTrafficSetting));
        Assert.DoesNotContain(Env(signer), e => Scalar(e, "name")!.StartsWith("Mpc__Cluster__Tls__", StringComparison.Ordinal));
        Assert.DoesNotContain(Sequence(signer, "volumeMounts").Cast<YamlMappingNode>(), m => Scalar(m, "mountPath")!.Contains("cluster-tls", StringComparison.Ordinal));
        int silo = int.Parse(EnvValue(signer, "Mpc__Cluster__SiloPort")!);
        YamlMappingNode policy = Object(objects, "NetworkPolicy", Release);
        Assert.Contains(Sequence(policy, "spec", "ingress").Cast<YamlMappingNode>(), r => Ports(r).SequenceEqual([silo]) && Node(r, "from") is not null);

        MpcServerOptions options = MpcServerConfiguration.Bind(Configuration(signer));
        Assert.True(options.Cluster.PlainSiloTraffic && !options.Cluster.Tls.IsAnySet);
        // Without that line the server would refuse to start: the chart cannot drop it by accident.
        var withoutPlain = Env(signer).Where(e => Scalar(e, "name") != ClusterOptions.PlainSiloTrafficSetting).ToList();
        ServerStartupException refused = Assert.Throws<ServerStartupException>(() => MpcServerConfiguration.Bind(Configuration(withoutPlain)));
        Assert.Contains(ClusterOptions.PlainSiloTrafficSetting, Assert.Single(refused.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Grpc_tls_values_serve_https_with_the_secrets_certificate_and_probe_the_plain_probe_port()
    {
        List<YamlMappingNode> objects = Render("grpc-tls-values.yaml");
        YamlMappingNode statefulSet = Object(objects, "StatefulSet", Release);
        YamlMappingNode pod = Assert.IsType<YamlMappingNode>(Node(statefulSet, "spec", "template", "spec"));
        YamlMappingNode signer = SignerContainer(objects);
        Assert.Equal("https://0.0.0.0:7443", EnvValue(signer, "Mpc__Urls"));
        Assert.DoesNotContain(Env(signer), e => Scalar(e, "name") == MpcServerOptions.PlainHttpBehindTlsProxySetting);

        // The certificate and key of the kubernetes.io/tls Secret, each at the path Kestrel's default certificate setting names.
        (string directory, Dictionary<string, string> items) = SecretMount(pod, signer, "mpc-signer-grpc-tls");
        Assert.Equal(["tls.crt", "tls.key"], items.Keys.Order(StringComparer.Ordinal));
        Assert.Equal($"{directory}/{items["tls.crt"]}", EnvValue(signer, "Kestrel__Certificates__Default__Path"));
        Assert.Equal($"{directory}/{items["tls.key"]}", EnvValue(signer, "Kestrel__Certificates__Default__KeyPath"));

        // Every probe asks the plain probe port, which the server opens for health alone; the grpc port stays TLS.
        int probePort = int.Parse(EnvValue(signer, HealthOptions.PortSetting)!);
        Assert.Equal(probePort, int.Parse(Scalar(Assert.Single(Sequence(signer, "ports").Cast<YamlMappingNode>(), p => Scalar(p, "name") == "health"), "containerPort")!));
        foreach (string probe in (string[])["startupProbe", "readinessProbe", "livenessProbe"])
        {
            Assert.Equal(probePort.ToString(System.Globalization.CultureInfo.InvariantCulture), Scalar(signer, probe, "grpc", "port"));
        }

        // Clients reach the gRPC port alone, and no longer as h2c; no Service and no NetworkPolicy rule opens the probe port.
        foreach (YamlMappingNode service in objects.Where(o => Scalar(o, "kind") == "Service" && Scalar(o, "metadata", "name")!.StartsWith(Release, StringComparison.Ordinal) && !Scalar(o, "metadata", "name")!.EndsWith("-redis", StringComparison.Ordinal)))
        {
            YamlMappingNode port = Assert.IsType<YamlMappingNode>(Assert.Single(Sequence(service, "spec", "ports")));
            Assert.Equal(("grpc", "7443", "grpc"), (Scalar(port, "name"), Scalar(port, "port"), Scalar(port, "targetPort")));
            Assert.Null(Scalar(port, "appProtocol"));
        }
        Assert.DoesNotContain(Sequence(Object(objects, "NetworkPolicy", Release), "spec", "ingress").Cast<YamlMappingNode>(), r => Ports(r).Contains(probePort));
        // The metrics port follows the gRPC URLs' scheme.
        Assert.Equal("https", Scalar(statefulSet, "spec", "template", "metadata", "annotations", "prometheus.io/scheme"));

        // The server's own settings check accepts the rendering without the plain-http acknowledgement.
        MpcServerOptions options = MpcServerConfiguration.Bind(Configuration(signer));
        Assert.Equal((probePort, false), (options.Health.Port, options.PlainHttpBehindTlsProxy));
    }

    [Theory]
    [InlineData("static-key-values.yaml")]
    [InlineData("authority-external-redis-values.yaml")]
    [InlineData("silo-tls-values.yaml")]
    [InlineData("external-redis-tls-values.yaml")]
    public void Without_grpc_tls_the_chart_serves_h2c_behind_the_proxy_and_probes_the_grpc_port(string ciValues)
    {
        List<YamlMappingNode> objects = Render(ciValues);
        YamlMappingNode signer = SignerContainer(objects);
        Assert.Equal("http://0.0.0.0:7443", EnvValue(signer, "Mpc__Urls"));
        Assert.Equal("true", EnvValue(signer, MpcServerOptions.PlainHttpBehindTlsProxySetting));
        Assert.DoesNotContain(Env(signer), e => Scalar(e, "name")!.StartsWith("Kestrel__", StringComparison.Ordinal) || Scalar(e, "name") == HealthOptions.PortSetting);
        Assert.DoesNotContain(Sequence(signer, "ports").Cast<YamlMappingNode>(), p => Scalar(p, "name") == "health");
        foreach (string probe in (string[])["startupProbe", "readinessProbe", "livenessProbe"])
        {
            Assert.Equal("7443", Scalar(signer, probe, "grpc", "port"));
        }
        Assert.All(objects.Where(o => Scalar(o, "kind") == "Service" && Scalar(o, "metadata", "name") is Release or Release + "-headless"),
            service => Assert.Equal("kubernetes.io/h2c", Scalar(Assert.Single(Sequence(service, "spec", "ports")), "appProtocol")));
        Assert.Null(Scalar(Object(objects, "StatefulSet", Release), "spec", "template", "metadata", "annotations", "prometheus.io/scheme"));
    }

    [Fact]
    public void External_redis_tls_values_mount_the_ca_and_client_secrets_read_only_and_say_ssl_in_the_connection_string()
    {
        List<YamlMappingNode> objects = Render("external-redis-tls-values.yaml");
        YamlMappingNode pod = Assert.IsType<YamlMappingNode>(Node(Object(objects, "StatefulSet", Release), "spec", "template", "spec"));
        YamlMappingNode signer = SignerContainer(objects);
        string connectionString = EnvValue(signer, "Mpc__Cluster__RedisConnectionString")!;
        Assert.Equal("redis.storage.svc.cluster.local:6380,password=$(MPC_REDIS_PASSWORD),ssl=true,sslHost=redis.storage.svc.cluster.local", connectionString);
        ConfigurationOptions parsed = ConfigurationOptions.Parse(connectionString);
        Assert.True(parsed.Ssl);
        Assert.Equal("redis.storage.svc.cluster.local", parsed.SslHost);
        Assert.DoesNotContain(Env(signer), e => Scalar(e, "name") == ClusterOptions.PlainRedisTrafficSetting);

        var expected = new Dictionary<string, (string Secret, string Key)>
        {
            [ClusterRedisOptions.CaPathSetting] = ("mpc-signer-redis-ca", "ca.crt"),
            [ClusterRedisOptions.CertificatePathSetting] = ("mpc-signer-redis-client", "tls.crt"),
            [ClusterRedisOptions.KeyPathSetting] = ("mpc-signer-redis-client", "tls.key"),
        };
        foreach ((string setting, (string secret, string key)) in expected)
        {
            (string directory, Dictionary<string, string> items) = SecretMount(pod, signer, secret);
            Assert.Equal($"{directory}/{items[key]}", EnvValue(signer, setting));
        }

        // The server's own settings check accepts the rendering (the files themselves are read at start-up).
        MpcServerOptions options = MpcServerConfiguration.Bind(Configuration(signer));
        Assert.True(options.Cluster.Redis.HasClientCertificate && !options.Cluster.PlainRedisTraffic);
    }

    [Fact]
    public void Bundled_redis_tls_values_serve_redis_on_tls_only_and_the_signers_trust_the_secrets_ca_alone()
    {
        List<YamlMappingNode> objects = Render("bundled-redis-tls-values.yaml");
        string redisName = Release + "-redis";
        YamlMappingNode redisPod = Assert.IsType<YamlMappingNode>(Node(Object(objects, "StatefulSet", redisName), "spec", "template", "spec"));
        YamlMappingNode redis = Assert.IsType<YamlMappingNode>(Assert.Single(Sequence(redisPod, "containers")));
        string[] args = Strings(redis, "args");
        Assert.Equal("0", ArgAfter(args, "--port"));
        Assert.Equal("6379", ArgAfter(args, "--tls-port"));
        Assert.Equal("no", ArgAfter(args, "--tls-auth-clients"));
        Assert.Equal("$(REDIS_PASSWORD)", ArgAfter(args, "--requirepass"));

        // Redis's three files come from the Secret, read-only, by name; its probes speak TLS and trust the same CA.
        (string redisDirectory, Dictionary<string, string> redisItems) = SecretMount(redisPod, redis, "mpc-signer-redis-tls");
        Assert.Equal($"{redisDirectory}/{redisItems["tls.crt"]}", ArgAfter(args, "--tls-cert-file"));
        Assert.Equal($"{redisDirectory}/{redisItems["tls.key"]}", ArgAfter(args, "--tls-key-file"));
        Assert.Equal($"{redisDirectory}/{redisItems["ca.crt"]}", ArgAfter(args, "--tls-ca-cert-file"));
        foreach (string probe in new[] { "readinessProbe", "livenessProbe" })
        {
            string[] command = Strings(redis, probe, "exec", "command");
            Assert.Contains("--tls", command);
            Assert.Equal($"{redisDirectory}/{redisItems["ca.crt"]}", ArgAfter(command, "--cacert"));
        }

        // The signers: ssl=true naming the Service, the CA alone from the same Secret (never Redis's key), no plain word.
        YamlMappingNode pod = Assert.IsType<YamlMappingNode>(Node(Object(objects, "StatefulSet", Release), "spec", "template", "spec"));
        YamlMappingNode signer = SignerContainer(objects);
        ConfigurationOptions parsed = ConfigurationOptions.Parse(EnvValue(signer, "Mpc__Cluster__RedisConnectionString")!);
        Assert.True(parsed.Ssl);
        Assert.Equal(redisName, parsed.SslHost);
        Assert.DoesNotContain(Env(signer), e => Scalar(e, "name") == ClusterOptions.PlainRedisTrafficSetting);
        (string directory, Dictionary<string, string> items) = SecretMount(pod, signer, "mpc-signer-redis-tls");
        Assert.Equal("ca.crt", Assert.Single(items.Keys));
        Assert.Equal($"{directory}/{items["ca.crt"]}", EnvValue(signer, ClusterRedisOptions.CaPathSetting));

        // The server's own settings check accepts the rendering (the files themselves are read at start-up).
        MpcServerOptions options = MpcServerConfiguration.Bind(Configuration(signer));
        Assert.False(options.Cluster.PlainRedisTraffic);
    }

    [Fact]
    public async Task The_bundled_redis_tls_arguments_start_a_tls_only_redis_that_its_probe_and_the_signers_connection_reach()
    {
        List<YamlMappingNode> objects = Render("bundled-redis-tls-values.yaml");
        string redisName = Release + "-redis";
        YamlMappingNode redis = Assert.IsType<YamlMappingNode>(Assert.Single(Sequence(Object(objects, "StatefulSet", redisName), "spec", "template", "spec", "containers")));
        string mountPath = Scalar(Assert.Single(Sequence(redis, "volumeMounts").Cast<YamlMappingNode>(), m => Scalar(m, "name") == "redis-tls"), "mountPath")!;

        // The Secret as cert-manager writes it, for a certificate naming the Service only, at a directory of this machine.
        using var directory = new TempDirectory();
        using var ca = new TestClusterCa(Path.Combine(directory.Path, "ca"), "mpc-test-redis-ca");
        SiloTlsFiles issued = ca.Issue("redis", clientAuthentication: false, hosts: [redisName]);
        string secret = Directory.CreateDirectory(Path.Combine(directory.Path, "secret")).FullName;
        File.Copy(issued.CertificatePath, Path.Combine(secret, "tls.crt"));
        File.Copy(issued.KeyPath, Path.Combine(secret, "tls.key"));
        File.Copy(issued.CaPath, Path.Combine(secret, "ca.crt"));
        string data = Directory.CreateDirectory(Path.Combine(directory.Path, "data")).FullName;
        int port = ClusterPorts.Free();
        const string password = "bundled-redis-tls-test";
        string Local(string arg) => arg.Replace(mountPath, secret, StringComparison.Ordinal).Replace("$(REDIS_PASSWORD)", password, StringComparison.Ordinal);

        string[] args = Strings(redis, "args");
        Assert.Equal("redis-server", args[0]);
        args[Array.IndexOf(args, "--tls-port") + 1] = port.ToString();
        args[Array.IndexOf(args, "--dir") + 1] = data;
        using var server = Process.Start(new ProcessStartInfo("/usr/bin/redis-server", [.. args.Skip(1).Select(Local), "--bind", "127.0.0.1"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        try
        {
            // The readiness probe as rendered (its port and paths moved here) answers PONG once Redis is up.
            string[] probe = Strings(redis, "readinessProbe", "exec", "command").Select(Local).ToArray();
            probe[Array.IndexOf(probe, "-p") + 1] = port.ToString();
            string answer = "";
            for (int i = 0; i < 100 && answer != "PONG"; i++)
            {
                answer = RedisCli(probe, password).Trim();
                if (answer != "PONG")
                {
                    await Task.Delay(100);
                }
            }
            Assert.Equal("PONG", answer);
            // No plain port: the same command without TLS gets no answer.
            Assert.NotEqual("PONG", RedisCli(["redis-cli", "-p", port.ToString(), "ping"], password).Trim());

            // The signers' connection string (its host moved to this port) with the CA alone as root: connects, and the
            // certificate is checked against the Service's name.
            YamlMappingNode signer = SignerContainer(objects);
            ConfigurationOptions options = ConfigurationOptions.Parse(EnvValue(signer, "Mpc__Cluster__RedisConnectionString")!
                .Replace($"{redisName}:6379,", $"127.0.0.1:{port},", StringComparison.Ordinal)
                .Replace("$(MPC_REDIS_PASSWORD)", password, StringComparison.Ordinal));
            using X509Certificate2 root = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(secret, "ca.crt")));
            options.CertificateValidation += (_, certificate, _, errors) =>
            {
                if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
                {
                    return false;
                }
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(root);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(new X509Certificate2(certificate));
            };
            options.ConnectTimeout = 5000;
            await using ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(options);
            Assert.Equal("PONG", ((string?)await connection.GetDatabase().ExecuteAsync("PING"))!);
        }
        finally
        {
            server.Kill();
            await server.WaitForExitAsync();
        }
    }

    private static string RedisCli(string[] command, string password)
    {
        var start = new ProcessStartInfo(command[0], command.Skip(1)) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["REDISCLI_AUTH"] = password; // as the chart's REDISCLI_AUTH: no password on the command line
        using Process cli = Process.Start(start)!;
        string output = cli.StandardOutput.ReadToEnd();
        cli.StandardError.ReadToEnd();
        cli.WaitForExit();
        return output;
    }

    private static string[] Strings(YamlMappingNode node, params string[] path) => Sequence(node, path).Select(n => ((YamlScalarNode)n).Value!).ToArray();

    private static string ArgAfter(string[] args, string name)
    {
        int index = Array.IndexOf(args, name);
        Assert.True(index >= 0 && index + 1 < args.Length, $"{name} is missing from [{string.Join(", ", args)}]");
        return args[index + 1];
    }

    [Fact]
    public void The_bundled_redis_is_plain_on_the_operators_word_and_an_external_plain_redis_needs_that_word_too()
    {
        YamlMappingNode bundled = SignerContainer(Render("static-key-values.yaml"));
        Assert.Equal("true", EnvValue(bundled, ClusterOptions.PlainRedisTrafficSetting));
        Assert.DoesNotContain(Env(bundled), e => Scalar(e, "name")!.StartsWith("Mpc__Cluster__Redis__", StringComparison.Ordinal));
        Assert.True(MpcServerConfiguration.Bind(Configuration(bundled)).Cluster.PlainRedisTraffic);
        // Without that line the server would refuse to start: the chart cannot drop it by accident.
        var withoutPlain = Env(bundled).Where(e => Scalar(e, "name") != ClusterOptions.PlainRedisTrafficSetting).ToList();
        ServerStartupException refused = Assert.Throws<ServerStartupException>(() => MpcServerConfiguration.Bind(Configuration(withoutPlain)));
        Assert.Contains(ClusterOptions.PlainRedisTrafficSetting, Assert.Single(refused.Problems), StringComparison.Ordinal);

        Assert.Equal("true", EnvValue(SignerContainer(Render("authority-external-redis-values.yaml")), ClusterOptions.PlainRedisTrafficSetting));

        // An external Redis with neither TLS nor plainTraffic renders no acknowledgement, so the server refuses it.
        string values = Path.Combine(Path.GetTempPath(), $"mpc-external-plain-{Guid.NewGuid():N}-values.yaml");
        File.WriteAllText(values, File.ReadAllText(Path.Combine(Chart, "ci", "authority-external-redis-values.yaml")).Replace("plainTraffic: true", "plainTraffic: false", StringComparison.Ordinal));
        try
        {
            YamlMappingNode external = SignerContainer(HelmTemplate.Render(Chart, Release, Namespace, values).Select(o => o.Document).ToList());
            Assert.DoesNotContain(Env(external), e => Scalar(e, "name") == ClusterOptions.PlainRedisTrafficSetting);
            ServerStartupException plain = Assert.Throws<ServerStartupException>(() => MpcServerConfiguration.Bind(Configuration(external)));
            Assert.Contains(ClusterOptions.PlainRedisTrafficSetting, Assert.Single(plain.Problems), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(values);
        }
    }

    /// <summary>The container's literal Mpc__* variables as configuration (values taken from Secrets are left out).</summary>
    private static IConfiguration Configuration(YamlMappingNode container) => Configuration(Env(container));

    private static IConfiguration Configuration(List<YamlMappingNode> env) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(env
                .Where(e => Scalar(e, "name")!.StartsWith("Mpc__", StringComparison.Ordinal) && Scalar(e, "value") is not null)
                .Select(e => new KeyValuePair<string, string?>(Scalar(e, "name")!.Replace("__", ":", StringComparison.Ordinal), Scalar(e, "value"))))
            .Build();

    // ---- the renderer's own semantics, against what Helm prints for the same templates -----------------

    [Theory]
    [InlineData("a:\n{{- if .Values.on }}\n  b: 1\n{{- end }}\nc: 2\n", "a:\n  b: 1\nc: 2\n")]
    [InlineData("a:\n{{- if .Values.off }}\n  b: 1\n{{- else }}\n  b: 0\n{{- end }}\n", "a:\n  b: 0\n")]
    [InlineData("x: {{ .Values.n }} {{ .Values.s | quote }} {{ .Values.missing }}|", "x: 3 \"two words\" |")]
    [InlineData("r:\n  {{- toYaml .Values.map | nindent 2 }}\n", "r:\n  a: \"2\"\n  b:\n  - x\n  - true\n  c:\n  - k: v\n    l: w\n")]
    [InlineData("{{ default \"d\" .Values.empty }}/{{ default \"d\" .Values.s }}/{{ not .Values.off }}", "d/two words/true")]
    [InlineData("{{- /* a comment */ -}}\n  v: {{ .Values.octal }}", "v: 288")]
    public void Renderer_matches_helm_on_the_subset(string template, string expected)
    {
        var values = new Dictionary<string, object?>
        {
            ["on"] = true, ["off"] = false, ["n"] = 3d, ["s"] = "two words", ["empty"] = "", ["octal"] = 288d,
            ["map"] = new Dictionary<string, object?>
            {
                ["c"] = new List<object?> { new Dictionary<string, object?> { ["l"] = "w", ["k"] = "v" } },
                ["b"] = new List<object?> { "x", true },
                ["a"] = "2",
            },
        };
        string rendered = HelmTemplate.RenderText(template, new Dictionary<string, object?> { ["Values"] = values });
        Assert.Equal(expected, rendered);
    }

    [Theory]
    [InlineData("{{ range .Values.list }}x{{ end }}")]
    [InlineData("{{ include \"helper\" . }}")]
    [InlineData("{{ .Values.n | b64enc }}")]
    [InlineData("{{ .Values.big }}")]
    public void Renderer_refuses_what_it_does_not_implement(string template)
    {
        var values = new Dictionary<string, object?> { ["list"] = new List<object?> { 1d }, ["n"] = 1d, ["big"] = 2000000d };
        Assert.Throws<NotSupportedException>(() => HelmTemplate.RenderText(template, new Dictionary<string, object?> { ["Values"] = values }));
    }

    // ---- helpers ----------------------------------------------------------------------------------------

    private static (string Secret, string Key) SecretRef(YamlMappingNode container, string variable)
    {
        YamlMappingNode entry = Assert.Single(Env(container), e => Scalar(e, "name") == variable);
        Assert.Null(Node(entry, "value"));
        return (Scalar(entry, "valueFrom", "secretKeyRef", "name")!, Scalar(entry, "valueFrom", "secretKeyRef", "key")!);
    }

    private static int[] Ports(YamlMappingNode rule) =>
        Sequence(rule, "ports").Cast<YamlMappingNode>().Select(p => int.Parse(Scalar(p, "port")!)).ToArray();

    /// <summary>YAML 1.1 integers as Kubernetes reads them: a leading 0 is octal (0440 = 288).</summary>
    private static int ParseMode(string text) =>
        text.StartsWith("0o", StringComparison.Ordinal) ? Convert.ToInt32(text[2..], 8)
        : text.Length > 1 && text[0] == '0' ? Convert.ToInt32(text, 8)
        : int.Parse(text);

    private static Dictionary<string, string> Labels(YamlNode? node) =>
        Assert.IsType<YamlMappingNode>(node).Children.ToDictionary(e => ((YamlScalarNode)e.Key).Value!, e => ((YamlScalarNode)e.Value).Value!);

    private static void AssertSelects(Dictionary<string, string> selector, Dictionary<string, string> labels)
    {
        Assert.NotEmpty(selector);
        Assert.All(selector, pair => Assert.Equal(pair.Value, labels.GetValueOrDefault(pair.Key)));
    }

    private static YamlNode? Node(YamlNode node, params string[] path)
    {
        YamlNode? current = node;
        foreach (string key in path)
        {
            if (current is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out YamlNode? next))
            {
                return null;
            }
            current = next;
        }
        return current;
    }

    private static string? Scalar(YamlNode node, params string[] path) => (Node(node, path) as YamlScalarNode)?.Value;

    private static YamlSequenceNode Sequence(YamlNode node, params string[] path) =>
        Node(node, path) as YamlSequenceNode ?? throw new Xunit.Sdk.XunitException($"no sequence at {string.Join('.', path)}");
}
