// The log event catalogue: every `event` mlwm logs, with a stable id.
// Documented, with what an operator should do, in docs/log-events.md.
#pragma once

namespace mlwm::telemetry::events {

inline constexpr const char* kDaemonStarting = "daemon.starting";
inline constexpr const char* kDaemonReady = "daemon.ready";
inline constexpr const char* kDaemonStopping = "daemon.stopping";
inline constexpr const char* kDaemonStopped = "daemon.stopped";
inline constexpr const char* kDaemonError = "daemon.error";
inline constexpr const char* kConfigReloaded = "config.reloaded";
inline constexpr const char* kConfigReloadFailed = "config.reload_failed";
inline constexpr const char* kConfigRestartNeeded = "config.restart_needed";
inline constexpr const char* kLedgerRecovered = "ledger.recovered";
inline constexpr const char* kHttpListening = "http.listening";
inline constexpr const char* kPollFailed = "poll.failed";
inline constexpr const char* kPollRecovered = "poll.recovered";
inline constexpr const char* kNewAnalysisTime = "discovery.new_analysis_time";
inline constexpr const char* kForeignEntry = "discovery.foreign_entry";
inline constexpr const char* kRunState = "run.state";
inline constexpr const char* kRunSucceeded = "run.succeeded";
inline constexpr const char* kRunFailed = "run.failed";
inline constexpr const char* kRunRetry = "run.retry_scheduled";
inline constexpr const char* kRunAlreadyDone = "run.already_done";
inline constexpr const char* kRunExpired = "run.expired";
inline constexpr const char* kRunInterrupted = "run.interrupted";
inline constexpr const char* kRunAdopted = "run.adopted";
inline constexpr const char* kContainerStrayRemoved = "container.stray_removed";
inline constexpr const char* kRunCancelled = "run.cancelled";
inline constexpr const char* kRunUnrunnable = "run.unrunnable";
inline constexpr const char* kLedgerRecoveryDeferred = "ledger.recovery_deferred";
inline constexpr const char* kLateArrival = "late.arrival";
inline constexpr const char* kLateCompletion = "late.completion";
inline constexpr const char* kRunnerImage = "runner.image";

// Every event above (the catalogue's test checks docs/log-events.md against it).
inline constexpr const char* kAll[] = {kDaemonStarting,
                                       kDaemonReady,
                                       kDaemonStopping,
                                       kDaemonStopped,
                                       kDaemonError,
                                       kConfigReloaded,
                                       kConfigReloadFailed,
                                       kConfigRestartNeeded,
                                       kLedgerRecovered,
                                       kHttpListening,
                                       kPollFailed,
                                       kPollRecovered,
                                       kNewAnalysisTime,
                                       kForeignEntry,
                                       kRunState,
                                       kRunSucceeded,
                                       kRunFailed,
                                       kRunRetry,
                                       kRunAlreadyDone,
                                       kRunExpired,
                                       kRunInterrupted,
                                       kRunAdopted,
                                       kContainerStrayRemoved,
                                       kRunCancelled,
                                       kRunUnrunnable,
                                       kLedgerRecoveryDeferred,
                                       kLateArrival,
                                       kLateCompletion,
                                       kRunnerImage};

}  // namespace mlwm::telemetry::events
