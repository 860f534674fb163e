// Structured logs through spdlog: one JSON object per line on stdout (ts,
// level, event, msg, and run_id, model, analysis_time where there is one), or
// a text line for people. `event` is a stable id from the catalogue in
// log_events.hpp (documented in docs/log-events.md). Under systemd (its
// stdout on the journal) each event is a journal entry with PRIORITY and the
// fields MLWM_EVENT, MLWM_RUN_ID, MLWM_MODEL, MLWM_ANALYSIS_TIME.
//
// spdlog does the writing: the Logger hands it the event's payload (the JSON
// object's members after ts and level, or the text line's tail); spdlog's
// formatter (JsonFormatter, TextFormatter) puts ts and level in front from
// its own clock and level, and the sink writes the line to stdout or to the
// journal.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/fwd.h>

namespace mlwm::telemetry {

enum class Level { debug, info, warning, error };

struct LogContext {
    std::string run_id, model, analysis_time;
};

class Logger {
public:
    enum class Format { json, text };
    // Writes to stdout, or to the journal when `journald`.
    explicit Logger(Format format = Format::json, bool journald = false);
    // Writes to `sink` (tests).
    Logger(Format format, std::shared_ptr<spdlog::sinks::sink> sink);
    ~Logger();
    Logger(const Logger&) = delete;
    Logger& operator=(const Logger&) = delete;

    // `fields` are extra key/value pairs (strings) for the JSON object.
    void log(Level level, std::string_view event, const std::string& msg,
             const LogContext& ctx = {}, const std::map<std::string, std::string>& fields = {});
    void info(std::string_view event, const std::string& msg, const LogContext& ctx = {}) {
        log(Level::info, event, msg, ctx);
    }
    void warn(std::string_view event, const std::string& msg, const LogContext& ctx = {}) {
        log(Level::warning, event, msg, ctx);
    }
    void error(std::string_view event, const std::string& msg, const LogContext& ctx = {}) {
        log(Level::error, event, msg, ctx);
    }

private:
    Format format_;
    std::shared_ptr<spdlog::logger> logger_;
};

// True when stdout is connected to the journal (systemd sets JOURNAL_STREAM).
bool stdout_is_journal();

}  // namespace mlwm::telemetry
