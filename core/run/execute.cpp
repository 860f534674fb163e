#include "run/execute.hpp"

#include <chrono>
#include <fstream>

#include "docker/error.hpp"
#include "docker/image_ref.hpp"
#include "docker/run.hpp"
#include "run/readiness.hpp"
#include "storage/file_store.hpp"
#include "storage/s3_store.hpp"
#include "storage/transfer.hpp"
#include "util/failpoint.hpp"
#include "util/time.hpp"

namespace mlwm::run {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kFailureNote = "FAILED";

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The end of a phase that may take `limit` (0: none), from now.
Clock::time_point phase_deadline(std::chrono::seconds limit) {
    return limit.count() > 0 ? Clock::now() + limit : Clock::time_point::max();
}

// A wall-clock deadline (kept in the ledger) as a steady-clock one.
std::chrono::steady_clock::time_point steady_deadline(std::chrono::system_clock::time_point t,
                                                      const util::Clock& wall) {
    if (t == std::chrono::system_clock::time_point::max()) return Clock::time_point::max();
    const auto left = t - wall.now();
    return Clock::now() + std::chrono::duration_cast<Clock::duration>(left);
}

bool empty_dir(const fs::path& p) {
    std::error_code ec;
    return !fs::exists(p, ec) || fs::is_empty(p, ec);
}

void remove_run_folders(const RunPlan& plan) {
    std::error_code ec;
    fs::remove_all(plan.work_dir / "input" / plan.model, ec);
    fs::remove_all(plan.work_dir / "output" / plan.model, ec);
    fs::remove_all(plan.log_dir, ec);
    // drop folders left empty, up to the analysis-time folder
    for (const fs::path& p : {plan.work_dir / "input", plan.work_dir / "output",
                              plan.work_dir / "logs", plan.work_dir, plan.work_dir.parent_path()})
        if (empty_dir(p)) fs::remove(p, ec);
}

// The nearest existing folder at or above p (where a folder will be made).
fs::path existing_ancestor(fs::path p) {
    std::error_code ec;
    while (!p.empty() && !fs::exists(p, ec) && p.has_parent_path() && p != p.parent_path())
        p = p.parent_path();
    return p;
}

}  // namespace

std::optional<std::string> space_shortfall(const fs::path& dir, std::uint64_t needed) {
    const fs::path on = existing_ancestor(dir);
    std::error_code ec;
    const fs::space_info sp = fs::space(on, ec);
    if (ec)
        return "cannot tell the free space of " + on.string() + " (for " + dir.string() +
               "): " + ec.message();
    if (sp.available >= needed) return std::nullopt;
    return "not enough space to stage the inputs in " + dir.string() + ": they need " +
           std::to_string(needed) + " bytes, " + std::to_string(sp.available) +
           " bytes are free on " + on.string();
}

std::string_view phase_name(Phase p) {
    switch (p) {
        case Phase::checking: return "checking";
        case Phase::staging: return "staging";
        case Phase::launching: return "launching";
        case Phase::running: return "running";
        case Phase::publishing: return "publishing";
    }
    return "?";
}

StoreFactory store_factory(const config::HostConfig& host, storage::S3Counters counters) {
    if (host.storage_type == "file") {
        const fs::path root = host.file_root;
        return [root](const std::string& bucket) -> std::unique_ptr<storage::ObjectStore> {
            return std::make_unique<storage::FileStore>(root / bucket);
        };
    }
    const storage::S3Config cfg =
        storage::resolve_s3_config(host.s3, storage::load_s3_environment());
    return [cfg, counters](const std::string& bucket) -> std::unique_ptr<storage::ObjectStore> {
        auto store = std::make_unique<storage::S3Store>(cfg, bucket);
        store->set_counters(counters);
        return store;
    };
}

std::map<std::string, std::string> s3_container_env(const config::HostConfig& host) {
    if (host.storage_type == "file") return {};
    const storage::S3Config cfg =
        storage::resolve_s3_config(host.s3, storage::load_s3_environment());
    std::map<std::string, std::string> env{{"AWS_REGION", cfg.region},
                                           {"AWS_DEFAULT_REGION", cfg.region},
                                           {"AWS_ACCESS_KEY_ID", cfg.credentials.access_key},
                                           {"AWS_SECRET_ACCESS_KEY", cfg.credentials.secret_key}};
    if (!cfg.endpoint.empty()) {
        env["AWS_ENDPOINT_URL"] = cfg.endpoint;
        env["AWS_ENDPOINT_URL_S3"] = cfg.endpoint;
    }
    if (!cfg.credentials.session_token.empty())
        env["AWS_SESSION_TOKEN"] = cfg.credentials.session_token;
    return env;
}

std::string_view outcome_name(Outcome o) {
    switch (o) {
        case Outcome::succeeded: return "succeeded";
        case Outcome::already_done: return "already done";
        case Outcome::inputs_missing: return "inputs missing";
        case Outcome::failed: return "failed";
        case Outcome::timed_out: return "timed out";
    }
    return "?";
}

namespace {

// One run's execution, step by step: each step returns a report when the run
// ends in it (failed, or found done), nullopt to go on.
class Execution {
public:
    Execution(const RunPlan& plan, const StoreFactory& stores, docker::Engine& docker,
              const ExecuteOptions& opts)
        : plan_(plan), stores_(stores), docker_(docker), opts_(opts) {
        rep_.run_id = plan.run_id;
        rep_.model = plan.model;
        rep_.member = plan.member;
        rep_.log_dir = plan.log_dir;
    }

    RunReport run() {
        try {
            if (auto done = published_before()) return *done;
            if (opts_.resume && !opts_.resume->container_id.empty()) {
                if (auto end = adopt()) return *end;
            } else if (opts_.resume) {
                // publish only: `publishing` was recorded after the container exited 0
                outcome_.exit_code = 0;
                at_ = Phase::publishing;
            } else {
                if (auto end = check_inputs()) return *end;
                if (auto end = stage()) return *end;
                if (auto end = launch()) return *end;
            }
            if (auto end = check_outputs()) return *end;
            return publish();
        } catch (const std::exception& e) {
            return fail(Outcome::failed, e.what());
        }
    }

private:
    using Step = std::optional<RunReport>;

    // The run's container is kept until its outcome is recorded: on success
    // until the marker is written, on failure until the caller recorded it
    // (`leave_failed_container`).
    void release_container() {
        if (container_.empty()) return;
        // gone already, or the engine failed: a leftover is removed at the next attempt
        try {
            docker_.remove_container(container_, true);
        } catch (const std::exception&) {
        }
        container_.clear();
    }

    RunReport fail(Outcome o, const std::string& why) {
        rep_.outcome = o;
        rep_.message = why;
        rep_.failed_in = at_;
        if (!opts_.leave_failed_container) release_container();
        rep_.container_id = container_;
        std::error_code ec;
        // the staged inputs go (they can be downloaded again); the logs stay
        for (const auto& in : plan_.inputs) fs::remove_all(in.local, ec);
        if (at_ == Phase::publishing) return rep_;  // the outputs wait for another try
        fs::create_directories(plan_.log_dir, ec);
        std::ofstream(plan_.log_dir / kFailureNote) << outcome_name(o) << ": " << why << "\n";
        prune_failed_runs(plan_.work_dir.parent_path().parent_path(), opts_.keep_failed_runs);
        return rep_;
    }

    void phase(Phase p, const std::string& id = {}) {
        at_ = p;
        if (opts_.before_phase) opts_.before_phase(p, id);
    }

    docker::RunOptions run_options() {
        return {.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(plan_.timeout),
                .log_dir = plan_.log_dir,
                .remove = false,
                .on_created =
                    [this](const std::string& id) {
                        container_ = id;
                        phase(Phase::running, id);
                        util::failpoint("launching");
                    },
                .on_started = [] { util::failpoint("running"); }};
    }

    // 0. done before? (the marker is written last)
    Step published_before() {
        marker_store_ = stores_(plan_.marker.bucket);
        if (opts_.force || !marker_store_->head(plan_.marker.key)) return std::nullopt;
        if (opts_.resume) container_ = opts_.resume->container_id;
        release_container();
        rep_.outcome = Outcome::already_done;
        rep_.message =
            "published before: " + plan_.marker.uri() + " exists (--force runs it again)";
        return rep_;
    }

    // 1. every input complete?
    Step check_inputs() {
        std::string missing;
        for (const auto& in : plan_.inputs) {
            const auto store = stores_(in.place.bucket);
            if (!input_complete(*store, in.place, in.completion_marker, in.quiet_period,
                                opts_.clock->now()))
                missing += (missing.empty() ? "" : ", ") + in.name + " (" +
                           completion_condition(in.place, in.completion_marker, in.quiet_period) +
                           ")";
        }
        if (missing.empty()) return std::nullopt;
        rep_.outcome = Outcome::inputs_missing;
        rep_.message = "not complete: " + missing;
        return rep_;
    }

    // 2. stage the inputs (if the work disk can hold them); empty output folders
    Step stage() {
        phase(Phase::staging);
        const auto t_down = Clock::now();
        const auto deadline = phase_deadline(plan_.staging_timeout);
        std::vector<storage::TransferPlan> downloads;
        std::uint64_t needed = 0;
        for (const auto& in : plan_.inputs) {
            std::error_code ec;
            fs::remove_all(in.local, ec);
            const auto store = stores_(in.place.bucket);
            downloads.push_back(storage::plan_download(*store, in.place.key, in.local));
            needed += downloads.back().bytes;
        }
        if (const auto short_by = space_shortfall(plan_.work_dir, needed))
            return fail(Outcome::failed, *short_by);
        for (std::size_t i = 0; i < plan_.inputs.size(); ++i) {
            const auto& in = plan_.inputs[i];
            const auto store = stores_(in.place.bucket);
            fs::create_directories(in.local);
            const auto r =
                store->download(downloads[i].items,
                                {.concurrency = opts_.transfer_concurrency, .deadline = deadline});
            rep_.bytes_in += r.bytes;
            if (!r.ok() && Clock::now() > deadline)
                return fail(Outcome::failed,
                            "staging " + in.place.uri() + " took longer than timeouts.staging (" +
                                std::to_string(plan_.staging_timeout.count()) + " s); " +
                                std::to_string(r.failures.size()) + " object(s) not staged");
            if (!r.ok())
                return fail(Outcome::failed,
                            "staging " + in.place.uri() + ": " + std::to_string(r.failures.size()) +
                                " object(s) failed, first " + r.failures.front().key + ": " +
                                r.failures.front().error);
            util::failpoint("staging");
        }
        for (const auto& out : plan_.outputs) {
            std::error_code ec;
            fs::remove_all(out.local, ec);
            fs::create_directories(out.local);
        }
        rep_.download_seconds = seconds_since(t_down);
        return std::nullopt;
    }

    // 3. the container: created, started, waited for
    Step launch() {
        phase(Phase::launching);
        const auto t_run = Clock::now();
        if (!docker_.inspect_image(plan_.container.image))
            docker_.pull_image(docker::parse_image_ref(plan_.container.image));
        for (const auto& c : docker_.list_containers({"org.mlwm.run-id=" + plan_.run_id})) {
            if (c.state == "running" || c.state == "restarting")
                return fail(Outcome::failed, "a container of this run is already running (" +
                                                 c.id.substr(0, 12) +
                                                 "); not starting a second one");
            docker_.remove_container(c.id, true);  // a leftover of a failed attempt
        }
        started_ = util::format_utc(opts_.clock->now(), true);
        docker::ContainerSpec spec = plan_.container;
        if (plan_.pass_s3_credentials)
            for (const auto& [k, v] : opts_.s3_env) spec.env[k] = v;
        outcome_ = docker::run_container(docker_, spec, run_options());
        finished_ = util::format_utc(opts_.clock->now(), true);
        return ended(t_run);
    }

    // 3'. adopt the container a stopped daemon left
    Step adopt() {
        const auto t_run = Clock::now();
        const std::string& id = opts_.resume->container_id;
        container_ = id;
        phase(Phase::running, id);
        started_ = util::format_utc(opts_.clock->now(), true);
        outcome_ = docker::adopt_container(
            docker_, id, steady_deadline(opts_.resume->deadline, *opts_.clock), run_options());
        finished_ = util::format_utc(opts_.clock->now(), true);
        return ended(t_run);
    }

    // How the container ended.
    Step ended(Clock::time_point t_run) {
        rep_.run_seconds = seconds_since(t_run);
        rep_.exit_code = outcome_.exit_code;
        if (outcome_.timed_out)
            return fail(Outcome::timed_out, "killed after its timeout of " +
                                                std::to_string(plan_.timeout.count()) +
                                                " s; logs in " + plan_.log_dir.string());
        if (!outcome_.succeeded())
            return fail(Outcome::failed, "the container ended with " + outcome_.describe() +
                                             "; logs in " + plan_.log_dir.string());
        if (!outcome_.logs_error.empty())
            rep_.notes.push_back("logs not saved: " + outcome_.logs_error);
        return std::nullopt;
    }

    Step check_outputs() {
        for (const auto& out : plan_.outputs)
            if (empty_dir(out.local))
                return fail(Outcome::failed,
                            "output " + out.name + " is empty: the model wrote nothing to " +
                                out.internal_path + "; logs in " + plan_.log_dir.string());
        return std::nullopt;
    }

    // 4. publish: every object, then the marker
    RunReport publish() {
        phase(Phase::publishing);
        const auto t_up = Clock::now();
        const auto deadline = phase_deadline(plan_.publishing_timeout);
        // another attempt published meanwhile (on a cluster: the one started
        // when this one's node was lost): its outputs are not overwritten
        if (!opts_.force && marker_store_->head(plan_.marker.key)) {
            rep_.outcome = Outcome::already_done;
            rep_.message = "another attempt published " + plan_.marker.uri() +
                           " meanwhile; this attempt's outputs were not uploaded";
            release_container();
            remove_run_folders(plan_);
            return rep_;
        }
        nlohmann::ordered_json outputs = nlohmann::ordered_json::object();
        for (const auto& out : plan_.outputs) {
            const auto store = stores_(out.place.bucket);
            const storage::TransferPlan tp = storage::plan_upload(out.local, out.place.key);
            const auto r = store->upload(
                tp.items, {.concurrency = opts_.transfer_concurrency, .deadline = deadline});
            rep_.bytes_out += r.bytes;
            if (!r.ok() && Clock::now() > deadline)
                return fail(Outcome::failed, "publishing " + out.place.uri() +
                                                 " took longer than timeouts.publishing (" +
                                                 std::to_string(plan_.publishing_timeout.count()) +
                                                 " s); the run marker is not written");
            if (!r.ok())
                return fail(Outcome::failed,
                            "publishing " + out.place.uri() + ": " +
                                std::to_string(r.failures.size()) + " object(s) failed, first " +
                                r.failures.front().key + ": " + r.failures.front().error);
            outputs[out.name] = {
                {"location", out.place.uri()}, {"objects", r.objects}, {"bytes", r.bytes}};
        }
        nlohmann::ordered_json marker{{"run_id", plan_.run_id},
                                      {"model", plan_.model},
                                      {"member", plan_.member},
                                      {"analysis_time", paths::format_iso8601(plan_.analysis_time)},
                                      {"image", plan_.container.image},
                                      {"image_id", outcome_.image_id},
                                      {"started", started_},
                                      {"finished", finished_},
                                      {"exit_code", outcome_.exit_code},
                                      {"mlwm_version", opts_.mlwm_version},
                                      {"outputs", outputs}};
        if (!opts_.job.empty()) marker["job"] = opts_.job;
        util::failpoint("publishing");
        const auto put = marker_store_->put_string(
            plan_.marker.key, marker.dump(2) + "\n",
            {.if_none_match = !opts_.force, .content_type = "application/json"});
        rep_.upload_seconds = seconds_since(t_up);
        if (put == storage::PutOutcome::already_exists) {
            rep_.outcome = Outcome::already_done;
            rep_.message = "another run published " + plan_.marker.uri() + " meanwhile";
        } else {
            rep_.outcome = Outcome::succeeded;
            rep_.message = "published " + std::to_string(plan_.outputs.size()) +
                           " output(s); marker " + plan_.marker.uri();
            for (const auto& n : rep_.notes) rep_.message += "; " + n;
        }
        release_container();  // the marker records the run now
        remove_run_folders(plan_);
        return rep_;
    }

    const RunPlan& plan_;
    const StoreFactory& stores_;
    docker::Engine& docker_;
    const ExecuteOptions& opts_;
    RunReport rep_;
    std::string container_;
    Phase at_ = Phase::checking;  // the phase the run is in (the one a failure happened in)
    std::unique_ptr<storage::ObjectStore> marker_store_;
    docker::RunOutcome outcome_;
    std::string started_, finished_;
};

}  // namespace

RunReport execute_run(const RunPlan& plan, const StoreFactory& stores, docker::Engine& docker,
                      const ExecuteOptions& opts) {
    return Execution(plan, stores, docker, opts).run();
}

void prune_failed_runs(const fs::path& work_root, int keep) {
    std::vector<std::pair<fs::file_time_type, fs::path>>
        failed;  // logs/<model> folders with a failure note
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(work_root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it.depth() > 4) {
            it.disable_recursion_pending();
            continue;
        }
        if (it->path().filename() == kFailureNote)
            failed.emplace_back(fs::last_write_time(it->path(), ec), it->path().parent_path());
    }
    if (static_cast<int>(failed.size()) <= keep) return;
    std::sort(failed.begin(), failed.end());
    for (std::size_t i = 0; i + static_cast<std::size_t>(keep) < failed.size(); ++i) {
        const fs::path logs = failed[i].second;  // <time>/member<N>/logs/<model>
        const fs::path work = logs.parent_path().parent_path();
        const std::string model = logs.filename().string();
        fs::remove_all(work / "input" / model, ec);
        fs::remove_all(work / "output" / model, ec);
        fs::remove_all(logs, ec);
    }
}

}  // namespace mlwm::run
