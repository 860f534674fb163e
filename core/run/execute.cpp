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

RunReport execute_run(const RunPlan& plan, const StoreFactory& stores, docker::Engine& docker,
                      const ExecuteOptions& opts) {
    RunReport rep;
    rep.run_id = plan.run_id;
    rep.model = plan.model;
    rep.member = plan.member;
    rep.log_dir = plan.log_dir;
    // The run's container, kept until its outcome is recorded: on success
    // until the marker is written, on failure until the caller recorded it
    // (`leave_failed_container`).
    std::string container;
    auto release_container = [&] {
        if (container.empty()) return;
        // gone already, or the engine failed: a leftover is removed at the next attempt
        try {
            docker.remove_container(container, true);
        } catch (const std::exception&) {
        }
        container.clear();
    };
    // the phase the run is in (the one a failure happened in)
    Phase at = Phase::checking;
    auto fail = [&](Outcome o, const std::string& why) {
        rep.outcome = o;
        rep.message = why;
        rep.failed_in = at;
        if (!opts.leave_failed_container) release_container();
        rep.container_id = container;
        std::error_code ec;
        // the staged inputs go (they can be downloaded again); the logs stay
        for (const auto& in : plan.inputs) fs::remove_all(in.local, ec);
        if (at == Phase::publishing) return rep;  // the outputs wait for another try
        fs::create_directories(plan.log_dir, ec);
        std::ofstream(plan.log_dir / kFailureNote) << outcome_name(o) << ": " << why << "\n";
        prune_failed_runs(plan.work_dir.parent_path().parent_path(), opts.keep_failed_runs);
        return rep;
    };
    try {
        // 0. done before? (the marker is written last)
        auto marker_store = stores(plan.marker.bucket);
        if (!opts.force && marker_store->head(plan.marker.key)) {
            if (opts.resume) container = opts.resume->container_id;
            release_container();
            rep.outcome = Outcome::already_done;
            rep.message =
                "published before: " + plan.marker.uri() + " exists (--force runs it again)";
            return rep;
        }
        auto phase = [&](Phase p, const std::string& id = {}) {
            at = p;
            if (opts.before_phase) opts.before_phase(p, id);
        };
        auto t_run = Clock::now();
        docker::RunOutcome o;
        std::string started, finished;
        const docker::RunOptions run_opts{
            .timeout = std::chrono::duration_cast<std::chrono::milliseconds>(plan.timeout),
            .log_dir = plan.log_dir,
            .remove = false,
            .on_created =
                [&](const std::string& id) {
                    container = id;
                    phase(Phase::running, id);
                    util::failpoint("launching");
                },
            .on_started = [] { util::failpoint("running"); }};
        if (opts.resume && !opts.resume->container_id.empty()) {
            // 3'. adopt the container a stopped daemon left
            const std::string& id = opts.resume->container_id;
            container = id;
            phase(Phase::running, id);
            started = util::format_utc(opts.clock->now(), true);
            o = docker::adopt_container(
                docker, id, steady_deadline(opts.resume->deadline, *opts.clock), run_opts);
            finished = util::format_utc(opts.clock->now(), true);
        } else if (opts.resume) {
            // publish only: `publishing` was recorded after the container exited 0
            o.exit_code = 0;
            at = Phase::publishing;
        } else {
            // 1. every input complete?
            std::vector<std::string> missing;
            for (const auto& in : plan.inputs) {
                const auto store = stores(in.place.bucket);
                if (!input_complete(*store, in.place, in.completion_marker, in.quiet_period,
                                    opts.clock->now()))
                    missing.push_back(
                        in.name + " (" +
                        completion_condition(in.place, in.completion_marker, in.quiet_period) +
                        ")");
            }
            if (!missing.empty()) {
                std::string list;
                for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
                rep.outcome = Outcome::inputs_missing;
                rep.message = "not complete: " + list;
                return rep;
            }
            // 2. stage the inputs (if the work disk can hold them); empty output folders
            phase(Phase::staging);
            const auto t_down = Clock::now();
            const auto staging_deadline = phase_deadline(plan.staging_timeout);
            std::vector<storage::TransferPlan> downloads;
            std::uint64_t needed = 0;
            for (const auto& in : plan.inputs) {
                std::error_code ec;
                fs::remove_all(in.local, ec);
                const auto store = stores(in.place.bucket);
                downloads.push_back(storage::plan_download(*store, in.place.key, in.local));
                needed += downloads.back().bytes;
            }
            if (const auto short_by = space_shortfall(plan.work_dir, needed))
                return fail(Outcome::failed, *short_by);
            for (std::size_t i = 0; i < plan.inputs.size(); ++i) {
                const auto& in = plan.inputs[i];
                const auto store = stores(in.place.bucket);
                const storage::TransferPlan& tp = downloads[i];
                fs::create_directories(in.local);
                const auto r = store->download(tp.items, {.concurrency = opts.transfer_concurrency,
                                                          .deadline = staging_deadline});
                rep.bytes_in += r.bytes;
                if (!r.ok() && Clock::now() > staging_deadline)
                    return fail(Outcome::failed, "staging " + in.place.uri() +
                                                     " took longer than timeouts.staging (" +
                                                     std::to_string(plan.staging_timeout.count()) +
                                                     " s); " + std::to_string(r.failures.size()) +
                                                     " object(s) not staged");
                if (!r.ok())
                    return fail(Outcome::failed, "staging " + in.place.uri() + ": " +
                                                     std::to_string(r.failures.size()) +
                                                     " object(s) failed, first " +
                                                     r.failures.front().key + ": " +
                                                     r.failures.front().error);
                util::failpoint("staging");
            }
            for (const auto& out : plan.outputs) {
                std::error_code ec;
                fs::remove_all(out.local, ec);
                fs::create_directories(out.local);
            }
            rep.download_seconds = seconds_since(t_down);

            // 3. the container
            phase(Phase::launching);
            t_run = Clock::now();
            if (!docker.inspect_image(plan.container.image))
                docker.pull_image(docker::parse_image_ref(plan.container.image));
            for (const auto& c : docker.list_containers({"org.mlwm.run-id=" + plan.run_id})) {
                if (c.state == "running" || c.state == "restarting")
                    return fail(Outcome::failed, "a container of this run is already running (" +
                                                     c.id.substr(0, 12) +
                                                     "); not starting a second one");
                docker.remove_container(c.id, true);  // a leftover of a failed attempt
            }
            started = util::format_utc(opts.clock->now(), true);
            o = docker::run_container(docker, plan.container, run_opts);
            finished = util::format_utc(opts.clock->now(), true);
        }
        if (!opts.resume || !opts.resume->publish_only) {
            rep.run_seconds = seconds_since(t_run);
            rep.exit_code = o.exit_code;
            if (o.timed_out)
                return fail(Outcome::timed_out, "killed after its timeout of " +
                                                    std::to_string(plan.timeout.count()) +
                                                    " s; logs in " + plan.log_dir.string());
            if (!o.succeeded())
                return fail(Outcome::failed, "the container ended with " + o.describe() +
                                                 "; logs in " + plan.log_dir.string());
        }
        for (const auto& out : plan.outputs)
            if (empty_dir(out.local))
                return fail(Outcome::failed,
                            "output " + out.name + " is empty: the model wrote nothing to " +
                                out.internal_path + "; logs in " + plan.log_dir.string());

        if (!o.logs_error.empty()) rep.notes.push_back("logs not saved: " + o.logs_error);

        // 4. publish: every object, then the marker
        phase(Phase::publishing);
        const auto t_up = Clock::now();
        const auto publishing_deadline = phase_deadline(plan.publishing_timeout);
        nlohmann::ordered_json outputs = nlohmann::ordered_json::object();
        for (const auto& out : plan.outputs) {
            const auto store = stores(out.place.bucket);
            const storage::TransferPlan tp = storage::plan_upload(out.local, out.place.key);
            const auto r = store->upload(tp.items, {.concurrency = opts.transfer_concurrency,
                                                    .deadline = publishing_deadline});
            rep.bytes_out += r.bytes;
            if (!r.ok() && Clock::now() > publishing_deadline)
                return fail(Outcome::failed, "publishing " + out.place.uri() +
                                                 " took longer than timeouts.publishing (" +
                                                 std::to_string(plan.publishing_timeout.count()) +
                                                 " s); the run marker is not written");
            if (!r.ok())
                return fail(Outcome::failed,
                            "publishing " + out.place.uri() + ": " +
                                std::to_string(r.failures.size()) + " object(s) failed, first " +
                                r.failures.front().key + ": " + r.failures.front().error);
            outputs[out.name] = {
                {"location", out.place.uri()}, {"objects", r.objects}, {"bytes", r.bytes}};
        }
        nlohmann::ordered_json marker{{"run_id", plan.run_id},
                                      {"model", plan.model},
                                      {"member", plan.member},
                                      {"analysis_time", paths::format_iso8601(plan.analysis_time)},
                                      {"image", plan.container.image},
                                      {"image_id", o.image_id},
                                      {"started", started},
                                      {"finished", finished},
                                      {"exit_code", o.exit_code},
                                      {"mlwm_version", opts.mlwm_version},
                                      {"outputs", outputs}};
        util::failpoint("publishing");
        const auto put = marker_store->put_string(
            plan.marker.key, marker.dump(2) + "\n",
            {.if_none_match = !opts.force, .content_type = "application/json"});
        rep.upload_seconds = seconds_since(t_up);
        if (put == storage::PutOutcome::already_exists) {
            rep.outcome = Outcome::already_done;
            rep.message = "another run published " + plan.marker.uri() + " meanwhile";
        } else {
            rep.outcome = Outcome::succeeded;
            rep.message = "published " + std::to_string(plan.outputs.size()) +
                          " output(s); marker " + plan.marker.uri();
            for (const auto& n : rep.notes) rep.message += "; " + n;
        }
        release_container();  // the marker records the run now
        remove_run_folders(plan);
        return rep;
    } catch (const std::exception& e) {
        return fail(Outcome::failed, e.what());
    }
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
