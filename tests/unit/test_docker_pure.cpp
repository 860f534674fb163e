// The pure parts of the container layer: references, request bodies, stream
// parsers and the tar stream of a build context.
#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>

#include "archive/tar_stream.hpp"
#include "docker/client.hpp"
#include "docker/container_spec.hpp"
#include "docker/image_ref.hpp"
#include "docker/registry_auth.hpp"
#include "docker/streams.hpp"
#include "util/hash.hpp"

using namespace mlwm::docker;

TEST_CASE("image references") {
    auto r = parse_image_ref("ghcr.io/example/surface-dummy-model:v1");
    CHECK(r.repository == "ghcr.io/example/surface-dummy-model");
    CHECK(r.tag == "v1");
    CHECK_FALSE(r.digest);
    r = parse_image_ref("localhost:5000/mlwm/persistence:abc123");
    CHECK(r.repository == "localhost:5000/mlwm/persistence");
    CHECK(r.tag == "abc123");
    const std::string digest = "sha256:" + std::string(64, 'a');
    r = parse_image_ref("busybox@" + digest);
    CHECK(r.repository == "busybox");
    CHECK(r.digest == digest);
    CHECK(r.str() == "busybox@" + digest);
    CHECK(parse_image_ref("a/b:1@" + digest).str() == "a/b:1@" + digest);
    CHECK_THROWS_WITH(parse_image_ref("busybox"), doctest::Contains("no tag or digest"));
    CHECK_THROWS_WITH(parse_image_ref("localhost:5000/busybox"),
                      doctest::Contains("no tag or digest"));
    CHECK_NOTHROW(parse_image_ref("busybox", false));
    CHECK_THROWS_AS(parse_image_ref("Busybox:1"), std::invalid_argument);
    CHECK_THROWS_AS(parse_image_ref("busybox:"), std::invalid_argument);
    CHECK_THROWS_AS(parse_image_ref("busybox:-x"), std::invalid_argument);
    CHECK_THROWS_AS(parse_image_ref("busybox@sha256:abc"), std::invalid_argument);
    CHECK_THROWS_AS(parse_image_ref(""), std::invalid_argument);
    CHECK_THROWS_AS(parse_image_ref("a//b:1"), std::invalid_argument);
}

TEST_CASE("create body: mounts, network, limits, GPUs, never AutoRemove") {
    ContainerSpec s;
    s.image = "m:1";
    s.command = {"run"};
    s.env = {{"ANALYSIS_TIME", "2023-10-01T12:00:00Z"}};
    s.labels = {{"org.mlwm.managed", "true"}};
    s.mounts = {{"/w/in", "/volume/inputs", true}, {"/w/out", "/volume/outputs", false}};
    s.resources.memory_bytes = 1 << 30;
    s.resources.cpus = 2.5;
    s.resources.shm_size_bytes = 1 << 26;
    s.resources.gpus.device_ids = {"0", "2"};
    s.read_only_rootfs = true;
    const auto b = create_body(s);
    CHECK(b["Image"] == "m:1");
    CHECK(b["Env"][0] == "ANALYSIS_TIME=2023-10-01T12:00:00Z");
    CHECK(b["HostConfig"]["AutoRemove"] == false);
    CHECK(b["HostConfig"]["NetworkMode"] == "none");
    CHECK(b["HostConfig"]["NanoCpus"] == 2500000000LL);
    CHECK(b["HostConfig"]["Mounts"][0]["ReadOnly"] == true);
    CHECK(b["HostConfig"]["Mounts"][1]["ReadOnly"] == false);
    CHECK(b["HostConfig"]["ReadonlyRootfs"] == true);
    CHECK(b["HostConfig"]["DeviceRequests"][0]["DeviceIDs"] == nlohmann::json({"0", "2"}));
    CHECK(b["HostConfig"]["DeviceRequests"][0]["Capabilities"] == nlohmann::json({{"gpu"}}));
    s.resources.gpus = {.all = true};
    CHECK(create_body(s)["HostConfig"]["DeviceRequests"][0]["Count"] == -1);
    s.resources.gpus = {};
    CHECK_FALSE(create_body(s)["HostConfig"].contains("DeviceRequests"));
    // docker.gpus: nvidia-env -- the ids as NVIDIA_VISIBLE_DEVICES, no DeviceRequest
    s.resources.gpu_delivery = GpuDelivery::nvidia_env;
    s.resources.gpus = {.device_ids = {"GPU-a", "GPU-b"}};
    const auto e = create_body(s);
    CHECK_FALSE(e["HostConfig"].contains("DeviceRequests"));
    CHECK(std::ranges::count(e["Env"], nlohmann::json("NVIDIA_VISIBLE_DEVICES=GPU-a,GPU-b")) == 1);
    s.resources.gpus = {.all = true};
    CHECK(std::ranges::count(create_body(s)["Env"], nlohmann::json("NVIDIA_VISIBLE_DEVICES=all")) ==
          1);
    s.resources.gpus = {};
    CHECK(std::ranges::none_of(create_body(s)["Env"], [](const nlohmann::json& v) {
        return v.get<std::string>().starts_with("NVIDIA_VISIBLE_DEVICES");
    }));
    s.resources.gpus = {.count = 2};  // a count has no ids to name
    CHECK_THROWS_WITH_AS(create_body(s), doctest::Contains("a count cannot be given"),
                         std::invalid_argument);
}

TEST_CASE("devices: host device nodes and CDI names, as docker run --device takes them") {
    struct Row {
        const char* text;
        Device want;
    } rows[] = {
        {"/dev/fuse", {"/dev/fuse", "/dev/fuse", "rwm", false}},
        {"/dev/zero:/dev/mlwm-zero", {"/dev/zero", "/dev/mlwm-zero", "rwm", false}},
        {"/dev/zero:/dev/z:r", {"/dev/zero", "/dev/z", "r", false}},
        {"/dev/zero:rw", {"/dev/zero", "/dev/zero", "rw", false}},
        {"nvidia.com/gpu=all", {"nvidia.com/gpu=all", "", "", true}},
        {"nvidia.com/gpu=0", {"nvidia.com/gpu=0", "", "", true}},
        {"nvidia.com/gpu=GPU-3a1b:0", {"nvidia.com/gpu=GPU-3a1b:0", "", "", true}},
        {"vendor.example/class_x=dev-1.a", {"vendor.example/class_x=dev-1.a", "", "", true}},
    };
    for (const auto& row : rows) {
        CAPTURE(row.text);
        CHECK(parse_device(row.text) == row.want);
    }
    for (const char* bad : {"", "dev/zero", "/dev/zero:relative", "/dev/zero:/z:rx",
                            "/dev/zero:/z:r:w", "nvidia.com/gpu=", "nvidia.com/=all", "/gpu=all",
                            "nvidia.com/gpu=a b", "gpu=all", ":/dev/z"}) {
        CAPTURE(bad);
        CHECK_THROWS_WITH_AS(parse_device(bad), doctest::Contains("nvidia.com/gpu=all"),
                             std::invalid_argument);
    }
    CHECK_THROWS_WITH(parse_device("/dev/zero:/z:rx"), doctest::Contains("'/dev/zero:/z:rx'"));
    CHECK(is_cdi_name("nvidia.com/gpu=all"));
    CHECK_FALSE(is_cdi_name("/dev/nvidia0"));
    CHECK_FALSE(is_cdi_name("nvidia.com/gpu"));
}

TEST_CASE("create body: devices as HostConfig.Devices, CDI names as a cdi DeviceRequest") {
    ContainerSpec s;
    s.image = "m:1";
    s.resources.devices = {parse_device("/dev/zero:/dev/mlwm-zero:r"),
                           parse_device("nvidia.com/gpu=all")};
    s.resources.gpus.device_ids = {"1"};
    const auto h = create_body(s)["HostConfig"];
    CHECK(h["Devices"] == nlohmann::json::parse(R"([{"PathOnHost": "/dev/zero",
        "PathInContainer": "/dev/mlwm-zero", "CgroupPermissions": "r"}])"));
    REQUIRE(h["DeviceRequests"].size() == 2);
    CHECK(h["DeviceRequests"][0]["Driver"] == "cdi");
    CHECK(h["DeviceRequests"][0]["DeviceIDs"] == nlohmann::json({"nvidia.com/gpu=all"}));
    CHECK(h["DeviceRequests"][1]["DeviceIDs"] == nlohmann::json({"1"}));
    s.resources = {};
    CHECK_FALSE(create_body(s)["HostConfig"].contains("Devices"));
}

TEST_CASE("Podman's own create body: the same container, GPUs and devices by CDI name") {
    ContainerSpec s;
    s.image = "localhost/m:1";
    s.name = "run-1";
    s.command = {"run"};
    s.env = {{"A", "1"}};
    s.labels = {{"org.mlwm.managed", "true"}};
    s.mounts = {{"/w/in", "/volume/inputs", true}, {"/w/out", "/volume/outputs", false}};
    s.resources.memory_bytes = 1 << 30;
    s.resources.cpus = 1.5;
    s.resources.pids_limit = 100;
    s.resources.devices = {parse_device("/dev/zero:/dev/z:r"), parse_device("mlwm.test/dev=nul")};
    s.resources.gpus = {.all = true};
    s.read_only_rootfs = true;
    const auto b = libpod_create_body(s);
    CHECK(b["image"] == "localhost/m:1");
    CHECK(b["name"] == "run-1");
    CHECK(b["command"] == nlohmann::json({"run"}));
    CHECK(b["env"]["A"] == "1");
    CHECK(b["labels"]["org.mlwm.managed"] == "true");
    CHECK(b["mounts"][0] == nlohmann::json::parse(R"({"type": "bind", "source": "/w/in",
        "destination": "/volume/inputs", "options": ["rbind", "ro"]})"));
    CHECK(b["mounts"][1]["options"][1] == "rw");
    CHECK(b["netns"]["nsmode"] == "none");
    CHECK(b["read_only_filesystem"] == true);
    CHECK(b["resource_limits"]["memory"]["limit"] == 1 << 30);
    CHECK(b["resource_limits"]["cpu"]["quota"] == 150000);
    CHECK(b["resource_limits"]["pids"]["limit"] == 100);
    CHECK(b["devices"] == nlohmann::json::parse(R"([{"path": "/dev/zero:/dev/z:r"},
        {"path": "mlwm.test/dev=nul"}, {"path": "nvidia.com/gpu=all"}])"));
    s.resources.gpus = {.device_ids = {"0", "GPU-ab"}};
    CHECK(libpod_create_body(s)["devices"][3]["path"] == "nvidia.com/gpu=GPU-ab");
    s.network_mode = "mlwm-net";
    CHECK(libpod_create_body(s)["networks"].contains("mlwm-net"));
    s.resources.gpus = {.count = 2};
    CHECK_THROWS_WITH(libpod_create_body(s), doctest::Contains("GPU count"));
}

TEST_CASE("what an engine cannot give a container, said before it is asked") {
    const EngineVersion podman{"4.3.1", "1.41", "1.24", "1.41", "Podman Engine"},
        docker20{"20.10.24+dfsg1", "1.41", "1.12", "1.41", "Docker Engine - Community"},
        docker25{"25.0.3", "1.44", "1.24", "1.41", "Docker Engine - Community"},
        docker26{"26.1.0", "1.45", "1.24", "1.41", "Docker Engine - Community"};
    Resources cdi;
    cdi.devices = {parse_device("nvidia.com/gpu=all"), parse_device("/dev/zero")};
    Resources count;
    count.gpus.count = 2;
    Resources plain;
    plain.devices = {parse_device("/dev/zero")};
    plain.gpus.all = true;
    for (const auto* e : {&podman, &docker20, &docker25, &docker26})
        CHECK(engine_cannot(plain, *e).empty());
    CHECK(engine_cannot(cdi, podman).empty());
    CHECK(engine_cannot(cdi, docker26).empty());
    for (const auto* e : {&docker20, &docker25}) {
        const std::string why = engine_cannot(cdi, *e);
        CHECK(why.find("CDI devices need Docker Engine 25") != std::string::npos);
        CHECK(why.find(e->version + " (API " + e->api_version + ")") != std::string::npos);
    }
    CHECK(engine_cannot(count, podman).find("cannot count them") != std::string::npos);
    CHECK(engine_cannot(count, docker20).empty());
}

TEST_CASE("spec validation") {
    ContainerSpec s;
    s.image = "m:1";
    s.mounts = {{"/a", "/x", true}, {"/b", "/x", false}};
    CHECK_THROWS_WITH(validate(s), doctest::Contains("two mounts on one path"));
    s.mounts = {{"relative", "/x", true}};
    CHECK_THROWS_WITH(validate(s), doctest::Contains("absolute"));
    s.mounts = {{"/a", "x", true}};
    CHECK_THROWS_WITH(validate(s), doctest::Contains("absolute"));
    s.mounts = {};
    s.env = {{"A=B", "c"}};
    CHECK_THROWS_AS(validate(s), std::invalid_argument);
    s.env = {};
    s.image = "";
    CHECK_THROWS_AS(validate(s), std::invalid_argument);
}

TEST_CASE("inspect and list answers") {
    const auto inspect = nlohmann::json::parse(R"({"Id":"abc","Name":"/run1","Image":"sha256:img",
        "State":{"Status":"exited","Running":false,"OOMKilled":true,"ExitCode":137,"Error":""},
        "Config":{"Labels":{"org.mlwm.run-id":"p/2023-10-01T1200Z/member0"}}})");
    const ContainerState st = parse_inspect(inspect);
    CHECK(st.name == "run1");
    CHECK(st.oom_killed);
    CHECK(st.exit_code == 137);
    CHECK(st.labels.at("org.mlwm.run-id") == "p/2023-10-01T1200Z/member0");
    const auto list = parse_container_list(nlohmann::json::parse(
        R"([{"Id":"a","Names":["/n1"],"Image":"i","State":"running","Labels":{"k":"v"}},{"Id":"b","Labels":null}])"));
    REQUIRE(list.size() == 2);
    CHECK(list[0].names == std::vector<std::string>{"n1"});
    CHECK(list[1].labels.empty());
    CHECK(label_filter({"org.mlwm.managed=true"}) == R"({"label":["org.mlwm.managed=true"]})");
}

TEST_CASE("log demultiplexing, fed in pieces of any size") {
    auto frame = [](char kind, const std::string& payload) {
        std::string f(8, '\0');
        f[0] = kind;
        const auto n = static_cast<std::uint32_t>(payload.size());
        f[4] = static_cast<char>(n >> 24);
        f[5] = static_cast<char>(n >> 16);
        f[6] = static_cast<char>(n >> 8);
        f[7] = static_cast<char>(n);
        return f + payload;
    };
    const std::string big(70000, 'x');
    const std::string stream =
        frame(1, "out1\n") + frame(2, "err1\n") + frame(1, big) + frame(2, "") + frame(1, "end");
    for (std::size_t piece : {1u, 3u, 7u, 8u, 9u, 4096u, 1000000u}) {
        std::string out, err;
        LogDemuxer d([&](StreamKind k, std::string_view data) {
            (k == StreamKind::stderr_ ? err : out).append(data);
        });
        for (std::size_t i = 0; i < stream.size(); i += piece)
            d.feed(std::string_view(stream).substr(i, piece));
        CHECK(out == "out1\n" + big + "end");
        CHECK(err == "err1\n");
        CHECK(d.complete());
    }
    LogDemuxer bad([](StreamKind, std::string_view) {});
    CHECK_THROWS_AS(bad.feed("hello world, no frames"), std::runtime_error);
}

TEST_CASE("build progress: stream text, errors, image id") {
    std::string text;
    std::optional<std::string> error, id;
    JsonLinesParser p([&](const ProgressMessage& m) {
        text += m.text;
        if (m.error) error = m.error;
        if (m.image_id) id = m.image_id;
    });
    p.feed(R"({"stream":"Step 1/2 : FROM x\n"})"
           "\n"
           R"({"aux":{"ID":"sha256:abc"}})"
           "\n{\"stream\":\"Succ");
    p.feed("essfully built\\n\"}\n");
    p.feed(
        R"({"errorDetail":{"code":3,"message":"The command '/bin/sh -c exit 3' returned a non-zero code: 3"},"error":"x"})");
    p.finish();
    CHECK(text == "Step 1/2 : FROM x\nSuccessfully built\n");
    CHECK(id == "sha256:abc");
    CHECK(error == "The command '/bin/sh -c exit 3' returned a non-zero code: 3");
}

TEST_CASE("url encoding") {
    CHECK(url_encode("a b/c:d@e") == "a%20b%2Fc%3Ad%40e");
    CHECK(url_encode("safe-_.~AZ09") == "safe-_.~AZ09");
}

namespace {
std::string tar_of(const std::filesystem::path& dir) {
    mlwm::archive::TarStream t(dir);
    std::string all;
    char buf[777];
    while (std::size_t n = t.read(buf, sizeof buf)) all.append(buf, n);
    return all;
}
}  // namespace

TEST_CASE("tar stream of a build context: blocks, long names, contents, reproducible") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("mlwm-tar-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir / "sub");
    std::ofstream(dir / "Containerfile") << "FROM x\n";
    std::ofstream(dir / "sub" / "data.bin") << std::string(1000, 'd');
    const std::string long_name(150, 'n');
    std::ofstream(dir / "sub" / long_name) << "long";
    fs::create_symlink("data.bin", dir / "sub" / "link");
    const std::string tar = tar_of(dir);
    CHECK(tar.size() % 512 == 0);
    CHECK(tar == tar_of(dir));
    CHECK(tar.substr(0, 13) == "Containerfile");
    CHECK(tar.find(std::string(1000, 'd')) != std::string::npos);
    CHECK(tar.find("path=sub/" + long_name + "\n") != std::string::npos);  // pax record
    CHECK(tar.substr(tar.size() - 1024) == std::string(1024, '\0'));
    // header checksum of the first block
    unsigned sum = 0;
    for (int i = 0; i < 512; ++i)
        sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(tar[i]);
    CHECK(std::stoul(tar.substr(148, 6), nullptr, 8) == sum);
    fs::remove_all(dir);
}

#include "docker/model_image.hpp"

TEST_CASE("model image plan: tags, OCI labels, names checked") {
    ModelImageRequest r;
    r.model_dir = "configurations/persistence";
    r.model = "persistence";
    r.repository = "registry.example.org/mlwm";
    r.revision = "0123456789ab";
    r.source = "https://git.example.org/mlwm.git";
    r.created = "2026-11-29T12:00:00Z";
    r.build_args = {{"BASE_IMAGE", "b:1"}};
    BuildOptions o = plan_model_image(r);
    CHECK(o.tags == std::vector<std::string>{"registry.example.org/mlwm/persistence:0123456789ab",
                                             "registry.example.org/mlwm/persistence:latest"});
    CHECK(o.dockerfile == "Containerfile");
    CHECK(o.labels.at("org.opencontainers.image.revision") == "0123456789ab");
    CHECK(o.labels.at("org.opencontainers.image.source") == "https://git.example.org/mlwm.git");
    CHECK(o.labels.at("org.opencontainers.image.created") == "2026-11-29T12:00:00Z");
    CHECK(o.labels.at("org.opencontainers.image.version") == "0123456789ab");
    CHECK(o.build_args.at("BASE_IMAGE") == "b:1");
    r.revision = "";
    CHECK(plan_model_image(r).tags ==
          std::vector<std::string>{"registry.example.org/mlwm/persistence:latest"});
    r.tags = {"v2"};
    CHECK(plan_model_image(r).tags ==
          std::vector<std::string>{"registry.example.org/mlwm/persistence:v2"});
    // the original's folder names: a valid repository name derived, the title kept
    r.model = "surface-dummy-model_DINI";
    o = plan_model_image(r);
    CHECK(o.tags ==
          std::vector<std::string>{"registry.example.org/mlwm/surface-dummy-model_dini:v2"});
    CHECK(o.labels.at("org.opencontainers.image.title") == "surface-dummy-model_DINI");
    r.model = "+++";
    CHECK_THROWS_WITH(plan_model_image(r), doctest::Contains("model '+++'"));
}

TEST_CASE("image_component: any folder name as a repository name component") {
    CHECK(image_component("persistence") == "persistence");
    CHECK(image_component("Neural_LAM") == "neural_lam");
    CHECK(image_component("surface-dummy-model_DINI") == "surface-dummy-model_dini");
    CHECK(image_component("My Model+v2") == "my-model-v2");
    CHECK(image_component("a..b") == "a-b");   // '..' is no separator
    CHECK(image_component("a___b") == "a-b");  // nor is '___'
    CHECK(image_component("a__b") == "a__b");
    CHECK(image_component("a--b") == "a--b");
    CHECK(image_component("_lead.trail-") == "lead.trail");
    CHECK(image_component("m\u00e5ling") == "m--ling");  // one dash per byte
    for (const std::string name :
         {"Neural_LAM", "My Model+v2", "a..b", "_x_", "m\u00e5ling", "A.B_C__D--E"})
        CHECK_NOTHROW(parse_image_ref("mlwm/" + image_component(name) + ":1"));
    CHECK_THROWS_AS(image_component("..."), std::invalid_argument);
}

TEST_CASE("registry of a repository, as the docker CLI decides it") {
    using mlwm::docker::registry_of;
    CHECK(registry_of("busybox") == "docker.io");
    CHECK(registry_of("example/model") == "docker.io");
    CHECK(registry_of("ghcr.io/example/model") == "ghcr.io");
    CHECK(registry_of("127.0.0.1:5055/mlwm-test/hello") == "127.0.0.1:5055");
    CHECK(registry_of("localhost/x") == "localhost");
}

TEST_CASE("credentials from a docker config: credHelpers, auths, credsStore") {
    using namespace mlwm::docker;
    std::vector<std::string> asked;
    const CredentialHelper helper = [&](const std::string& name,
                                        const std::string& registry) -> std::optional<std::string> {
        asked.push_back(name + " " + registry);
        if (name == "none") return std::nullopt;
        if (name == "token") return R"({"Username":"<token>","Secret":"refresh"})";
        return R"({"Username":"robot","Secret":"s3cret"})";
    };
    const auto config = nlohmann::json::parse(R"({
      "auths": {"https://127.0.0.1:5055/v1/": {"auth": "dXNlcjpwYTpzcw=="},
                "ghcr.io": {}, "https://index.docker.io/v1/": {"username": "hub", "password": "pw"},
                "bad.example": {"auth": "not base64!"}},
      "credHelpers": {"quay.io": "token", "gcr.io": "none"},
      "credsStore": "pass"})");
    auto c = find_credentials(config, "/c.json", "127.0.0.1:5055", helper);
    REQUIRE(c);
    CHECK(c->username == "user");
    CHECK(c->password == "pa:ss");  // split at the first ':'
    CHECK(c->server == "127.0.0.1:5055");
    CHECK(c->source == "/c.json");
    CHECK(asked.empty());
    c = find_credentials(config, "/c.json", "docker.io", helper);
    REQUIRE(c);
    CHECK(c->username == "hub");
    CHECK(c->server == "https://index.docker.io/v1/");
    c = find_credentials(config, "/c.json", "quay.io", helper);
    REQUIRE(c);
    CHECK(c->identity_token == "refresh");
    CHECK(c->source == "docker-credential-token");
    // an empty auths entry and a helper without an answer: the default store
    c = find_credentials(config, "/c.json", "ghcr.io", helper);
    REQUIRE(c);
    CHECK(c->username == "robot");
    CHECK(asked.back() == "pass ghcr.io");
    c = find_credentials(config, "/c.json", "gcr.io", helper);
    REQUIRE(c);
    CHECK(c->source == "docker-credential-pass");
    CHECK_THROWS_WITH(find_credentials(config, "/c.json", "bad.example", helper),
                      "/c.json: auths.bad.example.auth: expected base64 of USERNAME:PASSWORD");
    CHECK_FALSE(find_credentials(nlohmann::json::object(), "/c.json", "ghcr.io", helper));
}

TEST_CASE("X-Registry-Auth: URL-safe base64 of the engine's AuthConfig") {
    using namespace mlwm::docker;
    CHECK(registry_auth_header(std::nullopt) == "e30=");
    RegistryCredentials c{.username = "u", .password = "p>?~", .server = "127.0.0.1:5055"};
    const std::string h = registry_auth_header(c);
    CHECK(h.find_first_of("+/") == std::string::npos);
    std::string std64 = h;
    for (char& ch : std64) ch = ch == '-' ? '+' : ch == '_' ? '/' : ch;
    const auto j = nlohmann::json::parse(*mlwm::util::base64_decode(std64));
    CHECK(j == nlohmann::json{
                   {"username", "u"}, {"password", "p>?~"}, {"serveraddress", "127.0.0.1:5055"}});
}

TEST_CASE("base64 decoding") {
    using mlwm::util::base64_decode;
    CHECK(base64_decode("dXNlcjpwYXNz") == "user:pass");
    CHECK(base64_decode("YQ==") == "a");
    CHECK(base64_decode("YQ") == "a");  // padding optional
    CHECK(base64_decode("") == "");
    CHECK_FALSE(base64_decode("a b="));
    CHECK_FALSE(base64_decode("===="));
    CHECK_FALSE(base64_decode("Y=Q="));
}

TEST_CASE("a push's progress: the digest from aux, the request kind") {
    std::optional<std::string> digest;
    mlwm::docker::JsonLinesParser p([&](const mlwm::docker::ProgressMessage& m) {
        if (m.digest) digest = m.digest;
    });
    p.feed(
        "{\"status\":\"Pushed\",\"id\":\"abc\"}\n{\"aux\":{\"Tag\":\"t1\",\"Digest\":\"sha256:"
        "0123\",\"Size\":527}}\n");
    CHECK(digest == "sha256:0123");
    digest.reset();
    p.feed("{\"status\":\"pp: digest: sha256:98a9 size: 735\"}\n");  // Podman: no aux
    CHECK(digest == "sha256:98a9");
    CHECK(mlwm::docker::request_kind("POST", "/v1.41/images/127.0.0.1:5055/a/b/push?tag=t") ==
          "image_push");
}
