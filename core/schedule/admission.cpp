#include "schedule/admission.hpp"

#include <algorithm>

namespace mlwm::schedule {
namespace {

bool contains(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

// The devices the request would get from `free`, or nothing if it must wait.
std::optional<std::vector<std::string>> pick(const docker::GpuRequest& r,
                                             const std::vector<std::string>& host,
                                             const std::vector<std::string>& free) {
    if (!r.any()) return std::vector<std::string>{};
    if (r.all) {
        if (free.size() != host.size()) return std::nullopt;
        return host;
    }
    if (!r.device_ids.empty()) {
        for (const auto& d : r.device_ids)
            if (!contains(free, d)) return std::nullopt;
        return r.device_ids;
    }
    if (static_cast<int>(free.size()) < r.count) return std::nullopt;
    return std::vector<std::string>(free.begin(), free.begin() + r.count);
}

}  // namespace

std::string gpu_request_unsatisfiable(const docker::GpuRequest& r,
                                      const std::vector<std::string>& host) {
    if (!r.any()) return "";
    if (host.empty())
        return "it needs GPUs and the host lists none (gpus in the host configuration)";
    for (const auto& d : r.device_ids)
        if (!contains(host, d)) return "it needs GPU '" + d + "', which the host does not list";
    if (r.count > static_cast<int>(host.size()))
        return "it needs " + std::to_string(r.count) + " GPUs and the host lists " +
               std::to_string(host.size());
    return "";
}

AdmissionResult admit(const std::vector<Candidate>& candidates, Capacity cap) {
    AdmissionResult out;
    std::vector<std::string> free;
    for (const auto& g : cap.host_gpus)
        if (!contains(cap.busy_gpus, g)) free.push_back(g);
    for (const auto& c : candidates) {
        if (cap.active >= cap.global_limit) {
            out.wait.push_back({c.run_id, "the host's limit of " +
                                              std::to_string(cap.global_limit) +
                                              " concurrent runs is reached"});
            continue;
        }
        if (c.model_limit > 0 && cap.model_active[c.model] >= c.model_limit) {
            out.wait.push_back({c.run_id, "the model's limit of " + std::to_string(c.model_limit) +
                                              " concurrent runs is reached"});
            continue;
        }
        if (const std::string why = gpu_request_unsatisfiable(c.gpus, cap.host_gpus);
            !why.empty()) {
            out.wait.push_back({c.run_id, "cannot run here: " + why});
            continue;
        }
        const auto gpus = pick(c.gpus, cap.host_gpus, free);
        if (!gpus) {
            out.wait.push_back({c.run_id, "waiting for free GPUs"});
            continue;
        }
        for (const auto& g : *gpus) free.erase(std::find(free.begin(), free.end(), g));
        ++cap.active;
        ++cap.model_active[c.model];
        out.start.push_back({c.run_id, *gpus});
    }
    return out;
}

}  // namespace mlwm::schedule
