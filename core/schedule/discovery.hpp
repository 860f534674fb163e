// Discovery of analysis times (issue: the daemon): what to list and how to
// read the answer. Pure. A poll lists the part of an input's key before the
// analysis time with delimiter "/" and start-after past the newest time seen,
// so it costs O(new analysis times), never a listing of chunk objects.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/model_config.hpp"

namespace mlwm::schedule {

struct WatchPrefix {
    std::string bucket;
    std::string prefix;  // ends with '/', the analysis-time segment follows
    // how that segment is written: "{analysis_time}" (the layout's
    // YYYY-MM-DDThhmmZ) or e.g. "{analysis_time:%Y-%m-%dT%H%M%SZ}"
    std::string segment = "{analysis_time}";
    friend auto operator<=>(const WatchPrefix&, const WatchPrefix&) = default;
};

// The listing prefix of an input; nullopt for a uri template whose analysis
// time is not in a path segment of its own (or comes after a {member}).
std::optional<WatchPrefix> watch_prefix(const config::Dataset& input);
// The prefix whose listing announces a model's analysis times: its first
// input's (nullopt without inputs, or if that input has none).
std::optional<WatchPrefix> discovery_prefix(const config::ModelConfig& m);

// Reads a listed segment written with `segment` (see WatchPrefix); nullopt if
// it does not match. Conversions: %Y %y %m %d %H %M %S (must be 00) %%.
std::optional<paths::AnalysisTime> parse_segment(const std::string& text,
                                                 const std::string& segment);

struct PrefixScan {
    std::vector<paths::AnalysisTime> times;  // valid analysis-time folders, in order
    std::vector<std::string> foreign;        // entries that are not an analysis time
};
// Reads the CommonPrefixes of a delimiter listing of `prefix`.
PrefixScan scan_common_prefixes(const WatchPrefix& w,
                                const std::vector<std::string>& common_prefixes);

// start-after for the next poll: past every key of the newest time's folder
// ("<prefix><segment>0" sorts after "<prefix><segment>/..." and before the
// folder of any later time, for any segment format whose fields are zero-padded
// and ordered from year to minute).
std::string start_after(const WatchPrefix& w, const paths::AnalysisTime& newest);

}  // namespace mlwm::schedule
