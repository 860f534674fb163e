#include "schedule/deadlines.hpp"

#include <algorithm>

namespace mlwm::schedule {
namespace {

// The deadlines that still apply to a run, whatever `now` is.
std::vector<Deadline> pending(const DeadlineRun& r) {
    std::vector<Deadline> out;
    if (is_final(r.state)) return out;  // published, expired or cancelled: nothing to watch
    if (r.arrival.count() > 0 && !r.inputs_arrived &&
        !(r.raised & static_cast<int>(LateKind::arrival)))
        out.push_back({r.run_id, r.model, LateKind::arrival, r.analysis_time + r.arrival.count()});
    if (r.completion.count() > 0 && !(r.raised & static_cast<int>(LateKind::completion)))
        out.push_back(
            {r.run_id, r.model, LateKind::completion, r.analysis_time + r.completion.count()});
    return out;
}

}  // namespace

std::string_view late_kind_name(LateKind k) {
    return k == LateKind::arrival ? "arrival" : "completion";
}

std::vector<Deadline> due_alerts(const std::vector<DeadlineRun>& runs, std::int64_t now) {
    std::vector<Deadline> out;
    for (const auto& r : runs)
        for (auto& d : pending(r))
            if (d.at <= now) out.push_back(std::move(d));
    return out;
}

std::vector<std::int64_t> overdue_cycles(std::chrono::seconds cycle, std::chrono::seconds arrival,
                                         std::chrono::seconds lookback, std::int64_t now) {
    std::vector<std::int64_t> out;
    const std::int64_t c = cycle.count();
    if (c <= 0 || arrival.count() <= 0) return out;
    const std::int64_t latest = now - arrival.count();   // the newest cycle already late
    const std::int64_t oldest = now - lookback.count();  // exclusive
    std::int64_t t = latest - ((latest % c) + c) % c;    // floor to a multiple of the cycle
    for (; t > oldest; t -= c) out.push_back(t);
    std::reverse(out.begin(), out.end());
    return out;
}

std::vector<Deadline> upcoming_deadlines(const std::vector<DeadlineRun>& runs, std::int64_t now) {
    std::vector<Deadline> out;
    for (const auto& r : runs)
        for (auto& d : pending(r))
            if (d.at > now) out.push_back(std::move(d));
    std::sort(out.begin(), out.end(),
              [](const Deadline& a, const Deadline& b) { return a.at < b.at; });
    return out;
}

}  // namespace mlwm::schedule
