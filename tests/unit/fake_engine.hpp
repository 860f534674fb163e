// A container engine in memory for hermetic tests (docker::Engine): a
// container "runs" when its wait is awaited, by calling `model` with its spec
// (which may write to the host folders of its mounts); it records every call.
#pragma once

#include <fstream>
#include <functional>
#include <map>
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

    std::optional<nlohmann::json> inspect_image(const std::string&) override {
        return nlohmann::json::object();
    }
    void pull_image(const docker::ImageRef&, const docker::ProgressSink&) override {}
    std::string create_container(const docker::ContainerSpec& spec) override {
        const std::string id = "fake" + std::to_string(++creates);
        containers[id] = {spec};
        return id;
    }
    std::unique_ptr<docker::ContainerWait> open_wait(const std::string& id,
                                                     const std::string&) override {
        return std::make_unique<Wait>(*this, id);
    }
    void start_container(const std::string& id) override {
        ++starts;
        containers.at(id).state = "running";
    }
    void kill_container(const std::string& id, const std::string&) override {
        containers.at(id) = {containers.at(id).spec, "exited", 137};
    }
    void remove_container(const std::string& id, bool) override {
        if (containers.erase(id) == 0) throw std::runtime_error("no such container " + id);
        ++removes;
    }
    docker::ContainerState inspect_container(const std::string& id) override {
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
    class Wait final : public docker::ContainerWait {
    public:
        Wait(FakeEngine& e, std::string id) : e_(e), id_(std::move(id)) {}
        std::optional<docker::WaitResult> wait_until(
            std::chrono::steady_clock::time_point) override {
            Container& c = e_.containers.at(id_);
            if (c.state == "running") c = {c.spec, "exited", e_.model(c.spec)};
            return docker::WaitResult{c.exit_code, ""};
        }

    private:
        FakeEngine& e_;
        std::string id_;
    };
};

}  // namespace mlwm::testing
