#include "artifact/artifact.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include "artifact/zip.hpp"
#include "util/hash.hpp"
#include "util/text.hpp"
#include "util/time.hpp"

namespace mlwm::artifact {
namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& p, const std::string& what) {
    auto text = util::read_file(p);
    if (!text)
        throw std::invalid_argument(what + " " + p.string() + " does not exist or cannot be read");
    return std::move(*text);
}

YAML::Node load_yaml(const fs::path& p, const std::string& text, const std::string& what) {
    try {
        return YAML::Load(text);
    } catch (const YAML::ParserException& e) {
        throw std::invalid_argument(what + " " + p.string() + ":" +
                                    std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
    }
}

nlohmann::json read_json(const fs::path& p) {
    std::ifstream in(p);
    if (!in) throw std::runtime_error("missing " + p.string());
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded()) throw std::runtime_error(p.string() + " is not JSON");
    return j;
}

void write_json(const fs::path& p, const nlohmann::json& j) {
    std::ofstream(p) << j.dump(4) << "\n";
}

bool is_statistic(const std::string& name) {
    // <var>__<split>__<stat>: three non-empty parts
    const auto a = name.find("__");
    if (a == std::string::npos || a == 0) return false;
    const auto b = name.find("__", a + 2);
    return b != std::string::npos && b > a + 2 && b + 2 < name.size() &&
           name.find("__", b + 2) == std::string::npos;
}

}  // namespace

std::vector<Datastore> find_datastores(const fs::path& nl_config, const std::string& text) {
    const YAML::Node root = load_yaml(nl_config, text, "neural-lam configuration");
    std::vector<Datastore> out;
    const fs::path base = nl_config.parent_path();
    auto add = [&](const std::string& role, const YAML::Node& n) {
        if (!n.IsMap() || !n["kind"] || !n["config_path"])
            throw std::invalid_argument(nl_config.string() + ": " + role +
                                        " needs 'kind' and 'config_path'");
        const fs::path p = n["config_path"].as<std::string>();
        out.push_back({role, n["kind"].as<std::string>(), p.is_absolute() ? p : base / p});
    };
    if (root.IsMap()) {
        if (root["datastore"]) add("datastore", root["datastore"]);
        if (root["datastore_boundary"]) add("datastore_boundary", root["datastore_boundary"]);
        if (root["datastores"] && root["datastores"].IsMap())
            for (const auto& kv : root["datastores"])
                add("datastores." + kv.first.as<std::string>(), kv.second);
    }
    if (out.empty())
        throw std::invalid_argument(
            nl_config.string() +
            " does not look like a neural-lam configuration: it names no datastore "
            "(expected datastore: {kind, config_path}, datastore_boundary or datastores)");
    return out;
}

std::string rewrite_config_paths(const std::string& text) {
    YAML::Node root = YAML::Load(text);
    auto rewrite = [](YAML::Node n) {
        if (n.IsMap() && n["config_path"])
            n["config_path"] = fs::path(n["config_path"].as<std::string>()).filename().string();
    };
    if (root["datastore"]) rewrite(root["datastore"]);
    if (root["datastore_boundary"]) rewrite(root["datastore_boundary"]);
    if (root["datastores"] && root["datastores"].IsMap())
        for (auto kv : root["datastores"]) rewrite(kv.second);
    YAML::Emitter e;
    e << root;
    return std::string(e.c_str()) + "\n";
}

std::vector<std::string> extract_statistics(const fs::path& zarr, const fs::path& out) {
    if (!fs::is_directory(zarr))
        throw std::invalid_argument("datastore zarr " + zarr.string() + " does not exist");
    std::vector<std::string> stats;
    std::map<std::string, nlohmann::json> attrs;  // array name -> .zattrs
    for (const auto& e : fs::directory_iterator(zarr)) {
        if (!e.is_directory() || !fs::exists(e.path() / ".zarray")) continue;
        const std::string name = e.path().filename().string();
        attrs[name] = fs::exists(e.path() / ".zattrs") ? read_json(e.path() / ".zattrs")
                                                       : nlohmann::json::object();
        if (is_statistic(name)) stats.push_back(name);
    }
    if (stats.empty())
        throw std::invalid_argument(
            "datastore zarr " + zarr.string() +
            " has no statistics variables (<var>__<split>__<stat>, e.g. state__train__mean)");
    std::sort(stats.begin(), stats.end());
    // the arrays to copy: the statistics, and the coordinates their dimensions and attributes name
    std::set<std::string> copy(stats.begin(), stats.end());
    for (const auto& s : stats) {
        for (const auto& dim : attrs[s].value("_ARRAY_DIMENSIONS", nlohmann::json::array()))
            if (dim.is_string() && attrs.contains(dim.get<std::string>()))
                copy.insert(dim.get<std::string>());
        std::istringstream coords(attrs[s].value("coordinates", ""));
        for (std::string c; coords >> c;)
            if (attrs.contains(c)) copy.insert(c);
    }
    fs::remove_all(out);
    fs::create_directories(out);
    nlohmann::json meta = nlohmann::json::object();
    meta[".zgroup"] = {{"zarr_format", 2}};
    nlohmann::json group_attrs =
        fs::exists(zarr / ".zattrs") ? read_json(zarr / ".zattrs") : nlohmann::json::object();
    group_attrs["mlwm_statistics_of"] = zarr.filename().string();
    meta[".zattrs"] = group_attrs;
    for (const auto& name : copy) {
        fs::copy(zarr / name, out / name, fs::copy_options::recursive);
        meta[name + "/.zarray"] = read_json(zarr / name / ".zarray");
        meta[name + "/.zattrs"] = attrs[name];
        if (!fs::exists(out / name / ".zattrs")) write_json(out / name / ".zattrs", attrs[name]);
    }
    write_json(out / ".zgroup", meta[".zgroup"]);
    write_json(out / ".zattrs", meta[".zattrs"]);
    write_json(out / ".zmetadata", {{"metadata", meta}, {"zarr_consolidated_format", 1}});
    return stats;
}

BuildResult build_artifact(const BuildRequest& r) {
    // inputs first: every problem before any work
    if (!fs::is_regular_file(r.checkpoint))
        throw std::invalid_argument("checkpoint " + r.checkpoint.string() + " does not exist");
    const std::string args_text = read_text(r.training_args, "training arguments file");
    (void)load_yaml(r.training_args, args_text, "training arguments file");  // YAML, or refused
    std::vector<std::string> warnings;
    if (auto shape = training_args_shape(r.training_args.string(), args_text); !shape.empty())
        warnings.push_back(shape);
    const std::string nl_text = read_text(r.nl_config, "neural-lam configuration");
    const std::vector<Datastore> stores = find_datastores(r.nl_config, nl_text);
    for (const auto& d : stores) {
        if (!fs::is_regular_file(d.config_path))
            throw std::invalid_argument(d.role + ".config_path " + d.config_path.string() +
                                        " does not exist");
        if (d.kind != "mdp")
            throw std::invalid_argument(d.role + ": datastore kind '" + d.kind +
                                        "' has no zarr dataset to take statistics from (only 'mdp' "
                                        "datastores are supported)");
    }

    const fs::path stage =
        r.output_dir / (".mlwm-artifact-" + r.name + "-" + std::to_string(::getpid()));
    fs::remove_all(stage);
    fs::create_directories(stage);
    struct Cleanup {
        fs::path p;
        ~Cleanup() {
            std::error_code ec;
            fs::remove_all(p, ec);
        }
    } cleanup{stage};

    // the files of the zip: name -> source on disk
    std::vector<std::pair<std::string, fs::path>> files;
    files.emplace_back("checkpoint.pkl", r.checkpoint);
    files.emplace_back("training_cli_args.yaml", r.training_args);
    std::ofstream(stage / "nl_config") << rewrite_config_paths(nl_text);
    files.emplace_back("configs/" + r.nl_config.filename().string(), stage / "nl_config");
    BuildResult result;
    result.warnings = warnings;
    for (const auto& d : stores) {
        files.emplace_back("configs/" + d.config_path.filename().string(), d.config_path);
        // danra.datastore.yaml -> danra.datastore.zarr beside it
        const fs::path zarr =
            d.config_path.parent_path() / (d.config_path.stem().string() + ".zarr");
        const std::string stats_name = d.config_path.stem().string() + ".stats.zarr";
        const auto vars = extract_statistics(zarr, stage / stats_name);
        result.statistics.insert(result.statistics.end(), vars.begin(), vars.end());
        std::vector<fs::path> stat_files;
        for (const auto& e : fs::recursive_directory_iterator(stage / stats_name))
            if (e.is_regular_file()) stat_files.push_back(e.path());
        std::sort(stat_files.begin(), stat_files.end());
        for (const auto& p : stat_files)
            files.emplace_back("stats/" + fs::relative(p, stage).generic_string(), p);
    }

    // artifact.yaml: provenance, and the checksum and size of every file
    YAML::Emitter y;
    y << YAML::BeginMap;
    y << YAML::Key << "artifact_name" << YAML::Value << r.name;
    y << YAML::Key << "mlwm_version" << YAML::Value << r.mlwm_version;
    y << YAML::Key << "checkpoint_path" << YAML::Value << fs::absolute(r.checkpoint).string();
    y << YAML::Key << "config_path" << YAML::Value << fs::absolute(r.nl_config).string();
    y << YAML::Key << "argv" << YAML::Value << YAML::BeginSeq;
    for (const auto& a : r.argv) y << a;
    y << YAML::EndSeq;
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    y << YAML::Key << "hostname" << YAML::Value << host;
    y << YAML::Key << "cwd" << YAML::Value << fs::current_path().string();
    y << YAML::Key << "created" << YAML::Value << util::utc_now();
    y << YAML::Key << "files" << YAML::Value << YAML::BeginMap;
    for (const auto& [name, src] : files) {
        y << YAML::Key << name << YAML::Value << YAML::BeginMap;
        y << YAML::Key << "sha256" << YAML::Value << util::sha256_file_hex(src.string());
        y << YAML::Key << "size" << YAML::Value
          << static_cast<unsigned long long>(fs::file_size(src));
        y << YAML::EndMap;
    }
    y << YAML::EndMap << YAML::EndMap;

    fs::create_directories(r.output_dir);
    result.zip = r.output_dir / (r.name + ".zip");
    ZipWriter zip(result.zip);
    zip.add_bytes("artifact.yaml", std::string(y.c_str()) + "\n");
    result.entries.push_back("artifact.yaml");
    for (const auto& [name, src] : files) {
        zip.add_file(name, src);
        result.entries.push_back(name);
    }
    zip.commit();
    return result;
}

std::string training_args_shape(const std::string& file, const std::string& text) {
    YAML::Node args;
    try {
        args = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        return "training arguments file " + file + ": not YAML (" + e.msg + ")";
    }
    if (!args.IsSequence())
        return "training arguments file " + file +
               ": not a list of one-key maps such as '- num_workers: 6' (kept as it is)";
    for (const auto& item : args)
        if (!item.IsMap() || item.size() != 1)
            return "training arguments file " + file + ":" + std::to_string(item.Mark().line + 1) +
                   ": not a one-key map such as '- precision: bf16-mixed' (kept as it is)";
    return "";
}

VerifyResult verify_artifact(const fs::path& zip, bool require_checksums) {
    VerifyResult v;
    YAML::Node meta;
    try {
        meta = YAML::Load(read_zip_entry(zip, "artifact.yaml"));
    } catch (const YAML::Exception& e) {
        v.problems.push_back("artifact.yaml: not YAML (" + e.msg + ")");
        return v;
    }
    v.artifact_name = meta["artifact_name"].as<std::string>("");
    // what the zip holds: every entry read back in full (libzip checks its CRC)
    std::set<std::string> present;
    bool config = false;
    for (const auto& e : list_zip(zip)) {
        if (e.name.empty() || e.name.back() == '/') continue;  // a folder entry
        present.insert(e.name);
        if (e.name.starts_with("configs/") &&
            (e.name.ends_with(".yaml") || e.name.ends_with(".yml")))
            config = true;
    }
    std::map<std::string, util::Sha256> digests;
    std::map<std::string, std::uint64_t> sizes;
    std::map<std::string, std::string> yaml_text;  // the small YAML files, for parsing
    for (const auto& name : present) {
        try {
            const bool yaml = name == "training_cli_args.yaml" ||
                              (name.starts_with("configs/") &&
                               (name.ends_with(".yaml") || name.ends_with(".yml")));
            stream_zip_entry(zip, name, [&](const char* d, std::size_t n) {
                digests[name].update(d, n);
                sizes[name] += n;
                if (yaml) yaml_text[name].append(d, n);
            });
        } catch (const std::exception& e) {
            v.problems.push_back(name + ": cannot be read back: " + e.what());
        }
    }
    for (const char* required : {"checkpoint.pkl", "training_cli_args.yaml"})
        if (!present.contains(required))
            v.problems.push_back(std::string(required) + ": missing from the zip");
    if (!config) v.problems.push_back("configs/: the zip holds no configuration (.yaml)");
    for (const auto& [name, text] : yaml_text) {
        if (name == "training_cli_args.yaml") {
            if (auto shape = training_args_shape(name, text); !shape.empty())
                v.warnings.push_back(shape);
            continue;
        }
        try {
            (void)YAML::Load(text);
        } catch (const YAML::Exception& e) {
            v.problems.push_back(name + ": not YAML (" + e.msg + ")");
        }
    }
    const YAML::Node files = meta["files"];
    if (!files || !files.IsMap()) {
        v.checksums = false;
        v.files = present.size();
        const std::string what =
            "artifact.yaml lists no checksums (an artifact built by the original mlwm?): its " +
            std::to_string(present.size()) + " files were checked by the zip's CRCs only";
        (require_checksums ? v.problems : v.warnings).push_back(what);
        return v;
    }
    std::set<std::string> listed;
    for (const auto& kv : files) listed.insert(kv.first.as<std::string>());
    for (const auto& name : present)
        if (name != "artifact.yaml" && !listed.contains(name))
            v.problems.push_back(name + ": in the zip but not in artifact.yaml");
    for (const auto& kv : files) {
        const std::string name = kv.first.as<std::string>();
        const std::string want = kv.second["sha256"].as<std::string>("");
        const auto want_size = kv.second["size"].as<unsigned long long>(0);
        if (!present.contains(name)) {
            v.problems.push_back(name + ": listed in artifact.yaml but missing from the zip");
            continue;
        }
        const std::string got = digests[name].hex_digest();
        if (sizes[name] != want_size)
            v.problems.push_back(name + ": " + std::to_string(sizes[name]) +
                                 " bytes, artifact.yaml says " + std::to_string(want_size));
        else if (got != want)
            v.problems.push_back(name + ": sha256 " + got + ", artifact.yaml says " + want);
        ++v.files;
    }
    return v;
}

std::string upload_target(const std::string& format, const std::string& name) {
    std::string out = format;
    const std::string ph = "{artifact_name}";
    for (auto pos = out.find(ph); pos != std::string::npos; pos = out.find(ph, pos + name.size()))
        out.replace(pos, ph.size(), name);
    return out;
}

}  // namespace mlwm::artifact
