#include "telemetry/metrics.hpp"

#include <prometheus/text_serializer.h>

namespace mlwm::telemetry {
namespace {
using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
}  // namespace

Metrics::Metrics(const std::string& version, const std::string& revision)
    : registry_(std::make_shared<prometheus::Registry>()),
      runs(BuildCounter()
               .Name("mlwm_runs_total")
               .Help("Runs that ended, by model and outcome")
               .Register(*registry_)),
      phase_duration(
          BuildHistogram()
              .Name("mlwm_run_phase_duration_seconds")
              .Help("Duration of run phases (staging, running, publishing), by model and phase")
              .Register(*registry_)),
      in_progress(BuildGauge()
                      .Name("mlwm_runs_in_progress")
                      .Help("Runs in progress, by model and phase")
                      .Register(*registry_)),
      last_success(BuildGauge()
                       .Name("mlwm_last_success_timestamp_seconds")
                       .Help("Unix time of the last succeeded run, by model")
                       .Register(*registry_)),
      newest_completed(BuildGauge()
                           .Name("mlwm_newest_completed_analysis_time_seconds")
                           .Help("Newest analysis time (unix seconds) published, by model")
                           .Register(*registry_)),
      detection_latency(
          BuildHistogram()
              .Name("mlwm_input_detection_latency_seconds")
              .Help("From the analysis time to the inputs being found complete, by model")
              .Register(*registry_)),
      late_runs(BuildCounter()
                    .Name("mlwm_late_runs_total")
                    .Help("Runs past their arrival or completion deadline, by model and kind")
                    .Register(*registry_)),
      s3_requests(BuildCounter()
                      .Name("mlwm_s3_requests_total")
                      .Help("S3 requests, by operation and HTTP status (0: no answer)")
                      .Register(*registry_)),
      s3_bytes(BuildCounter()
                   .Name("mlwm_s3_bytes_total")
                   .Help("Bytes moved to and from S3, by direction")
                   .Register(*registry_)),
      docker_requests(BuildCounter()
                          .Name("mlwm_docker_requests_total")
                          .Help("Docker Engine API requests, by operation and status")
                          .Register(*registry_)),
      polls(BuildCounter()
                .Name("mlwm_polls_total")
                .Help("Polls of the input prefixes, by outcome")
                .Register(*registry_)),
      poll_errors(BuildCounter()
                      .Name("mlwm_poll_errors_total")
                      .Help("Listings of an input prefix that failed")
                      .Register(*registry_)),
      last_poll(BuildGauge()
                    .Name("mlwm_last_successful_poll_timestamp_seconds")
                    .Help("Unix time of the last poll in which every listing succeeded")
                    .Register(*registry_)),
      foreign_entries(
          BuildCounter()
              .Name("mlwm_discovery_foreign_entries_total")
              .Help(
                  "Distinct entries under an input prefix that are not an analysis time, by bucket")
              .Register(*registry_)) {
    BuildGauge()
        .Name("mlwm_build_info")
        .Help("The running mlwm: version and git revision")
        .Register(*registry_)
        .Add({{"version", version}, {"revision", revision}})
        .Set(1);
    poll_errors.Add({});
    last_poll.Add({});
    for (const char* outcome : {"ok", "error"}) polls.Add({{"outcome", outcome}});
}

void Metrics::add_model(const std::string& model) {
    for (const char* outcome : kRunOutcomes) runs.Add({{"model", model}, {"outcome", outcome}});
    for (const char* kind : kLateKinds) late_runs.Add({{"model", model}, {"kind", kind}});
}

std::string Metrics::serialize() const {
    return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace mlwm::telemetry
