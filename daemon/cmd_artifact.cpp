// `mlwm build-artifact` and `mlwm verify-artifact`: inference artifacts.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <unistd.h>

#include "artifact/artifact.hpp"
#include "command.hpp"
#include "fetch.hpp"
#include "storage/open.hpp"
#include "util/dotenv.hpp"
#include "version.hpp"

namespace mlwm::app {
namespace {
namespace fs = std::filesystem;

std::vector<std::string> g_argv;  // recorded in artifact.yaml

int build_artifact(const cli::ParsedArgs& a) {
    artifact::BuildRequest r;
    r.name = a.positionals.at(0);
    if (r.name.empty() || r.name.find('/') != std::string::npos)
        throw std::invalid_argument("artifact name '" + r.name +
                                    "': expected a plain name such as neural-lam-dini");
    r.nl_config = a.get("nl-config").value_or("config.yaml");  // the original's default
    r.checkpoint = a.require("checkpoint");
    r.training_args = a.require("cli-training-args-filepath");
    r.output_dir = a.get("output").value_or(".");
    r.argv = g_argv;
    r.mlwm_version = version::kFullVersion;
    // like the original: the environment, else a .env file in the current folder
    std::string format = artifact::kDefaultUploadFormat;
    if (const char* env = std::getenv("ARTIFACT_PATH_FORMAT"); env && *env) {
        format = env;
    } else if (std::ifstream dotenv(".env"); dotenv) {
        std::stringstream text;
        text << dotenv.rdbuf();
        const auto vars = util::parse_dotenv(text.str());
        if (const auto it = vars.find("ARTIFACT_PATH_FORMAT");
            it != vars.end() && !it->second.empty())
            format = it->second;
    }
    const std::string target = a.get("upload-to").value_or(artifact::upload_target(format, r.name));
    const storage::Location dest = storage::parse_location(target);  // checked before the work

    const artifact::BuildResult b = artifact::build_artifact(r);
    for (const auto& w : b.warnings) std::cerr << "warning: " << w << "\n";
    std::cerr << "built inference artifact " << r.name << ": " << b.entries.size() << " files, "
              << b.statistics.size() << " statistics variables\n";
    std::cout << b.zip.string() << "\n";
    if (a.has("skip-upload")) {
        std::cerr << "not uploaded (--skip_upload). The artifact is "
                  << fs::absolute(b.zip).string() << "\nupload it by hand to " << target
                  << ", e.g.:\n  mlwm cp " << fs::absolute(b.zip).string() << " " << target << "\n";
        return kExitOk;
    }
    upload_file(b.zip, dest, a);
    std::cerr << "uploaded to " << target << "\n";
    return kExitOk;
}

int verify(const cli::ParsedArgs& a) {
    const Fetched f = fetch_to_local(a.positionals.at(0), a);
    const artifact::VerifyResult v = artifact::verify_artifact(f.path, a.has("require-checksums"));
    for (const auto& w : v.warnings) std::cerr << "warning: " << w << "\n";
    for (const auto& p : v.problems) std::cerr << "problem: " << p << "\n";
    if (!v.ok()) {
        std::cerr << a.positionals.at(0) << ": " << v.problems.size()
                  << " problem(s); the artifact is not usable as it is\n";
        return kExitFailure;
    }
    if (v.checksums)
        std::cout << "ok: " << v.artifact_name << ": " << v.files << " files match artifact.yaml\n";
    else
        std::cout << "ok (no checksums): " << v.artifact_name << ": " << v.files
                  << " files read back with their zip CRCs; artifact.yaml lists no checksums\n";
    return kExitOk;
}

}  // namespace

void record_argv(int argc, char** argv) {
    g_argv.assign(argv, argv + argc);
}

std::vector<Command> artifact_commands() {
    cli::CommandSpec build{
        .path = "build-artifact",
        .summary = "package a trained model for inference and upload it",
        .description =
            "Builds NAME.zip (entries stored uncompressed, no top-level folder): artifact.yaml,\n"
            "checkpoint.pkl, training_cli_args.yaml, configs/<neural-lam config> (config_path\n"
            "entries rewritten to the copied basenames), configs/<datastore configs>, and\n"
            "stats/<datastore>.stats.zarr (the statistics variables <var>__<split>__<stat> of "
            "each\n"
            "mdp datastore's zarr, with their coordinates, consolidated). artifact.yaml records\n"
            "provenance and the sha256 and size of every file. Then uploads it (multipart) to\n"
            "--upload-to, else $ARTIFACT_PATH_FORMAT (from the environment or a .env file in\n"
            "the current folder), else\n"
            "s3://mlwm-artifacts/inference-artifacts/{artifact_name}.zip.",
        .options =
            {
                {"nl-config",
                 "PATH",
                 "the neural-lam configuration (default: config.yaml)",
                 false,
                 false,
                 {"nl_config"}},
                {"checkpoint", "PATH", "the trained checkpoint", true},
                {"cli-training-args-filepath",
                 "PATH",
                 "training arguments: YAML, usually a list of one-key maps",
                 true,
                 false,
                 {"cli_training_args_filepath"}},
                {"skip-upload",
                 "",
                 "build only; say where the zip is and where to upload it",
                 false,
                 false,
                 {"skip_upload"}},
                {"output", "DIR", "where the zip is written (default: the current folder)"},
                {"upload-to", "URI", "upload target (s3://BUCKET/KEY.zip or file:///PATH)"},
            },
        .positionals = {{"NAME", "the artifact's name, e.g. neural-lam-dini"}},
        .epilog =
            "example:\n  mlwm build-artifact neural-lam-dini --nl_config config.yaml --checkpoint "
            "last.ckpt \\\n"
            "    --cli_training_args_filepath training_cli_args.yaml",
    };
    cli::CommandSpec verify_spec{
        .path = "verify-artifact",
        .summary = "check an inference artifact against its artifact.yaml checksums",
        .description =
            "Reads every file of the zip back (the zip's CRCs), checks the required files\n"
            "(checkpoint.pkl, training_cli_args.yaml, configs/*.yaml) and that the YAML files\n"
            "parse, and compares every file's sha256 and size with artifact.yaml; files missing\n"
            "from the zip or not listed are problems too. Artifacts built by the original mlwm\n"
            "list no checksums: accepted with a warning, refused with --require-checksums.\n"
            "Exit 0 only if no problem was found.",
        .options = s3_options(),
        .positionals = {{"PATH_OR_URI", "the zip: a path, file:///PATH or s3://BUCKET/KEY"}},
    };
    for (auto& o : s3_options()) build.options.push_back(o);
    verify_spec.options.push_back(
        {"require-checksums", "", "refuse an artifact whose artifact.yaml lists no checksums"});
    return {{build, build_artifact}, {verify_spec, verify}};
}

}  // namespace mlwm::app
