using System.Collections;
using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Mpc.Server;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Mpc.Deploy.Tests;

/// <summary>
/// Static checks of deploy/: the Dockerfile, the compose file and the Kubernetes objects the Helm chart
/// renders (deploy/helm/mpc-signer with ci/static-key-values.yaml, through <see cref="HelmTemplate"/>)
/// agree with each other and with the configuration the server binds (no Docker engine or cluster needed).
/// </summary>
public sealed class DeploymentManifestTests
{
    private const string ImageName = "mpc-server";
    private const string ComposeFile = "deploy/compose/docker-compose.yml";
    private const string ChartDirectory = "deploy/helm/mpc-signer";
    private const string Dockerfile = "deploy/docker/Dockerfile";
    private const int GrpcPort = 7443;
    private const int SiloPort = 11111;

    private static readonly int[] ContainerPorts = [GrpcPort, SiloPort];
    private static readonly string Root = Repository.Root;

    public static TheoryData<string> YamlFiles() => new(YamlFileList());

    /// <summary>
    /// Every .yaml and .yml file under deploy/, relative to the repository root, except the chart's
    /// templates (Go templates, checked once rendered by <see cref="HelmChartTests"/>).
    /// </summary>
    private static string[] YamlFileList() =>
        Directory.EnumerateFiles(Path.Combine(Root, "deploy"), "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal))
            .Where(f => !Path.GetRelativePath(Root, f).Replace('\\', '/').Contains("/templates/", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(Root, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToArray();

    [Fact]
    public void Deploy_folder_holds_the_dockerfile_compose_and_the_helm_chart_only()
    {
        string[] yaml = YamlFileList();
        Assert.Contains(ComposeFile, yaml);
        Assert.Contains("deploy/compose/otel-collector.yaml", yaml);
        Assert.Contains(ChartDirectory + "/Chart.yaml", yaml);
        Assert.Contains(ChartDirectory + "/values.yaml", yaml);
        Assert.True(File.Exists(Path.Combine(Root, Dockerfile)));
        // One source of the Kubernetes objects: no hand-written manifests beside the chart.
        Assert.False(Directory.Exists(Path.Combine(Root, "deploy/k8s")), "deploy/k8s would be a second copy of what the chart renders");
    }

    [Theory]
    [MemberData(nameof(YamlFiles))]
    public void Yaml_file_parses(string file)
    {
        IReadOnlyList<YamlMappingNode> documents = LoadDocuments(file);
        Assert.NotEmpty(documents);
    }

    [Fact]
    public void Every_rendered_object_names_its_api_version_kind_and_name()
    {
        foreach (YamlMappingNode document in ChartObjects())
        {
            Assert.False(string.IsNullOrEmpty(ScalarAt(document, "apiVersion")), "an object without apiVersion");
            Assert.False(string.IsNullOrEmpty(ScalarAt(document, "kind")), "an object without kind");
            Assert.False(string.IsNullOrEmpty(ScalarAt(document, "metadata", "name")), "an object without metadata.name");
        }
    }

    [Fact]
    public void Compose_and_kubernetes_run_the_same_image()
    {
        List<YamlMappingNode> silos = ComposeSilos();
        Assert.Equal(3, silos.Count);
        Assert.All(silos, silo => Assert.Equal(ImageName, ImageRepository(ScalarAt(silo, "image"))));

        List<YamlMappingNode> containers = KubernetesContainers().ToList();
        Assert.NotEmpty(containers);
        Assert.All(containers, container => Assert.Equal(ImageName, ImageRepository(ScalarAt(container, "image"))));
    }

    [Fact]
    public void Compose_silos_use_the_contract_ports_and_publish_only_grpc()
    {
        var published = new List<int>();
        foreach (YamlMappingNode silo in ComposeSilos())
        {
            var containerPorts = new SortedSet<int>();
            foreach (string mapping in Sequence(silo, "ports").Select(Scalar))
            {
                // "IP:HOST:CONTAINER"; only gRPC may leave the network, and only to the host's loopback: it is plain http.
                string[] parts = mapping.Split(':');
                Assert.True(parts is ["127.0.0.1", _, _], $"{ComposeFile} publishes {mapping}: publish gRPC on 127.0.0.1 only (127.0.0.1:HOST:CONTAINER)");
                int container = int.Parse(parts[^1]);
                Assert.Equal(GrpcPort, container);
                published.Add(int.Parse(parts[^2]));
                containerPorts.Add(container);
            }
            foreach (string exposed in Sequence(silo, "expose").Select(Scalar))
            {
                containerPorts.Add(int.Parse(exposed));
            }
            Assert.Equal(ContainerPorts.Order(), containerPorts);

            Dictionary<string, string?> env = ComposeEnvironment(silo);
            AssertEnvironmentPorts(env);
        }
        Assert.Equal([7443, 7444, 7445], published.Order());
    }

    [Fact]
    public void Kubernetes_signer_uses_the_contract_ports()
    {
        YamlMappingNode container = Assert.Single(KubernetesContainers());
        var ports = Sequence(container, "ports").Cast<YamlMappingNode>()
            .ToDictionary(p => ScalarAt(p, "name")!, p => int.Parse(ScalarAt(p, "containerPort")!));
        // The chart adds the Prometheus port (its default, 9464) on top of the contract ports of compose and the image.
        Assert.Equal(new Dictionary<string, int> { ["grpc"] = GrpcPort, ["silo"] = SiloPort, ["metrics"] = 9464 }, ports);
        Assert.Equal("9464", KubernetesEnvironment(container)["Mpc__Metrics__Port"]);
        AssertEnvironmentPorts(KubernetesEnvironment(container));
    }

    [Fact]
    public void Dockerfile_exposes_the_ports_runs_the_server_as_10001_with_the_contract_defaults()
    {
        List<(string Instruction, string Arguments)> stage = DockerfileFinalStage();

        int[] exposed = stage.Where(i => i.Instruction == "EXPOSE")
            .SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(port => int.Parse(port.Split('/')[0]))
            .Order()
            .ToArray();
        Assert.Equal(ContainerPorts.Order(), exposed);

        string entrypoint = Assert.Single(stage, i => i.Instruction == "ENTRYPOINT").Arguments;
        Assert.Equal(["dotnet", "mpc-server.dll"], JsonSerializer.Deserialize<string[]>(entrypoint) ?? []);

        Assert.Equal("/app", stage.Last(i => i.Instruction == "WORKDIR").Arguments);
        Assert.Equal("10001", stage.Last(i => i.Instruction == "USER").Arguments.Split(':')[0]);

        Dictionary<string, string> env = DockerfileEnvironment(stage);
        Assert.Equal("http://0.0.0.0:7443", env["Mpc__Urls"]);
        Assert.Equal("/var/lib/mpc-signer/data", env["Mpc__DataDirectory"]);
        Assert.Equal("/var/lib/mpc-signer/kek", env["Mpc__MasterKeyDirectory"]);
    }

    [Fact]
    public void Options_reflection_finds_leaves_and_nested_sections()
    {
        HashSet<string> known = KnownEnvironmentNames();
        Assert.Contains("Mpc__Urls", known);
        Assert.Contains("Mpc__DataDirectory", known);
        Assert.Contains("Mpc__MasterKeyDirectory", known);
        Assert.Contains("Mpc__Auth__Issuer", known);
        Assert.Contains("Mpc__Auth__PublicKeyFile", known);
        Assert.DoesNotContain("Mpc__Auth", known);
        Assert.DoesNotContain("Mpc__ResolvedMasterKeyDirectory", known);
    }

    [Theory]
    [InlineData(ComposeFile)]
    [InlineData(ChartDirectory)]
    [InlineData(Dockerfile)]
    public void Every_Mpc_environment_variable_names_an_options_property(string file)
    {
        IEnumerable<string> names = ServerEnvironments(file).SelectMany(env => env.Keys);
        string[] mpcNames = names.Where(n => n.StartsWith("Mpc__", StringComparison.OrdinalIgnoreCase)).Distinct().ToArray();
        Assert.NotEmpty(mpcNames);

        HashSet<string> known = KnownEnvironmentNames();
        string[] unknown = mpcNames.Where(n => !known.Contains(n)).Order(StringComparer.Ordinal).ToArray();
        Assert.True(unknown.Length == 0,
            $"{file} sets {string.Join(", ", unknown)}, which MpcServerOptions does not bind. Known: {string.Join(", ", known.Order(StringComparer.Ordinal))}");
    }

    [Fact]
    public void The_image_alone_refuses_plain_http_on_every_address_until_a_deployment_says_what_is_in_front()
    {
        Dictionary<string, string> env = DockerfileEnvironment(DockerfileFinalStage());
        Assert.False(env.ContainsKey(MpcServerOptions.PlainHttpBehindTlsProxySetting));
        IConfiguration configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(env
                .Where(pair => pair.Key.StartsWith("Mpc__", StringComparison.Ordinal))
                .Select(pair => new KeyValuePair<string, string?>(pair.Key.Replace("__", ":", StringComparison.Ordinal), pair.Value)))
            .Build();

        ServerStartupException refused = Assert.Throws<ServerStartupException>(() => MpcServerConfiguration.Bind(configuration));
        Assert.Contains(MpcServerOptions.PlainHttpBehindTlsProxySetting, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_image_alone_refuses_the_development_key_on_every_address_until_a_deployment_names_a_token_issuer()
    {
        Dictionary<string, string> env = DockerfileEnvironment(DockerfileFinalStage());
        Assert.DoesNotContain(env.Keys, key => key.StartsWith("Mpc__Auth__", StringComparison.Ordinal));
        IConfiguration configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(env
                .Where(pair => pair.Key.StartsWith("Mpc__", StringComparison.Ordinal))
                .Select(pair => new KeyValuePair<string, string?>(pair.Key.Replace("__", ":", StringComparison.Ordinal), pair.Value)))
            .AddInMemoryCollection([new KeyValuePair<string, string?>("Mpc:PlainHttpBehindTlsProxy", "true")])
            .Build();

        ServerStartupException refused = Assert.Throws<ServerStartupException>(() => MpcServerConfiguration.Bind(configuration));
        Assert.Contains(AuthOptions.AllowDevelopmentKeySetting, Assert.Single(refused.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Compose_says_it_checks_tokens_with_the_shared_development_key_and_the_chart_never_does()
    {
        foreach (Dictionary<string, string?> env in ServerEnvironments(ComposeFile))
        {
            Assert.Equal("true", env.GetValueOrDefault(AuthOptions.AllowDevelopmentKeySetting));
            Assert.False(env.ContainsKey(AuthOptions.AuthoritySetting) || env.ContainsKey(AuthOptions.PublicKeyFileSetting));
        }
        foreach (Dictionary<string, string?> env in ServerEnvironments(ChartDirectory))
        {
            Assert.False(env.ContainsKey(AuthOptions.AllowDevelopmentKeySetting));
            Assert.True(env.ContainsKey(AuthOptions.AuthoritySetting) || env.ContainsKey(AuthOptions.PublicKeyFileSetting));
        }
    }

    [Theory]
    [InlineData(ComposeFile)]
    [InlineData(ChartDirectory)]
    public void Each_deployment_states_its_plain_http_is_behind_a_tls_proxy_and_passes_the_servers_settings_check(string file)
    {
        foreach (Dictionary<string, string?> env in ServerEnvironments(file))
        {
            // Set in each file, not inherited from the image: each says why where it binds every address.
            Assert.Equal("true", env.GetValueOrDefault(MpcServerOptions.PlainHttpBehindTlsProxySetting));
            IConfiguration configuration = new ConfigurationBuilder()
                .AddInMemoryCollection(env
                    .Where(pair => pair.Key.StartsWith("Mpc__", StringComparison.Ordinal))
                    .Select(pair => new KeyValuePair<string, string?>(pair.Key.Replace("__", ":", StringComparison.Ordinal), pair.Value)))
                .Build();

            // What the server checks at start-up, before it binds anything: a refusal names the setting.
            MpcServerOptions options = MpcServerConfiguration.Bind(configuration);

            Assert.Equal(GrpcPort, new Uri(options.Urls).Port);
        }
    }

    [Fact]
    public void Kubernetes_probes_use_grpc_health_on_the_grpc_port()
    {
        YamlMappingNode container = Assert.Single(KubernetesContainers());
        foreach ((string probe, string service) in new[] { ("startupProbe", ""), ("readinessProbe", ""), ("livenessProbe", "liveness") })
        {
            YamlMappingNode spec = Assert.IsType<YamlMappingNode>(Node(container, probe));
            YamlMappingNode grpc = Assert.IsType<YamlMappingNode>(Node(spec, "grpc"));
            Assert.Equal(GrpcPort.ToString(), ScalarAt(grpc, "port"));
            Assert.Equal(service, ScalarAt(grpc, "service") ?? "");
            Assert.Null(Node(spec, "httpGet"));
            Assert.Null(Node(spec, "tcpSocket"));
            Assert.Null(Node(spec, "exec"));
        }
    }

    [Fact]
    public void Disruption_budget_and_services_select_the_signer_pods()
    {
        IReadOnlyList<YamlMappingNode> documents = SignerObjects();
        YamlMappingNode statefulSet = Assert.Single(documents, d => ScalarAt(d, "kind") == "StatefulSet");
        Dictionary<string, string> podLabels = Labels(Node(statefulSet, "spec", "template", "metadata", "labels"));
        Dictionary<string, string> selector = Labels(Node(statefulSet, "spec", "selector", "matchLabels"));
        Assert.Equal("mpc-signer", podLabels["app.kubernetes.io/name"]);
        Assert.True(podLabels.ContainsKey("orleans/serviceId"));
        Assert.True(podLabels.ContainsKey("orleans/clusterId"));
        AssertSubset(selector, podLabels);

        YamlMappingNode pdb = Assert.Single(documents, d => ScalarAt(d, "kind") == "PodDisruptionBudget");
        Dictionary<string, string> pdbSelector = Labels(Node(pdb, "spec", "selector", "matchLabels"));
        Assert.Equal(selector, pdbSelector);
        AssertSubset(pdbSelector, podLabels);
        Assert.Equal("3", ScalarAt(statefulSet, "spec", "replicas"));
        Assert.Equal("1", ScalarAt(pdb, "spec", "maxUnavailable"));

        List<YamlMappingNode> services = documents.Where(d => ScalarAt(d, "kind") == "Service").ToList();
        Assert.Equal(["mpc-signer", "mpc-signer-headless"], services.Select(s => ScalarAt(s, "metadata", "name")).Order(StringComparer.Ordinal));
        foreach (YamlMappingNode service in services)
        {
            AssertSubset(Labels(Node(service, "spec", "selector")), podLabels);
            YamlMappingNode port = Assert.IsType<YamlMappingNode>(Assert.Single(Sequence(service, "spec", "ports")));
            Assert.Equal("grpc", ScalarAt(port, "name"));
            Assert.Equal(GrpcPort.ToString(), ScalarAt(port, "port"));
        }
        YamlMappingNode headless = services.Single(s => ScalarAt(s, "metadata", "name") == "mpc-signer-headless");
        Assert.Equal("None", ScalarAt(headless, "spec", "clusterIP"));
        Assert.Equal("mpc-signer-headless", ScalarAt(statefulSet, "spec", "serviceName"));
    }

    [Fact]
    public void Kubernetes_silos_advertise_the_pod_ip_and_label_their_orleans_identity()
    {
        YamlMappingNode statefulSet = Assert.Single(SignerObjects(), d => ScalarAt(d, "kind") == "StatefulSet");
        Dictionary<string, string> podLabels = Labels(Node(statefulSet, "spec", "template", "metadata", "labels"));
        YamlMappingNode container = Assert.Single(KubernetesContainers());

        YamlMappingNode advertised = Assert.Single(Sequence(container, "env").Cast<YamlMappingNode>(),
            e => ScalarAt(e, "name") == "Mpc__Cluster__AdvertisedIPAddress");
        Assert.Equal("status.podIP", ScalarAt(advertised, "valueFrom", "fieldRef", "fieldPath"));

        Dictionary<string, string?> env = KubernetesEnvironment(container);
        Assert.Equal("redis", env["Mpc__Cluster__Mode"]);
        Assert.Equal(env["Mpc__Cluster__ServiceId"], podLabels["orleans/serviceId"]);
        Assert.Equal(env["Mpc__Cluster__ClusterId"], podLabels["orleans/clusterId"]);
        Assert.Equal("30", ScalarAt(statefulSet, "spec", "template", "spec", "terminationGracePeriodSeconds"));
    }

    [Fact]
    public void Compose_silos_advertise_their_own_fixed_address()
    {
        foreach (YamlMappingNode silo in ComposeSilos())
        {
            Dictionary<string, string?> env = ComposeEnvironment(silo);
            Assert.Equal("redis", env["Mpc__Cluster__Mode"]);
            Assert.False(string.IsNullOrEmpty(env["Mpc__Cluster__RedisConnectionString"]));
            Assert.Equal(ScalarAt(silo, "networks", "mpc", "ipv4_address"), env["Mpc__Cluster__AdvertisedIPAddress"]);
        }
        string[] addresses = ComposeSilos().Select(s => ComposeEnvironment(s)["Mpc__Cluster__AdvertisedIPAddress"]!).ToArray();
        Assert.Equal(addresses.Length, addresses.Distinct().Count());
    }

    [Fact]
    public void Kubernetes_signer_runs_as_10001_on_a_read_only_root_with_the_pin_from_the_secret()
    {
        YamlMappingNode statefulSet = Assert.Single(SignerObjects(), d => ScalarAt(d, "kind") == "StatefulSet");
        YamlMappingNode pod = Assert.IsType<YamlMappingNode>(Node(statefulSet, "spec", "template", "spec"));
        YamlMappingNode container = Assert.Single(KubernetesContainers());
        Assert.Equal("true", ScalarAt(pod, "securityContext", "runAsNonRoot"));
        Assert.Equal("10001", ScalarAt(pod, "securityContext", "runAsUser"));
        Assert.Equal("true", ScalarAt(container, "securityContext", "readOnlyRootFilesystem"));
        Assert.NotNull(Node(container, "resources", "requests"));
        Assert.NotNull(Node(container, "resources", "limits"));

        var mounts = Sequence(container, "volumeMounts").Cast<YamlMappingNode>()
            .ToDictionary(m => ScalarAt(m, "mountPath")!, m => ScalarAt(m, "name")!);
        var volumes = Sequence(pod, "volumes").Cast<YamlMappingNode>().ToDictionary(v => ScalarAt(v, "name")!);
        Assert.True(mounts.ContainsKey("/var/lib/mpc-signer"), "the data tree needs a writable volume on a read-only root");

        // The PIN file the server reads is the Secret's pkcs11-pin key, mounted at the contract's path.
        string pinFile = KubernetesEnvironment(container)["Mpc__KeyEncryption__Pkcs11__PinFile"]!;
        Assert.Equal("/var/run/secrets/mpc/pkcs11-pin", pinFile);
        YamlMappingNode pinVolume = volumes[mounts[Path.GetDirectoryName(pinFile)!]];
        YamlMappingNode item = Assert.IsType<YamlMappingNode>(Assert.Single(Sequence(pinVolume, "secret", "items")));
        Assert.Equal("pkcs11-pin", ScalarAt(item, "key"));
        Assert.Equal(Path.GetFileName(pinFile), ScalarAt(item, "path"));

        // The Secret is created out of band (the chart holds no secret): its name comes from the values.
        Assert.Equal("mpc-signer-pkcs11", ScalarAt(pinVolume, "secret", "secretName"));
        Assert.DoesNotContain(ChartObjects(), d => ScalarAt(d, "kind") == "Secret");
    }

    [Fact]
    public void Redis_is_version_7_append_only_with_fsync_always()
    {
        YamlMappingNode composeRedis = Assert.IsType<YamlMappingNode>(Node(Compose(), "services", "redis"));
        YamlMappingNode k8sRedis = Assert.Single(
            ChartObjects().Where(d => ScalarAt(d, "kind") == "StatefulSet" && ScalarAt(d, "metadata", "name") == "mpc-signer-redis")
                .SelectMany(d => Sequence(d, "spec", "template", "spec", "containers").Cast<YamlMappingNode>()));
        foreach ((string? image, string[] args) in new[]
                 {
                     (ScalarAt(composeRedis, "image"), Sequence(composeRedis, "command").Select(Scalar).ToArray()),
                     (ScalarAt(k8sRedis, "image"), Sequence(k8sRedis, "args").Select(Scalar).ToArray()),
                 })
        {
            Assert.StartsWith("redis:7", image);
            string joined = string.Join(' ', args);
            Assert.Contains("--appendonly yes", joined);
            Assert.Contains("--appendfsync always", joined);
        }
    }

    // ---- the options the server binds -----------------------------------------------------------

    /// <summary>
    /// Every environment variable that binds a leaf of a fresh <see cref="MpcServerOptions"/> tree:
    /// public settable properties of simple types are leaves, class-typed properties are sections
    /// ("Mpc__Section__Name"). Generic, so sections added to the options are picked up.
    /// </summary>
    private static HashSet<string> KnownEnvironmentNames()
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        Collect(typeof(MpcServerOptions), "Mpc", names, depth: 0);
        return names;
    }

    private static void Collect(Type type, string prefix, HashSet<string> names, int depth)
    {
        Assert.True(depth < 8, $"options nest too deeply at {prefix}");
        foreach (PropertyInfo property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length != 0)
            {
                continue;
            }
            string name = prefix + "__" + property.Name;
            Type propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (IsLeaf(propertyType))
            {
                if (property.SetMethod is { IsPublic: true })
                {
                    names.Add(name);
                }
            }
            else if (propertyType.IsClass && !typeof(IEnumerable).IsAssignableFrom(propertyType)
                     && (property.SetMethod is { IsPublic: true } || property.GetMethod is { IsPublic: true }))
            {
                // The binder fills a get-only section in place, and creates a settable one.
                Collect(propertyType, name, names, depth + 1);
            }
        }
    }

    private static bool IsLeaf(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) ||
        type == typeof(TimeSpan) || type == typeof(DateTimeOffset) || type == typeof(DateTime) ||
        type == typeof(Uri) || type == typeof(Guid) || type == typeof(System.Net.IPAddress);

    private static void AssertEnvironmentPorts(Dictionary<string, string?> env)
    {
        Assert.Equal(GrpcPort, new Uri(env["Mpc__Urls"]!).Port);
        if (env.TryGetValue("Mpc__Cluster__SiloPort", out string? silo))
        {
            Assert.Equal(SiloPort.ToString(), silo);
        }
    }

    /// <summary>The environment of each server a deployment file runs: every compose silo, every chart container, or the image's own.</summary>
    private static List<Dictionary<string, string?>> ServerEnvironments(string file) => file switch
    {
        ComposeFile => ComposeSilos().Select(ComposeEnvironment).ToList(),
        ChartDirectory => KubernetesContainers().Select(KubernetesEnvironment).ToList(),
        _ => [DockerfileEnvironment(DockerfileFinalStage()).ToDictionary(pair => pair.Key, pair => (string?)pair.Value, StringComparer.Ordinal)],
    };

    // ---- compose ----------------------------------------------------------------------------------

    private static YamlMappingNode Compose() => Assert.Single(LoadDocuments(ComposeFile));

    /// <summary>The services that run the signer image (silo1..3).</summary>
    private static List<YamlMappingNode> ComposeSilos() =>
        ((YamlMappingNode)Node(Compose(), "services")!).Children
            .Where(entry => Scalar(entry.Key).StartsWith("silo", StringComparison.Ordinal))
            .Select(entry => (YamlMappingNode)entry.Value)
            .ToList();

    private static Dictionary<string, string?> ComposeEnvironment(YamlMappingNode service)
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal);
        switch (Node(service, "environment"))
        {
            case YamlMappingNode map:
                foreach ((YamlNode key, YamlNode value) in map.Children)
                {
                    env[Scalar(key)] = (value as YamlScalarNode)?.Value;
                }
                break;
            case YamlSequenceNode list:
                foreach (string entry in list.Select(Scalar))
                {
                    int equals = entry.IndexOf('=', StringComparison.Ordinal);
                    env[equals < 0 ? entry : entry[..equals]] = equals < 0 ? null : entry[(equals + 1)..];
                }
                break;
        }
        return env;
    }

    // ---- Kubernetes -------------------------------------------------------------------------------

    /// <summary>Every object the chart renders with ci/static-key-values.yaml as release mpc-signer in namespace mpc-signer.</summary>
    private static List<YamlMappingNode> ChartObjects() =>
        HelmTemplate.Render(Path.Combine(Root, ChartDirectory), "mpc-signer", "mpc-signer",
                Path.Combine(Root, ChartDirectory, "ci", "static-key-values.yaml"))
            .Select(o => o.Document)
            .ToList();

    /// <summary>The signer's objects (templates/signer.yaml): its StatefulSet, disruption budget and Services.</summary>
    private static List<YamlMappingNode> SignerObjects() =>
        HelmTemplate.Render(Path.Combine(Root, ChartDirectory), "mpc-signer", "mpc-signer",
                Path.Combine(Root, ChartDirectory, "ci", "static-key-values.yaml"))
            .Where(o => o.Template == "signer.yaml")
            .Select(o => o.Document)
            .ToList();

    /// <summary>The containers of every workload in templates/signer.yaml.</summary>
    private static IEnumerable<YamlMappingNode> KubernetesContainers() =>
        SignerObjects()
            .Where(d => ScalarAt(d, "kind") is "StatefulSet" or "Deployment")
            .SelectMany(d => Sequence(d, "spec", "template", "spec", "containers").Cast<YamlMappingNode>());

    private static Dictionary<string, string?> KubernetesEnvironment(YamlMappingNode container) =>
        Sequence(container, "env").Cast<YamlMappingNode>()
            .ToDictionary(e => ScalarAt(e, "name")!, e => ScalarAt(e, "value"), StringComparer.Ordinal);

    private static Dictionary<string, string> Labels(YamlNode? node) =>
        Assert.IsType<YamlMappingNode>(node).Children.ToDictionary(e => Scalar(e.Key), e => Scalar(e.Value), StringComparer.Ordinal);

    private static void AssertSubset(Dictionary<string, string> selector, Dictionary<string, string> labels)
    {
        Assert.NotEmpty(selector);
        foreach ((string key, string value) in selector)
        {
            Assert.True(labels.TryGetValue(key, out string? actual) && actual == value, $"selector {key}={value} does not match the pod labels");
        }
    }

    private static string ImageRepository(string? image)
    {
        Assert.False(string.IsNullOrEmpty(image));
        string reference = image.Split('@')[0];
        string lastSegment = reference[(reference.LastIndexOf('/') + 1)..];
        return lastSegment.Split(':')[0];
    }

    // ---- Dockerfile -------------------------------------------------------------------------------

    /// <summary>The instructions after the last FROM, with continuation lines joined.</summary>
    private static List<(string Instruction, string Arguments)> DockerfileFinalStage()
    {
        var instructions = new List<(string, string)>();
        string pending = "";
        foreach (string raw in File.ReadAllLines(Path.Combine(Root, Dockerfile)))
        {
            string line = raw.Trim();
            if (pending.Length == 0 && (line.Length == 0 || line.StartsWith('#')))
            {
                continue;
            }
            if (line.EndsWith('\\'))
            {
                pending += line[..^1] + " ";
                continue;
            }
            line = pending + line;
            pending = "";
            int space = line.IndexOf(' ', StringComparison.Ordinal);
            string instruction = (space < 0 ? line : line[..space]).ToUpperInvariant();
            if (instruction == "FROM")
            {
                instructions.Clear();
            }
            instructions.Add((instruction, space < 0 ? "" : line[(space + 1)..].Trim()));
        }
        return instructions;
    }

    private static Dictionary<string, string> DockerfileEnvironment(List<(string Instruction, string Arguments)> stage)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach ((_, string arguments) in stage.Where(i => i.Instruction == "ENV"))
        {
            foreach (string pair in arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                int equals = pair.IndexOf('=', StringComparison.Ordinal);
                Assert.True(equals > 0, $"ENV uses the key=value form: {pair}");
                env[pair[..equals]] = pair[(equals + 1)..];
            }
        }
        return env;
    }

    // ---- YAML ---------------------------------------------------------------------------------------

    /// <summary>All documents of a YAML file, with merge keys (&lt;&lt;: *anchor) resolved.</summary>
    private static List<YamlMappingNode> LoadDocuments(string relativePath)
    {
        using var reader = new StreamReader(Path.Combine(Root, relativePath));
        var stream = new YamlStream();
        stream.Load(new MergingParser(new Parser(reader)));
        return stream.Documents.Select(d => Assert.IsType<YamlMappingNode>(d.RootNode)).ToList();
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

    private static string? ScalarAt(YamlNode node, params string[] path) => (Node(node, path) as YamlScalarNode)?.Value;

    private static YamlSequenceNode Sequence(YamlNode node, params string[] path) =>
        Node(node, path) as YamlSequenceNode ?? throw new Xunit.Sdk.XunitException($"no sequence at {string.Join('.', path)}");

    private static string Scalar(YamlNode node) => Assert.IsType<YamlScalarNode>(node).Value ?? "";
}
