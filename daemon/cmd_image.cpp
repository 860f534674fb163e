// `mlwm build-image MODEL`: a model's inference image from its Containerfile.
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <unistd.h>

#include "artifact/artifact.hpp"
#include "artifact/zip.hpp"
#include "command.hpp"
#include "config/model_config.hpp"
#include "docker/client.hpp"
#include "docker/error.hpp"
#include "docker/model_image.hpp"
#include "docker/registry_auth.hpp"
#include "fetch.hpp"
#include "storage/http_download.hpp"
#include "util/hash.hpp"
#include "util/process.hpp"
#include "util/time.hpp"

namespace mlwm::app {
namespace {
namespace fs = std::filesystem;

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}

// Git revision of the checkout holding `dir` (12 hex digits, "-dirty" when the
// model folder has uncommitted changes) and where it comes from.
std::pair<std::string, std::string> git_revision_and_source(const fs::path& dir) {
    const auto rev =
        util::run_process({"git", "-C", dir.string(), "rev-parse", "--short=12", "HEAD"});
    if (rev.exit_code != 0) return {"", fs::absolute(dir).string()};
    std::string revision = trimmed(rev.out);
    const auto status =
        util::run_process({"git", "-C", dir.string(), "status", "--porcelain", "--", "."});
    if (status.exit_code == 0 && !trimmed(status.out).empty()) revision += "-dirty";
    const auto remote =
        util::run_process({"git", "-C", dir.string(), "remote", "get-url", "origin"});
    std::string source = remote.exit_code == 0 ? trimmed(remote.out) : fs::absolute(dir).string();
    return {revision, source};
}

std::string list_models(const fs::path& dir) {
    std::string names;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.is_directory() && fs::exists(e.path() / "Containerfile"))
            names += (names.empty() ? "" : ", ") + e.path().filename().string();
    return names.empty() ? "none" : names;
}

int build_image(const cli::ParsedArgs& a) {
    const std::string model = a.positionals.at(0);
    const fs::path configurations = a.get("configurations").value_or("configurations");
    const fs::path dir = configurations / model;
    if (model.empty() || model.find('/') != std::string::npos || !fs::is_directory(dir))
        throw std::invalid_argument("no model '" + model + "': " + dir.string() +
                                    " is not a folder (models with a Containerfile in " +
                                    configurations.string() + ": " + list_models(configurations) +
                                    ")");
    if (!fs::is_regular_file(dir / "Containerfile"))
        throw std::invalid_argument(dir.string() + " has no Containerfile");

    docker::ModelImageRequest req;
    req.model_dir = dir;
    req.model = model;
    req.repository = a.get("repository").value_or("mlwm");
    req.tags = a.all("tag");
    // build arguments: the configuration's build_args, overridden by --build-arg
    std::string artifact_uri = a.get("artifact").value_or("");
    std::string artifact_pin = a.get("artifact-sha256").value_or("");
    if (!artifact_pin.empty() && !config::artifact_sha256_valid(artifact_pin))
        throw std::invalid_argument("--artifact-sha256 '" + artifact_pin +
                                    "': expected 64 hexadecimal digits (sha256sum of the zip)");
    if (fs::exists(dir / "config.yaml")) {
        const config::ModelConfig configured = config::load_model_config(dir);
        req.build_args = configured.build_args;
        if (artifact_uri.empty()) {
            artifact_uri = configured.inference_artifact;
            if (artifact_pin.empty()) artifact_pin = configured.inference_artifact_sha256;
        }
    }
    if (storage::is_http_url(artifact_uri) && artifact_pin.empty())
        throw std::invalid_argument("inference artifact " + artifact_uri +
                                    ": a download needs a pinned checksum (--artifact-sha256 HEX, "
                                    "or inference_artifact: {url: ..., sha256: HEX})");
    for (const auto& kv : a.all("build-arg")) {
        const auto eq = kv.find('=');
        if (eq == 0 || kv.empty())
            throw std::invalid_argument("--build-arg '" + kv + "': expected NAME=VALUE or NAME");
        if (eq != std::string::npos) {
            req.build_args[kv.substr(0, eq)] = kv.substr(eq + 1);
        } else if (const char* v = std::getenv(kv.c_str())) {  // NAME: from the environment,
            req.build_args[kv] = v;                            // as docker build does
        } else {
            std::cerr << "mlwm build-image: --build-arg " << kv
                      << ": not set in the environment; not passed\n";
        }
    }
    std::tie(req.revision, req.source) = git_revision_and_source(dir);
    req.created = util::utc_now();
    docker::BuildOptions options = docker::plan_model_image(req);
    options.no_cache = a.has("no-cache");

    // the inference artifact, verified, unpacked into artifact/ of a copy of the context
    const fs::path context =
        fs::temp_directory_path() / ("mlwm-build-" + std::to_string(::getpid()));
    struct Cleanup {
        fs::path p;
        ~Cleanup() {
            std::error_code ec;
            fs::remove_all(p, ec);
        }
    } cleanup{context};
    if (!artifact_uri.empty()) {
        const Fetched f = fetch_to_local(artifact_uri, a);
        const std::string got = lower(f.sha256.empty() ? util::sha256_file_hex(f.path) : f.sha256);
        if (!artifact_pin.empty()) {
            if (got != lower(artifact_pin))
                throw std::runtime_error("inference artifact " + artifact_uri + ": sha256 " + got +
                                         ", pinned " + lower(artifact_pin) + "; not building");
            std::cerr << "inference artifact " << artifact_uri << ": sha256 matches the pin\n";
        }
        const artifact::VerifyResult v =
            artifact::verify_artifact(f.path, a.has("require-checksums"));
        for (const auto& w : v.warnings)
            std::cerr << "warning: inference artifact " << artifact_uri << ": " << w << "\n";
        if (!v.ok())
            throw std::runtime_error(
                "inference artifact " + artifact_uri + ": " + v.problems.front() +
                (v.problems.size() > 1 ? " (and " + std::to_string(v.problems.size() - 1) +
                                             " more; see mlwm verify-artifact)"
                                       : "") +
                "; not building");
        fs::copy(dir, context, fs::copy_options::recursive);
        artifact::extract_zip(f.path, context / "artifact");
        options.context_dir = context;
        options.labels["org.mlwm.inference-artifact"] = artifact_uri;
        options.labels["org.mlwm.inference-artifact.sha256"] = got;
        // for a Containerfile that records them (ARG ...; ENV ...=${...}), unless given
        options.build_args.try_emplace("MLWM_INFERENCE_ARTIFACT", artifact_uri);
        options.build_args.try_emplace("MLWM_INFERENCE_ARTIFACT_SHA256", got);
        std::cerr << "inference artifact " << artifact_uri << ": " << v.files
                  << (v.checksums ? " files verified" : " files checked (no checksums)")
                  << ", unpacked into artifact/ of the build context\n";
    }

    docker::DockerClient client(
        a.get("docker-socket").value_or(docker::DockerClient::default_socket()));
    client.ping();  // an unreachable engine: one line, before any output
    const bool quiet = a.has("quiet");
    std::cerr << "building " << options.tags.front() << " from " << (dir / "Containerfile").string()
              << " (revision " << (req.revision.empty() ? "unknown" : req.revision) << ")\n";
    const auto result = client.build_image(options, [&](const std::string& text) {
        if (!quiet) std::cerr << text << std::flush;
    });
    std::cout << result.image_id << "\n";
    for (const auto& t : options.tags) std::cout << t << "\n";
    if (a.has("push")) {
        client.set_registry_auth(docker::registry_auth_for);
        for (const auto& t : options.tags) {
            const docker::ImageRef ref = docker::parse_image_ref(t);
            const std::string registry = docker::registry_of(ref.repository);
            const auto credentials = docker::credentials_for(registry);
            std::cerr << "pushing " << t << " to " << registry << " ("
                      << (credentials
                              ? "credentials from " + credentials->source
                              : "no credentials in " + docker::docker_config_path().string())
                      << ")\n";
            std::string digest;
            try {
                digest = client.push_image(ref, [&](const std::string& text) {
                    if (!quiet) std::cerr << text << std::flush;
                });
            } catch (const docker::DockerError& e) {
                if (credentials) throw;
                throw std::runtime_error(std::string(e.what()) + " (no credentials for " +
                                         registry + " in " + docker::docker_config_path().string() +
                                         "; `docker login " + registry + "` writes them)");
            }
            std::cout << t << "@" << digest << "\n";  // a pinned reference for config.yaml
        }
    }
    return kExitOk;
}

}  // namespace

std::vector<Command> image_commands() {
    cli::CommandSpec spec{
        .path = "build-image",
        .summary = "build a model's inference image from its Containerfile",
        .description =
            "Builds configurations/MODEL/Containerfile, with that folder as the build context,\n"
            "into REPOSITORY/MODEL:TAG through the Docker Engine API. Without --tag the image\n"
            "is tagged with the git revision of the checkout (12 digits, '-dirty' when the\n"
            "model folder has uncommitted changes) and 'latest'. OCI labels record the source,\n"
            "revision and creation time. Progress goes to stderr; the image id and the tags to\n"
            "stdout. Base images must be present in the engine: nothing is pulled. Build\n"
            "arguments come from the configuration's build_args, then --build-arg. The inference\n"
            "artifact (--artifact, or the configuration's inference_artifact) is fetched, checked\n"
            "against its artifact.yaml and unpacked into artifact/ of the build context, so the\n"
            "Containerfile can COPY it; a checksum mismatch stops the build. Its location and\n"
            "the zip's SHA-256 are the labels org.mlwm.inference-artifact[.sha256] and the\n"
            "build arguments MLWM_INFERENCE_ARTIFACT[_SHA256] (ARG them to record them).",
        .options =
            {
                {"configurations", "DIR",
                 "folder of model configurations (default: configurations)"},
                {"repository", "REPO", "registry/namespace for the image name (default: mlwm)"},
                {"tag", "TAG", "image tag instead of revision + latest", false, true},
                {"build-arg", "NAME[=VALUE]",
                 "build argument for the Containerfile (NAME alone: its value from the "
                 "environment)",
                 false, true},
                {"docker-socket", "PATH",
                 "engine socket (default: DOCKER_HOST or /var/run/docker.sock)"},
                {"artifact", "URI",
                 "inference artifact to verify and unpack into artifact/ (default: the "
                 "configuration's inference_artifact)"},
                {"artifact-sha256", "HEX",
                 "the artifact's pinned SHA-256 (required for https:// artifacts; default: the "
                 "configuration's inference_artifact.sha256)"},
                {"require-checksums", "",
                 "refuse an artifact whose artifact.yaml lists no checksums (the original's)"},
                {"push", "",
                 "push every tag to its registry (credentials as docker push finds them: "
                 "~/.docker/config.json or $DOCKER_CONFIG); prints REPO:TAG@DIGEST"},
                {"no-cache", "", "do not use the build cache"},
                {"quiet", "", "do not show the build output"},
            },
        .positionals = {{"MODEL", "name of the model's folder under the configurations folder"}},
        .epilog = "example:\n  mlwm build-image persistence --repository registry.example.org/mlwm",
    };
    for (auto& o : s3_options()) spec.options.push_back(o);  // for an s3:// artifact
    return {{spec, build_image}};
}

}  // namespace mlwm::app
