#include "telemetry/log.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/formatter.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "util/time.hpp"

namespace mlwm::telemetry {
namespace {

spdlog::level::level_enum spdlog_level(Level l) {
    switch (l) {
        case Level::debug: return spdlog::level::debug;
        case Level::info: return spdlog::level::info;
        case Level::warning: return spdlog::level::warn;
        case Level::error: return spdlog::level::err;
    }
    return spdlog::level::info;
}

std::string_view level_name(spdlog::level::level_enum l) {
    switch (l) {
        case spdlog::level::trace:
        case spdlog::level::debug: return "debug";
        case spdlog::level::warn: return "warning";
        case spdlog::level::err:
        case spdlog::level::critical: return "error";
        default: return "info";
    }
}

int syslog_priority(spdlog::level::level_enum l) {
    switch (l) {
        case spdlog::level::trace:
        case spdlog::level::debug: return 7;
        case spdlog::level::warn: return 4;
        case spdlog::level::err: return 3;
        case spdlog::level::critical: return 2;
        default: return 6;
    }
}

void append(spdlog::memory_buf_t& dest, std::string_view s) {
    dest.append(s.data(), s.data() + s.size());
}

// The event's time (UTC, milliseconds) and what the Logger handed spdlog.
std::string timestamp(const spdlog::details::log_msg& m) {
    return util::format_utc(
        std::chrono::time_point_cast<std::chrono::system_clock::duration>(m.time), true);
}
std::string_view payload_of(const spdlog::details::log_msg& m) {
    return {m.payload.data(), m.payload.size()};
}

// {"ts":..., "level":..., then the payload's members ({"event":...}).
class JsonFormatter final : public spdlog::formatter {
public:
    void format(const spdlog::details::log_msg& m, spdlog::memory_buf_t& dest) override {
        append(dest, "{\"ts\":\"");
        append(dest, timestamp(m));
        append(dest, "\",\"level\":\"");
        append(dest, level_name(m.level));
        append(dest, "\",");
        append(dest, payload_of(m).substr(1));  // the payload's '{' is ours
        append(dest, "\n");
    }
    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<JsonFormatter>();
    }
};

// ts level event: msg [run_id] k=v
class TextFormatter final : public spdlog::formatter {
public:
    void format(const spdlog::details::log_msg& m, spdlog::memory_buf_t& dest) override {
        append(dest, timestamp(m));
        append(dest, " ");
        append(dest, level_name(m.level));
        append(dest, " ");
        append(dest, payload_of(m));
        append(dest, "\n");
    }
    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<TextFormatter>();
    }
};

// The journal fields of the event being logged. spdlog's logger is
// synchronous: its sink runs on the thread that logs, inside Logger::log.
struct JournalFields {
    std::string_view event;
    const LogContext* ctx = nullptr;
};
thread_local JournalFields current;

// One journal entry per event: MESSAGE (the formatted line), PRIORITY, and
// MLWM_* fields where there is a value (journalctl MLWM_RUN_ID=...).
class JournaldSink final : public spdlog::sinks::base_sink<std::mutex> {
protected:
    void sink_it_(const spdlog::details::log_msg& m) override {
        spdlog::memory_buf_t line;
        formatter_->format(m, line);
        std::size_t n = line.size();
        if (n > 0 && line[n - 1] == '\n') --n;
        std::vector<std::string> f{"MESSAGE=" + std::string(line.data(), n),
                                   "PRIORITY=" + std::to_string(syslog_priority(m.level)),
                                   "MLWM_EVENT=" + std::string(current.event),
                                   "SYSLOG_IDENTIFIER=mlwm"};
        if (current.ctx)
            for (const auto& [name, value] :
                 {std::pair{"MLWM_RUN_ID=", &current.ctx->run_id},
                  std::pair{"MLWM_MODEL=", &current.ctx->model},
                  std::pair{"MLWM_ANALYSIS_TIME=", &current.ctx->analysis_time}})
                if (!value->empty()) f.push_back(name + *value);
        std::vector<iovec> iov;
        for (auto& x : f) iov.push_back({x.data(), x.size()});
        sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
    }
    void flush_() override {}
};

// What follows ts and level: the JSON object's other members, or the text.
std::string payload(Logger::Format format, std::string_view event, const std::string& msg,
                    const LogContext& ctx, const std::map<std::string, std::string>& fields) {
    if (format == Logger::Format::text) {
        std::string line = std::string(event) + ": " + msg;
        if (!ctx.run_id.empty()) line += " [" + ctx.run_id + "]";
        for (const auto& [k, v] : fields) line += " " + k + "=" + v;
        return line;
    }
    nlohmann::ordered_json j;
    j["event"] = event;
    j["msg"] = msg;
    if (!ctx.run_id.empty()) j["run_id"] = ctx.run_id;
    if (!ctx.model.empty()) j["model"] = ctx.model;
    if (!ctx.analysis_time.empty()) j["analysis_time"] = ctx.analysis_time;
    for (const auto& [k, v] : fields) j[k] = v;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
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

Logger::Logger(Format format, bool journald)
    : Logger(format, journald
                         ? std::shared_ptr<spdlog::sinks::sink>(std::make_shared<JournaldSink>())
                         : std::make_shared<spdlog::sinks::stdout_sink_mt>()) {}

Logger::Logger(Format format, std::shared_ptr<spdlog::sinks::sink> sink)
    : format_(format), logger_(std::make_shared<spdlog::logger>("mlwm", std::move(sink))) {
    if (format == Format::json)
        logger_->set_formatter(std::make_unique<JsonFormatter>());
    else
        logger_->set_formatter(std::make_unique<TextFormatter>());
    logger_->set_level(spdlog::level::debug);
    logger_->flush_on(spdlog::level::debug);  // operators tail the log: every line at once
}

Logger::~Logger() = default;

void Logger::log(Level level, std::string_view event, const std::string& msg, const LogContext& ctx,
                 const std::map<std::string, std::string>& fields) {
    const std::string p = payload(format_, event, msg, ctx, fields);
    current = {event, &ctx};
    logger_->log(spdlog_level(level), std::string_view(p));
    current = {};
}

}  // namespace mlwm::telemetry
