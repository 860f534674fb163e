#include "telemetry/log.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "util/time.hpp"

namespace mlwm::telemetry {
namespace {

std::string_view level_name(Level l) {
    switch (l) {
        case Level::debug: return "debug";
        case Level::info: return "info";
        case Level::warning: return "warning";
        case Level::error: return "error";
    }
    return "info";
}

int syslog_priority(Level l) {
    switch (l) {
        case Level::debug: return 7;
        case Level::info: return 6;
        case Level::warning: return 4;
        case Level::error: return 3;
    }
    return 6;
}

}  // namespace

bool stdout_is_journal() {
    const char* js = std::getenv("JOURNAL_STREAM");
    if (!js) return false;
    struct stat st {};
    if (fstat(1, &st) != 0) return false;
    unsigned long long dev = 0, ino = 0;
    if (std::sscanf(js, "%llu:%llu", &dev, &ino) != 2) return false;
    return static_cast<unsigned long long>(st.st_dev) == dev &&
           static_cast<unsigned long long>(st.st_ino) == ino;
}

Logger::Logger(Format format, bool journald) : format_(format), journald_(journald) {}

std::string Logger::format_line(Level level, std::string_view event, const std::string& msg,
                                const LogContext& ctx,
                                const std::map<std::string, std::string>& fields,
                                const std::string& ts) const {
    if (format_ == Format::text) {
        std::string line =
            ts + " " + std::string(level_name(level)) + " " + std::string(event) + ": " + msg;
        if (!ctx.run_id.empty()) line += " [" + ctx.run_id + "]";
        for (const auto& [k, v] : fields) line += " " + k + "=" + v;
        return line;
    }
    nlohmann::ordered_json j;
    j["ts"] = ts;
    j["level"] = level_name(level);
    j["event"] = event;
    j["msg"] = msg;
    if (!ctx.run_id.empty()) j["run_id"] = ctx.run_id;
    if (!ctx.model.empty()) j["model"] = ctx.model;
    if (!ctx.analysis_time.empty()) j["analysis_time"] = ctx.analysis_time;
    for (const auto& [k, v] : fields) j[k] = v;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void Logger::log(Level level, std::string_view event, const std::string& msg, const LogContext& ctx,
                 const std::map<std::string, std::string>& fields) {
    const std::string line = format_line(level, event, msg, ctx, fields, util::utc_now(true));
    std::lock_guard lock(mutex_);
    if (journald_) {
        // structured fields for journalctl MLWM_RUN_ID=... (the stdout line is not
        // duplicated); context fields only where there is a value
        std::vector<std::string> f{"MESSAGE=" + line,
                                   "PRIORITY=" + std::to_string(syslog_priority(level)),
                                   "MLWM_EVENT=" + std::string(event), "SYSLOG_IDENTIFIER=mlwm"};
        for (const auto& [name, value] :
             {std::pair{"MLWM_RUN_ID=", &ctx.run_id}, std::pair{"MLWM_MODEL=", &ctx.model},
              std::pair{"MLWM_ANALYSIS_TIME=", &ctx.analysis_time}})
            if (!value->empty()) f.push_back(name + *value);
        std::vector<iovec> iov;
        for (auto& x : f) iov.push_back({x.data(), x.size()});
        sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
        return;
    }
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

}  // namespace mlwm::telemetry
