#include "run/plan.hpp"

#include "config/yaml_reader.hpp"
#include "run/readiness.hpp"

namespace mlwm::run {
namespace fs = std::filesystem;

std::string run_id(const std::string& model, const paths::AnalysisTime& t, paths::Member member) {
    return model + "/" + paths::format_analysis_time(t) + "/" + paths::format_member(member);
}

RunPlan plan_run(const config::ModelConfig& m, const paths::AnalysisTime& t, paths::Member member,
                 const fs::path& work_root) {
    RunPlan p;
    p.run_id = run_id(m.name, t, member);
    p.model = m.name;
    p.analysis_time = t;
    p.member = member;
    p.work_dir = work_root / paths::format_analysis_time(t) / paths::format_member(member);
    p.log_dir = p.work_dir / "logs" / m.name;
    p.timeout = m.timeout;
    p.staging_timeout = m.staging_timeout;
    p.publishing_timeout = m.publishing_timeout;
    for (const auto& d : m.inputs)
        p.inputs.push_back({d.name, config::locate(d, t, member),
                            p.work_dir / "input" / m.name / d.name, d.internal_path,
                            d.completion_marker, d.quiet_period});
    for (const auto& d : m.outputs)
        p.outputs.push_back({d.name,
                             config::locate(d, t, member),
                             p.work_dir / "output" / m.name / d.name,
                             d.internal_path,
                             "",
                             {}});
    if (!p.outputs.empty()) {
        const std::string& first = p.outputs.front().place.key;
        const auto slash = first.rfind('/');
        p.marker = {p.outputs.front().place.bucket,
                    (slash == std::string::npos ? "" : first.substr(0, slash + 1)) + kMarkerName};
    }

    docker::ContainerSpec& c = p.container;
    c.image = m.docker_image;
    c.command = m.command;
    const auto named = config::dataset_placeholders(m, t, member);
    for (const auto& [k, v] : m.env) c.env[k] = config::expand_template(v, t, member, named);
    c.env["ANALYSIS_TIME"] = paths::format_iso8601(t);
    if (m.forecast_duration)
        c.env["FORECAST_DURATION"] = config::format_iso_duration(*m.forecast_duration);
    c.env["MLWM_MEMBER"] = std::to_string(member);
    c.env["MLWM_RUN_ID"] = p.run_id;
    c.env["MLWM_MODEL"] = m.name;
    c.labels = {{"org.mlwm.managed", "true"},
                {"org.mlwm.run-id", p.run_id},
                {"org.mlwm.model", m.name},
                {"org.mlwm.analysis-time", paths::format_analysis_time(t)},
                {"org.mlwm.member", std::to_string(member)}};
    std::string name =
        "mlwm-" + m.name + "-" + paths::format_analysis_time(t) + "-m" + std::to_string(member);
    for (auto& ch : name)
        if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.')
            ch = '-';
    c.name = name;
    for (const auto& d : p.inputs)
        c.mounts.push_back({fs::absolute(d.local).string(), d.internal_path, true});
    for (const auto& d : p.outputs)
        c.mounts.push_back({fs::absolute(d.local).string(), d.internal_path, false});
    c.network_mode = m.network;
    p.pass_s3_credentials = m.pass_s3_credentials;
    c.resources = m.resources;
    return p;
}

nlohmann::ordered_json to_json(const RunPlan& p) {
    nlohmann::ordered_json j;
    j["run_id"] = p.run_id;
    j["model"] = p.model;
    j["analysis_time"] = paths::format_iso8601(p.analysis_time);
    j["member"] = p.member;
    j["image"] = p.container.image;
    auto datasets = [](const std::vector<PlannedDataset>& v, bool input) {
        nlohmann::ordered_json a = nlohmann::ordered_json::array();
        for (const auto& d : v) {
            nlohmann::ordered_json e{{"name", d.name},
                                     {"location", d.place.uri()},
                                     {"local", d.local.string()},
                                     {"mount", d.internal_path},
                                     {"read_only", input}};
            if (input)
                e["complete_when"] =
                    completion_condition(d.place, d.completion_marker, d.quiet_period);
            a.push_back(e);
        }
        return a;
    };
    j["inputs"] = datasets(p.inputs, true);
    j["outputs"] = datasets(p.outputs, false);
    j["marker"] = p.marker.uri();
    j["environment"] = p.container.env;
    j["network"] = p.container.network_mode;
    if (p.pass_s3_credentials)  // the names only: the values are added at run time
        j["s3_credentials"] =
            "passed at run time as AWS_ENDPOINT_URL, AWS_REGION, "
            "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN)";
    if (const auto& g = p.container.resources.gpus; g.any())
        j["gpus"] = g.all                  ? nlohmann::ordered_json("all")
                    : g.device_ids.empty() ? nlohmann::ordered_json(g.count)
                                           : nlohmann::ordered_json(g.device_ids);
    j["timeout_seconds"] = p.timeout.count();
    j["logs"] = p.log_dir.string();
    return j;
}

}  // namespace mlwm::run
