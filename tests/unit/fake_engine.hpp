// A container engine in memory for hermetic tests (docker::Engine): a
// container "runs" when its wait is awaited, by calling `model` with its spec
// (which may write to the host folders of its mounts, and may block, e.g. on
// a test's gate); it records every call. Thread-safe: the scheduler runs
// containers on its pool threads.
#pragma once

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "docker/engine.hpp"

namespace mlwm::testing {

class FakeEngine final : public docker::Engine {
public:
    struct Container {
        docker::ContainerSpec spec;
        std::string state = "created";  // created, running, exited
        int exit_code = 0;
    };
    // The model: returns the container's exit code.
    std::function<int(const docker::ContainerSpec&)> model = [](const auto&) { return 0; };
    std::map<std::string, Container> containers;
    int creates = 0, starts = 0, removes = 0;
    int running_now = 0, most_running = 0;  // containers whose model is running
    std::vector<std::string> started_runs;  // the org.mlwm.run-id label of each start

    // Reads the counters consistently while runs go on.
    template <class F>
    auto locked(F f) {
        const std::lock_guard lock(mu_);
        return f(*this);
    }

    std::optional<nlohmann::json> inspect_image(const std::string&) override {
        return nlohmann::json::object();
    }
    void pull_image(const docker::ImageRef&, const docker::ProgressSink&) override {}
    std::string create_container(const docker::ContainerSpec& spec) override {
        const std::lock_guard lock(mu_);
        const std::string id = "fake" + std::to_string(++creates);
        containers[id] = {spec};
        return id;
    }
    std::unique_ptr<docker::ContainerWait> open_wait(const std::string& id,
                                                     const std::string&) override {
        return std::make_unique<Wait>(*this, id);
    }
    void start_container(const std::string& id) override {
        const std::lock_guard lock(mu_);
        ++starts;
        Container& c = containers.at(id);
        c.state = "running";
        const auto label = c.spec.labels.find("org.mlwm.run-id");
        started_runs.push_back(label == c.spec.labels.end() ? "" : label->second);
    }
    void kill_container(const std::string& id, const std::string&) override {
        const std::lock_guard lock(mu_);
        Container& c = containers.at(id);
        c.state = "exited";
        c.exit_code = 137;
    }
    void remove_container(const std::string& id, bool) override {
        const std::lock_guard lock(mu_);
        if (containers.erase(id) == 0) throw std::runtime_error("no such container " + id);
        ++removes;
    }
    docker::ContainerState inspect_container(const std::string& id) override {
        const std::lock_guard lock(mu_);
        const Container& c = containers.at(id);
        docker::ContainerState s;
        s.id = id;
        s.status = c.state;
        s.running = c.state == "running";
        s.exit_code = c.exit_code;
        s.image_id = "sha256:fake";
        return s;
    }
    std::vector<docker::ContainerSummary> list_containers(
        const std::vector<std::string>& labels) override {
        const std::lock_guard lock(mu_);
        std::vector<docker::ContainerSummary> out;
        for (const auto& [id, c] : containers) {
            bool all = true;
            for (const auto& l : labels) {
                const auto eq = l.find('=');
                const auto it = c.spec.labels.find(l.substr(0, eq));
                all = all && it != c.spec.labels.end() &&
                      (eq == std::string::npos || it->second == l.substr(eq + 1));
            }
            if (all) out.push_back({id, {}, c.spec.image, c.state, c.spec.labels});
        }
        return out;
    }
    void save_logs(const std::string& id, const std::filesystem::path& out,
                   const std::filesystem::path& err) override {
        std::filesystem::create_directories(out.parent_path());
        std::ofstream(out) << "stdout of " << id << "\n";
        std::ofstream(err) << "";
    }

private:
    std::mutex mu_;
    class Wait final : public docker::ContainerWait {
    public:
        Wait(FakeEngine& e, std::string id) : e_(e), id_(std::move(id)) {}
        std::optional<docker::WaitResult> wait_until(
            std::chrono::steady_clock::time_point) override {
            docker::ContainerSpec spec;
            {
                const std::lock_guard lock(e_.mu_);
                Container& c = e_.containers.at(id_);
                if (c.state != "running") return docker::WaitResult{c.exit_code, ""};
                spec = c.spec;
                e_.most_running = std::max(e_.most_running, ++e_.running_now);
            }
            const int code = e_.model(spec);  // unlocked: it may block
            const std::lock_guard lock(e_.mu_);
            --e_.running_now;
            Container& c = e_.containers.at(id_);
            if (c.state == "running") {
                c.state = "exited";
                c.exit_code = code;
            }
            return docker::WaitResult{c.exit_code, ""};
        }

    private:
        FakeEngine& e_;
        std::string id_;
    };
};

}  // namespace mlwm::testing
