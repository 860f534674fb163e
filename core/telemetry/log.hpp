// Structured logs: one JSON object per line on stdout (ts, level, event, msg,
// and run_id, model, analysis_time where there is one), or a text line for
// people. `event` is a stable id from the catalogue in log_events.hpp
// (documented in docs/log-events.md). Under systemd (JOURNAL_STREAM set) the
// journal also gets MLWM_EVENT, MLWM_RUN_ID, MLWM_MODEL fields.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace mlwm::telemetry {

enum class Level { debug, info, warning, error };

struct LogContext {
    std::string run_id, model, analysis_time;
};

class Logger {
public:
    enum class Format { json, text };
    explicit Logger(Format format = Format::json, bool journald = false);
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
    void set_format(Format f) { format_ = f; }

    // The line as it is written (without the newline); exposed for tests.
    std::string format_line(Level level, std::string_view event, const std::string& msg,
                            const LogContext& ctx, const std::map<std::string, std::string>& fields,
                            const std::string& ts) const;

private:
    Format format_;
    bool journald_;
    std::mutex mutex_;
};

// True when stdout is connected to the journal (systemd sets JOURNAL_STREAM).
bool stdout_is_journal();

}  // namespace mlwm::telemetry
