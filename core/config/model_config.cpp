#include "config/model_config.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "config/yaml_reader.hpp"
#include "docker/image_ref.hpp"
#include "paths/error.hpp"

namespace mlwm::config {
namespace {

std::optional<UriArgs> read_uri_args(Reader& r, const YAML::Node& n, const std::string& path) {
    if (!r.map(n, path,
               {"bbox", "resolution", "data_kind", "model_name", "model_config", "bucket_name"}))
        return std::nullopt;
    UriArgs a;
    bool ok = true;
    auto text = [&](const char* key, std::string& out, auto check) {
        if (auto v = r.string(n, key, path, true)) {
            try {
                check(*v);
                out = *v;
            } catch (const std::exception& e) {
                r.issue(n[key], path + "." + key, e.what());
                ok = false;
            }
        } else {
            ok = false;
        }
    };
    auto name_check = [](const char* what) {
        return [what](const std::string& v) { paths::check_name(v, what); };
    };
    text("model_name", a.model_name, name_check("model_name"));
    text("model_config", a.model_config, name_check("model_config"));
    text("data_kind", a.data_kind, name_check("data_kind"));
    text("bucket_name", a.bucket_name, [](const std::string& v) { paths::check_bucket_name(v); });

    // Like the original (float fields), a number in uri_args is a float
    // however it is written: lon_min: -10 is w-10p0, lon_resolution: 2500 is
    // dx2500p0m, the keys its producers write.
    auto real = [&](const YAML::Node& parent, const char* key,
                    const std::string& at) -> std::optional<paths::PNumber> {
        const auto v = r.number(parent, key, at);
        if (!v) return std::nullopt;
        try {
            return paths::PNumber::floating(v->as_double());
        } catch (const paths::PathError& e) {
            r.issue(parent[key], at + "." + key, e.what());
            return std::nullopt;
        }
    };
    const YAML::Node bbox = n["bbox"];
    if (r.map(bbox, path + ".bbox", {"lon_min", "lat_min", "lon_max", "lat_max"})) {
        auto lon_min = real(bbox, "lon_min", path + ".bbox");
        auto lat_min = real(bbox, "lat_min", path + ".bbox");
        auto lon_max = real(bbox, "lon_max", path + ".bbox");
        auto lat_max = real(bbox, "lat_max", path + ".bbox");
        if (lon_min && lat_min && lon_max && lat_max)
            a.bbox = {*lon_min, *lat_min, *lon_max, *lat_max};
        else
            ok = false;
    } else {
        ok = false;
    }
    const YAML::Node res = n["resolution"];
    const std::string rp = path + ".resolution";
    if (r.map(res, rp, {"lon_resolution", "lat_resolution", "unit"})) {
        auto dx = real(res, "lon_resolution", rp);
        auto dy = real(res, "lat_resolution", rp);
        auto unit = r.string(res, "unit", rp, true);
        std::optional<paths::Unit> u;
        if (unit) {
            try {
                u = paths::parse_unit(*unit);
            } catch (const paths::PathError& e) {
                r.issue(res["unit"], rp + ".unit", e.what());
            }
        }
        if (dx && dy && u) {
            a.resolution = {*dx, *dy, *u};
            try {
                (void)paths::format_resolution(a.resolution);  // positive values
            } catch (const paths::PathError& e) {
                r.issue(res, rp, e.what());
                ok = false;
            }
        } else {
            ok = false;
        }
    } else {
        ok = false;
    }
    return ok ? std::optional<UriArgs>(a) : std::nullopt;
}

void read_datasets(Reader& r, const YAML::Node& root, const std::string& key, bool inputs,
                   std::vector<Dataset>& out) {
    const YAML::Node n = root[key];
    if (!r.map(n, key, {}, true)) return;
    if (n.size() == 0) r.issue(n, key, "no " + key + " configured");
    for (const auto& kv : n) {
        Dataset d;
        d.name = kv.first.as<std::string>("");
        const std::string path = key + "." + d.name;
        const YAML::Node dn = kv.second;
        const bool ok =
            inputs
                ? r.map(dn, path,
                        {"uri_args", "uri", "internal_path", "completion_marker", "quiet_period"})
                : r.map(dn, path, {"uri_args", "uri", "internal_path"});
        if (!ok) continue;
        try {
            paths::check_name(d.name, key == "inputs" ? "input name" : "output name");
        } catch (const paths::PathError& e) {
            r.issue(kv.first, path, e.what());
        }
        const bool has_args = dn["uri_args"].IsDefined(), has_uri = dn["uri"].IsDefined();
        if (has_args == has_uri)
            r.issue(dn, path,
                    "give exactly one of uri_args (the standard layout) or uri (a template)");
        if (has_args) d.uri_args = read_uri_args(r, dn["uri_args"], path + ".uri_args");
        if (has_uri) {
            if (auto u = r.string(dn, "uri", path, true)) {
                d.uri_template = *u;
                try {
                    const std::string probe =
                        expand_template(*u, paths::AnalysisTime::from_fields(2000, 1, 1, 0, 0), 0);
                    if (!probe.starts_with("s3://") || probe.find('/', 5) == std::string::npos)
                        throw std::invalid_argument("expected s3://BUCKET/KEY");
                    paths::check_bucket_name(probe.substr(5, probe.find('/', 5) - 5));
                } catch (const std::exception& e) {
                    r.issue(dn["uri"], path + ".uri", e.what());
                }
            }
        }
        if (auto p = r.string(dn, "internal_path", path, true)) {
            d.internal_path = *p;
            if (p->empty() || p->front() != '/')
                r.issue(dn["internal_path"], path + ".internal_path",
                        "'" + *p + "' must be an absolute path in the container");
            else if (*p == "/")
                r.issue(dn["internal_path"], path + ".internal_path",
                        "cannot mount over the container's root");
        }
        if (inputs)
            if (auto m = r.string(dn, "completion_marker", path, false)) {
                if (m->empty() || m->front() == '/' || m->find("..") != std::string::npos)
                    r.issue(dn["completion_marker"], path + ".completion_marker",
                            "expected an object name relative to the dataset, e.g. .zmetadata");
                d.completion_marker = *m;
            }
        if (inputs)
            if (auto q = r.duration(dn, "quiet_period", path)) d.quiet_period = *q;
        out.push_back(std::move(d));
    }
}

void read_resources(Reader& r, const YAML::Node& root, ModelConfig& c) {
    const YAML::Node n = root["resources"];
    if (!r.map(n, "resources", {"gpus", "memory", "cpus", "shm_size", "pids", "devices"}, false))
        return;
    if (const YAML::Node d = n["devices"]; d.IsDefined() && !d.IsNull()) {
        if (!d.IsSequence())
            r.issue(d, "resources.devices",
                    "expected a list of devices, e.g. [/dev/fuse, nvidia.com/gpu=all]");
        else
            for (std::size_t i = 0; i < d.size(); ++i) {
                const std::string at = "resources.devices[" + std::to_string(i) + "]";
                try {
                    if (!d[i].IsScalar()) throw std::invalid_argument("expected a string");
                    const docker::Device dev = docker::parse_device(d[i].Scalar());
                    if (std::find(c.resources.devices.begin(), c.resources.devices.end(), dev) !=
                        c.resources.devices.end())
                        throw std::invalid_argument("'" + d[i].Scalar() + "' listed twice");
                    c.resources.devices.push_back(dev);
                } catch (const std::invalid_argument& e) {
                    r.issue(d[i], at, e.what());
                }
            }
    }
    if (auto m = r.size(n, "memory", "resources")) c.resources.memory_bytes = *m;
    if (auto s = r.size(n, "shm_size", "resources")) c.resources.shm_size_bytes = *s;
    if (auto p = r.integer(n, "pids", "resources", 1, 1 << 22)) c.resources.pids_limit = *p;
    if (const YAML::Node cpus = n["cpus"]; cpus.IsDefined() && !cpus.IsNull()) {
        try {
            const double v = parse_yaml_number(cpus.Scalar()).as_double();
            if (!(v > 0)) throw std::invalid_argument("must be positive");
            c.resources.cpus = v;
        } catch (const std::exception& e) {
            r.issue(cpus, "resources.cpus",
                    std::string("expected a positive number of CPUs: ") + e.what());
        }
    }
    const YAML::Node g = n["gpus"];
    if (!g.IsDefined() || g.IsNull()) return;
    if (g.IsScalar() && g.Scalar() == "all") {
        c.resources.gpus.all = true;
    } else if (g.IsSequence()) {
        for (const auto& id : g) c.resources.gpus.device_ids.push_back(id.as<std::string>(""));
    } else if (auto count = r.integer(n, "gpus", "resources", 0, 64)) {
        c.resources.gpus.count = static_cast<int>(*count);
    }
}

// inference_artifact: s3://BUCKET/KEY.zip, file:///PATH or /PATH, or
// {url: https://..., sha256: HEX} (a download is pinned by its checksum).
void read_inference_artifact(Reader& r, const YAML::Node& root, ModelConfig& c) {
    const YAML::Node n = root["inference_artifact"];
    if (!n.IsDefined() || n.IsNull()) return;
    std::optional<std::string> url;
    if (n.IsMap()) {
        if (!r.map(n, "inference_artifact", {"url", "sha256"})) return;
        url = r.string(n, "url", "inference_artifact", true);
        if (auto sha = r.string(n, "sha256", "inference_artifact", false)) {
            c.inference_artifact_sha256 = *sha;
            if (!artifact_sha256_valid(*sha))
                r.issue(n["sha256"], "inference_artifact.sha256",
                        "expected 64 hexadecimal digits (sha256sum of the zip)");
        }
    } else {
        url = r.string(root, "inference_artifact", "", false);
    }
    if (!url) return;
    c.inference_artifact = *url;
    const std::string where = n.IsMap() ? "inference_artifact.url" : "inference_artifact";
    const bool download = url->starts_with("https://") || url->starts_with("http://");
    if (!download && !url->starts_with("s3://") && !url->starts_with("file://") &&
        !url->starts_with("/"))
        r.issue(n.IsMap() ? n["url"] : n, where,
                "expected s3://BUCKET/KEY.zip, file:///PATH, an absolute path, or "
                "{url: https://..., sha256: HEX}");
    else if (download && c.inference_artifact_sha256.empty())
        r.issue(n, "inference_artifact",
                "a download from " + *url +
                    " needs its checksum: write {url: ..., sha256: <sha256sum of the zip>}");
}

// Two mounts on one path, or one inside another, cannot both be mounted.
void check_mounts(Reader& r, const YAML::Node& root, const ModelConfig& c) {
    std::vector<std::pair<std::string, std::string>> mounts;  // path, key path
    for (const auto& d : c.inputs) mounts.emplace_back(d.internal_path, "inputs." + d.name);
    for (const auto& d : c.outputs) mounts.emplace_back(d.internal_path, "outputs." + d.name);
    for (std::size_t i = 0; i < mounts.size(); ++i)
        for (std::size_t j = i + 1; j < mounts.size(); ++j) {
            const auto& a = mounts[i].first;
            const auto& b = mounts[j].first;
            if (a.empty() || b.empty()) continue;
            const bool nested = b.starts_with(a + "/") || a.starts_with(b + "/");
            if (a == b || nested) {
                const std::string kind = mounts[j].second.substr(0, mounts[j].second.find('.'));
                const std::string name = mounts[j].second.substr(mounts[j].second.find('.') + 1);
                r.issue(root[kind][name]["internal_path"], mounts[j].second + ".internal_path",
                        (a == b ? "'" + b + "' is also the mount path of "
                                : "'" + b + "' is nested with the mount path of ") +
                            mounts[i].second + "; each dataset needs its own path");
            }
        }
}

}  // namespace

ModelConfig parse_model_config(const std::string& name, const std::string& file,
                               const std::string& text) {
    Reader r(file);
    const YAML::Node root = r.parse(text);
    ModelConfig c;
    c.name = name;
    c.file = file;
    try {
        paths::check_name(name, "model folder name");
    } catch (const paths::PathError& e) {
        r.issue(root, "", e.what());
    }
    if (!r.map(root, "",
               {"docker_image",
                "inputs",
                "outputs",
                "inference_artifact",
                "members",
                "forecast_duration",
                "env",
                "build_args",
                "resources",
                "timeout",
                "network",
                "s3_credentials",
                "command",
                "catch_up",
                "max_attempts",
                "retry_delay",
                "max_concurrent_runs",
                "timeouts",
                "deadlines",
                "cycle"})) {
        r.throw_if_any();
    }
    if (auto img = r.string(root, "docker_image", "", true)) {
        c.docker_image = *img;
        try {
            docker::parse_image_ref(*img, true);
        } catch (const std::invalid_argument& e) {
            r.issue(root["docker_image"], "docker_image", e.what());
        }
    }
    read_datasets(r, root, "inputs", true, c.inputs);
    read_datasets(r, root, "outputs", false, c.outputs);
    check_mounts(r, root, c);
    read_inference_artifact(r, root, c);
    if (const YAML::Node m = root["members"]; m.IsDefined() && !m.IsNull()) {
        c.members.clear();
        std::set<paths::Member> seen;
        if (!m.IsSequence() || m.size() == 0)
            r.issue(m, "members", "expected a non-empty list of member numbers, e.g. [0, 1, 2]");
        else
            for (std::size_t i = 0; i < m.size(); ++i) {
                const std::string s = m[i].IsScalar() ? m[i].Scalar() : "";
                try {
                    const paths::Member v = paths::parse_member("member" + s);
                    if (!seen.insert(v).second)
                        r.issue(m[i], "members", "member " + s + " listed twice");
                    c.members.push_back(v);
                } catch (const paths::PathError&) {
                    r.issue(m[i], "members[" + std::to_string(i) + "]",
                            "'" + s + "' is not a member number (0, 1, 2, ...)");
                }
            }
    }
    if (auto d = r.duration(root, "forecast_duration", "")) c.forecast_duration = *d;
    if (auto t = r.duration(root, "timeout", "")) c.timeout = *t;
    const YAML::Node to = root["timeouts"];
    if (r.map(to, "timeouts", {"staging", "running", "publishing"}, false)) {
        if (auto d = r.duration(to, "staging", "timeouts")) c.staging_timeout = *d;
        if (auto d = r.duration(to, "publishing", "timeouts")) c.publishing_timeout = *d;
        if (auto d = r.duration(to, "running", "timeouts")) {
            if (root["timeout"].IsDefined())
                r.issue(to["running"], "timeouts.running",
                        "give the container's time limit once: timeout or timeouts.running");
            c.timeout = *d;
        }
    }
    c.env = r.string_map(root, "env", "");
    for (const auto& [k, v] : c.env)
        if (k.empty() || k.find('=') != std::string::npos || k.starts_with("MLWM_") ||
            k == "ANALYSIS_TIME" || k == "FORECAST_DURATION")
            r.issue(root["env"][k], "env." + k,
                    "reserved or invalid variable name (mlwm sets ANALYSIS_TIME, FORECAST_DURATION "
                    "and MLWM_*)");
    // every placeholder of every value must expand (checked with a sample run)
    if (!c.env.empty()) {
        std::map<std::string, std::string> names;
        for (const auto& d : c.inputs) {
            names["inputs." + d.name + ".path"] = "";
            names["inputs." + d.name + ".uri"] = "";
        }
        for (const auto& d : c.outputs) {
            names["outputs." + d.name + ".path"] = "";
            names["outputs." + d.name + ".uri"] = "";
        }
        for (const auto& [k, v] : c.env) try {
                (void)expand_template(v, paths::AnalysisTime::from_fields(2000, 1, 1, 0, 0), 0,
                                      names);
            } catch (const std::invalid_argument& e) {
                std::string known;
                for (const auto& [n, _] : names) known += ", {" + n + "}";
                r.issue(root["env"][k], "env." + k,
                        std::string(e.what()) +
                            (known.empty() ? "" : "; this model's:" + known.substr(1)));
            }
    }
    c.build_args = r.string_map(root, "build_args", "");
    read_resources(r, root, c);
    if (auto n = r.string(root, "network", "", false)) {
        c.network = *n;
        if (n->empty())
            r.issue(root["network"], "network",
                    "expected a network mode such as none, bridge or host");
    }
    if (auto sc = r.string(root, "s3_credentials", "", false)) {
        if (*sc == "pass")
            c.pass_s3_credentials = true;
        else if (*sc != "none")
            r.issue(root["s3_credentials"], "s3_credentials",
                    "expected 'pass' (the container gets the host's S3 endpoint and "
                    "credentials as AWS_* variables) or 'none', not '" +
                        *sc + "'");
        if (c.pass_s3_credentials && c.network == "none")
            r.issue(root["s3_credentials"], "s3_credentials",
                    "'pass' needs a network to reach S3: set network (e.g. bridge or host); "
                    "with network: none the container cannot use them");
    }
    c.command = r.string_list(root, "command", "");
    if (auto cu = r.string(root, "catch_up", "", false)) {
        try {
            c.catch_up = parse_catch_up(*cu);
        } catch (const std::invalid_argument&) {
            r.issue(root["catch_up"], "catch_up",
                    "'" + *cu + "': expected all, latest or a maximum age such as P2D");
        }
    }
    if (auto m = r.integer(root, "max_attempts", "", 1, 100)) c.max_attempts = static_cast<int>(*m);
    if (auto d = r.duration(root, "retry_delay", "")) c.retry_delay = *d;
    if (auto d = r.duration(root, "cycle", "")) {
        if (d->count() < 60 || d->count() % 60 != 0)
            r.issue(root["cycle"], "cycle",
                    "expected whole minutes, at least PT1M (analysis times have minutes)");
        c.cycle = *d;
    }
    if (auto m = r.integer(root, "max_concurrent_runs", "", 1, 1024))
        c.max_concurrent_runs = static_cast<int>(*m);
    const YAML::Node dl = root["deadlines"];
    if (r.map(dl, "deadlines", {"arrival", "completion"}, false)) {
        if (auto d = r.duration(dl, "arrival", "deadlines")) c.arrival_deadline = *d;
        if (auto d = r.duration(dl, "completion", "deadlines")) c.completion_deadline = *d;
        if (c.arrival_deadline.count() > 0 && c.completion_deadline.count() > 0 &&
            c.completion_deadline < c.arrival_deadline)
            r.issue(dl["completion"], "deadlines.completion",
                    "is before deadlines.arrival: a run cannot be published before its inputs "
                    "arrive");
    }
    r.throw_if_any();
    return c;
}

ModelConfig load_model_config(const std::filesystem::path& model_dir) {
    const std::filesystem::path file = model_dir / "config.yaml";
    std::ifstream in(file);
    if (!in) throw ConfigError({{file.string(), 0, 0, "", "cannot read the file"}});
    std::ostringstream ss;
    ss << in.rdbuf();
    return parse_model_config(model_dir.filename().string(), file.string(), ss.str());
}

S3Place locate(const Dataset& d, const paths::AnalysisTime& t, paths::Member member) {
    if (d.uri_args) {
        const UriArgs& a = *d.uri_args;
        const paths::DatasetKey key{a.model_name, a.model_config, a.bbox, a.resolution, t,
                                    member,       a.data_kind};
        return {a.bucket_name, paths::create_path(key)};
    }
    std::string uri = expand_template(d.uri_template, t, member);
    const auto slash = uri.find('/', 5);
    std::string key = uri.substr(slash + 1);
    while (!key.empty() && key.back() == '/') key.pop_back();
    return {uri.substr(5, slash - 5), key};
}

std::map<std::string, std::string> dataset_placeholders(const ModelConfig& m,
                                                        const paths::AnalysisTime& t,
                                                        paths::Member member) {
    std::map<std::string, std::string> out;
    for (const auto& [kind, list] : {std::pair{"inputs.", &m.inputs}, {"outputs.", &m.outputs}})
        for (const auto& d : *list) {
            out[kind + d.name + ".path"] = d.internal_path;
            out[kind + d.name + ".uri"] = locate(d, t, member).uri();
        }
    return out;
}

std::string expand_template(std::string_view tmpl, const paths::AnalysisTime& t,
                            paths::Member member, const std::map<std::string, std::string>& named) {
    using namespace std::chrono;
    const auto tp = t.time_point();
    const auto dp = floor<days>(tp);
    const year_month_day ymd{dp};
    const hh_mm_ss hms{tp - dp};
    auto two = [](long v) { return (v < 10 ? "0" : "") + std::to_string(v); };
    std::string out;
    for (std::size_t i = 0; i < tmpl.size(); ++i) {
        const char c = tmpl[i];
        if (c == '}' && i + 1 < tmpl.size() && tmpl[i + 1] == '}') {
            out += '}';
            ++i;
            continue;
        }
        if (c != '{') {
            out += c;
            continue;
        }
        if (i + 1 < tmpl.size() && tmpl[i + 1] == '{') {
            out += '{';
            ++i;
            continue;
        }
        const auto end = tmpl.find('}', i);
        if (end == std::string_view::npos)
            throw std::invalid_argument("unclosed '{' in '" + std::string(tmpl) + "'");
        const std::string_view field = tmpl.substr(i + 1, end - i - 1);
        const auto colon = field.find(':');
        const std::string_view name = field.substr(0, colon);
        const std::string_view spec =
            colon == std::string_view::npos ? std::string_view{} : field.substr(colon + 1);
        if (const auto it = named.find(std::string(field)); it != named.end()) {
            out += it->second;
        } else if (name == "member" && spec.empty()) {
            out += std::to_string(member);
        } else if (name == "analysis_time" && spec.empty()) {
            out += paths::format_analysis_time(t);
        } else if (name == "analysis_time") {
            for (std::size_t k = 0; k < spec.size(); ++k) {
                if (spec[k] != '%' || k + 1 >= spec.size()) {
                    out += spec[k];
                    continue;
                }
                switch (spec[++k]) {
                    case 'Y': out += std::to_string(int(ymd.year())); break;
                    case 'y': out += two(int(ymd.year()) % 100); break;
                    case 'm': out += two(unsigned(ymd.month())); break;
                    case 'd': out += two(unsigned(ymd.day())); break;
                    case 'H': out += two(hms.hours().count()); break;
                    case 'M': out += two(hms.minutes().count()); break;
                    case 'S': out += "00"; break;
                    case 'j': {
                        const auto doy = (dp - sys_days{ymd.year() / January / 1}).count() + 1;
                        out += (doy < 100 ? (doy < 10 ? "00" : "0") : "") + std::to_string(doy);
                        break;
                    }
                    case '%': out += '%'; break;
                    default:
                        throw std::invalid_argument("unsupported conversion %" +
                                                    std::string(1, spec[k]) +
                                                    " (supported: %Y %y %m %d %H %M %S %j %%)");
                }
            }
        } else {
            throw std::invalid_argument(
                "unknown placeholder {" + std::string(field) +
                "} (supported: {analysis_time}, {analysis_time:FORMAT}, {member})");
        }
        i = end;
    }
    return out;
}

bool artifact_sha256_valid(std::string_view hex) {
    return hex.size() == 64 && hex.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
}

}  // namespace mlwm::config
