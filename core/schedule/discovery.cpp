#include "schedule/discovery.hpp"

#include <algorithm>

#include "paths/error.hpp"

namespace mlwm::schedule {

std::optional<WatchPrefix> watch_prefix(const config::Dataset& input) {
    const auto probe = paths::AnalysisTime::from_fields(2000, 1, 1, 0, 0);
    if (input.uri_args) {
        const config::S3Place p = config::locate(input, probe, 0);
        const std::string time = paths::format_analysis_time(probe);
        const auto pos = p.key.find("/" + time + "/");
        return WatchPrefix{p.bucket, p.key.substr(0, pos + 1), "{analysis_time}"};
    }
    const std::string& t = input.uri_template;
    const auto ph = t.find("{analysis_time");
    if (ph == std::string::npos || !t.starts_with("s3://")) return std::nullopt;
    const auto seg_start = t.rfind('/', ph) + 1;
    const auto seg_end = t.find('/', ph);
    const std::string head = t.substr(0, seg_start);
    const std::string segment =
        t.substr(seg_start, seg_end == std::string::npos ? std::string::npos : seg_end - seg_start);
    if (head.find('{') != std::string::npos || seg_start <= 5 ||
        head.find('/', 5) == std::string::npos)
        return std::nullopt;
    if (std::count(segment.begin(), segment.end(), '{') != 1)
        return std::nullopt;  // one placeholder only
    const auto slash = head.find('/', 5);
    return WatchPrefix{head.substr(5, slash - 5), head.substr(slash + 1), segment};
}

std::optional<WatchPrefix> discovery_prefix(const config::ModelConfig& m) {
    if (m.inputs.empty()) return std::nullopt;
    return watch_prefix(m.inputs.front());
}

std::optional<paths::AnalysisTime> parse_segment(const std::string& text,
                                                 const std::string& segment) {
    const auto open = segment.find('{');
    const auto close = segment.find('}', open);
    if (open == std::string::npos || close == std::string::npos) return std::nullopt;
    const std::string before = segment.substr(0, open), after = segment.substr(close + 1);
    const std::string field = segment.substr(open + 1, close - open - 1);
    if (!text.starts_with(before) || !text.ends_with(after) ||
        text.size() < before.size() + after.size())
        return std::nullopt;
    const std::string value =
        text.substr(before.size(), text.size() - before.size() - after.size());
    if (field == "analysis_time") {
        try {
            return paths::parse_analysis_time(value);
        } catch (const paths::PathError&) {
            return std::nullopt;
        }
    }
    if (!field.starts_with("analysis_time:")) return std::nullopt;
    const std::string fmt = field.substr(14);
    int y = -1, mo = 1, d = 1, h = 0, mi = 0;
    std::size_t i = 0;
    auto digits = [&](std::size_t n, int& out) {
        if (i + n > value.size()) return false;
        out = 0;
        for (std::size_t k = 0; k < n; ++k) {
            const char c = value[i + k];
            if (c < '0' || c > '9') return false;
            out = out * 10 + (c - '0');
        }
        i += n;
        return true;
    };
    for (std::size_t k = 0; k < fmt.size(); ++k) {
        if (fmt[k] != '%' || k + 1 >= fmt.size()) {
            if (i >= value.size() || value[i] != fmt[k]) return std::nullopt;
            ++i;
            continue;
        }
        int sec = 0;
        bool ok = true;
        switch (fmt[++k]) {
            case 'Y': ok = digits(4, y); break;
            case 'y':
                ok = digits(2, y);
                y += 2000;
                break;
            case 'm': ok = digits(2, mo); break;
            case 'd': ok = digits(2, d); break;
            case 'H': ok = digits(2, h); break;
            case 'M': ok = digits(2, mi); break;
            case 'S': ok = digits(2, sec) && sec == 0; break;
            case '%': ok = i < value.size() && value[i++] == '%'; break;
            default: return std::nullopt;
        }
        if (!ok) return std::nullopt;
    }
    if (i != value.size() || y < 0) return std::nullopt;
    try {
        return paths::AnalysisTime::from_fields(y, mo, d, h, mi);
    } catch (const paths::PathError&) {
        return std::nullopt;
    }
}

PrefixScan scan_common_prefixes(const WatchPrefix& w,
                                const std::vector<std::string>& common_prefixes) {
    PrefixScan s;
    for (const auto& cp : common_prefixes) {
        std::string seg = cp.starts_with(w.prefix) ? cp.substr(w.prefix.size()) : cp;
        if (!seg.empty() && seg.back() == '/') seg.pop_back();
        if (auto t = parse_segment(seg, w.segment))
            s.times.push_back(*t);
        else
            s.foreign.push_back(cp);
    }
    std::sort(s.times.begin(), s.times.end());
    return s;
}

std::string start_after(const WatchPrefix& w, const paths::AnalysisTime& newest) {
    return w.prefix + config::expand_template(w.segment, newest, 0) + "0";
}

}  // namespace mlwm::schedule
